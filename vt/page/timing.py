"""Datastar's timing modifiers on a clock: `__delay`, `__debounce`, `__throttle` (sans-IO).

Datastar wraps a listener (`le` in its client): the delay innermost, then debounce, then
throttle outermost. Each wrapper either calls through now, keeps the call for later, or drops
it, and sets timers. Here a wrapper is a small state machine (`Timer`) per listener and
modifier; instead of `setTimeout` it returns `Wait(delay, token)`s for the caller to schedule
on its clock, and `fire(token)` is called when one is due. Durations read as Datastar reads
them: `500ms`, `1s`, a bare number of milliseconds; default 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Timer", "Wait", "duration", "stages"]


def duration(tags: Iterable[str]) -> float:
    """A modifier's duration in seconds (`Q` in Datastar): the first tag that reads."""
    for tag in tags:
        if tag.endswith("ms"):
            return _number(tag[:-2]) / 1000
        if tag.endswith("s"):
            return _number(tag[:-1])
        try:
            return float(tag) / 1000
        except ValueError:
            return 0.0
    return 0.0


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


@dataclass(frozen=True, slots=True)
class Wait:
    """Ask the clock to call `fire(token)` on stage `stage` after `delay` seconds."""

    delay: float
    stage: int
    token: int


@dataclass(frozen=True, slots=True)
class Call:
    """Call the next stage (or the listener) now with `args` (the event)."""

    stage: int
    args: Any


@dataclass(slots=True)
class Timer:
    """One wrapper's state: `delay` (every call waits), or Datastar's `Wt` (debounce and
    throttle: `leading`, `trailing`, and whether a call restarts the timer)."""

    kind: str
    wait: float
    leading: bool = False
    trailing: bool = False
    restart: bool = False
    pending: Any = None
    has_pending: bool = False
    token: int = 0
    _next: int = 0
    _delayed: dict[int, Any] = field(default_factory=dict)

    def call(self, stage: int, args: Any) -> list[Wait | Call]:
        """A call reaches this wrapper (stage `stage`): what to do now."""
        if self.kind == "delay":
            self._next += 1
            self._delayed[self._next] = args
            return [Wait(self.wait, stage, self._next)]
        out: list[Wait | Call] = []
        if self.leading and not self.token:
            out.append(Call(stage + 1, args))
            self.pending, self.has_pending = None, False
        else:
            self.pending, self.has_pending = args, True
        if not self.token or self.restart:
            self._next += 1
            self.token = self._next  # clearTimeout of the old one: its token is stale
            out.append(Wait(self.wait, stage, self.token))
        return out

    def fire(self, stage: int, token: int) -> list[Wait | Call]:
        """A timer set by `call` is due."""
        if self.kind == "delay":
            return [Call(stage + 1, self._delayed.pop(token))] if token in self._delayed else []
        if token != self.token:
            return []
        out: list[Wait | Call] = []
        if self.trailing and self.has_pending:
            out.append(Call(stage + 1, self.pending))
        self.pending, self.has_pending, self.token = None, False, 0
        return out


def stages(modifiers: dict[str, tuple[str, ...]]) -> list[Timer]:
    """A listener's wrappers, outermost first (throttle, debounce, delay), as `le` builds
    them; empty when it has no timing modifier."""
    out: list[Timer] = []
    if "throttle" in modifiers:
        tags = modifiers["throttle"]
        out.append(
            Timer(
                "throttle",
                duration(tags),
                leading="noleading" not in tags,
                trailing="trailing" in tags,
            )
        )
    if "debounce" in modifiers:
        tags = modifiers["debounce"]
        out.append(
            Timer(
                "debounce",
                duration(tags),
                leading="leading" in tags,
                trailing="notrailing" not in tags,
                restart=True,
            )
        )
    if "delay" in modifiers:
        out.append(Timer("delay", duration(modifiers["delay"])))
    return out
