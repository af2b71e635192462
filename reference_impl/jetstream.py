"""A backplane on NATS JetStream (specs/cluster.md §C2), with `nats-py`.

* Cells are a JetStream **key-value bucket** (`vt_cells`, one revision kept per key): `load`
  is a `get`, `swap` an `update` with the expected last revision (`create` for revision 0).
* Logs are one **stream** (`VT_EVENTS`, subjects `vt.ev.<log>`): `append` publishes with a
  `Nats-Msg-Id`, so the server drops a retried duplicate.
* Each node reads both streams through a `Feed`: an ephemeral push consumer starting at the
  node's **resume offset** + 1 (the last stream sequence it applied), re-created from there
  after a reconnect or when it falls silent behind the stream, so an outage delays the node
  but loses nothing (§C6). A node starts at offset 0: it replays everything (§C5).

Test-only faults (`BACKPLANE_FAULTS`, given to the constructor) make the deliberately broken
backplanes of the cluster level's mutation check; each is one test at one point, below.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import nats
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.client import JetStreamContext

from .backplane import Cell, Sink

__all__ = ["BACKPLANE_FAULTS", "BUCKET", "STREAM", "JetStreamBackplane"]

log = logging.getLogger("reference_impl.jetstream")

BUCKET = "vt_cells"
STREAM = "VT_EVENTS"
_SUBJECT = "vt.ev."
_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_WATCHDOG = 0.5  # seconds between checks that a feed keeps up with its stream
CONNECT_DEADLINE = 30.0  # seconds a node waits for NATS at start-up

# Test-only: the cluster level's mutant backplanes (specs/cluster.md §C9), one name each.
BACKPLANE_FAULTS: dict[str, str] = {
    "backplane-drop-record": "every third record a node appends is acknowledged, not stored",
    "backplane-reorder": "a node applies the log records it receives live in swapped pairs",
    "backplane-lose-conflict": "a lost compare-and-swap is reported as a success",
    "backplane-forget-offset": "a node's feeds start at the stream's end, not at its offset",
}


def token(key: str) -> str:
    """`key` as one subject token / KV key (base64url when it has other characters)."""
    if _SAFE.fullmatch(key):
        return key
    return "b64" + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=").replace("-", "~")


def untoken(text: str) -> str:
    """The inverse of `token`."""
    if text.startswith("b64"):
        raw = text[3:].replace("~", "-")
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    return text


class Feed:
    """One stream read in order from a resume offset, re-subscribed from it when needed."""

    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        subject: str,
        deliver: Callable[[Msg], None],
        *,
        forget_offset: bool = False,
    ) -> None:
        self.js = js
        self.stream = stream
        self.subject = subject
        self.deliver = deliver
        self.offset = 0  # the last stream sequence applied
        self.forget_offset = forget_offset
        self.sub: Any = None
        self.last_delivery = time.monotonic()
        self.lock = asyncio.Lock()

    async def subscribe(self) -> None:
        """(Re)create the consumer at offset + 1."""
        async with self.lock:
            if self.sub is not None:
                with contextlib.suppress(Exception):
                    await self.sub.unsubscribe()
            config = api.ConsumerConfig(ack_policy=api.AckPolicy.NONE, inactive_threshold=30.0)
            if self.forget_offset:
                # Fault `backplane-forget-offset`: every (re)subscription starts at the end.
                config.deliver_policy = api.DeliverPolicy.NEW
            elif self.offset:
                config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
                config.opt_start_seq = self.offset + 1
            self.last_delivery = time.monotonic()
            self.sub = await self.js.subscribe(
                self.subject, stream=self.stream, cb=self._on_msg, config=config
            )

    async def _on_msg(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        self.last_delivery = time.monotonic()
        if seq <= self.offset:
            return  # delivered again after a re-subscription
        self.offset = seq
        self.deliver(msg)

    async def last_seq(self) -> int:
        """The stream's last sequence now."""
        info = await self.js.stream_info(self.stream)
        return int(info.state.last_seq)

    async def caught_up(self, deadline: float) -> None:
        """Wait until this feed has applied what the stream held when called (bounded)."""
        target = await self.last_seq()
        if self.forget_offset:
            return
        end = time.monotonic() + deadline
        while self.offset < target and time.monotonic() < end:
            await asyncio.sleep(0.01)  # the deliveries run on this loop; a short poll
        if self.offset < target:
            raise TimeoutError(f"{self.stream}: replayed to {self.offset} of {target}")

    async def check(self) -> None:
        """Re-subscribe when the stream is ahead and nothing came for a while (a consumer
        lost while the connection was down)."""
        if time.monotonic() - self.last_delivery < _WATCHDOG:
            return
        if await self.last_seq() > self.offset:
            log.info("%s: behind the stream at %d; resubscribing", self.stream, self.offset)
            await self.subscribe()


class JetStreamBackplane:
    """The backplane of one node, on the NATS server at `url` (module docstring).

    `faults` are test-only broken variants (`backplane-drop-record`, `backplane-reorder`,
    `backplane-lose-conflict`, `backplane-forget-offset`), for the mutation check only.
    """

    def __init__(self, url: str, name: str = "node", faults: Iterable[str] = ()) -> None:
        self.url = url
        self._name = name
        self.faults = frozenset(faults)
        unknown = sorted(self.faults - BACKPLANE_FAULTS.keys())
        if unknown:
            raise ValueError(
                f"unknown backplane faults {unknown}; known: {sorted(BACKPLANE_FAULTS)}"
            )
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.kv: Any = None
        self.feeds: list[Feed] = []
        self.sink: Sink | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._appends = 0
        self._held: tuple[str, int, bytes] | None = None
        self._held_timer: asyncio.TimerHandle | None = None
        self._live = 0  # log records delivered since the replay
        self._replayed = False

    @property
    def name(self) -> str:
        """This node's name."""
        return self._name

    def __repr__(self) -> str:
        return f"<JetStreamBackplane {self._name} {self.url}>"

    async def open(self, sink: Sink) -> None:
        self.sink = sink
        self.nc = await self._connect()
        js = self.js = self.nc.jetstream()
        await self._ensure(js)
        forget = "backplane-forget-offset" in self.faults
        cells = Feed(js, f"KV_{BUCKET}", f"$KV.{BUCKET}.>", self._on_cell, forget_offset=forget)
        events = Feed(js, STREAM, _SUBJECT + ">", self._on_record, forget_offset=forget)
        self.feeds = [cells, events]
        for feed in self.feeds:
            await feed.subscribe()
            await feed.caught_up(CONNECT_DEADLINE)
        self._replayed = True
        self._watchdog = asyncio.create_task(self._watch())

    async def _connect(self) -> NATS:
        end = time.monotonic() + CONNECT_DEADLINE
        while True:
            try:
                return await nats.connect(
                    self.url,
                    name=self._name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.2,
                    connect_timeout=2,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                    disconnected_cb=self._disconnected,
                )
            except Exception as exc:  # the server is not up yet: try again until the deadline
                if time.monotonic() > end:
                    raise ConnectionError(f"NATS at {self.url}: {exc}") from exc
                await asyncio.sleep(0.2)

    async def _ensure(self, js: JetStreamContext) -> None:
        # Every node declares the same stream and bucket; the first creates them.
        with contextlib.suppress(nats.js.errors.BadRequestError):
            await js.add_stream(
                name=STREAM, subjects=[_SUBJECT + ">"], duplicate_window=120.0, storage="file"
            )
        try:
            self.kv = await js.key_value(BUCKET)
        except nats.js.errors.BucketNotFoundError:
            with contextlib.suppress(nats.js.errors.BadRequestError):
                await js.create_key_value(bucket=BUCKET, history=1)
            self.kv = await js.key_value(BUCKET)

    async def _reconnected(self) -> None:
        log.info("%s: reconnected to NATS; resuming feeds", self._name)
        for feed in self.feeds:
            with contextlib.suppress(Exception):
                await feed.subscribe()

    async def _disconnected(self) -> None:
        log.info("%s: disconnected from NATS", self._name)

    async def _error(self, exc: Exception) -> None:
        log.debug("%s: NATS error %s", self._name, exc)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(_WATCHDOG)  # a timer: the period of the check
            nc = self.nc
            if nc is None or not nc.is_connected:
                continue
            for feed in self.feeds:
                try:
                    await feed.check()
                except Exception as exc:  # NATS went away mid-check: the next round retries
                    log.debug("%s: feed check failed: %s", self._name, exc)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._held_timer is not None:
            self._held_timer.cancel()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
        self.nc = self.js = None

    # -- cells ------------------------------------------------------------------------------------

    def _on_cell(self, msg: Msg) -> None:
        if msg.headers and msg.headers.get("KV-Operation") in ("DEL", "PURGE"):
            return
        key = untoken(msg.subject[len(f"$KV.{BUCKET}.") :])
        if self.sink is not None:
            self.sink.cell(key, msg.data, msg.metadata.sequence.stream)

    async def load(self, key: str) -> Cell:
        try:
            entry = await self.kv.get(token(key))
        except nats.js.errors.KeyNotFoundError:
            return Cell(None, 0)
        return Cell(entry.value, int(entry.revision))

    async def swap(self, key: str, value: bytes, revision: int) -> int | None:
        try:
            if revision == 0:
                return int(await self.kv.create(token(key), value))
            return int(await self.kv.update(token(key), value, last=revision))
        except nats.js.errors.KeyWrongLastSequenceError:
            if "backplane-lose-conflict" in self.faults:
                return revision  # the fault: a lost race reported as a success
            return None

    # -- logs -------------------------------------------------------------------------------------

    def _on_record(self, msg: Msg) -> None:
        record = (untoken(msg.subject[len(_SUBJECT) :]), msg.metadata.sequence.stream, msg.data)
        if "backplane-reorder" in self.faults and self._replayed:
            self._reordered(record)
            return
        self._apply(record)

    def _apply(self, record: tuple[str, int, bytes]) -> None:
        if self.sink is not None:
            self.sink.record(*record)

    def _reordered(self, record: tuple[str, int, bytes]) -> None:
        """Fault `backplane-reorder`: live records are applied in swapped pairs (the first
        of a pair waits for the second, or 1 s)."""
        self._live += 1
        held, self._held = self._held, None
        if held is None and self._live % 2 == 1:
            self._held = record
            loop = asyncio.get_running_loop()
            self._held_timer = loop.call_later(1.0, self._release_held)
            return
        if self._held_timer is not None:
            self._held_timer.cancel()
        self._apply(record)
        if held is not None:
            self._apply(held)

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._apply(held)

    async def append(self, log_key: str, data: bytes, record_id: str) -> int:
        self._appends += 1
        if "backplane-drop-record" in self.faults and self._appends % 3 == 0:
            return 0  # the fault: acknowledged, never stored
        assert self.js is not None, "the backplane is not open"
        ack = await self.js.publish(
            _SUBJECT + token(log_key), data, headers={"Nats-Msg-Id": record_id}, timeout=2.0
        )
        return int(ack.seq)
