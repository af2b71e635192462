"""Serving an ASGI app on a free loopback port, in a background thread, for a test.

The socket is bound before uvicorn starts (port 0, so the OS picks a free port), which makes
parallel test workers (pytest-xdist) race-free. Shutdown is bounded: uvicorn waits for open
responses, and an event stream only ends when its client leaves, so after a grace period the
remaining connections are cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from ..errors import ServerFailed, UsageError, hide_frames

__all__ = ["LiveServer"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

LOOPBACK = "127.0.0.1"
_TICK = 0.1  # seconds: uvicorn's own tick
_CLOSING_POLL = 0.002  # seconds between looks at the connections a stop is closing


class _Capture(logging.Handler):
    """Keeps the server's error log lines, so a failing test can show them."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class _Server(uvicorn.Server):
    """uvicorn's server with a startup notification to wait on, and a shutdown that starts at
    once when asked (`wake`) and waits on nothing but the connections it closes.

    uvicorn checks `should_exit` every 0.1 s, sleeps 0.1 s after asking connections to close
    and polls them every 0.1 s: about 0.2 s a stop, paid by every test that serves an app.
    """

    def __init__(self, config: uvicorn.Config, grace: float) -> None:
        super().__init__(config)
        self.grace = grace  # seconds; uvicorn's own setting is whole seconds
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def wake(self) -> None:
        """Ask the server to exit, from any thread; its main loop sees it at once."""
        self.should_exit = True
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: it has exited
                loop.call_soon_threadsafe(woken.set)

    async def main_loop(self) -> None:
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # uvicorn's tick (every 0.1 s: the Date header, max-requests), cut short by `wake`.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_TICK):
                    await self._woken.wait()
            counter = (counter + 1) % 864000
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's shutdown (0.55) less its fixed 0.1 s sleeps: poll what is closing briefly.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        try:
            async with asyncio.timeout(self.grace):
                while (state.connections or state.tasks) and not self.force_exit:
                    await asyncio.sleep(_CLOSING_POLL)
                for server in self.servers:
                    await server.wait_closed()
        except TimeoutError:
            logging.getLogger("uvicorn.error").error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded", len(state.tasks)
            )
            for task in state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()


class LiveServer:
    """An ASGI app served by uvicorn on `127.0.0.1:<free port>` in a daemon thread.

        with LiveServer(app) as server:
            client = vt.Client(server.url)

    `errors` collects the server's error log (tracebacks of failed requests), for reports.
    `shutdown_grace` is how long (seconds) a stop lets open responses finish before it cuts
    them: an event stream ends only when its client leaves.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        startup_timeout: float = 10.0,
        shutdown_grace: float = 2.0,
        log_level: str = "warning",
    ) -> None:
        self.app = app
        self.host = host
        self.startup_timeout = startup_timeout
        self.shutdown_grace = shutdown_grace
        # The TCP protocol number, not 0: asyncio sets TCP_NODELAY only on such sockets, and
        # uvicorn writes a response's head and body apart (Nagle's delay: ~40 ms a request).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self._config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="auto",
            # No `dictConfig`: uvicorn's default logging config would close every handler of
            # the host process (pytest's --log-file, the test's own). Our capture handler is
            # attached to uvicorn's logger instead; records still propagate to the host's.
            log_config=None,
            timeout_graceful_shutdown=max(1, math.ceil(shutdown_grace)),  # `_Server.grace` rules
            access_log=False,
        )
        self._server = _Server(self._config, shutdown_grace)
        self._thread: threading.Thread | None = None
        self._capture = _Capture()

    def __repr__(self) -> str:
        return f"<LiveServer {self.url}>"

    @property
    def errors(self) -> list[str]:
        """The server's error log lines so far (tracebacks of failed requests)."""
        return list(self._capture.lines)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        """Start serving; returns once uvicorn accepts connections.

        Raises:
            ServerFailed: the app's startup failed (the message has the server's log), or
                the server did not accept connections within `startup_timeout`.
        """
        if self._thread is not None:
            raise UsageError("a LiveServer starts once")
        for name in ("uvicorn.error", "reference_impl"):
            logging.getLogger(name).addHandler(self._capture)
        self._thread = threading.Thread(
            target=self._run, name=f"vt-server-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(self.startup_timeout):
            self.stop()
            raise ServerFailed(
                f"the server on {self.url} did not start within {self.startup_timeout:g}s"
            )
        if not self._server.started:
            self._thread.join(5.0)
            self._cleanup()
            raise ServerFailed(
                f"the server on {self.url} exited during startup:\n"
                + "\n".join(self._capture.lines[-20:])
            )
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except SystemExit:
            pass  # uvicorn exits when the app's startup fails; start() says so with its log
        finally:
            self._server.ready.set()  # wakes start() when startup failed

    def stop(self) -> None:
        """Stop serving and join the thread (bounded by the grace period plus a margin)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._server.wake()
            thread.join(self.shutdown_grace + 5.0)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(5.0)
        self._cleanup()

    def _cleanup(self) -> None:
        for name in ("uvicorn.error", "reference_impl"):
            logging.getLogger(name).removeHandler(self._capture)
        self._sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
