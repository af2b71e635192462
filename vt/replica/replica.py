"""A tab's page as the browser holds it: the document and the signals, patched by events.

Pure and synchronous, so the same replica serves a live tab (`vt.AsyncTab`), the codec cases
of `specs/cases/` and the benchmarks. `apply()` does what Datastar does with one event
(specs/protocol.md §7): patch-elements go to the `Document` (through `vt.replica.patch`), whose
added
or changed `data-signals` are evaluated and merged into the `Signals`; patch-signals
merge-patch the `Signals`. `receive()` reads a decoded SSE item as the browser does, applying
what the browser applies and recording in `violations` every protocol rule it breaks. Scripts
the page would run and console messages it would log are kept in order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from html import unescape as html_unescape
from typing import Any

from ..js.attrs import SignalsDecl, parse_data_attr
from ..js.expr import ExpressionError
from ..wire.events import Event, PatchElements, PatchSignals, Violation, read_as_browser
from ..wire.sse import Comment, ServerSentEvent
from .display import (
    Effects,
    bind_initials,
    created_by,
    has_display,
    indicator_paths,
    render,
    unsupported,
)
from .dom import Document
from .fields import Fields
from .patch import ApplyResult, Patcher, Script
from .signals import Signals
from .tree import HtmlElement, root_of
from .watchers import changes, has_watchers, run_watchers

__all__ = ["Replica"]

_WATCH = "data-on-signal-patch"


@functools.lru_cache(maxsize=256)
def _bound_path(found: tuple[str, str, str, str]) -> tuple[str, ...] | None:
    """The signal path of a `data-bind` attribute found in markup (name, value forms)."""
    name, *values = found
    attr = parse_data_attr(name, html_unescape(next((v for v in values if v), "")))
    if attr is None or attr.plugin != "bind":
        return None
    return attr.path if attr.key else tuple(attr.value.strip().split("."))


_BIND_ATTR = re.compile(r"""(data-bind[^\s=>/]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


class Replica:
    """A page's document and signals, with what applying events logged and ran.

    `console` holds what a browser console would show (missing patch targets, patches that
    threw, expressions vt cannot evaluate), `scripts` every script patches added (which a
    browser would run), `violations` the protocol rules broken by events the browser still
    read (a strict caller fails on them), all in order.
    """

    __slots__ = (
        "_displays",
        "_flights",
        "_watching",
        "console",
        "effects",
        "fields",
        "requests",
        "document",
        "patcher",
        "scripts",
        "signals",
        "violations",
    )

    def __init__(
        self,
        document: Document,
        signals: Mapping[str, Any] | None = None,
        *,
        html: str | None = None,
    ) -> None:
        self.document = document
        self.patcher = Patcher(document)
        self.signals = Signals(signals)
        self.console: list[str] = []
        self.scripts: list[Script] = []
        self.violations: list[Violation] = []
        #: What the display attributes last did (they run again when what they read changes).
        self.effects = Effects()
        #: Form fields' current values (typed, ticked), which the markup does not show.
        self.fields = Fields()
        #: Requests expressions sent while events were applied (`data-effect`, `data-init`
        #: in added content): engine request dicts, for the tab to send and clear.
        self.requests: list[tuple[dict[str, Any], HtmlElement]] = []
        self._flights: dict[HtmlElement, int] = {}  # requests in flight per element
        # Whether the page may hold display attributes (sticky: a false "maybe" only costs a
        # walk); when it does, they are evaluated again after every event (§6.5).
        self._displays = has_display(document.root)
        # Whether the page has data-on-signal-patch listeners (sticky, like `_displays`).
        # (`html`, the page's markup when known, spares the scan when it has no such name.)
        self._watching = (html is None or _WATCH in html) and has_watchers(document.root)

    @classmethod
    def from_html(cls, html: str, signals: Mapping[str, Any] | None = None) -> Replica:
        """A replica of a page: `html` parsed, its `data-signals` merged in order, then
        `signals` on top."""
        document = Document.parse(html)
        replica = cls(document, html=html)
        replica._merge(document.page_signals)
        if signals:
            replica.signals.patch(signals)
        if "data-bind" in html:
            replica._bind()
        replica.render()
        if "data-on-intersect" in html or "data-ref" in html:
            replica.console.extend(unsupported(document.root))
        return replica

    def __repr__(self) -> str:
        return f"<Replica {self.document!r} {self.signals!r}>"

    @property
    def node_by_node(self) -> bool:
        """Run every morph node by node, as Datastar does (see `vt.replica.patch.Patcher`)."""
        return self.patcher.node_by_node

    @node_by_node.setter
    def node_by_node(self, value: bool) -> None:
        self.patcher.node_by_node = value

    def receive(self, item: ServerSentEvent | Comment) -> Event | None:
        """Read one decoded stream item as the browser does and apply it; return the event
        applied (None for a comment, or an event the browser drops or throws on).

        Rules the event breaks go to `violations`, what the browser logs to `console`. An
        event cut off by the end of the stream is dropped (§5.2).
        """
        if isinstance(item, Comment):
            return None
        reading = read_as_browser(item)
        self.violations.extend(reading.violations)
        self.console.extend(reading.console)
        if reading.event is not None:
            self.apply(reading.event)
        return reading.event

    def apply(self, event: Event) -> ApplyResult:
        """Apply one event as Datastar does; return what it logged, ran and declared.

        Events of other types change nothing (the browser ignores them).
        """
        if not self._watching and not (
            isinstance(event, PatchElements) and b"data-on-signal-patch" in (event.raw or b"")
        ):
            return self._apply(event)
        before = self.signals.to_dict()
        result = self._apply(event)
        self._watching = self._watching or has_watchers(self.document.root)
        self._watch(before)
        return result

    def _watch(self, before: dict[str, Any]) -> None:
        """Run `data-on-signal-patch` listeners for what changed since `before`."""
        if not self._watching:
            return
        detail = changes(before, self.signals)
        if not detail:
            return
        store, requests, errors = run_watchers(
            self.document.root, self.signals, detail, self.fields
        )
        self.requests.extend(requests)
        self.console.extend(e for e in errors if e not in self.console)
        if store is not None:
            self.signals.replace(store)
            self.render()

    def _apply(self, event: Event) -> ApplyResult:
        if isinstance(event, PatchSignals):
            self.signals.patch(event.signals, only_if_missing=event.only_if_missing)
            result = ApplyResult()
        elif isinstance(event, PatchElements):
            result = self.patcher.apply(event)
            result.errors.extend(self._merge(result.signals))
            for added in result.added:
                if root_of(added) is not self.document.root:
                    store = created_by(added, self.signals)
                    if store is not None:
                        self.signals.replace(store)
            self._displays = self._displays or self.patcher.displays_seen
            self.scripts.extend(result.scripts)
            if "data-bind" in event.elements and self._unbound(event.elements):
                self._bind()
        else:
            return ApplyResult()
        if self._displays:
            result.errors.extend(self._render())
        self.console.extend(result.errors)
        return result

    def render(self) -> None:
        """Evaluate the page's display attributes (`data-text`, `data-show`, `data-attr`,
        `data-class`, `data-computed`) for the current signals, as Datastar keeps them;
        errors go to `console`. `apply` does this after every event."""
        if self._displays:
            self.console.extend(self._render())

    def _unbound(self, markup: str) -> bool:
        """Whether `markup` binds a field to a signal that does not exist (a patch's fields
        are usually bound to signals the page has: then there is nothing to scan for)."""
        for found in _BIND_ATTR.findall(markup):
            path = _bound_path(found)
            if path is None:
                continue
            node: Any = self.signals
            for part in path:
                if not isinstance(node, Mapping) or part not in node:
                    return True
                node = node[part]
        return False

    def _bind(self) -> None:
        """Fields bound to signals that do not exist yet give them their value."""
        store = bind_initials(self.document.root, self.signals, self.fields)
        if store is not None:
            self.signals.replace(store)

    def set_signals(self, store: dict[str, Any]) -> None:
        """Take `store` as the signals (what an expression or a field left) and keep the
        display attributes true."""
        before = self.signals.to_dict() if self._watching else {}
        self.signals.replace(store)
        self.render()
        self._watch(before)

    def indicate(self, element: HtmlElement, delta: int) -> bool:
        """A request of `element` starts (+1) or ends (-1): its `data-indicator` signals are
        true while any is in flight (Datastar counts them). True if it has any."""
        count = max(0, self._flights.get(element, 0) + delta)
        self._flights[element] = count
        paths = indicator_paths(element)
        if not paths:
            return False
        store = self.signals.to_dict()
        for path in paths:
            node = store
            for part in path[:-1]:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
            node[path[-1]] = count > 0
        self.set_signals(store)
        return True

    def _render(self) -> list[str]:
        rendering = render(self.document.root, self.signals, self.effects, self.fields)
        if rendering.signals is not None:
            self.signals.replace(rendering.signals)
        self.requests.extend(rendering.requests)
        # An expression that throws is logged once, not after every event.
        return [e for e in rendering.errors if e not in self.console]

    def _merge(self, declared: list[SignalsDecl]) -> list[str]:
        """Evaluate `data-signals` attributes in order and merge them; return the errors."""
        errors: list[str] = []
        for decl in declared:
            try:
                patch, store = decl.patch(self.signals)
            except ExpressionError as exc:
                errors.append(f"ExpressionError: {exc} (§6.5)")
                continue
            if store is not None:
                self.signals.replace(store)
            self.signals.patch(patch, only_if_missing=decl.only_if_missing)
        return errors
