"""A tab's event stream (specs/protocol.md §5): opening writes, `: ready`, drains, heartbeats.

The response is written by hand (not a StreamingResponse) because it has to notice a client
that went away *before* it counts a write as done: a failed drain puts the queue back
(at-least-once, §5.4). A newer stream for the same tab supersedes this one, which then ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .compress import Compressor
from .sse import HEADERS, READY, patch_signals

if TYPE_CHECKING:
    from .options import Options
    from .tabs import Ctx

__all__ = ["StreamResponse"]

log = logging.getLogger("reference_impl")

HEARTBEAT = patch_signals({}).encode()


class StreamResponse(Response):
    """The long-lived `GET /_sse` response of one tab.

    `opening()` gives the bytes sent before the first drain (a resync or a re-bootstrap,
    §5.5); with `compress`, everything is brotli-compressed and `: ready` is left out, since
    Via writes it raw, which would corrupt the compressed stream (§5.3.2). `options` gives
    the heartbeat interval (and the test-only faults).
    """

    def __init__(
        self,
        tab: Ctx,
        options: Options,
        *,
        opening: Callable[[], bytes] | None = None,
        compress: bool = False,
    ) -> None:
        headers = dict(HEADERS)
        if compress:
            headers["Content-Encoding"] = "br"
        super().__init__(status_code=200, headers=headers)
        # A stream has no length: drop the `content-length: 0` Starlette adds for no body.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.options = options
        self.tab = tab
        self.opening = opening
        self.compressor = Compressor() if compress else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tab = self.tab
        tab.stream_serial += 1
        serial = tab.stream_serial
        tab.interrupt()  # an older stream of this tab wakes up and sees it is superseded
        closed = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            closed.set()
            tab.interrupt()

        watcher = asyncio.create_task(watch_disconnect())
        tab.connected = True
        tab.ever_connected = True
        tab.last_seen = time.monotonic()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            opening = self.opening() if self.opening is not None else b""
            if "forget-queued-render" in self.options.faults:
                tab.forget_render()
            if not await self.drain(send, closed, prefix=opening):
                return
            if self.compressor is None and "drop-ready" not in self.options.faults:
                await send({"type": "http.response.body", "body": READY, "more_body": True})
            await self._loop(send, closed, serial)
        finally:
            if tab.stream_serial == serial:
                tab.connected = False
            else:
                tab.wake()  # a wake-up this superseded stream took belongs to the newer one
            tab.last_seen = time.monotonic()
            watcher.cancel()
            if not closed.is_set():
                # We end the stream (dispose, shutdown, superseded): finish it cleanly.
                tail = self.compressor.finish() if self.compressor is not None else b""
                try:
                    await send({"type": "http.response.body", "body": tail, "more_body": False})
                except Exception:  # the client went away meanwhile; nothing to finish
                    log.debug("closing the stream of %s failed", tab.id)

    async def _write(self, send: Send, data: bytes) -> None:
        if self.compressor is not None:
            data = self.compressor.chunk(data)
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def drain(self, send: Send, closed: asyncio.Event, prefix: bytes = b"") -> bool:
        """Write `prefix` and the queue; on failure put the queue back (§5.4.3). False when
        the stream must end (the write failed, or `closed` is set)."""
        tab = self.tab
        taken, data = tab.drain_bytes()
        data = prefix + data
        if not data:
            return not closed.is_set()
        if closed.is_set():
            tab.queue.restore(taken)
            return False
        try:
            await self._write(send, data)
        except Exception:
            tab.queue.restore(taken)
            return False
        if closed.is_set():
            # uvicorn drops writes to a closed connection silently: count it as failed.
            tab.queue.restore(taken)
            return False
        tab.last_seen = time.monotonic()
        return True

    def _ended(self, closed: asyncio.Event, serial: int) -> bool:
        tab = self.tab
        return closed.is_set() or tab.disposed or tab.stream_serial != serial

    async def _loop(self, send: Send, closed: asyncio.Event, serial: int) -> None:
        tab = self.tab
        interval = self.options.heartbeat
        next_beat = time.monotonic() + interval
        while not self._ended(closed, serial):
            woken = await tab.wait_wake(max(0.0, next_beat - time.monotonic()))
            if self._ended(closed, serial):
                return
            if woken:
                if not await self.drain(send, closed):
                    return
                continue
            # The heartbeat is a real event, not a comment (§5.3); it keeps the session alive.
            next_beat = time.monotonic() + interval
            await self._write(send, HEARTBEAT)
            if closed.is_set():
                return
            tab.session.touch()
