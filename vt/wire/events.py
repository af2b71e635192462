"""The typed event model: what a Datastar/Via stream says, as values.

`parse_event()` turns one `ServerSentEvent` into a `PatchElements`, a `PatchSignals` or an
`UnknownEvent` (a type vt does not know, kept raw). Comments stay `Comment`s; `is_ready()` and
`PatchSignals.is_heartbeat` recognise Via's two protocol signals. Anything malformed raises
`MalformedEvent` naming the rule of `specs/protocol.md` it breaks and showing the bytes.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias, overload

from ..errors import MalformedEvent, ProtocolError
from ..js.engine import parse_literal
from ..js.expr import NOT_A_LITERAL, load_json
from .sse import Comment, ServerSentEvent, SSEDecoder

__all__ = [
    "BY_ID_MODES",
    "Event",
    "EventLog",
    "PatchElements",
    "PatchMode",
    "PatchSignals",
    "Reading",
    "StreamItem",
    "UnknownEvent",
    "Violation",
    "read_as_browser",
    "interpret",
    "is_ready",
    "parse_event",
    "read_item",
]

PATCH_ELEMENTS = "datastar-patch-elements"
PATCH_SIGNALS = "datastar-patch-signals"


class PatchMode(StrEnum):
    """Where `PatchElements.elements` go relative to each target (specs/protocol.md §6.2)."""

    OUTER = "outer"
    INNER = "inner"
    REPLACE = "replace"
    PREPEND = "prepend"
    APPEND = "append"
    BEFORE = "before"
    AFTER = "after"
    REMOVE = "remove"


# Modes whose targets come from the elements' ids when no selector is given. Every other mode
# needs a selector: Datastar 1.0 throws PatchElementsExpectedSelector without one.
BY_ID_MODES = frozenset({PatchMode.OUTER, PatchMode.REPLACE})
_NAMESPACES = frozenset({"html", "svg", "mathml"})


@dataclass(frozen=True, slots=True)
class PatchElements:
    """A `datastar-patch-elements` event: put `elements` into the page at `selector`/`mode`.

    With no `selector` (outer and replace modes only) each top-level element of `elements`
    targets the existing element with the same id. `elements` is the `elements` data lines
    joined with LF, exactly as the browser reassembles them.
    """

    elements: str = ""
    selector: str | None = None
    mode: PatchMode = PatchMode.OUTER
    use_view_transition: bool = False
    view_transition_selector: str | None = None
    namespace: str = "html"
    id: str | None = field(default=None, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)

    def __repr__(self) -> str:
        parts = [f"elements={_short(self.elements)!r}"]
        if self.selector is not None:
            parts.append(f"selector={self.selector!r}")
        if self.mode is not PatchMode.OUTER:
            parts.append(f"mode={self.mode.value!r}")
        if self.use_view_transition:
            parts.append("use_view_transition=True")
        if self.namespace != "html":
            parts.append(f"namespace={self.namespace!r}")
        return f"PatchElements({', '.join(parts)})"

    @property
    def kind(self) -> str:
        """The SSE event type, `datastar-patch-elements`."""
        return PATCH_ELEMENTS

    def describe(self) -> str:
        """One line for timelines: mode, target and a short form of the payload."""
        if self.selector is not None:
            target = self.selector
        else:
            found = _FIRST_ID.search(self.elements)
            target = f"#{_short(found.group(1), 24)}" if found else "#?"
        size = len(self.elements.encode())
        words = _short(html_lib.unescape(_TAGS.sub(" ", self.elements)), 70)
        body = f" text {words!r}" if words else ""
        return f"patch-elements {self.mode.value} {target} ({_size(size)}){body}"


@dataclass(frozen=True, slots=True)
class PatchSignals:
    """A `datastar-patch-signals` event: JSON-merge-patch `signals` into the tab's signals."""

    signals: dict[str, Any]
    only_if_missing: bool = False
    id: str | None = field(default=None, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def kind(self) -> str:
        """The SSE event type, `datastar-patch-signals`."""
        return PATCH_SIGNALS

    @property
    def is_heartbeat(self) -> bool:
        """True for Via's heartbeat: an empty patch (`signals {}`, specs/protocol.md §5.3)."""
        return not self.signals and not self.only_if_missing

    def describe(self) -> str:
        """One line for timelines."""
        if self.is_heartbeat:
            return "heartbeat (patch-signals {})"
        text = json.dumps(self.signals, separators=(",", ":"), ensure_ascii=False)
        extra = " only-if-missing" if self.only_if_missing else ""
        return f"patch-signals{extra} {_short(text, 90)}"


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event whose type vt does not interpret; kept so nothing on the wire is lost."""

    event: str
    data: str
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def kind(self) -> str:
        """The SSE event type as sent ("message" when the event had no `event:` line)."""
        return self.event or "message"

    def describe(self) -> str:
        """One line for timelines."""
        return f"unknown event {self.kind!r} {_short(self.data, 70)}"


Event: TypeAlias = PatchElements | PatchSignals | UnknownEvent
StreamItem: TypeAlias = Event | Comment


def is_ready(item: StreamItem) -> bool:
    """True for Via's `: ready` comment, sent once the server is subscribed (§5.3)."""
    return isinstance(item, Comment) and item.text.strip() == "ready"


def parse_event(sse: ServerSentEvent) -> Event:
    """Interpret one SSE event as a Datastar event, strictly.

    Raises:
        MalformedEvent: the event is a Datastar type but breaks its grammar (§6); the first
            rule broken is named (`interpret` reads it as a browser does instead).
    """
    reading = interpret(sse)
    if reading.violations:
        raise reading.violations[0].error()
    assert reading.event is not None
    return reading.event


class EventLog(Sequence[StreamItem]):
    """Every event (and comment) a tab received, in order: a read-only sequence.

    A stream's events are kept as their raw bytes and read again into typed events when
    first accessed: with thousands of tabs, keeping one object per event is what keeps the
    garbage collector busy. Reading is deterministic (a stream event's bytes always give the
    same event), so the typed events equal those that were applied; an event's `id` is the
    one its own bytes carry.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[bytes | StreamItem] = []

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> StreamItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[StreamItem]: ...

    def __getitem__(self, index: int | slice) -> StreamItem | list[StreamItem]:
        if isinstance(index, slice):
            return [self._typed(i) for i in range(*index.indices(len(self._items)))]
        if index < 0:
            index += len(self._items)
        if not 0 <= index < len(self._items):
            raise IndexError("event index out of range")
        return self._typed(index)

    def __repr__(self) -> str:
        return f"<EventLog {len(self._items)} items>"

    def append(self, item: StreamItem) -> None:
        """Record a typed item."""
        self._items.append(item)

    def append_raw(self, raw: bytes) -> None:
        """Record a well-formed stream event by its bytes (read again when accessed)."""
        self._items.append(raw)

    def _typed(self, index: int) -> StreamItem:
        item = self._items[index]
        if isinstance(item, bytes):
            item = self._items[index] = read_raw(item)
        return item


def read_raw(raw: bytes) -> StreamItem:
    """The typed item of one complete event's (or comment's) bytes, read as a browser reads it
    (`interpret`: an event that breaks a rule of §6 but that the browser applies is returned
    as applied)."""
    decoder = SSEDecoder()
    items = decoder.feed(raw) + decoder.close()
    if len(items) != 1:
        raise ValueError(f"expected the bytes of one event, got {len(items)} items: {raw!r}")
    item = items[0]
    if isinstance(item, Comment) or not item.terminated:
        return read_item(item)
    event = interpret(item).event
    if event is None:
        raise ValueError(f"a browser applies nothing for these bytes: {raw!r}")
    return event


def read_item(item: ServerSentEvent | Comment) -> StreamItem:
    """Interpret one decoded item as a browser would: comments as they are, events parsed.

    Raises:
        ProtocolError: the event was cut off by the end of the stream (§5.2); a browser drops
            it, so it must not be applied.
        MalformedEvent: the event breaks the Datastar grammar (§6).
    """
    if isinstance(item, Comment):
        return item
    if not item.terminated:
        raise ProtocolError(
            _CUT_OFF,
            section="5.2",
            raw=item.raw,
        )
    return parse_event(item)


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule of specs/protocol.md that an event breaks, although a browser still reads it
    (§6): the section, what is wrong and the event's bytes."""

    section: str
    message: str
    raw: bytes = field(default=b"", repr=False)

    def error(self) -> MalformedEvent:
        """The violation as the exception strict reading raises."""
        return MalformedEvent(self.message, section=self.section, raw=self.raw)


@dataclass(frozen=True, slots=True)
class Reading:
    """How a browser reads one SSE event: the `event` it applies (None when Datastar throws
    instead, with `console` saying what it logs), and the protocol `violations` vt records
    either way."""

    event: Event | None
    violations: tuple[Violation, ...] = ()
    console: tuple[str, ...] = ()


_CUT_OFF = (
    "the stream ended inside an event (no blank line after it); a browser drops such an event, "
    "so vt did not apply it"
)


def read_as_browser(sse: ServerSentEvent) -> Reading:
    """`interpret`, and an event cut off by the end of the stream read as the browser reads
    it: dropped, with a §5.2 violation."""
    if not sse.terminated:
        return Reading(None, (Violation("5.2", _CUT_OFF, sse.raw),))
    return interpret(sse)


def interpret(sse: ServerSentEvent) -> Reading:
    """Read one SSE event exactly as Datastar 1.0's client does, recording every rule of §6 it
    breaks instead of refusing it (strict reading is `parse_event`)."""
    if sse.event == PATCH_ELEMENTS:
        return _read_patch_elements(sse)
    if sse.event == PATCH_SIGNALS:
        return _read_patch_signals(sse)
    return Reading(UnknownEvent(sse.event, sse.data, raw=sse.raw))


class _Reader:
    """Collects an event's data lines by key, as the Datastar client splits them, and the
    violations found on the way."""

    def __init__(self, sse: ServerSentEvent, known: frozenset[str], section: str) -> None:
        self.sse = sse
        self.section = section
        self.violations: list[Violation] = []
        self.groups: dict[str, list[str]] = {}
        for line in sse.data_lines:
            key, space, value = line.partition(" ")
            if not space:
                # The client splits at the first space: without one the line goes under a
                # bogus key and is lost (a blank HTML line vanishes). SDKs write
                # `data: elements ` (§6.1).
                self.violate(f"data line {line!r} has no space after its key; a browser drops it")
                continue
            if key not in known:
                self.violate(
                    f"unknown data key {key!r}; expected one of {sorted(known)} (a browser "
                    "ignores the line)"
                )
                continue
            self.groups.setdefault(key, []).append(value)

    def violate(self, message: str, section: str | None = None) -> None:
        self.violations.append(
            Violation(section or self.section, f"{self.sse.event}: {message}", self.sse.raw)
        )

    def single(self, key: str) -> str | None:
        """One key's value; repeated lines are joined with LF, as the client does."""
        values = self.groups.get(key)
        if values is None:
            return None
        if len(values) > 1 and key not in ("elements", "signals"):
            self.violate(f"data key {key!r} appears {len(values)} times; it takes one line")
        return "\n".join(values)

    def flag(self, key: str) -> bool:
        """`true` (spaces around allowed) is true; anything else is false, as in the client."""
        value = self.single(key)
        if value is None:
            return False
        if value.strip() not in ("true", "false"):
            self.violate(f"{key} must be 'true' or 'false', got {value!r} (a browser reads false)")
        return value.strip() == "true"

    def reading(self, event: Event | None, console: str | None = None) -> Reading:
        return Reading(event, tuple(self.violations), (console,) if console else ())


_ELEMENT_KEYS = frozenset(
    {"selector", "mode", "useViewTransition", "viewTransitionSelector", "namespace", "elements"}
)


def _read_patch_elements(sse: ServerSentEvent) -> Reading:
    reader = _Reader(sse, _ELEMENT_KEYS, "6.1")
    mode_text = reader.single("mode")
    mode = _MODES.get(mode_text or "outer")  # matched exactly: `data: mode  inner` is no mode
    if mode is None:
        reader.violate(
            f"unknown mode {mode_text!r}; expected one of {[m.value for m in PatchMode]}", "6.2"
        )
        return reader.reading(None, f"PatchElementsInvalidMode: {mode_text!r}")
    selector = reader.single("selector") or None
    if selector is not None and not selector.strip():
        reader.violate("the selector is blank (querySelectorAll throws)", "6.2")
    if selector is None and mode not in BY_ID_MODES:
        reader.violate(
            f"mode {mode.value!r} needs a selector (only outer and replace target elements by id)",
            "6.2",
        )
        return reader.reading(None, "PatchElementsExpectedSelector")
    namespace = reader.single("namespace") or "html"
    if namespace not in _NAMESPACES:
        reader.violate(f"unknown namespace {namespace!r}; expected html, svg or mathml")
        return reader.reading(None, f"PatchElementsInvalidNamespace: {namespace!r}")
    if "elements" not in reader.groups and mode is not PatchMode.REMOVE:
        reader.violate(f"mode {mode.value!r} without any `elements` line")
    event = PatchElements(
        elements=reader.single("elements") or "",
        selector=selector,
        mode=mode,
        use_view_transition=reader.flag("useViewTransition"),
        view_transition_selector=reader.single("viewTransitionSelector"),
        namespace=namespace,
        id=sse.id,
        raw=sse.raw,
    )
    return reader.reading(event)


def _read_patch_signals(sse: ServerSentEvent) -> Reading:
    reader = _Reader(sse, frozenset({"signals", "onlyIfMissing"}), "6.3")
    text = reader.single("signals")
    if text is None:
        reader.violate("no `signals` line")
        return reader.reading(None, "PatchSignalsExpectedSignals")
    try:
        value = load_json(text)
    except ValueError as exc:
        value = parse_literal(text)
        if value is NOT_A_LITERAL:
            reader.violate(f"signals are not valid JSON ({exc})")
            return reader.reading(None, f"SyntaxError: signals {text[:60]!r} (Function throws)")
        reader.violate(f"signals are not JSON but a JavaScript literal ({exc}); a browser reads it")
    if not isinstance(value, dict):
        reader.violate(f"signals must be a JSON object, got {type(value).__name__}")
        # The client merges whatever the value holds, key by key (`for…in`): an array's
        # indexes, a string's characters; a number or null holds none.
        items = value if isinstance(value, list | str) else []
        value = {str(i): v for i, v in enumerate(items)}
    only = reader.flag("onlyIfMissing")
    return reader.reading(PatchSignals(value, only_if_missing=only, id=sse.id, raw=sse.raw))


_MODES = {m.value: m for m in PatchMode}


_TAGS = re.compile(r"<[^>]*>")
_FIRST_ID = re.compile(r"""<[A-Za-z][^>]*?\sid=["']?([^"'\s>]+)""")


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB"
