"""Sessions: the `via_session` cookie and the state shared by one browser's tabs (§3).

A session id is 64 lowercase hex characters from a CSPRNG. A well-formed id the server does not
know (after a restart, or from another process) is adopted under the same id, without a new
`Set-Cookie`; a malformed one gets a fresh session.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Session", "SessionStore", "new_hex64"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def new_hex64() -> str:
    """64 lowercase hex characters (32 random bytes)."""
    return secrets.token_hex(32)


def is_hex64(value: str) -> bool:
    """True for exactly 64 lowercase hex characters."""
    return _HEX64.fullmatch(value) is not None


@dataclass(eq=False, slots=True)
class Session:
    """One browser session: its id, its `StateSess` values and when it was last seen."""

    id: str
    state: dict[str, Any] = field(default_factory=dict)
    last_seen: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        """Refresh the idle clock."""
        self.last_seen = time.monotonic()


class SessionStore:
    """All live sessions, by id."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, cookie: str | None) -> Session | None:
        """The live session with this cookie value, refreshed, or None."""
        session = self.sessions.get(cookie) if cookie else None
        if session is not None:
            session.touch()
        return session

    def create(self, session_id: str | None = None) -> Session:
        """A new session: under `session_id` (adoption of a well-formed unknown cookie) or a
        fresh random id."""
        session = Session(session_id or new_hex64())
        self.sessions[session.id] = session
        return session

    def sweep(self, ttl: float, now: float) -> list[Session]:
        """Drop sessions idle longer than `ttl` seconds at `now` (time.monotonic()); return
        them."""
        expired = [s for s in self.sessions.values() if now - s.last_seen > ttl]
        for s in expired:
            del self.sessions[s.id]
        return expired
