"""State handles: typed signals and server state at tab, session and app scope.

Handles are declared as class attributes of a composition and hold no value themselves; the
value lives in the scope the handle names (specs/protocol.md §8):

* `Signal[T]` lives in the tab (client and server); a write sends the writer tab a
  patch-signals and re-renders nothing.
* `StateTab[T]` lives in the tab (server only); a write re-renders the writer tab.
* `StateSess[T]` lives in the session; a write re-renders the writer and every same-session
  tab whose last render read it.
* `StateApp[T]` lives in the app; a write re-renders the writer and every tab, in any session,
  whose last render read it.
* `StateAppEvents` is an app-wide event log folded into a value; after the asynchronous fold,
  every reading tab re-renders, the writer included.

Reading a server-state handle during a render is what subscribes the tab to it. The runtime is
single-threaded (asyncio), so a synchronous update can never interleave with another; `update`
also takes a per-key lock around asynchronous update functions, so that no update is lost when
an update awaits.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from . import codec, data
from .html import Attr
from .hub import HasHub, Hub, Reducer, hub_of
from .replication import register_log
from .sessions import Session

__all__ = [
    "Signal",
    "SignalBool",
    "SignalFloat",
    "SignalInt",
    "SignalList",
    "SignalMap",
    "SignalStr",
    "StateApp",
    "StateAppEvents",
    "StateSess",
    "StateTab",
    "TabScope",
]

T = TypeVar("T")
E = TypeVar("E")


class TabScope(Protocol):
    """What a handle needs of the tab it is used in (a `Ctx` is one): the tab's signals and
    state, its session, the app's hub, and the read/write notes that drive fan-out (§8)."""

    @property
    def signals(self) -> dict[str, Any]:
        """The tab's signal values, by wire key."""

    @property
    def state(self) -> dict[str, Any]:
        """The tab's `StateTab` values, by wire key."""

    @property
    def session(self) -> Session:
        """The tab's session (its `StateSess` values)."""

    @property
    def hub(self) -> Hub[Any]:
        """The app's hub (its `StateApp` values, locks and logs)."""

    def note_read(self, scope: str, key: str) -> None:
        """A render read this key."""

    def note_write(self, scope: str, key: str) -> None:
        """An action wrote this key."""

    def mark_signal(self, key: str) -> None:
        """An action wrote this signal."""

    def stage(self, commit: asyncio.Task[None]) -> None:
        """A write to the backplane this action waits for (a cluster node, specs/cluster.md)."""


def _declared(handle: object) -> tuple[Any, ...]:
    """The type arguments a handle was declared with (`StateApp[list[Message]]`: the list)."""
    return typing.get_args(getattr(handle, "__orig_class__", None))


def _fresh(default: T | Callable[[], T]) -> T:
    value = default() if callable(default) else default
    return copy.deepcopy(value)


class Signal(Generic[T]):
    """A tab's signal: in the page's seed, sent back by the client on every action.

    `key` is the wire key (the name in the browser's signal store). `kind` is the JSON type
    the value is coerced to when the client sends it: ``str``, ``int``, ``float``, ``bool``,
    ``list`` or ``dict``. A client value that cannot be coerced is ignored (Via's best-effort
    decoding); strings are accepted for numbers and booleans.
    """

    scope = "signal"

    def __init__(self, key: str, kind: type[T], init: T | Callable[[], T]) -> None:
        if any(not part or part.startswith("_") for part in key.split(".")):
            # Datastar never sends keys with a segment starting with `_` (§6.3).
            raise ValueError(f"signal key {key!r}: empty, or a '_' segment (browser-only)")
        self.key = key
        self.kind = kind
        self.init = init

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"

    def initial(self) -> T:
        """A fresh initial value."""
        return _fresh(self.init)

    def read(self, ctx: TabScope) -> T:
        """The tab's current value (what the client last sent, or what the server wrote)."""
        value: T = ctx.signals.get(self.key, self.init)
        return value

    def write(self, ctx: TabScope, value: T) -> None:
        """Set the value; the tab gets a patch-signals with it at the end of the action."""
        ctx.signals[self.key] = value
        ctx.mark_signal(self.key)

    def bind(self) -> Attr:
        """`data-bind`: two-way binding of an input to this signal."""
        return data.bind(self.key)

    def text(self) -> Attr:
        """`data-text="$key"`: the element's text follows the signal on the client."""
        return data.text(self.ref())

    def show(self, *, negate: bool = False) -> Attr:
        """`data-show="$key"` (or `"!$key"`): shown while the signal is truthy (falsy)."""
        return data.show(("!" if negate else "") + self.ref())

    def attr(self, name: str) -> Attr:
        """`data-attr:NAME="$key"`: the attribute follows the signal."""
        return data.attr(name, self.ref())

    def class_(self, name: str) -> Attr:
        """`data-class:NAME="$key"`: the class is present while the signal is truthy."""
        return data.class_(name, self.ref())

    def style(self, prop: str) -> Attr:
        """`data-style:PROP="$key"`: the style property follows the signal."""
        return data.style(prop, self.ref())

    def ref(self) -> str:
        """The signal as a Datastar expression, `$key`."""
        return f"${self.key}"

    def coerce(self, raw: Any) -> tuple[bool, Any]:
        """Decode a client value: (ok, value). Via's rules (§4.1): best effort, never raises."""
        kind = self.kind
        try:
            if kind is str:
                if isinstance(raw, str):
                    return True, raw
                if isinstance(raw, bool):
                    return True, "true" if raw else "false"
                if isinstance(raw, int | float):
                    return True, json.dumps(raw)
                return False, None
            if kind is bool:
                if isinstance(raw, bool):
                    return True, raw
                if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
                    return True, raw.strip().lower() == "true"
                return False, None
            if kind is int:
                number = float(raw) if isinstance(raw, str) else raw
                if isinstance(number, bool) or not isinstance(number, int | float):
                    return False, None
                if not math.isfinite(number) or number != int(number):
                    return False, None
                return True, int(number)
            if kind is float:
                number = float(raw) if isinstance(raw, str) else raw
                if isinstance(number, bool) or not isinstance(number, int | float):
                    return False, None
                return (True, float(number)) if math.isfinite(number) else (False, None)
            if kind in (list, dict):
                if isinstance(raw, str):  # a multipart text field carries JSON
                    raw = json.loads(raw)
                return (True, raw) if isinstance(raw, kind) else (False, None)
        except (TypeError, ValueError, OverflowError, RecursionError):
            return False, None
        return False, None


def SignalStr(key: str, init: str = "") -> Signal[str]:
    """A string signal."""
    return Signal(key, str, init)


def SignalInt(key: str, init: int = 0) -> Signal[int]:
    """An integer signal (client numbers with a fraction are ignored)."""
    return Signal(key, int, init)


def SignalFloat(key: str, init: float = 0.0) -> Signal[float]:
    """A float signal."""
    return Signal(key, float, init)


def SignalBool(key: str, init: bool = False) -> Signal[bool]:
    """A boolean signal."""
    return Signal(key, bool, init)


def SignalList(key: str, init: Callable[[], list[Any]] = list) -> Signal[list[Any]]:
    """A list signal (replaced whole when the client sends it)."""
    return Signal(key, list, init)


def SignalMap(key: str, init: Callable[[], dict[str, Any]] = dict) -> Signal[dict[str, Any]]:
    """A map signal (replaced whole when the client sends it)."""
    return Signal(key, dict, init)


class _State(Generic[T]):
    """Server-only state; subclasses say where the value lives."""

    scope = ""

    def __init__(self, key: str, default: T | Callable[[], T]) -> None:
        self.key = key
        self.default = default

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"

    def __set_name__(self, owner: type, name: str) -> None:
        # The declared type reads values back from a backplane (reference_impl.codec).
        self._register()

    def _register(self) -> None:
        declared = _declared(self)
        if declared and self.scope != "tab":
            codec.register(self.scope, self.key, declared[0])

    def _replicate(self, ctx: TabScope, fn: Callable[[Any], Any]) -> None:
        """On a cluster node, stage the commit of `fn` to the backplane (specs/cluster.md)."""
        replicator = ctx.hub.replicator
        if replicator is None or self.scope == "tab":
            return
        self._register()
        default = self.default
        ctx.stage(
            replicator.stage_update(self.scope, self.key, ctx.session, fn, lambda: _fresh(default))
        )

    def _store(self, ctx: TabScope) -> dict[str, Any]:
        raise NotImplementedError

    def read(self, ctx: TabScope) -> T:
        """The current value; reading during a render subscribes the tab to this key."""
        store = self._store(ctx)
        if self.key not in store:
            store[self.key] = _fresh(self.default)
        ctx.note_read(self.scope, self.key)
        value: T = store[self.key]
        return value

    def _changed(self, ctx: TabScope) -> None:
        ctx.note_write(self.scope, self.key)

    def update(self, ctx: TabScope, fn: Callable[[T], T]) -> None:
        """Replace the value with `fn(value)`; if `fn` raises, nothing changes or fans out."""
        store = self._store(ctx)
        current = store[self.key] if self.key in store else _fresh(self.default)
        store[self.key] = fn(current)
        self._changed(ctx)
        self._replicate(ctx, fn)

    async def update_async(self, ctx: TabScope, fn: Callable[[T], Awaitable[T]]) -> None:
        """`update` with an awaiting function, serialised per key so no update is lost."""
        async with ctx.hub.key_lock(self.scope, self.key):
            store = self._store(ctx)
            current = store[self.key] if self.key in store else _fresh(self.default)
            store[self.key] = await fn(current)
        self._changed(ctx)
        self._replicate(ctx, fn)

    # Typed operations (Via's `Op(ctx)`): each is one `update`. The value's type is the
    # caller's promise (a list for `append`, a number for `add`...), as in Via's generics.

    def append(self, ctx: TabScope, *items: Any) -> None:
        """Append to a list value."""
        self._op(ctx, lambda value: [*value, *items])

    def add(self, ctx: TabScope, delta: float) -> None:
        """Add to a number value."""
        self._op(ctx, lambda value: value + delta)

    def toggle(self, ctx: TabScope) -> None:
        """Negate a boolean value."""
        self._op(ctx, lambda value: not value)

    def put(self, ctx: TabScope, key: Any, value: Any) -> None:
        """Set one key of a dict value."""
        self._op(ctx, lambda current: {**current, key: value})

    def delete(self, ctx: TabScope, key: Any) -> None:
        """Remove one key of a dict value (no error when absent)."""
        self._op(ctx, lambda current: {k: v for k, v in current.items() if k != key})

    def _op(self, ctx: TabScope, fn: Callable[[Any], Any]) -> None:
        self.update(ctx, fn)


class StateTab(_State[T]):
    """Server-only state of one tab; a write re-renders the writer tab only."""

    scope = "tab"

    def _store(self, ctx: TabScope) -> dict[str, Any]:
        return ctx.state

    def write(self, ctx: TabScope, value: T) -> None:
        """Set the value."""
        ctx.state[self.key] = value
        self._changed(ctx)


class StateSess(_State[T]):
    """State of one session (all its tabs), keyed by wire key across compositions."""

    scope = "sess"

    def _store(self, ctx: TabScope) -> dict[str, Any]:
        return ctx.session.state

    def write(self, ctx: TabScope, value: T) -> None:
        """Set the value."""
        ctx.session.state[self.key] = value
        self._changed(ctx)
        self._replicate(ctx, lambda _: value)


class StateApp(_State[T]):
    """State shared by every session and tab; changed only through `update` and its ops."""

    scope = "app"

    def _store(self, ctx: TabScope) -> dict[str, Any]:
        if ctx.hub.faulty("app-state-per-session"):
            # A deliberately broken variant for the mutation check: one copy per session.
            found: dict[str, Any] = ctx.session.state.setdefault("\0app-state", {})
            return found
        return ctx.hub.state


class StateAppEvents(Generic[E, T]):
    """An app-wide append-only event log, folded into a value (Via's chat shape).

    `append` records events; the fold runs soon after the action, asynchronously, and then
    every tab whose last render read the value re-renders, the writer included (its action
    frame does not contain the change, as in Via, §8). The log itself is kept whole:
    `events(app)` is every event ever appended, in order, and `load` rehydrates it. Where an
    `app` is taken, the `App`, its hub or a tab will do.
    """

    scope = "app"

    def __init__(self, key: str, initial: Callable[[], T], fold: Callable[[T, E], T]) -> None:
        self.key = key
        self.initial = initial
        self.fold = fold
        self.reducer = Reducer(initial, fold)

    def __repr__(self) -> str:
        return f"StateAppEvents({self.key!r})"

    def __set_name__(self, owner: type, name: str) -> None:
        # How a cluster node reads and folds this log's records (specs/cluster.md).
        declared = _declared(self)
        if declared:
            codec.register("events", self.key, declared[0])
        register_log(self.key, self.reducer)

    def read(self, ctx: TabScope) -> T:
        """The folded value as of the last fold; reading in a render subscribes the tab."""
        ctx.note_read(self.scope, self.key)
        return self.value(ctx.hub)

    def value(self, app: Hub[Any] | HasHub) -> T:
        """The folded value, outside any render (no subscription)."""
        value: T = hub_of(app).folded_value(self.key, self.reducer)
        return value

    def events(self, app: Hub[Any] | HasHub) -> list[E]:
        """Every event appended so far, oldest first (a copy)."""
        return list(hub_of(app).event_log(self.key).events)

    def append(self, ctx: TabScope, *events: E) -> None:
        """Record events; they are folded and fanned out after the action returns."""
        if not events:
            return
        replicator = ctx.hub.replicator
        if replicator is None:
            ctx.hub.append_events(self.key, events, self.reducer)
        else:  # a cluster node: the backplane delivers them back, to every node (§C3)
            ctx.stage(replicator.stage_append(self.key, events))

    def load(self, app: Hub[Any] | HasHub, events: Iterable[E]) -> None:
        """Rehydrate: append `events` and fold them now, with no fan-out (app start-up)."""
        hub = hub_of(app)
        hub.event_log(self.key).events.extend(events)
        hub.fold(self.key, self.reducer)

    def fold_pending(self, app: Hub[Any] | HasHub) -> bool:
        """Fold the events not folded yet into the value; True if there were any."""
        return hub_of(app).fold(self.key, self.reducer)
