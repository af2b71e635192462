"""A tab's patch queue (specs/protocol.md §5.4): what its stream still has to send.

The queue coalesces like Via's: the newest full render replaces older ones, explicit elements
append, signals merge last-wins, scripts concatenate and a redirect wins over everything. A
drain takes the whole queue and writes render + explicit elements, then signals, then scripts;
if the write fails the taken items go back in front of anything queued meanwhile
(at-least-once). Sans I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .jsonenc import nest
from .scripts import redirect_script, script_event
from .sse import patch_elements, patch_signals

__all__ = ["PatchQueue"]


@dataclass(slots=True)
class PatchQueue:
    """What a tab's stream still has to send."""

    render: str | None = None
    elements: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)  # flat keys, nested when encoded
    scripts: list[str] = field(default_factory=list)
    redirect: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.render is not None
            or self.elements
            or self.signals
            or self.scripts
            or self.redirect is not None
        )

    def take(self) -> PatchQueue:
        """Empty this queue into a new one and return that."""
        taken = PatchQueue(self.render, self.elements, self.signals, self.scripts, self.redirect)
        self.render, self.redirect = None, None
        self.elements, self.signals, self.scripts = [], {}, []
        return taken

    def restore(self, taken: PatchQueue) -> None:
        """Put back items a failed write took; anything queued since then stays newer."""
        if self.render is None:
            self.render = taken.render
        self.elements = taken.elements + self.elements
        self.signals = {**taken.signals, **self.signals}
        self.scripts = taken.scripts + self.scripts
        if self.redirect is None:
            self.redirect = taken.redirect

    def encode(self, nonce: str | None) -> bytes:
        """The SSE bytes of one drain: elements, signals, scripts; or the redirect alone."""
        if self.redirect is not None:
            # A redirect discards everything else in the snapshot (§5.4).
            return script_event(redirect_script(self.redirect), nonce).encode()
        parts: list[str] = []
        payload = "".join(([self.render] if self.render is not None else []) + self.elements)
        if payload:
            parts.append(patch_elements(payload))
        if self.signals:
            parts.append(patch_signals(nest(self.signals)))
        if self.scripts:
            joined = "".join(f"try{{{s}}}catch(e){{console.error(e)}};" for s in self.scripts)
            parts.append(script_event(joined, nonce))
        return "".join(parts).encode()
