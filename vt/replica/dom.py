"""The page replica's document: elements, queries and text, as a browser holds them.

Pure and synchronous: no I/O, no events. `Document` is an HTML page (lxml underneath, see
`vt.replica.tree`); `Element` a read-only view of one of its elements. Patching lives in
`vt.replica.patch`, which changes a `Document` through its `root`; Datastar's attribute grammar in
`vt.js.attrs`; `canonical_html` in `vt.replica.canonical`.

Loading a page runs what the page itself would run at once: an element with
`data-effect="el.remove()"` (Datastar's self-removing script convention) removes itself.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from ..errors import UsageError
from ..js.attrs import SignalsDecl, signals_decls
from .canonical import canonical_children
from .tree import (
    HtmlElement,
    attributes,
    detach,
    elements,
    escape_text,
    is_element,
    parse_document,
    root_of,
    serialize,
)

__all__ = [
    "Document",
    "Element",
    "Script",
    "find_by_id",
    "query",
    "remove_self_removing",
    "signals_in",
]

_SELF_REMOVING = re.compile(r"^\s*el\.remove\(\)\s*;?\s*$")


@dataclass(frozen=True, slots=True)
class Script:
    """A `<script>` a patch put into the page (and a browser would have run): its source text
    and attributes."""

    text: str
    attrs: dict[str, str] = field(default_factory=dict)


class Element:
    """A read-only view of one element of a `Document`, as it is now.

    A patch that replaces or removes the element detaches it, and the view then shows the old
    content: select again after patches (a morph target itself keeps its identity; see
    `Document.node_by_node` for its descendants).
    """

    __slots__ = ("_el",)

    def __init__(self, el: HtmlElement) -> None:
        self._el = el

    def __repr__(self) -> str:
        return f"<Element {self.tag}{f' id={self.id!r}' if self.id else ''}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Element) and other._el is self._el

    def __hash__(self) -> int:
        return id(self._el)

    @property
    def node(self) -> HtmlElement:
        """The lxml element this view shows (for the page layer's field state and engine)."""
        return self._el

    @property
    def tag(self) -> str:
        """The tag name, lower case."""
        return str(self._el.tag)

    @property
    def id(self) -> str | None:
        """The `id` attribute, if any."""
        value = self._el.get("id")
        return None if value is None else str(value)

    @property
    def attrs(self) -> dict[str, str]:
        """All attributes, entities decoded."""
        return {str(k): str(v) for k, v in self._el.attrib.items()}

    def get(self, name: str, default: str | None = None) -> str | None:
        """One attribute's value, or `default`."""
        value = self._el.get(name)
        return default if value is None else str(value)

    @property
    def text(self) -> str:
        """The element's text as a reader sees it: whitespace runs collapsed to one space,
        block elements (`p`, `div`, `li`...) separated by a space, scripts and styles left out.
        """
        return _text_of(self._el)

    @property
    def html(self) -> str:
        """The element's outer HTML as the replica holds it now."""
        return serialize(self._el)

    @property
    def inner_html(self) -> str:
        """The element's content as HTML: its text and children, with the text between them."""
        inner = self._el.text or ""
        return escape_text(inner) + "".join(
            serialize(child) + escape_text(child.tail or "") for child in self._el
        )

    @property
    def parent(self) -> Element | None:
        """The parent element, or None for the document element (or a detached one)."""
        parent = self._el.getparent()
        return None if parent is None else Element(parent)

    @property
    def ancestors(self) -> list[Element]:
        """The ancestors, nearest first."""
        return [Element(a) for a in self._el.iterancestors()]

    @property
    def children(self) -> list[Element]:
        """The child elements, in order."""
        return [Element(child) for child in self._el if is_element(child)]

    def contains(self, other: Element) -> bool:
        """True if `other` is this element or one of its descendants (DOM `contains`)."""
        return other._el is self._el or any(a is self._el for a in other._el.iterancestors())

    def closest(self, selector: str) -> Element | None:
        """This element or its nearest ancestor matching a CSS selector (DOM `closest`)."""
        matches = set(query(selector, root_of(self._el)))
        for el in (self._el, *self._el.iterancestors()):
            if el in matches:
                return Element(el)
        return None

    def select(self, selector: str) -> list[Element]:
        """Elements under this one matching a CSS selector, in document order."""
        return [Element(el) for el in query(selector, self._el)]


class Document:
    """An HTML page that patch events are applied to, in place (by `vt.replica.patch`)."""

    __slots__ = ("_page_signals", "root")

    def __init__(self, root: HtmlElement) -> None:
        #: The `<html>` element of the lxml tree; `vt.replica.patch` changes the page through it.
        self.root = root
        self._page_signals: list[SignalsDecl] | None = None

    @classmethod
    def parse(cls, html: str) -> Document:
        """Parse a whole page (what a page GET returns)."""
        document = cls(parse_document(html))
        remove_self_removing([document.root])
        return document

    def __repr__(self) -> str:
        return f"<Document {len(self.html())} chars>"

    def copy(self) -> Document:
        """An independent deep copy (a snapshot)."""
        return Document(copy.deepcopy(self.root))

    # -- queries -----------------------------------------------------------------------------

    def select(self, selector: str) -> list[Element]:
        """Every element matching a CSS selector, in document order."""
        return [Element(el) for el in query(selector, self.root)]

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, or None."""
        found = query(selector, self.root)
        return Element(found[0]) if found else None

    def get_by_id(self, element_id: str) -> Element | None:
        """The first element with this id (ids may contain any character, `/` included)."""
        el = find_by_id(self.root, element_id)
        return None if el is None else Element(el)

    def with_attribute_prefix(self, prefix: str) -> list[Element]:
        """Every element with an attribute whose name starts with `prefix` (CSS cannot say
        "an attribute named data-on:click__anything")."""
        return [Element(el) for el in elements(_WITH_ATTR_PREFIX(self.root, p=prefix))]

    def text(self, selector: str = "body") -> str:
        """The normalised text of every match of `selector`, joined by one space."""
        return " ".join(_text_of(el) for el in query(selector, self.root))

    def html(self, selector: str | None = None) -> str:
        """The whole document's HTML, or the outer HTML of every match of `selector`."""
        if selector is None:
            return "<!DOCTYPE html>" + serialize(self.root)
        return "".join(el.html for el in self.select(selector))

    def canonical(self, selector: str = "body") -> str:
        """The inner HTML of the first match of `selector` in `canonical_html` form."""
        found = query(selector, self.root)
        if not found:
            return ""
        return canonical_children(found[0])

    def data_signals(self) -> list[SignalsDecl]:
        """Every `data-signals` attribute in the document now, in document order."""
        return signals_in(self.root)

    @property
    def page_signals(self) -> list[SignalsDecl]:
        """The `data-signals` attributes of the page as first read (its seed): walked once
        and kept, for the replica and the page reader alike."""
        if self._page_signals is None:
            self._page_signals = signals_in(self.root)
        return self._page_signals


# -- text and serialisation ------------------------------------------------------------------

_BLOCKS = frozenset(
    "address article aside blockquote br dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul option".split()
)
_NO_TEXT = frozenset({"script", "style", "template"})


def _text_of(root: HtmlElement) -> str:
    """The text of a subtree as a reader sees it (what innerText implies): spaces at block
    boundaries, script and style content left out, whitespace runs collapsed."""
    if next(root.iter(etree.Comment, etree.ProcessingInstruction), None) is not None:
        return _normalize("".join(_text_parts(root)))
    parts: list[str] = []
    # iterwalk runs in C but skips comments (and their tails): only for subtrees without any.
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        if event == "start":
            if not isinstance(tag, str):
                continue  # a comment: its tail still counts, at its end
            if tag in _NO_TEXT:
                walker.skip_subtree()
                continue
            if tag in _BLOCKS:
                parts.append(" ")
            if node.text:
                parts.append(node.text)
            continue
        if isinstance(tag, str) and tag in _BLOCKS:
            parts.append(" ")
        if node.tail and node is not root:
            parts.append(node.tail)
    return _normalize("".join(parts))


def _text_parts(el: HtmlElement) -> Iterator[str]:
    """Text pieces of a subtree, with spaces at block boundaries (comments' tails included)."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _NO_TEXT:
        return
    block = tag in _BLOCKS
    if block:
        yield " "
    if el.text and isinstance(el.tag, str):
        yield el.text
    for child in el:
        yield from _text_parts(child)
        if child.tail:
            yield child.tail
    if block:
        yield " "


def signals_in(root: HtmlElement) -> list[SignalsDecl]:
    """The `data-signals` attributes of `root` and its descendants, in document order."""
    found: list[SignalsDecl] = []
    for el in root.iter():
        if is_element(el):
            found.extend(signals_decls(attributes(el)))
    return found


def find_by_id(root: HtmlElement, element_id: str) -> HtmlElement | None:
    """The first element under `root` with this id, in document order (`getElementById`)."""
    found = elements(_BY_ID(root, id=element_id))
    return found[0] if found else None


def remove_self_removing(roots: Iterable[HtmlElement]) -> None:
    """Remove every `data-effect="el.remove()"` element under `roots`, as the page's
    Datastar does once it sees them."""
    doomed = [
        el
        for root in roots
        for el in elements(_WITH_EFFECT(root))
        if _SELF_REMOVING.match(el.get("data-effect") or "")
    ]
    for el in doomed:
        detach(el)


def query(selector: str, root: HtmlElement) -> list[HtmlElement]:
    """Elements under `root` (itself included) matching a CSS selector, in document order.

    Raises:
        UsageError: the selector is not valid CSS (a browser's `querySelectorAll` throws).
    """
    if not selector.strip():
        raise UsageError(f"invalid CSS selector {selector!r}: it is empty")
    return elements(_compile(selector)(root))


def _compile(selector: str) -> etree.XPath:
    compiled, reusable = _translate(selector)
    # A selector calling lxml's XPath extension function (`:contains()`) is compiled for each
    # use: libxml2 keeps, in the compiled expression, the function's namespace URI as a
    # pointer into the first evaluation's namespace table, which lxml frees after it; reused,
    # it reads freed memory (XPathFunctionError `{}lower-case`, or a UnicodeDecodeError).
    return compiled if reusable else etree.XPath(compiled.path)


@lru_cache(maxsize=512)
def _translate(selector: str) -> tuple[CSSSelector, bool]:
    try:
        compiled = CSSSelector(selector, translator="html")
    except SelectorError as exc:
        raise UsageError(f"invalid CSS selector {selector!r}: {exc}") from None
    return compiled, _EXTENSION_PREFIX not in compiled.path


_EXTENSION_PREFIX = "__lxml_internal_css:"  # lxml.cssselect's functions (`lower-case`)


_BY_ID = etree.XPath("descendant::*[@id=$id][1]")
_WITH_EFFECT = etree.XPath("descendant-or-self::*[@data-effect]")
_WITH_ATTR_PREFIX = etree.XPath("//*[@*[starts-with(name(), $p)]]")


def _normalize(text: str) -> str:
    return " ".join(text.split())
