"""Applying `PatchElements` events to a `Document`, as Datastar 1.0's `patchElements` does.

Pure and synchronous: no I/O. Targets and modes (specs/protocol.md §7.1, §7.2):

* no selector (outer and replace only): each top-level element of the payload targets the
  element with its id; `<html>`, `<head>` and `<body>` map to the document's own; an element
  marked `data-ignore-morph` on both sides is left alone (by id only);
* a selector: every match gets its own copy of the whole payload; a blank selector throws, as
  `querySelectorAll` does;
* outer and inner *morph* (`vt.replica.morph`): matched nodes are updated in place, so attributes
  named in `data-preserve-attr` keep their old values; the other modes insert a fresh copy at
  the exact DOM position (before the target's text for `prepend`, right after the target,
  before its tail text, for `after`);
* a missing target is logged, not raised, like the browser's console warning
  `PatchElementsNoTargetsFound`, and the rest of the patch still applies;
* a patch that fails (a morph that cannot finish, a tree operation the DOM refuses) is logged
  and leaves its target as it was, as a browser's thrown error does; the stream goes on.

Scripts a patch adds run once (§7.4): they are reported in `ApplyResult.scripts`.
`data-signals` attributes that a patch adds or changes are reported too, for the replica to
evaluate and merge into the signals.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import UsageError
from ..js.attrs import SignalsDecl, signals_decls
from ..wire.events import BY_ID_MODES, PatchElements, PatchMode
from .display import DISPLAY_PATTERN
from .dom import Document, Script, find_by_id, query, remove_self_removing, signals_in
from .morph import Morph, MorphError, morph_by_result, morph_element_by_result, needs_node_by_node
from .tree import (
    HtmlElement,
    is_element,
    new_element,
    parse_document,
    parse_fragment,
    parse_fragment_shared,
    root_of,
)

__all__ = ["ApplyResult", "Patcher", "Script"]

_SVG_BLOCKS = re.compile(r"<svg(\s[^>]*>|>)([\s\S]*?)</svg>", re.IGNORECASE)
_NAMESPACE_WRAPPERS = {"svg": "svg", "mathml": "math"}


@dataclass(slots=True)
class ApplyResult:
    """What applying one patch did besides changing the tree.

    `errors` are the messages a browser console would show (a missing target, an invalid
    selector, a patch that threw); `scripts` the scripts the patch added, which a browser would
    run, in document order; `signals` the `data-signals` attributes the patch added or changed,
    which the replica evaluates and merges into the signals as Datastar does.
    """

    errors: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    signals: list[SignalsDecl] = field(default_factory=list)
    #: Subtrees the patch put into the page that may hold display attributes: Datastar reads
    #: their attributes once even if a later part of the event removes them (§7.5.5).
    added: list[HtmlElement] = field(default_factory=list)


class Patcher:
    """Applies patches to one `Document` and remembers what a browser remembers between them
    (which scripts already ran).

    A morph whose result is simply the new markup (nothing opts out, no scripts, no
    `data-signals`) is applied by its result, keeping the target element but not its
    descendants; set `node_by_node` to run every morph node by node, as Datastar does.
    """

    __slots__ = (
        "_ids",
        "_known_scripts",
        "_plain_body",
        "displays_seen",
        "document",
        "node_by_node",
    )

    def __init__(self, document: Document) -> None:
        self.document = document
        root = document.root
        # The scripts a browser has already run: those of the page and every one a patch
        # added since. A morph that keeps a script element does not run it again (§7.4).
        self._known_scripts: set[HtmlElement] = set(root.iter("script"))
        self.node_by_node = False
        self._ids: dict[str, HtmlElement] = {}
        # False once the body may hold something a morph must handle node by node (sticky:
        # a false "maybe" only costs the checks).
        body = root.find("body")
        self._plain_body = body is not None and not needs_node_by_node(body)
        #: True once a patch may have added a display attribute (`data-text`…); sticky.
        self.displays_seen = False

    def apply(self, patch: PatchElements) -> ApplyResult:
        """Apply one patch in place, as Datastar 1.0 does; see the module docstring."""
        result = ApplyResult()
        try:
            self._apply(patch, result)
        except (MorphError, ValueError, KeyError, TypeError, RecursionError) as exc:
            # A browser's patch throws here; the error is logged and the stream goes on.
            result.errors.append(f"Error: the patch failed ({type(exc).__name__}: {exc})")
        return result

    def _apply(self, patch: PatchElements, result: ApplyResult) -> None:
        markers = _Markers.of(patch.raw or patch.elements.encode())
        if markers.morph:
            self._plain_body = False
        if markers.display:
            self.displays_seen = True
        if not patch.selector:
            self._apply_by_id(patch, markers, result)
            return
        try:
            targets = query(patch.selector, self.document.root)
        except UsageError as exc:
            result.errors.append(f"SyntaxError: {exc} (querySelectorAll throws)")
            return
        if not targets:
            result.errors.append(
                f"PatchElementsNoTargetsFound: no element matches selector {patch.selector!r}"
            )
            return
        if patch.mode is PatchMode.REMOVE:
            for target in targets:
                _detach(target)
            return
        self._apply_to(targets, self._content(patch), patch.mode, markers, result, by_id=False)

    def _apply_by_id(self, patch: PatchElements, markers: _Markers, result: ApplyResult) -> None:
        if patch.mode not in BY_ID_MODES:
            result.errors.append(
                f"PatchElementsExpectedSelector: mode {patch.mode.value!r} needs a selector"
            )
            return
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
                if markers.display:
                    result.added.append(target)
                if markers.scripts or markers.effects:
                    self._run_scripts([target], result)
                continue
            wrapper = new_element("div")
            wrapper.append(child)
            self._apply_to([target], wrapper, patch.mode, markers, result, by_id=True)

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
        root = self.document.root
        if child.tag == "html":
            return root
        if child.tag in ("head", "body"):
            return root.find(child.tag)
        element_id = child.get("id")
        return self._by_id(element_id) if element_id else None

    def _apply_to(
        self,
        targets: list[HtmlElement],
        content: HtmlElement,
        mode: PatchMode,
        markers: _Markers,
        result: ApplyResult,
        *,
        by_id: bool,
    ) -> None:
        nested = len(targets) > 1
        for target in targets:
            fresh = copy.deepcopy(content) if nested else content
            if mode in (PatchMode.OUTER, PatchMode.INNER):
                self._morph(target, fresh, mode is PatchMode.INNER, markers, result, by_id, nested)
                continue
            inserted = [child for child in fresh if is_element(child)]
            parent = target.getparent()
            if mode is PatchMode.PREPEND:
                _insert(target, 0, fresh, before_text=True)
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
                _insert(parent, parent.index(target) + 1, fresh, before_text=True)
            else:  # REPLACE
                index = parent.index(target)
                tail, target.tail = target.tail, None
                parent.remove(target)
                last = _insert(parent, index, fresh)
                _append_text_at(parent, last, tail)
            if markers.signals:
                for el in inserted:
                    result.signals.extend(signals_in(el))
            if markers.display:
                result.added.extend(inserted)
            if markers.scripts or markers.effects:
                self._run_scripts(inserted, result)

    def _morph(
        self,
        target: HtmlElement,
        content: HtmlElement,
        inner: bool,
        markers: _Markers,
        result: ApplyResult,
        by_id: bool,
        nested: bool,
    ) -> None:
        def on_attr(el: HtmlElement, name: str, value: str) -> None:
            result.signals.extend(signals_decls([(name, value)]))

        def on_insert(el: HtmlElement) -> None:
            if markers.signals:
                result.signals.extend(signals_in(el))
            if markers.display:
                result.added.append(el)

        if markers.display:
            result.added.append(target)  # a morph by result moves new nodes into it

        # Nothing in the body or the patch needs node-by-node work: skip the checks too.
        # Several targets (one may hold another) go node by node: a morph keeps matched
        # nodes, so a later target inside an earlier one is still in the page.
        known_plain = self._plain_body and not markers.morph and self._in_body(target)
        if (
            self.node_by_node
            or nested
            or not morph_by_result(target, content, inner=inner, checked=known_plain)
        ):
            self._morph_safely(target, content, inner, by_id, Morph(on_attr, on_insert))
        # Datastar runs the new scripts found in the target after the morph (`execute`).
        if (markers.scripts or markers.effects) and self._attached(target):
            self._run_scripts([target], result)

    def _morph_safely(
        self, target: HtmlElement, content: HtmlElement, inner: bool, by_id: bool, morph: Morph
    ) -> None:
        """Morph node by node; if the morph fails, put the target back as it was (§7.2)."""
        parent = target.getparent()
        if parent is None:
            morph.run(target, content, inner=inner, keep_ignored=by_id)
            return
        # The morph changes the target's subtree and (outer) its place in the parent, between
        # its neighbours: keep a copy of the target and of the text before it to put back.
        before, after = target.getprevious(), target.getnext()
        lead = parent.text if before is None else before.tail
        backup = copy.deepcopy(target)
        try:
            morph.run(target, content, inner=inner, keep_ignored=by_id)
        except Exception:
            start = 0 if before is None else parent.index(before) + 1
            end = len(parent) if after is None else parent.index(after)
            for child in list(parent)[start:end]:
                parent.remove(child)
            if before is None:
                parent.text = lead
            else:
                before.tail = lead
            parent.insert(start, backup)
            raise

    def _morph_plainly(self, target: HtmlElement, new: HtmlElement, markers: _Markers) -> bool:
        """Outer-morph `target` into `new` by result, if nothing needs node-by-node work."""
        if self.node_by_node:
            return False
        known_plain = self._plain_body and not markers.morph and self._in_body(target)
        return morph_element_by_result(target, new, checked=known_plain)

    def _in_body(self, el: HtmlElement) -> bool:
        return el.tag == "body" or any(a.tag == "body" for a in el.iterancestors())

    def _attached(self, el: HtmlElement) -> bool:
        return root_of(el) is self.document.root

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
        remove_self_removing(roots)
        # Forget scripts no longer in the page, so the set does not grow forever.
        self._known_scripts = {s for s in self._known_scripts if self._attached(s)}

    def _by_id(self, element_id: str) -> HtmlElement | None:
        # Via patches the same tab container over and over: remember where an id was found
        # and check it is still in the page (lxml keeps a detached element in its old
        # document, so only the walk to the root proves it is attached).
        cached = self._ids.get(element_id)
        if cached is not None and cached.get("id") == element_id and self._attached(cached):
            return cached
        found = find_by_id(self.document.root, element_id)
        if found is None:
            self._ids.pop(element_id, None)
            return None
        if len(self._ids) >= 64:
            self._ids.clear()
        self._ids[element_id] = found
        return found


def _detach(el: HtmlElement) -> None:
    parent = el.getparent()
    if parent is not None:
        tail, el.tail = el.tail, None
        index = parent.index(el)
        parent.remove(el)
        _append_text_at(parent, index, tail)


def _insert(
    parent: HtmlElement, index: int, payload: HtmlElement, before_text: bool = False
) -> int:
    """Move the payload's text and children into `parent` at `index`; return the next index.

    The position is just before child `index`; `before_text` puts it before the text that
    precedes that child (the start of `parent` for `prepend`, right after the previous
    element for `after`) rather than after it.
    """
    moved_text = None
    if before_text:
        if index == 0:
            moved_text, parent.text = parent.text, None
        else:
            previous = parent[index - 1]
            moved_text, previous.tail = previous.tail, None
    _append_text_at(parent, index, payload.text)
    children = list(payload)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    end = index + len(children)
    _append_text_at(parent, end, moved_text)
    return end


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
    display: bool  # a display attribute (`data-text`…) the replica evaluates

    @classmethod
    def of(cls, raw: bytes) -> _Markers:
        """Scan the event's bytes (or the elements, encoded): lower-casing ASCII bytes is
        ten times cheaper than lower-casing text."""
        text = raw.lower()  # tag and attribute names are case-insensitive
        scripts = b"<script" in text
        signals = b"data-signals" in text
        morph = scripts or signals or b"data-ignore-morph" in text or b"data-preserve-attr" in text
        display = DISPLAY_PATTERN.search(text) is not None
        return cls(scripts, b"data-effect" in text, signals, morph, display)
