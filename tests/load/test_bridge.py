"""The loop thread of a Locust process (`vt.load.bridge`), driven from greenlets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import gevent
import pytest

from vt.load.bridge import AsyncioThread

DEADLINE = 10.0


@pytest.fixture
def thread() -> Iterator[AsyncioThread]:
    running = AsyncioThread()
    yield running
    running.stop()
    assert running.loop is None


async def where() -> int:
    return threading.get_ident()


async def fails() -> None:
    raise ValueError("from the loop")


def test_a_coroutine_runs_on_the_loop_thread_and_its_result_comes_back(
    thread: AsyncioThread,
) -> None:
    assert thread.call(where()) != threading.get_ident()
    with pytest.raises(ValueError, match="from the loop"):
        thread.call(fails())


def test_greenlets_wait_side_by_side(thread: AsyncioThread) -> None:
    async def slow(value: int) -> int:
        await asyncio.sleep(0.2)
        return value

    waiting = [gevent.spawn(thread.call, slow(n)) for n in range(20)]
    gevent.joinall(waiting, timeout=2.0)  # one after the other, they would take 4 s
    assert [g.value for g in waiting] == list(range(20))


def test_killing_the_waiting_greenlet_cancels_its_coroutine(thread: AsyncioThread) -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = gevent.spawn(thread.call, forever())
    with gevent.Timeout(DEADLINE, AssertionError("the coroutine never started")):
        while not started.is_set():
            gevent.sleep(0.01)  # polling a flag another thread sets
    waiting.kill()
    assert cancelled.wait(DEADLINE), "the coroutine was not cancelled"
