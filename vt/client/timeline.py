"""Timelines: everything a tab saw, with its time and the action that preceded it.

Times are `time.monotonic()` seconds; renderings show them relative to an origin (usually the
last action), which is what a reader of a failed wait wants to see.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ActionRef", "Entry", "Timeline"]


@dataclass(frozen=True, slots=True)
class ActionRef:
    """One action fired through vt: who fired it (`tab` label), its name and when."""

    tab: str
    name: str
    at: float

    def describe(self) -> str:
        """`alice/1 Send`."""
        return f"{self.tab} {self.name}"


class Entry:
    """One thing that happened on a tab.

    `kind` is one of: ``page``, ``connect``, ``event``, ``ready``, ``heartbeat``, ``comment``,
    ``end``, ``action``, ``response``, ``gesture``, ``console``, ``script``, ``error``,
    ``failed`` (a wait or check of the test that failed on this tab), ``navigate``. `item`
    is the typed event (or other object) behind the entry, when there is one; `after` the last
    action fired anywhere in the client before this entry. `text` is a one-line description;
    for an event it is written from the event when first read (most entries never are).
    """

    __slots__ = ("_decode", "_item", "_text", "after", "at", "kind")

    def __init__(
        self,
        at: float,
        kind: str,
        text: str | None,
        item: Any = None,
        after: ActionRef | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> None:
        self.at = at
        self.kind = kind
        self._text = text
        self._item = item
        self.after = after
        self._decode = decode

    def __repr__(self) -> str:
        return f"Entry(at={self.at:.3f}, kind={self.kind!r}, text={self.text!r})"

    @property
    def item(self) -> Any:
        """The typed event (or other object) behind the entry, or None."""
        if isinstance(self._item, bytes) and self._decode is not None:
            self._item = self._decode(self._item)  # an event kept as its bytes (`EventLog`)
        return self._item

    @property
    def text(self) -> str:
        """The one-line description."""
        if self._text is None:
            self._text = str(self.item.describe()) if self.item is not None else ""
        return self._text


class Timeline:
    """Everything that happened on one tab, in order, as `Entry` rows.

    Stored as columns (times in an `array`, the rest in lists), so that recording an event
    allocates no object: with thousands of tabs, one object per event is what keeps the
    garbage collector busy. `entries` builds the `Entry` objects when they are read.
    """

    __slots__ = ("_afters", "_decode", "_items", "_kinds", "_texts", "_times")

    def __init__(self, decode: Callable[[bytes], Any] | None = None) -> None:
        """`decode` turns an item recorded as raw bytes into its typed item when read (the
        tab gives `vt.wire.events.read_raw`; this module knows nothing of events)."""
        self._decode = decode
        self._times = array("d")
        self._kinds: list[str] = []
        self._texts: list[str | None] = []
        self._items: list[Any] = []
        self._afters: list[ActionRef | None] = []

    def __len__(self) -> int:
        return len(self._kinds)

    def add(
        self,
        kind: str,
        text: str | None,
        item: Any = None,
        after: ActionRef | None = None,
    ) -> None:
        """Record an entry stamped now; with `text` None, the item's `describe()` is the
        text, written when first read. An event may be given as its raw bytes."""
        self._times.append(time.monotonic())
        self._kinds.append(kind)
        self._texts.append(text)
        self._items.append(item)
        self._afters.append(after)

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in order (built on each read)."""
        return [
            Entry(at, kind, text, item, after, self._decode)
            for at, kind, text, item, after in zip(
                self._times, self._kinds, self._texts, self._items, self._afters, strict=True
            )
        ]

    def copy(self) -> Timeline:
        """An independent copy (entries added later to one do not show in the other)."""
        other = Timeline(self._decode)
        other._times = array("d", self._times)
        other._kinds = list(self._kinds)
        other._texts = list(self._texts)
        other._items = list(self._items)
        other._afters = list(self._afters)
        return other

    def since(self, at: float) -> list[Entry]:
        """Entries at or after monotonic time `at`."""
        return [e for e in self.entries if e.at >= at]

    def of_kind(self, *kinds: str) -> list[Entry]:
        """Entries of the given kinds, in order."""
        return [e for e in self.entries if e.kind in kinds]

    def render(
        self, *, since: float | None = None, origin: float | None = None, limit: int = 40
    ) -> str:
        """Lines like ``+0.012s  event  patch-elements outer #id (1.2 KB) <div…``.

        Only entries at or after `since` are shown (all when None), at most the last `limit`;
        times are relative to `origin` (default: the first entry shown).
        """
        shown = self.entries if since is None else self.since(since)
        if not shown:
            return "    (nothing)"
        skipped = max(0, len(shown) - limit)
        shown = shown[skipped:]
        start = origin if origin is not None else shown[0].at
        lines = [f"    ... {skipped} earlier entries"] if skipped else []
        for e in shown:
            lines.append(f"    {e.at - start:+8.3f}s  {e.kind:<9} {e.text}")
        return "\n".join(lines)
