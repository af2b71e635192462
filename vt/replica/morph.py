"""Datastar's morph on lxml: how `outer` and `inner` patches change a page (specs/protocol.md
§7.1).

A port of the id-set morph in Datastar 1.0's `patchElements` watcher (itself idiomorph's
algorithm), so that the replica keeps what a browser keeps:

* old nodes are matched to new ones by shared persistent ids first, then "softly" (same node
  type and tag, and the old node has no id or the same id); matched nodes are updated in place,
  unmatched old ones removed, elements with a persistent id moved to where the new markup has
  them;
* an element marked `data-ignore-morph` in both old and new markup is left as it was, and a
  target with such an ancestor is not morphed at all;
* attributes named in the incoming element's `data-preserve-attr` keep their old values.

The visible result is the new markup except where those rules say otherwise. Tracking which
attributes a morph really changed is what lets the replica re-apply only new or changed
`data-signals`, as Datastar's attribute observer does.

lxml has no text nodes (text hangs off elements as `.text` and `.tail`), so while an element's
children are being morphed they are held as a linked list of nodes (`_Frame`) in which text is
a `_Text` node, and written back to the tree when that element is done.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import TypeAlias

from lxml import etree

from .tree import HtmlElement, attributes, detach, is_element, new_element

__all__ = [
    "IGNORE_MORPH",
    "PRESERVE_ATTR",
    "Morph",
    "children_of",
    "morph_by_result",
    "morph_element_by_result",
    "MorphError",
    "needs_node_by_node",
]

IGNORE_MORPH = "data-ignore-morph"


class MorphError(RuntimeError):
    """A morph that cannot finish (its step budget ran out): the patch is given up, as a
    browser's thrown error gives it up (§7.2)."""


PRESERVE_ATTR = "data-preserve-attr"


# What can make a morph's result differ from the new markup, or its side effects from a fresh
# insert: elements that opt out or keep attributes, scripts (a kept one does not run again) and
# data-signals (an unchanged one is not applied again).
_MATTERS = etree.XPath(
    "descendant-or-self::*[@data-ignore-morph or @data-preserve-attr or self::script"
    " or @*[starts-with(name(), 'data-signals')]]"
)
_IGNORED_ANCESTOR = etree.XPath("ancestor::*[@data-ignore-morph]")


def needs_node_by_node(el: HtmlElement) -> bool:
    """True when `el` or its subtree holds something a morph must handle node by node."""
    return bool(_MATTERS(el))


def morph_by_result(
    old: HtmlElement, content: HtmlElement, *, inner: bool, checked: bool = False
) -> bool:
    """Apply a morph by its result, at C speed, when nothing in it needs node-by-node work.

    When neither side has `data-ignore-morph`, `data-preserve-attr`, scripts or
    `data-signals`, and (outer) the new markup is one element that the morph would match to
    the target, the morph's result is exactly the new markup: the target keeps its identity
    and takes the new attributes and children. Returns False (and changes nothing) otherwise,
    for `Morph` to do the work. Views of the target's descendants do not survive this path.
    `checked` says the caller already knows neither side holds such things.
    """
    if not inner:
        if len(content) != 1 or (content.text or "").strip() or (content[0].tail or "").strip():
            return False
        return morph_element_by_result(old, content[0], checked=checked)
    if not checked and (_MATTERS(old) or _MATTERS(content) or _IGNORED_ANCESTOR(old)):
        return False
    _adopt_children(old, content)
    return True


def morph_element_by_result(old: HtmlElement, new: HtmlElement, *, checked: bool = False) -> bool:
    """`morph_by_result` for an outer morph of `old` into the single element `new`."""
    old_id = old.get("id")
    if new.tag != old.tag or (old_id and old_id != new.get("id")):
        return False
    if not checked and (_MATTERS(old) or _MATTERS(new) or _IGNORED_ANCESTOR(old)):
        return False
    for name, _ in attributes(old):
        if new.get(name) is None:
            del old.attrib[name]
    for name, value in attributes(new):
        if old.get(name) != value:
            old.set(name, value)
    _adopt_children(old, new)
    return True


def _adopt_children(old: HtmlElement, source: HtmlElement) -> None:
    for child in list(old):
        old.remove(child)
    old.text = source.text
    for child in list(source):
        old.append(child)  # moved, with its tail


class _Text:
    """A text node: one run of character data between elements."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


_Node: TypeAlias = HtmlElement | _Text

# Datastar's findBestMatch distinguishes "no fallback yet" (null) from "soft matching given
# up" (undefined); both are falsy when it finally returns.
_GIVEN_UP = _Text("")


def _kind(node: _Node) -> int:
    """The DOM nodeType: 1 element, 3 text, 7 processing instruction, 8 comment."""
    if isinstance(node, _Text):
        return 3
    if isinstance(node, etree._Comment):
        return 8
    return 1 if isinstance(node.tag, str) else 7


def _soft_match(old: _Node, new: _Node) -> bool:
    kind = _kind(old)
    if kind != _kind(new):
        return False
    if kind != 1:
        return True
    assert isinstance(old, HtmlElement)
    assert isinstance(new, HtmlElement)
    old_id = old.get("id")
    return bool(old.tag == new.tag and (not old_id or old_id == new.get("id")))


def children_of(parent: HtmlElement) -> list[_Node]:
    """The child nodes of an element, text included, in order."""
    nodes: list[_Node] = []
    if parent.text:
        nodes.append(_Text(parent.text))
    for child in parent:
        nodes.append(child)
        if child.tail:
            nodes.append(_Text(child.tail))
    return nodes


class _Frame:
    """The children of one element while they are being morphed: a doubly linked list."""

    __slots__ = ("first", "next", "parent", "prev")

    def __init__(self, parent: HtmlElement | None, nodes: list[_Node]) -> None:
        self.parent = parent
        self.next: dict[_Node, _Node | None] = {}
        self.prev: dict[_Node, _Node | None] = {}
        self.first: _Node | None = None
        last: _Node | None = None
        for node in nodes:
            self.prev[node] = last
            self.next[node] = None
            if last is None:
                self.first = node
            else:
                self.next[last] = node
            last = node

    def __iter__(self) -> Iterator[_Node]:
        node = self.first
        while node is not None:
            yield node
            node = self.next[node]

    def insert_before(self, node: _Node, ref: _Node | None) -> None:
        if ref is None:
            last = self.first
            while last is not None and self.next[last] is not None:
                last = self.next[last]
            self.prev[node], self.next[node] = last, None
            if last is None:
                self.first = node
            else:
                self.next[last] = node
            return
        before = self.prev[ref]
        self.prev[node], self.next[node] = before, ref
        self.prev[ref] = node
        if before is None:
            self.first = node
        else:
            self.next[before] = node

    def remove(self, node: _Node) -> None:
        before, after = self.prev.pop(node), self.next.pop(node)
        if before is None:
            self.first = after
        else:
            self.next[before] = after
        if after is not None:
            self.prev[after] = before


class Morph:
    """One morph of a target element into new content, reporting what it touched.

    `on_attr(element, name, value)` is called for every attribute the morph sets (the replica
    re-applies changed `data-signals`); `on_insert(element)` for every fresh subtree it inserts
    (new markup with nothing to match).
    """

    __slots__ = (
        "_budget",
        "_by_id",
        "_id_map",
        "_on_attr",
        "_on_insert",
        "_owner",
        "_pantry",
        "_persistent",
    )

    def __init__(
        self,
        on_attr: Callable[[HtmlElement, str, str], None],
        on_insert: Callable[[HtmlElement], None],
    ) -> None:
        self._on_attr = on_attr
        self._on_insert = on_insert
        self._persistent: set[str] = set()
        self._id_map: dict[_Node, set[str]] = {}
        self._by_id: dict[str, HtmlElement] = {}
        self._owner: dict[_Node, _Frame] = {}  # nodes held by an open frame or the pantry
        self._pantry = _Frame(None, [])
        self._budget = 0

    def _tick(self) -> None:
        """Count one step; a morph is at most quadratic in its nodes, so running out of steps
        means it would not finish."""
        self._budget -= 1
        if self._budget < 0:
            raise MorphError("the morph did not finish (duplicate ids or ignored elements)")

    def run(
        self, old: HtmlElement, content: HtmlElement, *, inner: bool, keep_ignored: bool = True
    ) -> None:
        """Morph `old` (outer) or its children (inner) into the children of `content`.

        `content` is a detached wrapper element holding the new nodes; it is consumed.
        `keep_ignored`: an outer morph of an element with `data-ignore-morph` into one that
        also has it leaves the element alone (Datastar's rule for patches by id).

        Raises:
            MorphError: the morph would not finish; `old` may be half-changed.
        """
        size = sum(1 for _ in old.iter()) + sum(1 for _ in content.iter()) + 8
        self._budget = 16 * size * size
        if keep_ignored and not inner and len(content) == 1 and not (content.text or "").strip():
            only = content[0]
            if old.get(IGNORE_MORPH) is not None and only.get(IGNORE_MORPH) is not None:
                return  # ignore-morph on both sides: the element is left alone
        if any(a.get(IGNORE_MORPH) is not None for a in old.iterancestors()):
            return  # a target inside an ignore-morph subtree is never morphed

        old_ids = [el for el in old.iter() if is_element(el) and el.get("id")]
        tags: dict[str, str] = {}
        duplicates: set[str] = set()
        for el in old_ids:
            element_id = el.get("id")
            assert element_id is not None
            if element_id in tags:
                duplicates.add(element_id)
            else:
                tags[element_id] = el.tag
        new_ids = [el for el in content.iterdescendants() if is_element(el) and el.get("id")]
        for el in new_ids:
            element_id = el.get("id")
            assert element_id is not None
            if element_id in self._persistent:
                duplicates.add(element_id)
            elif tags.get(element_id) == el.tag:
                self._persistent.add(element_id)
        self._persistent -= duplicates
        self._by_id = {str(el.get("id")): el for el in old_ids}

        parent = old.getparent()
        self._populate(old if inner or parent is None else parent, old_ids)
        self._populate(content, new_ids)
        if inner:
            self._morph_children(old, content)
        elif parent is None:
            # The document element has no parent to morph within: morph it in place.
            self._morph_node(old, content[0])
        else:
            self._morph_children(parent, content, insertion=old)

    # -- the algorithm ------------------------------------------------------------------------

    def _populate(self, root: HtmlElement, elements: list[HtmlElement]) -> None:
        """Map every node to the persistent ids in its subtree (up to `root`, exclusive)."""
        for el in elements:
            element_id = el.get("id")
            if element_id not in self._persistent:
                continue
            current: HtmlElement | None = el
            while current is not None and current is not root:
                self._id_map.setdefault(current, set()).add(element_id)
                current = current.getparent()

    def _morph_children(
        self, old_parent: HtmlElement, new_parent: HtmlElement, insertion: _Node | None = None
    ) -> None:
        frame = self._open(old_parent)
        end: _Node | None = None
        if insertion is not None:
            end = frame.next[insertion]  # outer: only the target itself is replaced
        cursor = insertion if insertion is not None else frame.first
        new_nodes = children_of(new_parent)
        for index, new_child in enumerate(new_nodes):
            self._tick()
            if cursor is not None and cursor is not end:
                best = self._best_match(new_child, new_nodes, index, frame, cursor, end)
                if best is not None:
                    node: _Node | None = cursor
                    while node is not None and node is not best:
                        self._tick()
                        following = frame.next[node]
                        self._remove(node)
                        node = following
                    self._morph_node(best, new_child)
                    cursor = frame.next[best]
                    continue
            new_id = new_child.get("id") if isinstance(new_child, HtmlElement) else None
            if new_id is not None and new_id in self._persistent and is_element(new_child):
                moved = self._by_id[new_id]
                ancestor = self._parent(moved)
                while ancestor is not None:
                    self._tick()
                    ids = self._id_map.get(ancestor)
                    if ids is not None:
                        ids.discard(new_id)
                        if not ids:
                            del self._id_map[ancestor]
                    ancestor = self._parent(ancestor)
                self._take(moved)
                self._put(frame, moved, cursor)
                self._morph_node(moved, new_child)
                cursor = frame.next[moved]
                continue
            if new_child in self._id_map:
                assert isinstance(new_child, HtmlElement)
                empty = new_element(new_child.tag)
                self._put(frame, empty, cursor)
                self._morph_node(empty, new_child)
                cursor = frame.next[empty]
                continue
            clone = _clone(new_child)
            self._put(frame, clone, cursor)
            if is_element(clone):
                assert isinstance(clone, HtmlElement)
                self._on_insert(clone)
            cursor = frame.next[clone]
        while cursor is not None and cursor is not end:
            self._tick()
            following = frame.next[cursor]
            self._remove(cursor)
            cursor = following
        self._close(frame)

    def _best_match(
        self,
        node: _Node,
        new_nodes: list[_Node],
        index: int,
        frame: _Frame,
        start: _Node,
        end: _Node | None,
    ) -> _Node | None:
        """Datastar's findBestMatch: an id-set match, else the first safe soft match."""
        best: _Node | None = None
        sibling = index + 1
        sibling_soft_matches = 0
        displaced = 0
        new_set = self._id_map.get(node)
        wanted = len(new_set) if new_set else 0
        cursor: _Node | None = start
        while cursor is not None and cursor is not end:
            self._tick()
            if _soft_match(cursor, node):
                old_set = self._id_map.get(cursor)
                if new_set and old_set and not old_set.isdisjoint(new_set):
                    return cursor
                if (best is None or best is _GIVEN_UP) and cursor not in self._id_map:
                    if not wanted:
                        return cursor
                    best = cursor
            displaced += len(self._id_map.get(cursor, ()))
            if displaced > wanted:
                break
            if (
                best is None
                and sibling < len(new_nodes)
                and _soft_match(cursor, new_nodes[sibling])
            ):
                # Two later new siblings match here: leave this node to them (less churn
                # when content is prepended).
                sibling_soft_matches += 1
                sibling += 1
                if sibling_soft_matches >= 2:
                    best = _GIVEN_UP
            cursor = frame.next[cursor]
        return None if best is _GIVEN_UP else best

    def _morph_node(self, old: _Node, new: _Node) -> None:
        if isinstance(old, _Text) or isinstance(new, _Text):
            if isinstance(old, _Text) and isinstance(new, _Text) and old.value != new.value:
                old.value = new.value
            return
        if not is_element(new):
            if old.text != new.text:
                old.text = new.text
            return
        if old.get(IGNORE_MORPH) is not None and new.get(IGNORE_MORPH) is not None:
            return
        preserved = (new.get(PRESERVE_ATTR) or "").split(" ")
        for name, value in attributes(new):
            if old.get(name) != value and name not in preserved:
                old.set(name, value)
                self._on_attr(old, name, value)
        for name, _ in attributes(old):
            if new.get(name) is None and name not in preserved:
                del old.attrib[name]
        if old.tag == "template" and new.tag == "template":
            for child in list(old):
                old.remove(child)
            old.text = new.text
            for child in new:
                clone = copy.deepcopy(child)
                clone.tail = child.tail
                old.append(clone)
        elif not _equal(old, new):
            self._morph_children(old, new)

    # -- moving nodes between frames, the tree and the pantry -------------------------------

    def _open(self, parent: HtmlElement) -> _Frame:
        frame = _Frame(parent, children_of(parent))
        for node in frame:
            self._owner[node] = frame
        return frame

    def _close(self, frame: _Frame) -> None:
        """Write a frame's nodes back into its element."""
        parent = frame.parent
        assert parent is not None
        for child in list(parent):
            parent.remove(child)
        parent.text = None
        last: HtmlElement | None = None
        for node in frame:
            del self._owner[node]
            if isinstance(node, _Text):
                if last is None:
                    parent.text = (parent.text or "") + node.value
                else:
                    last.tail = (last.tail or "") + node.value
            else:
                node.tail = None
                parent.append(node)
                last = node

    def _parent(self, node: _Node) -> HtmlElement | None:
        frame = self._owner.get(node)
        if frame is not None:
            return frame.parent
        return node.getparent() if isinstance(node, HtmlElement) else None

    def _take(self, node: _Node) -> None:
        """Take a node from wherever it is now (a frame, the pantry or the tree)."""
        frame = self._owner.pop(node, None)
        if frame is not None:
            frame.remove(node)
        elif isinstance(node, HtmlElement):
            detach(node)

    def _put(self, frame: _Frame, node: _Node, ref: _Node | None) -> None:
        frame.insert_before(node, ref)
        self._owner[node] = frame

    def _remove(self, node: _Node) -> None:
        """Datastar's removeNode: nodes holding persistent ids wait in the pantry for reuse."""
        self._take(node)
        if node in self._id_map:
            self._put(self._pantry, node, None)


def _clone(node: _Node) -> _Node:
    if isinstance(node, _Text):
        return _Text(node.value)
    clone = copy.deepcopy(node)
    clone.tail = None
    return clone


def _equal(old: HtmlElement, new: HtmlElement) -> bool:
    """isEqualNode, approximately: identical serialisations (attribute order counts, so a
    difference only costs a deeper walk)."""
    return bool(etree.tostring(old, with_tail=False) == etree.tostring(new, with_tail=False))
