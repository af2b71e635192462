"""A deadline for test code that reads a stream or a process by hand, saying what it saw."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio


@contextmanager
def deadline(seconds: float, waiting_for: str, seen: Callable[[], object]) -> Iterator[None]:
    """`anyio.fail_after`, but a timeout fails the test naming what it waited for and showing
    what had arrived (the tail of it) instead of a bare TimeoutError."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        shown = seen()
        if isinstance(shown, bytes | str) and len(shown) > 800:
            shown = shown[-800:]
        raise AssertionError(
            f"no {waiting_for} within {seconds:g}s; seen so far: {shown!r}"
        ) from None
