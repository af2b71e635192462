"""The tree the replica is built on: lxml elements from libxml2's HTML parser.

Plain `lxml.etree` elements, not `lxml.html`'s: `lxml.html` looks up a Python element class
for every element it hands out, which dominated the cost of applying a patch. Everything vt
needs (CSS selectors through cssselect, HTML serialisation) works on plain elements.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any, TypeGuard

from lxml import etree

__all__ = [
    "HtmlElement",
    "attributes",
    "copy_subtree",
    "detach",
    "elements",
    "escape_attr",
    "escape_text",
    "is_element",
    "new_element",
    "parse_document",
    "parse_fragment",
    "parse_fragment_shared",
    "root_of",
    "serialize",
]

HtmlElement = etree._Element

# No ID table: nothing looks ids up through libxml2, and building it costs a fifth of a parse.
_PARSER = etree.HTMLParser(recover=True, no_network=True, collect_ids=False)
_EMPTY_PAGE = "<html><head></head><body></body></html>"


def parse_document(html: str) -> HtmlElement:
    """A whole page: the `<html>` element (an empty page when `html` is blank)."""
    root = etree.fromstring(html if html.strip() else _EMPTY_PAGE, _PARSER)
    if root is None:  # libxml2 found nothing it could call a document
        root = etree.fromstring(_EMPTY_PAGE, _PARSER)
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    if len(_BODY_TAG.findall(html, 0, _BODY_SCAN)) > 1:
        _merge_body_attributes(html, body)
    return root


# HTML's parser moves the attributes of a second `<body>` start tag onto the one body (those it
# does not have yet): FastHTML's `Titled(..., Body(...))` writes such a page, and Datastar reads
# its `data-signals`. libxml2 drops them; the page's first bytes are scanned for the tags.
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_SCAN = 1 << 20


def _merge_body_attributes(html: str, body: HtmlElement) -> None:
    for tag in _BODY_TAG.findall(html, 0, _BODY_SCAN)[1:]:
        parsed = etree.fromstring(f"<html>{tag}</html>", _PARSER)
        found = parsed.find("body") if parsed is not None else None
        for name, value in found.attrib.items() if found is not None else ():
            if body.get(name) is None:
                body.set(name, value)


def parse_fragment(html: str) -> HtmlElement:
    """Markup parsed in body context: the `<body>` of a scratch document, whose text and
    children are the markup's top-level nodes."""
    if html:
        root = etree.fromstring(f"<html><body>{html}</body></html>", _PARSER)
        body = root.find("body") if root is not None else None
        if body is not None:
            return body
    holder = etree.Element("body")
    holder.text = html or None
    return holder


# A fan-out sends every tab the same view, each in its own `<div id="TAB">`: parsed once with
# the id left out, it is copied (a C-level tree copy, about a third of a parse) for each tab.
# A payload is only kept for sharing once it is seen a second time: a view that one tab gets
# (the common case of a single-tab test) is parsed straight into its own tree, with no copy.
# The cache is per thread: each client's loop runs in one thread (two sync clients, two
# threads), and a cached tree must never be read by one thread while another copies it.
_LEADING_ID = re.compile(r'<[A-Za-z][A-Za-z0-9-]*\s+id="([^"&<>]*)"')
_TEMPLATE_LIMIT = 32
_LOCAL = threading.local()


def _templates() -> OrderedDict[str, HtmlElement | None]:
    """This thread's payloads (id left out) seen lately, with their shared parse once a
    second tab got the same one (None until then)."""
    cache: OrderedDict[str, HtmlElement | None] | None = getattr(_LOCAL, "templates", None)
    if cache is None:
        cache = _LOCAL.templates = OrderedDict()
    return cache


def parse_fragment_shared(html: str) -> HtmlElement:
    """`parse_fragment`, sharing the parse between payloads that differ only in the id of
    their first element (the same markup for many tabs). The result is a private copy."""
    match = _LEADING_ID.match(html)
    if match is None:
        return parse_fragment(html)
    key = html[: match.start(1)] + html[match.end(1) :]
    templates = _templates()
    if key not in templates:
        templates[key] = None  # seen once: shared from the second sighting on
        if len(templates) > _TEMPLATE_LIMIT:
            templates.popitem(last=False)
        return parse_fragment(html)
    templates.move_to_end(key)
    master = templates[key]
    if master is None:
        master = templates[key] = parse_fragment(key)
    fresh = copy_subtree(master)
    if len(fresh) and fresh.text is None and fresh[0].get("id") == "":
        fresh[0].set("id", match.group(1))
        return fresh
    return parse_fragment(html)  # the parser moved that element: no sharing for this one


def copy_subtree(el: HtmlElement) -> HtmlElement:
    """A detached deep copy of an element and its descendants."""
    # lxml's __copy__ copies the whole subtree in C; copy.deepcopy adds Python overhead.
    fresh: HtmlElement = el.__copy__()  # type: ignore[attr-defined]
    return fresh


def attributes(el: HtmlElement) -> list[tuple[str, str]]:
    """An element's attributes as (name, value) text pairs, in document order."""
    return [(str(k), str(v)) for k, v in el.attrib.items()]


def elements(found: Any) -> list[HtmlElement]:
    """The elements among an XPath result (typed for callers)."""
    assert isinstance(found, list)
    return [el for el in found if isinstance(el, etree._Element)]


def new_element(tag: str) -> HtmlElement:
    """A detached, empty element."""
    return etree.Element(tag)


def is_element(node: object) -> TypeGuard[HtmlElement]:
    """True for an element (not text, a comment or a processing instruction)."""
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def detach(el: HtmlElement) -> None:
    """Take an element out of its tree, leaving its tail text where it was."""
    parent = el.getparent()
    if parent is None:
        return
    tail, el.tail = el.tail, None
    if tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + tail
        else:
            previous.tail = (previous.tail or "") + tail
    parent.remove(el)


def serialize(el: HtmlElement) -> str:
    """An element's outer HTML (its tail left out)."""
    # libxml2 leaves out the end tag of an empty `<li>`, and re-parsing such HTML nests the
    # next sibling in it; an empty text keeps the end tag (it is no text to every reader).
    for item in el.iter("li"):
        if item.text is None and not len(item):
            item.text = ""
    return str(etree.tostring(el, method="html", encoding="unicode", with_tail=False))


def root_of(el: HtmlElement) -> HtmlElement:
    """The topmost ancestor of `el` (itself when detached and parentless).

    Unlike `getroottree().getroot()`, this sees detachment: lxml keeps a removed element in
    its old document, so the document's root is not proof that the element is still in it.
    """
    top = el
    parent = el.getparent()
    while parent is not None:
        top, parent = parent, parent.getparent()
    return top


def escape_text(text: str) -> str:
    """Text as HTML text content (`&`, `<`, `>` escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Text as a double-quoted attribute value."""
    return escape_text(text).replace('"', "&quot;")
