"""The page replica: an HTML document that `PatchElements` events are applied to, as a browser.

Pure and synchronous: no I/O. Targets and modes follow Datastar 1.0 (specs/protocol.md §7):

* no selector (outer, replace): each top-level element of the payload replaces the element
  with its id; `<html>`, `<head>` and `<body>` map to the document's own;
* a selector: every match gets its own copy of the whole payload;
* outer and inner *morph*; the replica models a morph by its result, the new markup, except
  that an element carrying `data-ignore-morph` in both old and new markup is kept as it was;
* a missing target is logged, not raised, like the browser's console error `NoTargetsFound`.

Scripts that a patch inserts are reported to the caller, which records them; a script with
`data-effect="el.remove()"` (Datastar's ExecuteScript convention) removes itself, as it does in
a browser after running.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from ._events import PatchElements, PatchMode
from ._exceptions import UsageError

__all__ = ["ApplyResult", "Document", "Element", "Script", "parse_signals_attr"]

_SELF_REMOVING = "el.remove()"
_WHOLE_DOCUMENT = re.compile(r"</(html|head|body)\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Script:
    """A `<script>` a patch put into the page: its source text and attributes."""

    text: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApplyResult:
    """What applying one patch did besides changing the tree.

    `errors` are the messages a browser console would show (for example a missing target);
    `scripts` the scripts the patch inserted, in document order; `signals` the objects found in
    `data-signals` attributes that the patch added or changed, which the caller merges into
    the tab's signals as Datastar does.
    """

    errors: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)


class Element:
    """A read-only view of one element of a `Document`."""

    __slots__ = ("_el",)

    def __init__(self, el: lxml.html.HtmlElement) -> None:
        self._el = el

    def __repr__(self) -> str:
        return f"<Element {self.tag}{f' id={self.id!r}' if self.id else ''}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Element) and other._el is self._el

    def __hash__(self) -> int:
        return id(self._el)

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
        return _normalize("".join(_text_parts(self._el)))

    @property
    def html(self) -> str:
        """The element's outer HTML as the replica holds it now."""
        return _serialize(self._el)

    @property
    def inner_html(self) -> str:
        """The element's children as HTML."""
        inner = self._el.text or ""
        return _escape_text(inner) + "".join(_serialize(child) for child in self._el)

    @property
    def children(self) -> list[Element]:
        """The child elements, in order."""
        return [Element(child) for child in self._el if isinstance(child.tag, str)]

    def select(self, selector: str) -> list[Element]:
        """Elements under this one matching a CSS selector, in document order."""
        return [Element(el) for el in _query(selector, self._el)]


class Document:
    """An HTML document that patch events are applied to, in place."""

    __slots__ = ("_root",)

    def __init__(self, root: lxml.html.HtmlElement) -> None:
        self._root = root

    @classmethod
    def parse(cls, html: str) -> Document:
        """Parse a whole page (what a page GET returns)."""
        if not html.strip():
            html = "<html><head></head><body></body></html>"
        root = lxml.html.document_fromstring(html)
        return cls(root)

    def __repr__(self) -> str:
        return f"<Document {len(self.html())} chars>"

    def copy(self) -> Document:
        """An independent deep copy (a snapshot)."""
        return Document(copy.deepcopy(self._root))

    # -- queries -----------------------------------------------------------------------------

    def select(self, selector: str) -> list[Element]:
        """Every element matching a CSS selector, in document order."""
        return [Element(el) for el in _query(selector, self._root)]

    def select_one(self, selector: str) -> Element | None:
        """The first element matching a CSS selector, or None."""
        found = _query(selector, self._root)
        return Element(found[0]) if found else None

    def get_by_id(self, element_id: str) -> Element | None:
        """The first element with this id (ids may contain any character, `/` included)."""
        el = self._by_id(element_id)
        return None if el is None else Element(el)

    def text(self, selector: str = "body") -> str:
        """The normalised text of every match of `selector`, joined by one space."""
        return " ".join(el.text for el in self.select(selector))

    def html(self, selector: str | None = None) -> str:
        """The whole document's HTML, or the outer HTML of every match of `selector`."""
        if selector is None:
            return "<!DOCTYPE html>" + _serialize(self._root)
        return "".join(el.html for el in self.select(selector))

    def data_signals(self) -> list[dict[str, Any]]:
        """Every `data-signals` object in the document, in document order (the page's seed)."""
        return _signals_in([self._root], seen=frozenset())

    # -- patching ----------------------------------------------------------------------------

    def apply(self, patch: PatchElements) -> ApplyResult:
        """Apply one patch in place, as Datastar 1.0 does; see the module docstring."""
        result = ApplyResult()
        if patch.selector is None:
            self._apply_by_id(patch, result)
            return result
        try:
            targets = _query(patch.selector, self._root)
        except UsageError:
            result.errors.append(
                f"PatchElements: invalid selector {patch.selector!r} (querySelectorAll throws)"
            )
            return result
        if not targets:
            result.errors.append(
                f"PatchElementsNoTargetsFound: no element matches selector {patch.selector!r}"
            )
            return result
        if patch.mode is PatchMode.REMOVE:
            for target in targets:
                _remove(target)
            return result
        payload = _parse_payload(patch.elements)
        for target in targets:
            self._place(target, payload, patch.mode, result)
        return result

    def _apply_by_id(self, patch: PatchElements, result: ApplyResult) -> None:
        if _WHOLE_DOCUMENT.search(patch.elements):
            new_root = lxml.html.document_fromstring(patch.elements)
            for part in new_root:
                old = self._root.find(str(part.tag))
                if old is None:
                    continue
                self._swap(old, _wrap([part]), patch.mode, result)
            return
        payload = _parse_payload(patch.elements)
        if payload.text and payload.text.strip():
            result.errors.append(
                f"PatchElements: text {payload.text.strip()[:40]!r} outside any element is "
                "ignored when targeting by id"
            )
        for child in list(payload):
            if not isinstance(child.tag, str):
                continue
            element_id = child.get("id")
            target = self._by_id(element_id) if element_id else None
            if target is None:
                what = f"id {element_id!r}" if element_id else f"<{child.tag}> without an id"
                result.errors.append(f"PatchElementsNoTargetsFound: no element to patch for {what}")
                continue
            child.tail = None
            self._swap(target, _wrap([child]), patch.mode, result)

    def _place(
        self,
        target: lxml.html.HtmlElement,
        payload: lxml.html.HtmlElement,
        mode: PatchMode,
        result: ApplyResult,
    ) -> None:
        parent = target.getparent()
        if mode in (PatchMode.OUTER, PatchMode.REPLACE):
            self._swap(target, payload, mode, result)
        elif mode is PatchMode.INNER:
            before = _signal_texts([target])
            fresh = copy.deepcopy(payload)
            _keep_ignored(target, fresh)
            for child in list(target):
                target.remove(child)
            target.text = None
            _insert(target, 0, fresh, result)
            result.signals.extend(_signals_in(list(target), seen=before))
        elif mode is PatchMode.PREPEND:
            _insert(target, 0, copy.deepcopy(payload), result)
            result.signals.extend(_signals_in(list(payload), seen=frozenset()))
        elif mode is PatchMode.APPEND:
            _insert(target, len(target), copy.deepcopy(payload), result)
            result.signals.extend(_signals_in(list(payload), seen=frozenset()))
        elif parent is None:
            result.errors.append(f"PatchElements: cannot insert {mode.value} the root element")
        elif mode is PatchMode.BEFORE:
            _insert(parent, parent.index(target), copy.deepcopy(payload), result)
            result.signals.extend(_signals_in(list(payload), seen=frozenset()))
        else:  # AFTER
            _insert(parent, parent.index(target) + 1, copy.deepcopy(payload), result)
            result.signals.extend(_signals_in(list(payload), seen=frozenset()))

    def _swap(
        self,
        target: lxml.html.HtmlElement,
        payload: lxml.html.HtmlElement,
        mode: PatchMode,
        result: ApplyResult,
    ) -> None:
        """Outer morph or replace: the payload takes the target's place."""
        fresh = copy.deepcopy(payload)
        morph = mode is PatchMode.OUTER
        if morph and len(fresh) == 1 and _ignores_morph(target) and _ignores_morph(fresh[0]):
            return  # data-ignore-morph on both sides: Datastar leaves the element alone
        before = _signal_texts([target]) if morph else frozenset()
        if morph:
            _keep_ignored(target, fresh)
        parent = target.getparent()
        if parent is None:
            # The <html> element itself: swap its contents.
            if len(fresh) == 1:
                target.attrib.clear()
                target.attrib.update(fresh[0].attrib)
                for child in list(target):
                    target.remove(child)
                _insert(target, 0, _wrap(list(fresh[0])), result)
            return
        index = parent.index(target)
        tail = target.tail
        target.tail = None
        parent.remove(target)
        added = list(fresh)
        last = _insert(parent, index, fresh, result)
        if tail:
            _append_text(parent, last, tail)
        result.signals.extend(_signals_in(added, seen=before))

    def _by_id(self, element_id: str) -> lxml.html.HtmlElement | None:
        found = _BY_ID(self._root, id=element_id)
        assert isinstance(found, list)
        return found[0] if found else None


_BY_ID = etree.XPath("//*[@id=$id]")


def _query(selector: str, root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Elements under `root` (itself included) matching a CSS selector, in document order."""
    found = _compile(selector)(root)
    assert isinstance(found, list)
    return found


@lru_cache(maxsize=512)
def _compile(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except SelectorError as exc:
        raise UsageError(f"invalid CSS selector {selector!r}: {exc}") from None


def _parse_payload(html: str) -> lxml.html.HtmlElement:
    """Parse patch elements into a detached `<div>` holding them (text included)."""
    if not html:
        return lxml.html.Element("div")
    wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
    assert isinstance(wrapper, lxml.html.HtmlElement)
    return wrapper


def _wrap(children: Sequence[lxml.html.HtmlElement]) -> lxml.html.HtmlElement:
    wrapper = lxml.html.Element("div")
    for child in children:
        wrapper.append(copy.deepcopy(child))
    return wrapper


def _insert(
    parent: lxml.html.HtmlElement,
    index: int,
    payload: lxml.html.HtmlElement,
    result: ApplyResult,
) -> int:
    """Move the payload's text and children into `parent` at `index`; return the next index.

    Inserted scripts are collected into `result` and self-removing ones taken out again.
    """
    _append_text(parent, index, payload.text)
    children = list(payload)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    end = index + len(children)
    for child in children:
        end -= _run_scripts(child, result)
    return end


def _append_text(parent: lxml.html.HtmlElement, index: int, text: str | None) -> None:
    """Add text at the position just before child `index` of `parent`."""
    if not text:
        return
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + text


def _run_scripts(node: lxml.html.HtmlElement, result: ApplyResult) -> int:
    """Record scripts in a newly inserted subtree; return 1 if `node` itself removed itself."""
    if not isinstance(node.tag, str):
        return 0
    scripts = [node] if node.tag == "script" else list(node.iter("script"))
    removed_self = 0
    for script in scripts:
        attrs = {str(k): str(v) for k, v in script.attrib.items()}
        result.scripts.append(Script(script.text or "", attrs))
        if attrs.get("data-effect", "").strip() == _SELF_REMOVING:
            removed_self += script is node
            _remove(script)
    return removed_self


def _remove(el: lxml.html.HtmlElement) -> None:
    """Remove an element, keeping its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    index = parent.index(el)
    tail = el.tail
    el.tail = None
    parent.remove(el)
    _append_text(parent, index, tail)


def _ignores_morph(el: lxml.html.HtmlElement) -> bool:
    return isinstance(el.tag, str) and el.get("data-ignore-morph") is not None


def _keep_ignored(old_root: lxml.html.HtmlElement, new_root: lxml.html.HtmlElement) -> None:
    """Where old and new both mark an element (same id) `data-ignore-morph`, keep the old one."""
    kept = {
        el.get("id"): el
        for el in old_root.iter()
        if isinstance(el.tag, str) and el.get("id") and el.get("data-ignore-morph") is not None
    }
    if not kept:
        return
    for el in list(new_root.iter()):
        element_id = el.get("id") if isinstance(el.tag, str) else None
        if element_id in kept and el.get("data-ignore-morph") is not None:
            replacement = copy.deepcopy(kept[element_id])
            replacement.tail = el.tail
            parent = el.getparent()
            if parent is not None:
                parent.replace(el, replacement)


def _signal_texts(nodes: Sequence[lxml.html.HtmlElement]) -> frozenset[str]:
    return frozenset(value for node in nodes for _, value in _signal_attrs(node))


def _signal_attrs(node: lxml.html.HtmlElement) -> Iterator[tuple[str, str]]:
    if not isinstance(node.tag, str):
        return
    for el in node.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if name == "data-signals" or name.startswith(("data-signals:", "data-signals-")):
                yield str(name), str(value)


def _signals_in(
    nodes: Sequence[lxml.html.HtmlElement], *, seen: frozenset[str]
) -> list[dict[str, Any]]:
    """`data-signals` objects in `nodes` whose attribute text is not in `seen`.

    A morph leaves an unchanged attribute alone, so Datastar does not re-apply it; comparing the
    attribute text before and after is how the replica tells new or changed ones apart.
    """
    found: list[dict[str, Any]] = []
    for node in nodes:
        for name, value in _signal_attrs(node):
            if value in seen:
                continue
            if name == "data-signals":
                parsed = parse_signals_attr(value)
                if parsed is not None:
                    found.append(parsed)
            else:
                key = name.split(":", 1)[1] if ":" in name else name[len("data-signals-") :]
                literal = _parse_js_value(value)
                if key and literal is not _NOT_A_LITERAL:
                    found.append({key: literal})
    return found


_NOT_A_LITERAL = object()
_JS_KEY = re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)(\s*:)")
_JS_SINGLE = re.compile(r"'((?:[^'\\]|\\.)*)'")
_JS_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def parse_signals_attr(text: str) -> dict[str, Any] | None:
    """Read a `data-signals` value: JSON, or a simple JS object literal (`{_open: false}`).

    Returns None for anything else (an expression the replica cannot evaluate).
    """
    value = _parse_js_value(text)
    return value if isinstance(value, dict) else None


def _parse_js_value(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    converted = _JS_SINGLE.sub(lambda m: json.dumps(m.group(1).replace("\\'", "'")), text)
    converted = _JS_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2)}"{m.group(3)}', converted)
    converted = _JS_TRAILING_COMMA.sub(r"\1", converted)
    try:
        return json.loads(converted)
    except ValueError:
        return _NOT_A_LITERAL


_BLOCKS = frozenset(
    "address article aside blockquote br dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul option".split()
)
_NO_TEXT = frozenset({"script", "style", "template"})


def _text_parts(el: lxml.html.HtmlElement) -> Iterator[str]:
    """Text pieces of a subtree, with spaces at block boundaries (what innerText implies)."""
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


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _serialize(el: lxml.html.HtmlElement) -> str:
    tail = el.tail
    el.tail = None
    try:
        return str(lxml.html.tostring(el, encoding="unicode"))
    finally:
        el.tail = tail


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
