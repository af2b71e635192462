"""What a tab's streams delivered, kept for waits and failure reports.

Per tab: the raw bytes of each stream connection (the transcripts), how many connections were
opened and which one said `: ready` (§5.3), the protocol errors the server made and vt's own
errors while reading, and where the bytes stood when the client's last action was fired — so
that a leak check can look at everything that arrived since that action (§7), not only at
what arrives while it watches.
"""

from __future__ import annotations

from ..errors import ProtocolError
from .timeline import ActionRef

__all__ = ["Position", "Recording"]

Position = tuple[int, int]
"""A place in a tab's stream bytes: (number of connections so far, offset in the last)."""


class Recording:
    """A tab's stream bookkeeping (no I/O: the tab's stream reader feeds it)."""

    __slots__ = (
        "_mark",
        "_mark_action",
        "_reported",
        "connections",
        "failures",
        "protocol_errors",
        "ready_on",
        "transcripts",
    )

    def __init__(self) -> None:
        self.transcripts: list[bytearray] = []
        self.connections = 0
        self.ready_on = 0  # number of the connection that delivered `: ready`
        self.protocol_errors: list[ProtocolError] = []
        self.failures: list[Exception] = []  # vt's own errors while reading a stream
        self._reported = 0
        self._mark_action: ActionRef | None = None
        self._mark: Position = (0, 0)

    def open(self) -> tuple[int, bytearray]:
        """A new connection: its number and its (empty) transcript."""
        self.connections += 1
        transcript = bytearray()
        self.transcripts.append(transcript)
        return self.connections, transcript

    def receive(self, number: int, chunk: bytes, last: ActionRef | None) -> None:
        """Keep a chunk of connection `number`; `last` is the client's last action now."""
        transcript = self.transcripts[number - 1]
        if last is not self._mark_action:
            # The first bytes since that action: remember where they start.
            self._mark_action = last
            self._mark = (number, len(transcript))
        transcript.extend(chunk)

    def position(self) -> Position:
        """Where the bytes stand now."""
        return len(self.transcripts), len(self.transcripts[-1]) if self.transcripts else 0

    def position_at(self, action: ActionRef | None) -> Position:
        """Where the bytes stood when `action` (the client's last action) was fired; the
        start of everything when there was none."""
        if action is self._mark_action:
            return self._mark
        return self.position()  # nothing arrived since that action

    def bytes_since(self, position: Position) -> bytes:
        """Every stream byte received after `position`, connections joined."""
        count, offset = position
        if not self.transcripts:
            return b""
        parts = [bytes(self.transcripts[count - 1][offset:])] if count else []
        parts.extend(bytes(t) for t in self.transcripts[count:])
        return b"".join(parts)

    def excuse_cutoffs(self) -> int:
        """Drop the errors not raised yet for events cut off by the end of a stream (§5.2):
        a fault the test injected cut the stream mid-event, which is not the server's doing
        (the `recover` step, specs/cluster.md). Returns how many were dropped."""
        pending = self.protocol_errors[self._reported :]
        kept = [e for e in pending if e.section != "5.2"]
        self.protocol_errors[self._reported :] = kept
        return len(pending) - len(kept)

    def take_pending(self, strict: bool) -> Exception | None:
        """The next error a wait must raise: a vt failure while reading, or (when `strict`)
        a protocol error not raised before."""
        if self.failures:
            return self.failures.pop(0)
        if strict and len(self.protocol_errors) > self._reported:
            error = self.protocol_errors[self._reported]
            self._reported = len(self.protocol_errors)
            return error
        return None
