"""The page replica: an HTML document that `PatchElements` events are applied to, as a browser.

Pure and synchronous: no I/O. Targets and modes follow Datastar 1.0's `patchElements` watcher
(specs/protocol.md §7.1, §7.2):

* no selector (outer and replace only): each top-level element of the payload targets the
  element with its id; `<html>`, `<head>` and `<body>` map to the document's own;
* a selector: every match gets its own copy of the whole payload;
* outer and inner *morph* (`vt._morph`): matched nodes are updated in place, so an element
  marked `data-ignore-morph` on both sides, or attributes named in `data-preserve-attr`, keep
  their old state; the other modes insert a fresh copy;
* a missing target is logged, not raised, like the browser's console warning
  `PatchElementsNoTargetsFound`, and the rest of the patch still applies.

Scripts a patch adds run once, as in a browser (§7.4): they are reported to the caller in
`ApplyResult.scripts`; an element with `data-effect="el.remove()"` (Datastar's self-removing
script convention) removes itself. `data-signals` attributes that a patch adds or changes are
reported too, for the caller to merge into the tab's signals.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeAlias

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from ._events import PatchElements, PatchMode
from ._exceptions import UsageError
from ._js import NOT_A_LITERAL, parse_literal
from ._morph import Morph, morph_by_result, morph_element_by_result, needs_node_by_node
from ._tree import (
    HtmlElement,
    attributes,
    detach,
    elements,
    is_element,
    new_element,
    parse_document,
    parse_fragment,
    parse_fragment_shared,
    serialize,
)

__all__ = [
    "ApplyResult",
    "Document",
    "Element",
    "Script",
    "SignalsPatch",
    "canonical_html",
    "parse_signals_attr",
]


# A `data-signals` object found in the page, and whether it only fills missing signals.
SignalsPatch: TypeAlias = tuple[dict[str, Any], bool]

_SELF_REMOVING = re.compile(r"^\s*el\.remove\(\)\s*;?\s*$")
_SVG_BLOCKS = re.compile(r"<svg(\s[^>]*>|>)([\s\S]*?)</svg>", re.IGNORECASE)
_BY_ID_MODES = frozenset({PatchMode.OUTER, PatchMode.REPLACE})
_NAMESPACE_WRAPPERS = {"svg": "svg", "mathml": "math"}


@dataclass(frozen=True, slots=True)
class Script:
    """A `<script>` a patch put into the page (and a browser would have run): its source text
    and attributes."""

    text: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApplyResult:
    """What applying one patch did besides changing the tree.

    `errors` are the messages a browser console would show (a missing target, an invalid
    selector); `scripts` the scripts the patch added, which a browser would run, in document
    order; `signals` the `data-signals` objects the patch added or changed, each with its
    only-if-missing flag, which the caller merges into the tab's signals as Datastar does.
    """

    errors: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    signals: list[SignalsPatch] = field(default_factory=list)


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
        return _serialize(self._el)

    @property
    def inner_html(self) -> str:
        """The element's children as HTML."""
        inner = self._el.text or ""
        return _escape_text(inner) + "".join(_serialize(child) for child in self._el)

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
        matches = set(_query(selector, self._el.getroottree().getroot()))
        for el in (self._el, *self._el.iterancestors()):
            if el in matches:
                return Element(el)
        return None

    def select(self, selector: str) -> list[Element]:
        """Elements under this one matching a CSS selector, in document order."""
        return [Element(el) for el in _query(selector, self._el)]


class Document:
    """An HTML document that patch events are applied to, in place.

    A morph whose result is simply the new markup (nothing opts out, no scripts, no
    `data-signals`) is applied by its result, keeping the target element but not its
    descendants; set `node_by_node` to run every morph node by node, as Datastar does, so that
    `Element` views of matched descendants follow them too.
    """

    __slots__ = ("_ids", "_known_scripts", "_plain_body", "_root", "node_by_node")

    def __init__(self, root: HtmlElement) -> None:
        self._root = root
        # The scripts a browser has already run: those of the page and every one a patch
        # added since. A morph that keeps a script element does not run it again (§7.4).
        self._known_scripts: set[HtmlElement] = set(root.iter("script"))
        self.node_by_node = False
        self._ids: dict[str, HtmlElement] = {}
        # False once the body may hold something a morph must handle node by node (sticky:
        # a false "maybe" only costs the checks).
        body = root.find("body")
        self._plain_body = body is not None and not needs_node_by_node(body)

    @classmethod
    def parse(cls, html: str) -> Document:
        """Parse a whole page (what a page GET returns)."""
        document = cls(parse_document(html))
        root = document._root
        document._remove_self_removing([root])
        return document

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

    def with_attribute_prefix(self, prefix: str) -> list[Element]:
        """Every element with an attribute whose name starts with `prefix` (CSS cannot say
        "an attribute named data-on:click__anything")."""
        return [Element(el) for el in elements(_WITH_ATTR_PREFIX(self._root, p=prefix))]

    def text(self, selector: str = "body") -> str:
        """The normalised text of every match of `selector`, joined by one space."""
        return " ".join(_text_of(el) for el in _query(selector, self._root))

    def html(self, selector: str | None = None) -> str:
        """The whole document's HTML, or the outer HTML of every match of `selector`."""
        if selector is None:
            return "<!DOCTYPE html>" + _serialize(self._root)
        return "".join(el.html for el in self.select(selector))

    def canonical(self, selector: str = "body") -> str:
        """The inner HTML of the first match of `selector` in `canonical_html` form."""
        found = _query(selector, self._root)
        if not found:
            return ""
        return _canonical_children(found[0])

    def data_signals(self) -> list[SignalsPatch]:
        """Every `data-signals` object in the document, in document order (the page's seed)."""
        found: list[SignalsPatch] = []
        for el in self._root.iter():
            if is_element(el):
                found.extend(_signals_of(el, attributes(el)))
        return found

    # -- patching ----------------------------------------------------------------------------

    def apply(self, patch: PatchElements) -> ApplyResult:
        """Apply one patch in place, as Datastar 1.0 does; see the module docstring."""
        result = ApplyResult()
        markers = _Markers.of(patch.raw or patch.elements.encode())
        if markers.morph:
            self._plain_body = False
        if patch.selector is None:
            if patch.mode not in _BY_ID_MODES:
                result.errors.append(
                    f"PatchElementsExpectedSelector: mode {patch.mode.value!r} needs a selector"
                )
                return result
            for child in list(self._content(patch)):
                if not is_element(child):
                    continue  # text between top-level elements is ignored when targeting by id
                target = self._target_for(child)
                if target is None:
                    result.errors.append(
                        f"PatchElementsNoTargetsFound: no element with id {child.get('id', '')!r}"
                    )
                    continue
                child.tail = None
                if patch.mode is PatchMode.OUTER and self._morph_plainly(target, child, markers):
                    # Via's case: one container, re-rendered; no wrapper, one subtree move.
                    if markers.scripts or markers.effects:
                        self._run_scripts([target], result)
                    continue
                wrapper = new_element("div")
                wrapper.append(child)
                self._apply_to([target], wrapper, patch.mode, markers, result)
            return result
        try:
            targets = _query(patch.selector, self._root)
        except UsageError as exc:
            result.errors.append(f"SyntaxError: {exc} (querySelectorAll throws)")
            return result
        if not targets:
            result.errors.append(
                f"PatchElementsNoTargetsFound: no element matches selector {patch.selector!r}"
            )
            return result
        if patch.mode is PatchMode.REMOVE:
            for target in targets:
                detach(target)
            return result
        self._apply_to(targets, self._content(patch), patch.mode, markers, result)
        return result

    def _content(self, patch: PatchElements) -> HtmlElement:
        """The payload, parsed as the browser parses it (§7.1): a detached element whose text
        and children are the payload's top-level nodes."""
        html = patch.elements
        # Datastar looks for these end tags case-sensitively, ignoring any inside <svg>.
        if "</html>" in html or "</head>" in html or "</body>" in html:
            scanned = _SVG_BLOCKS.sub("", html)
            whole = [tag for tag in ("html", "head", "body") if f"</{tag}>" in scanned]
            if whole:
                root = parse_document(html)
                holder = new_element("div")
                for part in [root] if "html" in whole else [p for p in root if p.tag in whole]:
                    holder.append(part)
                return holder
        wrapper_tag = _NAMESPACE_WRAPPERS.get(patch.namespace)
        if wrapper_tag is not None:
            html = f"<{wrapper_tag}>{html}</{wrapper_tag}>"
        holder = parse_fragment(html) if wrapper_tag else parse_fragment_shared(html)
        if wrapper_tag is not None and len(holder) and holder[0].tag == wrapper_tag:
            holder = holder[0]
        return holder

    def _target_for(self, child: HtmlElement) -> HtmlElement | None:
        if child.tag == "html":
            return self._root
        if child.tag in ("head", "body"):
            return self._root.find(child.tag)
        element_id = child.get("id")
        return self._by_id(element_id) if element_id else None

    def _apply_to(
        self,
        targets: list[HtmlElement],
        content: HtmlElement,
        mode: PatchMode,
        markers: _Markers,
        result: ApplyResult,
    ) -> None:
        for target in targets:
            fresh = copy.deepcopy(content) if len(targets) > 1 else content
            if mode in (PatchMode.OUTER, PatchMode.INNER):
                self._morph(target, fresh, mode is PatchMode.INNER, markers, result)
                continue
            inserted = [child for child in fresh if is_element(child)]
            parent = target.getparent()
            if mode is PatchMode.PREPEND:
                _insert(target, 0, fresh)
            elif mode is PatchMode.APPEND:
                _insert(target, len(target), fresh)
            elif parent is None:
                result.errors.append(
                    f"HierarchyRequestError: cannot insert {mode.value} the document element"
                )
                continue
            elif mode is PatchMode.BEFORE:
                _insert(parent, parent.index(target), fresh)
            elif mode is PatchMode.AFTER:
                _insert(parent, parent.index(target) + 1, fresh)
            else:  # REPLACE
                index = parent.index(target)
                tail, target.tail = target.tail, None
                parent.remove(target)
                last = _insert(parent, index, fresh)
                _append_text_at(parent, last, tail)
            if markers.signals:
                for el in inserted:
                    result.signals.extend(_signals_in(el))
            if markers.scripts or markers.effects:
                self._run_scripts(inserted, result)

    def _morph(
        self,
        target: HtmlElement,
        content: HtmlElement,
        inner: bool,
        markers: _Markers,
        result: ApplyResult,
    ) -> None:
        def on_attr(el: HtmlElement, name: str, value: str) -> None:
            result.signals.extend(_signals_of(el, [(name, value)]))

        def on_insert(el: HtmlElement) -> None:
            if markers.signals:
                result.signals.extend(_signals_in(el))

        # Nothing in the body or the patch needs node-by-node work: skip the checks too.
        known_plain = self._plain_body and not markers.morph and self._in_body(target)
        if self.node_by_node or not morph_by_result(
            target, content, inner=inner, checked=known_plain
        ):
            Morph(on_attr, on_insert).run(target, content, inner=inner)
        # Datastar runs the new scripts found in the target after the morph (`execute`).
        if (markers.scripts or markers.effects) and target.getroottree().getroot() is self._root:
            self._run_scripts([target], result)

    def _morph_plainly(self, target: HtmlElement, new: HtmlElement, markers: _Markers) -> bool:
        """Outer-morph `target` into `new` by result, if nothing needs node-by-node work."""
        if self.node_by_node:
            return False
        known_plain = self._plain_body and not markers.morph and self._in_body(target)
        return morph_element_by_result(target, new, checked=known_plain)

    def _in_body(self, el: HtmlElement) -> bool:
        return el.tag == "body" or any(a.tag == "body" for a in el.iterancestors())

    def _run_scripts(self, roots: Iterable[HtmlElement], result: ApplyResult) -> None:
        """Record every script under `roots` that has not run yet; then self-removal."""
        roots = list(roots)
        for root in roots:
            for script in root.iter("script"):
                if script in self._known_scripts:
                    continue
                self._known_scripts.add(script)
                attrs = {str(k): str(v) for k, v in script.attrib.items()}
                result.scripts.append(Script(script.text or "", attrs))
        self._remove_self_removing(roots)
        # Forget scripts no longer in the page, so the set does not grow forever.
        self._known_scripts = {
            s for s in self._known_scripts if s.getroottree().getroot() is self._root
        }

    def _remove_self_removing(self, roots: Iterable[HtmlElement]) -> None:
        doomed = [
            el
            for root in roots
            for el in elements(_WITH_EFFECT(root))
            if _SELF_REMOVING.match(el.get("data-effect") or "")
        ]
        for el in doomed:
            detach(el)

    def _by_id(self, element_id: str) -> HtmlElement | None:
        # Via patches the same tab container over and over: remember where an id was found
        # and check it is still there (with duplicate ids, a browser would pick the first in
        # document order; the cache may keep an earlier find).
        cached = self._ids.get(element_id)
        if (
            cached is not None
            and cached.get("id") == element_id
            and cached.getroottree().getroot() is self._root
        ):
            return cached
        found = elements(_BY_ID(self._root, id=element_id))
        if not found:
            return None
        if len(self._ids) >= 64:
            self._ids.clear()
        self._ids[element_id] = found[0]
        return found[0]


_BY_ID = etree.XPath("descendant::*[@id=$id][1]")
_WITH_EFFECT = etree.XPath("descendant-or-self::*[@data-effect]")
_WITH_ATTR_PREFIX = etree.XPath("//*[@*[starts-with(name(), $p)]]")


def _query(selector: str, root: HtmlElement) -> list[HtmlElement]:
    """Elements under `root` (itself included) matching a CSS selector, in document order."""
    return elements(_compile(selector)(root))


@lru_cache(maxsize=512)
def _compile(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector, translator="html")
    except SelectorError as exc:
        raise UsageError(f"invalid CSS selector {selector!r}: {exc}") from None


def _insert(parent: HtmlElement, index: int, payload: HtmlElement) -> int:
    """Move the payload's text and children into `parent` at `index`; return the next index."""
    _append_text_at(parent, index, payload.text)
    children = list(payload)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    return index + len(children)


def _append_text_at(parent: HtmlElement, index: int, text: str | None) -> None:
    """Add text at the position just before child `index` of `parent`."""
    if not text:
        return
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + text


@dataclass(frozen=True, slots=True)
class _Markers:
    """What a patch's markup may bring that needs more than moving elements, from a scan of
    its text (conservative: a false positive only costs a slower path)."""

    scripts: bool
    effects: bool
    signals: bool
    morph: bool  # something that makes a morph go node by node

    @classmethod
    def of(cls, raw: bytes) -> _Markers:
        """Scan the event's bytes (or the elements, encoded): lower-casing ASCII bytes is
        ten times cheaper than lower-casing text."""
        text = raw.lower()  # tag and attribute names are case-insensitive
        scripts = b"<script" in text
        signals = b"data-signals" in text
        morph = scripts or signals or b"data-ignore-morph" in text or b"data-preserve-attr" in text
        return cls(scripts, b"data-effect" in text, signals, morph)


# -- data-signals attributes (specs/protocol.md §6.5) ----------------------------------------

_SIGNALS_PREFIXES = ("data-signals:", "data-signals-")


def _signals_in(root: HtmlElement) -> list[SignalsPatch]:
    found: list[SignalsPatch] = []
    for el in root.iter():
        if is_element(el):
            found.extend(_signals_of(el, attributes(el)))
    return found


def _signals_of(el: HtmlElement, attrs: Iterable[tuple[str, str]]) -> list[SignalsPatch]:
    """The signal patches that these attributes of `el` declare (Datastar's `data-signals`).

    `data-signals="{…}"` merges an object; `data-signals:foo-bar="1"` sets `fooBar` (keys are
    camel-cased unless `__case.kebab`/`snake`/`pascal` says otherwise; dots nest);
    `__ifmissing` only fills signals that do not exist yet. A value the replica cannot read
    as a JSON or JS literal is skipped.
    """
    found: list[SignalsPatch] = []
    for name, value in attrs:
        if name == "data-signals" or name.startswith("data-signals__"):
            mods = _modifiers(name[len("data-signals") :])
            parsed = parse_signals_attr(value)
            if parsed is not None:
                found.append((parsed, "ifmissing" in mods))
            continue
        prefix = next((p for p in _SIGNALS_PREFIXES if name.startswith(p)), None)
        if prefix is None:
            continue
        key, _, rest = name[len(prefix) :].partition("__")
        mods = _modifiers("__" + rest if rest else "")
        literal = parse_literal(value)
        if not key or literal is NOT_A_LITERAL:
            continue
        path = [_recase(part, mods.get("case", ("camel",))[0]) for part in key.split(".")]
        patch: dict[str, Any] = {path[-1]: literal}
        for part in reversed(path[:-1]):
            patch = {part: patch}
        found.append((patch, "ifmissing" in mods))
    return found


def _modifiers(suffix: str) -> dict[str, tuple[str, ...]]:
    """`__case.kebab__ifmissing` -> {"case": ("kebab",), "ifmissing": ()}."""
    mods: dict[str, tuple[str, ...]] = {}
    for part in suffix.split("__")[1:]:
        name, *tags = part.split(".")
        if name:
            mods[name] = tuple(tags)
    return mods


def _recase(kebab: str, case: str) -> str:
    words = [w for w in kebab.split("-") if w]
    if not words or case == "kebab":
        return kebab
    if case == "snake":
        return "_".join(words)
    if case == "pascal":
        return "".join(w[:1].upper() + w[1:] for w in words)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def parse_signals_attr(text: str) -> dict[str, Any] | None:
    """Read a `data-signals` value: JSON, or a simple JS object literal (`{_open: false}`).

    Returns None for anything else (an expression the replica cannot evaluate).
    """
    value = parse_literal(text)
    return value if isinstance(value, dict) else None


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


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _serialize(el: HtmlElement) -> str:
    return serialize(el)


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;")


def canonical_html(markup: str) -> str:
    """A normal form of an HTML fragment for structural comparison.

    Attributes are sorted, runs of whitespace in text collapse to one space, text that is only
    whitespace and comments are dropped, and every element is closed explicitly; inside
    `<pre>` and `<textarea>` text is kept as written. Two
    fragments a browser would build the same visible tree from compare equal. A whole
    document (`<html>…`) is reduced to its body's content.
    """
    if re.search(r"<(html|body)[\s>]", markup, re.IGNORECASE):
        root = parse_document(markup)
        body = root.find("body")
        return "" if body is None else _canonical_children(body)
    return _canonical_children(parse_fragment(markup))


_WHITESPACE = re.compile(r"\s+")

# Elements whose whitespace is content (the browser renders it as written).
_VERBATIM = frozenset({"pre", "textarea", "listing", "plaintext"})


def _canonical_children(el: HtmlElement, verbatim: bool = False) -> str:
    verbatim = verbatim or el.tag in _VERBATIM
    parts: list[str] = []
    _canonical_text(parts, el.text, verbatim)
    for child in el:
        if is_element(child):
            parts.append(_canonical_element(child, verbatim))
        _canonical_text(parts, child.tail, verbatim)
    return "".join(parts)


def _canonical_text(parts: list[str], text: str | None, verbatim: bool) -> None:
    if verbatim and text:
        parts.append(_escape_text(text))
    elif text and text.strip():
        parts.append(_escape_text(_WHITESPACE.sub(" ", text)))


def _canonical_element(el: HtmlElement, verbatim: bool) -> str:
    attrs = "".join(f' {k}="{_escape_attr(v)}"' for k, v in sorted(attributes(el)))
    return f"<{el.tag}{attrs}>{_canonical_children(el, verbatim)}</{el.tag}>"
