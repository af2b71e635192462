"""Periodic ticks on a tab (Via's `via.Stream`), made by `Ctx.stream`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Ticker"]


class Ticker:
    """Calls `tick()` every `interval` seconds until stopped: pause, resume, stop,
    set_interval. The tab passes a `tick` that runs the user's function like an action."""

    def __init__(self, interval: float, tick: Callable[[], Awaitable[Any]]) -> None:
        if interval <= 0:
            raise ValueError("a stream's interval must be positive")
        self.interval = interval
        self.tick = tick
        self.paused = False
        self.stopped = False
        self.ticks = 0
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    @property
    def done(self) -> bool:
        """True once stopped for good (its task has ended or is being cancelled)."""
        return self.stopped or self._task.done()

    def pause(self) -> None:
        """Stop ticking until `resume()`."""
        self.paused = True
        self._changed.set()

    def resume(self) -> None:
        """Tick again, one interval from now."""
        self.paused = False
        self._changed.set()

    def set_interval(self, interval: float) -> None:
        """Change the interval; the next tick is one new interval from now."""
        if interval <= 0:
            raise ValueError("a stream's interval must be positive")
        self.interval = interval
        self._changed.set()

    def stop(self) -> None:
        """Stop for good."""
        self.stopped = True
        self._task.cancel()

    async def _loop(self) -> None:
        while not self.stopped:
            self._changed.clear()
            try:
                # A timer, not synchronisation: the tick is due when the interval passes
                # with no pause or interval change in between.
                timeout = None if self.paused else self.interval
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
                continue  # paused, resumed or re-timed: start the wait again
            except TimeoutError:
                pass
            self.ticks += 1
            await self.tick()
