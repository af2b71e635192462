"""The hub under the tabs: what every tab of one app shares (specs/protocol.md §8).

It holds the tab registry, the subscription index (state key -> the tabs whose last render read
it), the fan-out, app-scoped state and `StateAppEvents` logs with their folds, the per-key
locks, exception logging and broadcasts. `App` owns one; each tab (`Ctx`) is given it. The
hub knows tabs only through the `Member` protocol, so nothing here imports a tab, a handler
or the app: data flows down, from the handlers through the tabs to the hub.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .options import Options

__all__ = [
    "EventLog",
    "HasHub",
    "Hub",
    "Member",
    "Reducer",
    "Replication",
    "Subscription",
    "hub_of",
]

log = logging.getLogger("reference_impl")

Subscription = tuple[str, str]  # (scope, wire key)


class Member(Protocol):
    """What the hub needs of a tab: its id and session, and the pushes it fans out."""

    @property
    def id(self) -> str:
        """The tab id (§2.2)."""

    @property
    def session(self) -> Any:
        """The tab's session: session-scoped writes reach only tabs sharing it (§8)."""

    def mark_stale(self) -> None:
        """Re-render this tab when its stream next drains (a fan-out reached it)."""

    def exec_script(self, js: str) -> None:
        """Queue a script for this tab (§6.4)."""

    def notify(self, message: str) -> None:
        """Queue a toast for this tab."""

    def patch_signals(self, signals: dict[str, Any]) -> None:
        """Queue signals for this tab, re-sent on resync (§5.5)."""


TabT = TypeVar("TabT", bound=Member)


class Replication(Protocol):
    """A cluster node's link to its backplane (`reference_impl.replication.Replicator`): the
    state handles stage their shared writes through it (specs/cluster.md)."""

    def stage_update(
        self,
        scope: str,
        key: str,
        session: Any,
        fn: Callable[[Any], Any],
        default: Callable[[], Any],
    ) -> asyncio.Task[None]:
        """Commit `fn` to the backplane's cell of this app or session key."""

    def stage_append(self, log_key: str, events: Iterable[Any]) -> asyncio.Task[None]:
        """Append events to the backplane's log under `log_key`."""


@dataclass(slots=True)
class EventLog:
    """A `StateAppEvents` log: every event appended, and how many are folded in the value."""

    events: list[Any] = field(default_factory=list)
    folded: int = 0


@dataclass(frozen=True, slots=True)
class Reducer:
    """How a `StateAppEvents` value is made: `initial()`, then `fold(value, event)` per event."""

    initial: Callable[[], Any]
    fold: Callable[[Any, Any], Any]


class Hub(Generic[TabT]):
    """The shared side of one app: registry, subscriptions, fan-out, app state, logs, locks."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tabs: dict[str, TabT] = {}  # every registered (live) tab, by id
        self.subscribers: dict[Subscription, set[TabT]] = {}
        self.state: dict[str, Any] = {}  # app-scoped values, by wire key
        self.logs: dict[str, EventLog] = {}
        self.locks: dict[Subscription, asyncio.Lock] = {}
        self.pending_folds: dict[str, Reducer] = {}
        self.fold_scheduled = False
        # Set on a cluster node (`Options.backplane`): shared writes go through it.
        self.replicator: Replication | None = None

    # -- the registry and the subscription index -----------------------------------------------

    def register(self, tab: TabT, subscriptions: Iterable[Subscription]) -> None:
        """Make a tab live: reachable by id and subscribed to what its render read."""
        self.tabs[tab.id] = tab
        self.reindex(tab, (), subscriptions)

    def unregister(self, tab: TabT, subscriptions: Iterable[Subscription]) -> None:
        """Forget a tab: no longer reachable, subscribed to nothing."""
        self.tabs.pop(tab.id, None)
        self.reindex(tab, subscriptions, ())

    def reindex(self, tab: TabT, old: Iterable[Subscription], new: Iterable[Subscription]) -> None:
        """Move a tab's subscriptions from `old` to `new` keys (its last render's reads)."""
        for key in old:
            subs = self.subscribers.get(key)
            if subs is not None:
                subs.discard(tab)
                if not subs:
                    del self.subscribers[key]
        for key in new:
            self.subscribers.setdefault(key, set()).add(tab)

    def at_tab_capacity(self) -> bool:
        """True when `max_contexts` tabs are live."""
        cap = self.options.max_contexts
        return bool(cap) and len(self.tabs) >= cap

    # -- fan-out (§8) -----------------------------------------------------------------------------

    def fan_out(self, writes: Iterable[Subscription], origin: TabT | None) -> None:
        """Re-render every other live tab whose last render read one of these keys (§8).

        Session-scoped keys only reach tabs of the writer's session. The renders happen when
        each tab's stream drains, so many subscribers never hold up the writer's response.
        Keys are visited in sorted order, so a run of writes fans out the same way each time.
        """
        for scope, key in sorted(writes):
            for tab in self.subscribers.get((scope, key), ()):
                if tab is origin:
                    continue
                if scope == "sess" and (origin is None or tab.session is not origin.session):
                    continue
                tab.mark_stale()

    def fan_out_session(self, session: Any, key: str) -> None:
        """Re-render every tab of `session` whose last render read its `key` (a session write
        that another node made, specs/cluster.md §C1)."""
        for tab in self.subscribers.get(("sess", key), ()):
            if tab.session is session:
                tab.mark_stale()

    def key_lock(self, scope: str, key: str) -> asyncio.Lock:
        """The lock serialising asynchronous updates of one state key."""
        lock = self.locks.get((scope, key))
        if lock is None:
            lock = self.locks[(scope, key)] = asyncio.Lock()
        return lock

    # -- StateAppEvents logs and folds (§8) -----------------------------------------------------

    def event_log(self, key: str) -> EventLog:
        """The log under `key` (created empty)."""
        found = self.logs.get(key)
        if found is None:
            found = self.logs[key] = EventLog()
        return found

    def folded_value(self, key: str, reducer: Reducer) -> Any:
        """The value of the log under `key` as of its last fold."""
        if key not in self.state:
            self.state[key] = reducer.initial()
        return self.state[key]

    def append_events(self, key: str, events: Iterable[Any], reducer: Reducer) -> None:
        """Record events; they are folded soon (after the running action), then every tab
        that read the value re-renders, the writer included (§8)."""
        self.event_log(key).events.extend(events)
        self.pending_folds[key] = reducer
        if not self.fold_scheduled:
            self.fold_scheduled = True
            asyncio.get_running_loop().call_soon(self.fold_pending)

    def fold(self, key: str, reducer: Reducer) -> bool:
        """Fold the events of `key` not folded yet into its value; True if there were any.

        No fan-out: the scheduled fold fans out; a rehydration at start-up has no readers.
        """
        found = self.event_log(key)
        if found.folded == len(found.events):
            return False
        value = self.folded_value(key, reducer)
        for event in found.events[found.folded :]:
            value = reducer.fold(value, event)
        found.folded = len(found.events)
        self.state[key] = value
        return True

    def fold_pending(self) -> None:
        """Fold every log appended to since the last fold and fan each out to all readers."""
        self.fold_scheduled = False
        folds, self.pending_folds = self.pending_folds, {}
        changed = [("app", key) for key, reducer in folds.items() if self.fold(key, reducer)]
        self.fan_out(changed, origin=None)

    # -- broadcasts -------------------------------------------------------------------------------

    def broadcast(self, js: str) -> int:
        """Run a script in every registered tab (connected or not); returns the tab count."""
        if not js:
            return 0
        for tab in self.tabs.values():
            tab.exec_script(js)
        return len(self.tabs)

    def broadcast_notify(self, message: str) -> int:
        """Show a toast in every registered tab; returns the tab count."""
        for tab in self.tabs.values():
            tab.notify(message)
        return len(self.tabs)

    def broadcast_signals(self, signals: dict[str, Any]) -> int:
        """Push signals to every registered tab (re-sent on resync); returns the tab count."""
        if not signals:
            return 0
        for tab in self.tabs.values():
            tab.patch_signals(signals)
        return len(self.tabs)

    # -- logging ----------------------------------------------------------------------------------

    def log_exception(self, message: str) -> None:
        """Log the exception being handled, with its traceback (never sent to clients)."""
        log.error("%s\n%s", message, traceback.format_exc())

    def faulty(self, fault: str) -> bool:
        """True when the test-only fault `fault` is switched on (`Options.faults`)."""
        return fault in self.options.faults


class HasHub(Protocol):
    """Anything that owns or lives under a hub: the `App`, or a tab."""

    @property
    def hub(self) -> Hub[Any]:
        """The hub."""


def hub_of(owner: Hub[Any] | HasHub) -> Hub[Any]:
    """The hub itself, or the hub of an app or tab."""
    return owner if isinstance(owner, Hub) else owner.hub
