"""A tab's page as the browser holds it: the document and the signals, patched by events.

Pure and synchronous, so the same replica serves a live tab (`vt.AsyncTab`), the codec cases
of `specs/cases/` and the benchmarks. `apply()` does what Datastar does with one event
(specs/protocol.md §7): patch-elements go to the `Document`, whose added or changed
`data-signals` merge into the `Signals`; patch-signals merge-patch the `Signals`; scripts the
page would run and console messages it would log are kept in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._dom import ApplyResult, Document, Script
from ._events import Event, PatchElements, PatchSignals
from ._signals import Signals

__all__ = ["Replica"]


class Replica:
    """A page's document and signals, with what applying events logged and ran.

    `console` holds what a browser console would show (missing patch targets and the like),
    `scripts` every script patches added (which a browser would run), both in order.
    """

    __slots__ = ("console", "document", "scripts", "signals")

    def __init__(self, document: Document, signals: Mapping[str, Any] | None = None) -> None:
        self.document = document
        self.signals = Signals(signals)
        self.console: list[str] = []
        self.scripts: list[Script] = []

    @classmethod
    def from_html(cls, html: str, signals: Mapping[str, Any] | None = None) -> Replica:
        """A replica of a page: `html` parsed, its `data-signals` merged in order, then
        `signals` on top."""
        document = Document.parse(html)
        replica = cls(document)
        for found, only_if_missing in document.data_signals():
            replica.signals.patch(found, only_if_missing=only_if_missing)
        if signals:
            replica.signals.patch(signals)
        return replica

    def __repr__(self) -> str:
        return f"<Replica {self.document!r} {self.signals!r}>"

    def apply(self, event: Event) -> ApplyResult:
        """Apply one event as Datastar does; return what it logged, ran and declared.

        Events of other types change nothing (the browser ignores them).
        """
        if isinstance(event, PatchSignals):
            self.signals.patch(event.signals, only_if_missing=event.only_if_missing)
            return ApplyResult()
        if not isinstance(event, PatchElements):
            return ApplyResult()
        result = self.document.apply(event)
        for found, only_if_missing in result.signals:
            self.signals.patch(found, only_if_missing=only_if_missing)
        self.console.extend(result.errors)
        self.scripts.extend(result.scripts)
        return result
