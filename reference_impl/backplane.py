"""The backplane under a cluster of nodes (specs/cluster.md §C2), after Via's `backplane.go`.

Two primitives, both keyed by a string:

* a **cell**: one value with a revision (0: never written), changed only by compare-and-swap
  (`swap` succeeds when the caller's revision is still the latest), Via's `Store`;
* a **log**: records in one order, each with a sequence number, read from any offset, Via's
  `EventLog`.

A node opens the backplane with a `Sink`: the backplane first replays what it holds (every
cell's latest value, every log from its start) and then delivers every later change, in order,
so that every node applies the same changes in the same order. `MemoryBackplane` keeps it all in
one process (several `App`s can share one, as Via's tests share its in-memory backplane); the
NATS JetStream one is `reference_impl.jetstream`. Without a backplane (`Options.backplane` None,
the default) an app keeps its state in its own hub, as a single node always has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Backplane", "Cell", "MemoryBackplane", "Sink"]


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell's value (None: never written) and its revision (0: never written)."""

    value: bytes | None
    revision: int


class Sink(Protocol):
    """What a node gives the backplane to receive changes: called on the node's event loop,
    in the backplane's order."""

    def cell(self, key: str, value: bytes, revision: int) -> None:
        """Cell `key` now holds `value` at `revision`."""

    def record(self, log: str, seq: int, data: bytes) -> None:
        """Log `log` has record `data` at sequence `seq` (per log, increasing)."""


class Backplane(Protocol):
    """A cluster's shared state: CAS cells and ordered, resumable logs (module docstring)."""

    @property
    def name(self) -> str:
        """This node's name (in logs and in reports)."""

    async def open(self, sink: Sink) -> None:
        """Connect; replay what the backplane holds into `sink`, then keep delivering.

        Returns once the replay is done, so a node serves the state it missed (§C5)."""

    async def close(self) -> None:
        """Stop delivering and disconnect."""

    async def load(self, key: str) -> Cell:
        """Cell `key` as the backplane holds it now (not a node's copy)."""

    async def swap(self, key: str, value: bytes, revision: int) -> int | None:
        """Write `value` if the cell is still at `revision`: the new revision, or None when
        another write came first (the caller reloads and tries again)."""

    async def append(self, log: str, data: bytes, record_id: str) -> int:
        """Append a record; its sequence number. A retry with the same `record_id` (after an
        answer lost to the network) appends nothing new."""


@dataclass(slots=True)
class _Shared:
    cells: dict[str, Cell] = field(default_factory=dict)
    logs: dict[str, list[bytes]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    sinks: list[tuple[asyncio.AbstractEventLoop, Sink]] = field(default_factory=list)


class MemoryBackplane:
    """A backplane in one process: every node made by `node()` shares its cells and logs.

    Deliveries are scheduled on each node's loop (`call_soon_threadsafe`), in write order, so
    nodes in one process on different threads are fine too.
    """

    def __init__(self, name: str = "memory") -> None:
        self._shared = _Shared()
        self._name = name
        self._sink: tuple[asyncio.AbstractEventLoop, Sink] | None = None

    def node(self, name: str) -> MemoryBackplane:
        """Another node's handle on the same backplane."""
        other = MemoryBackplane(name)
        other._shared = self._shared
        return other

    @property
    def name(self) -> str:
        """This handle's node name."""
        return self._name

    async def open(self, sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        shared = self._shared
        for key, cell in shared.cells.items():
            if cell.value is not None:
                sink.cell(key, cell.value, cell.revision)
        for log, records in shared.logs.items():
            for seq, data in enumerate(records, start=1):
                sink.record(log, seq, data)
        self._sink = (loop, sink)
        shared.sinks.append(self._sink)

    async def close(self) -> None:
        if self._sink is not None and self._sink in self._shared.sinks:
            self._shared.sinks.remove(self._sink)
        self._sink = None

    async def load(self, key: str) -> Cell:
        return self._shared.cells.get(key, Cell(None, 0))

    async def swap(self, key: str, value: bytes, revision: int) -> int | None:
        shared = self._shared
        if shared.cells.get(key, Cell(None, 0)).revision != revision:
            return None
        new = revision + 1
        shared.cells[key] = Cell(value, new)
        self._deliver(lambda sink: sink.cell(key, value, new))
        return new

    async def append(self, log: str, data: bytes, record_id: str) -> int:
        shared = self._shared
        if record_id in shared.ids:
            return shared.ids[record_id]
        records = shared.logs.setdefault(log, [])
        records.append(data)
        seq = shared.ids[record_id] = len(records)
        self._deliver(lambda sink: sink.record(log, seq, data))
        return seq

    def _deliver(self, fn: Callable[[Sink], None]) -> None:
        for loop, sink in list(self._shared.sinks):
            loop.call_soon_threadsafe(fn, sink)
