"""The tree the replica is built on: lxml elements from libxml2's HTML parser.

Plain `lxml.etree` elements, not `lxml.html`'s: `lxml.html` looks up a Python element class
for every element it hands out, which dominated the cost of applying a patch. Everything vt
needs (CSS selectors through cssselect, HTML serialisation) works on plain elements.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from lxml import etree

__all__ = [
    "HtmlElement",
    "attributes",
    "detach",
    "elements",
    "is_element",
    "new_element",
    "parse_document",
    "parse_fragment",
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
    if root.find("body") is None:
        etree.SubElement(root, "body")
    return root


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
    return str(etree.tostring(el, method="html", encoding="unicode", with_tail=False))
