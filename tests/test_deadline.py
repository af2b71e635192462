"""The tests' deadline helper fails naming what it waited for and what it saw."""

from __future__ import annotations

import anyio
import pytest

from tests.deadline import deadline

pytestmark = pytest.mark.anyio


async def test_a_missed_deadline_says_what_was_seen() -> None:
    expected = r"no the end within 0.05s; seen so far: b'abc'"
    with pytest.raises(AssertionError, match=expected), deadline(0.05, "the end", lambda: b"abc"):
        await anyio.Event().wait()  # never set: only the deadline ends it
