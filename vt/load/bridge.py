"""One asyncio loop per Locust process, in a native thread, driven from Locust's greenlets.

Locust runs every user as a greenlet on gevent, and patches the standard library for it
(`gevent.monkey.patch_all`). vt's client is asyncio. Rather than a second client written
for gevent (a shell of its own around the sans-IO decoder and replica: a copy of the tabs,
the waits and the runner), a worker process runs vt's own client, unchanged, on one asyncio
loop in one native thread; a user's greenlet hands it a coroutine and waits for the result
without blocking the other greenlets (`AsyncioThread.call`). `benchmarks/load.py` measures
both shapes (sessions one worker process holds) and ARCHITECTURE.md says why this one.

Two details make asyncio work inside a patched process: the loop polls with the original
`selectors.EpollSelector` (the patched default selector would hand every poll to gevent's hub
of the loop thread), and results cross back to the greenlet through the hub's thread-safe
callback (`loop.run_callback_threadsafe`), the one gevent call that may come from another
thread, as plain values (no lock is shared between the threads). A greenlet killed while it
waits (Locust stopping a user) cancels its coroutine.
"""

from __future__ import annotations

import asyncio
import selectors
import threading
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import gevent
import gevent.event
from gevent.monkey import get_original, is_module_patched
from gevent.threadpool import ThreadPool

__all__ = ["AsyncioThread", "Held", "shared_loop"]

T = TypeVar("T")

STOP_TIMEOUT = 10.0
"""Seconds `stop` waits for the loop thread to end."""


def _selector() -> selectors.BaseSelector:
    if is_module_patched("selectors"):
        original: type[selectors.BaseSelector] = get_original("selectors", "EpollSelector")
        return original()
    return selectors.DefaultSelector()


class AsyncioThread:
    """An asyncio event loop running in a native thread of its own (see the module
    docstring). Start it with `start()` (after any fork: Locust's `--processes` forks its
    workers), hand it coroutines with `call`, end it with `stop`."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPool | None = None
        self._running: Any = None  # the thread's result (gevent.threadpool.ThreadResult)
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the loop thread is running (started, not stopped)."""
        return self.loop is not None

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the loop thread (once; later calls return the running loop)."""
        with self._lock:
            if self.loop is None:
                loop = asyncio.SelectorEventLoop(_selector())
                self._pool = ThreadPool(1)  # a native thread, even in a patched process
                self._running = self._pool.spawn(loop.run_forever)
                self.loop = loop
            return self.loop

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop; block this greenlet (not the others) until it ends;
        return its result or raise its exception. Killing the greenlet cancels it."""
        loop = self.start()
        hub_loop = gevent.get_hub().loop
        result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        started: list[asyncio.Task[T]] = []

        def deliver(value: Any, error: BaseException | None) -> None:  # on the hub's thread
            if error is None:
                result.set(value)
            else:
                result.set_exception(error)

        def done(task: asyncio.Task[T]) -> None:  # on the loop's thread
            # Plain values cross to the hub: no lock is shared by the two threads (a
            # concurrent.futures.Future's would be gevent's, in a patched process).
            if task.cancelled():
                outcome: tuple[Any, BaseException | None] = (None, asyncio.CancelledError())
            else:
                error = task.exception()
                outcome = (None, error) if error is not None else (task.result(), None)
            hub_loop.run_callback_threadsafe(deliver, *outcome)

        def begin() -> None:  # on the loop's thread
            task = loop.create_task(coroutine)
            task.add_done_callback(done)
            started.append(task)

        loop.call_soon_threadsafe(begin)
        try:
            value: T = result.get()
        except BaseException:
            # Runs after `begin` (the loop runs its callbacks in order): the task exists.
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in started])
            raise
        return value

    def stop(self) -> None:
        """Stop the loop and its thread (what is still running on it is abandoned)."""
        with self._lock:
            loop, pool, running = self.loop, self._pool, self._running
            self.loop = self._pool = self._running = None
        if loop is None or pool is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        running.wait(STOP_TIMEOUT)  # cooperative: the hub runs while the thread winds down
        pool.kill()
        if not loop.is_running():
            loop.close()


_SHARED = AsyncioThread()


def shared_loop() -> AsyncioThread:
    """This process's loop thread (made on first use, so a forked worker makes its own)."""
    return _SHARED


class Held:
    """An async context manager kept entered by a task of its own, until `release`.

    A load user's client (`vt.AsyncClient`) is entered once and used by many coroutines, one
    per iteration, each a task of its own; anyio's task groups must be left by the task
    that entered them, so one task enters the client, waits for `release`, and leaves it.
    """

    def __init__(self) -> None:
        self._release = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def enter(self, manager: AbstractAsyncContextManager[T]) -> T:
        """Enter `manager` in a new task; return what it gives. Its error is raised here."""
        entered: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        async def keep() -> None:
            try:
                async with manager as value:
                    entered.set_result(value)
                    await self._release.wait()
            except BaseException as exc:
                if not entered.done():
                    entered.set_exception(exc)
                raise

        self._task = asyncio.ensure_future(keep())
        return await entered

    async def release(self) -> None:
        """Leave the manager (in its task) and wait until it has."""
        self._release.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
