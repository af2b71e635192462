"""A node's side of the backplane (specs/cluster.md): app and session state, and event logs,
kept on the backplane and mirrored in this node's hub.

Writes: an action's `update` of app or session state applies its function to the node's copy
at once (the writer's view), and stages a **commit**: a compare-and-swap loop that applies the
same function to the backplane's latest value until the swap wins (so no update is lost under
contention, §C4), then sets the node's copy to the committed value. `StateAppEvents.append`
stages a publish. The tab's `run` awaits its commits before the action's render and before the
response: a 200 means the write is on the backplane (§C3).

Reads: every change the backplane delivers (`Sink`) is applied to the hub as a local write
would be: app cells into `hub.state` and a fan-out to the tabs that read them, session cells
into the node's session of that id (and a fan-out to its tabs), log records into the hub's
event log, folded and fanned out as an append is (§C1). A cell's value travels in an envelope
`{"v": value, "w": [write ids]}`: a swap retried after an answer the network lost finds its id
and is not applied twice.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from . import codec
from .backplane import Backplane
from .hub import Hub, Reducer

__all__ = ["Replicator", "register_log"]

log = logging.getLogger("reference_impl.replication")

_REDUCERS: dict[str, Reducer] = {}
_KEEP_IDS = 32  # write ids kept in a cell's envelope
_RETRY = 0.1  # seconds between tries while the backplane is unreachable


def register_log(key: str, reducer: Reducer) -> None:
    """Record how the log under `key` is folded, so a node folds records no tab of it wrote."""
    _REDUCERS[key] = reducer


def cell_key(scope: str, key: str, session_id: str = "") -> str:
    """The backplane key of a state cell: `app.KEY` or `sess.SESSION.KEY`."""
    return f"sess.{session_id}.{key}" if scope == "sess" else f"app.{key}"


class Replicator:
    """The node's mirror of the backplane and its commit loops (module docstring)."""

    def __init__(
        self, hub: Hub[Any], backplane: Backplane, find_session: Callable[[str], Any]
    ) -> None:
        self.hub = hub
        self.backplane = backplane
        self.find_session = find_session
        self.revisions: dict[str, int] = {}
        self.cells: dict[str, bytes] = {}  # the latest envelope of every cell
        self.session_cells: dict[str, dict[str, bytes]] = {}  # session id -> key -> envelope
        self.open = False

    @property
    def node(self) -> str:
        """This node's name."""
        return self.backplane.name

    async def start(self) -> None:
        """Open the backplane: the replay first (the node serves what it missed, §C5)."""
        await self.backplane.open(self)
        self.open = True

    async def stop(self) -> None:
        """Close the backplane."""
        self.open = False
        await self.backplane.close()

    # -- deliveries (the Sink) --------------------------------------------------------------------

    def cell(self, key: str, value: bytes, revision: int) -> None:
        """A cell changed on the backplane: apply it here unless this node has it already."""
        if revision <= self.revisions.get(key, 0):
            return
        self._remember(key, value, revision)
        scope, _, rest = key.partition(".")
        if scope == "app":
            self.hub.state[rest] = self._value(key, "app", rest)
            self.hub.fan_out([("app", rest)], origin=None)
        elif scope == "sess":
            session_id, _, name = rest.partition(".")
            session = self.find_session(session_id)
            if session is not None:
                session.state[name] = self._value(key, "sess", name)
                self.hub.fan_out_session(session, name)

    def record(self, log_key: str, seq: int, data: bytes) -> None:
        """A log record: into the hub's log, folded and fanned out after the running action."""
        event = codec.decode(codec.registered_type("events", log_key), json.loads(data))
        reducer = _REDUCERS.get(log_key)
        if reducer is None:  # no handle of this log in this process: keep the event only
            self.hub.event_log(log_key).events.append(event)
            return
        self.hub.append_events(log_key, [event], reducer)

    def adopt(self, session: Any) -> None:
        """A session new to this node (§3 adoption): give it the state the backplane holds."""
        for name in self.session_cells.get(session.id, {}):
            session.state[name] = self._value(cell_key("sess", name, session.id), "sess", name)

    def _remember(self, key: str, envelope: bytes, revision: int) -> None:
        self.revisions[key] = revision
        self.cells[key] = envelope
        if key.startswith("sess."):
            session_id, _, name = key[5:].partition(".")
            self.session_cells.setdefault(session_id, {})[name] = envelope

    def _value(self, key: str, scope: str, name: str) -> Any:
        data = json.loads(self.cells[key])["v"]
        return codec.decode(codec.registered_type(scope, name), data)

    # -- writes -----------------------------------------------------------------------------------

    def stage_update(
        self,
        scope: str,
        key: str,
        session: Any,
        fn: Callable[[Any], Any],
        default: Callable[[], Any],
    ) -> asyncio.Task[None]:
        """Commit `fn` to the cell of (`scope`, `key`) (its session's, for `sess`)."""
        target = cell_key(scope, key, session.id if scope == "sess" else "")

        def apply_here(value: Any) -> None:
            if scope == "sess":
                session.state[key] = value
            else:
                self.hub.state[key] = value

        return asyncio.create_task(self._commit(target, fn, default, apply_here))

    def stage_append(self, log_key: str, events: Iterable[Any]) -> asyncio.Task[None]:
        """Append `events` to the log under `log_key`, in order."""
        records = [(codec.dumps(event), uuid.uuid4().hex) for event in events]
        return asyncio.create_task(self._append(log_key, records))

    async def _append(self, log_key: str, records: list[tuple[bytes, str]]) -> None:
        async with self.hub.key_lock("log", log_key):  # one node's appends keep their order
            for data, record_id in records:
                await self._retry(
                    lambda data=data, record_id=record_id: self.backplane.append(  # type: ignore[misc]
                        log_key, data, record_id
                    )
                )

    async def _retry(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """`fn()` until it answers: an outage delays a write, it does not lose it (§C6)."""
        while True:
            try:
                return await fn()
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:
                log.info("%s: backplane unreachable (%s); retrying", self.node, exc)
                await asyncio.sleep(_RETRY)  # a back-off between tries, not synchronisation

    async def _commit(
        self,
        key: str,
        fn: Callable[[Any], Any],
        default: Callable[[], Any],
        apply_here: Callable[[Any], None],
    ) -> None:
        scope, _, rest = key.partition(".")
        name = rest.partition(".")[2] if scope == "sess" else rest
        tp = codec.registered_type(scope, name)
        write_id = uuid.uuid4().hex
        async with self.hub.key_lock("cell", key):
            envelope = self.cells.get(key)
            revision = self.revisions.get(key, 0)
            while True:
                old = json.loads(envelope) if envelope is not None else {"v": None, "w": []}
                if write_id in old["w"]:
                    break  # an earlier try landed; its answer was lost
                current = codec.decode(tp, old["v"]) if envelope is not None else default()
                value = fn(copy.deepcopy(current))
                if inspect.isawaitable(value):
                    value = await value
                ids = [write_id, *old["w"]][:_KEEP_IDS]
                data = json.dumps({"v": codec.encode(value), "w": ids}).encode()
                try:
                    won = await self.backplane.swap(key, data, revision)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise
                except Exception as exc:
                    log.info("%s: swap of %s failed (%s); reloading", self.node, key, exc)
                    await asyncio.sleep(_RETRY)
                    won = None
                if won is not None:
                    if won > self.revisions.get(key, 0):
                        self._remember(key, data, won)
                        apply_here(value)
                    return
                cell = await self._retry(lambda: self.backplane.load(key))
                envelope, revision = cell.value, cell.revision
            # Landed before: take what the backplane holds now.
            if revision > self.revisions.get(key, 0) and envelope is not None:
                self._remember(key, envelope, revision)
                apply_here(codec.decode(tp, json.loads(envelope)["v"]))
