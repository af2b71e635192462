"""Every error vt raises, in one tree.

```
VTError
├── ProtocolError                 the server broke specs/protocol.md
│   ├── MalformedEvent            an SSE event vt cannot read as a Datastar/Via event
│   ├── PageBootstrapError        the page GET lacks what a tab needs (tab id, seed)
│   └── UnexpectedResponse        wrong status or content type for a protocol request
├── UsageError                    the caller misused vt (closed client, bad argument)
├── ElementNotInteractive         click/press/type on an element that has no such binding
└── WaitTimeout                   a wait's condition did not hold in time (also a TimeoutError)
GoldenMismatch(AssertionError)    outside the tree on purpose: pytest reports a failure
```

Protocol errors name the section of `specs/protocol.md` the server broke and show the bytes
it sent, so a failure can be reported upstream without re-running anything.
"""

from __future__ import annotations

__all__ = [
    "ElementNotInteractive",
    "MalformedEvent",
    "PageBootstrapError",
    "ProtocolError",
    "UnexpectedResponse",
    "UsageError",
    "VTError",
    "WaitTimeout",
]

# Bytes shown in an error message are cut to this many, so a huge frame stays readable.
_MAX_SHOWN_BYTES = 600


def show_bytes(raw: bytes | str, limit: int = _MAX_SHOWN_BYTES) -> str:
    """Render raw wire bytes for an error message: Python bytes repr, cut at `limit`."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} bytes in all)"


class VTError(Exception):
    """The base of every exception vt raises on purpose."""


class ProtocolError(VTError):
    """The server did something `specs/protocol.md` forbids.

    `section` is the spec section that was broken (for example ``"6.1"``) and `raw` the bytes
    that broke it; both are part of the message.
    """

    def __init__(self, message: str, *, section: str, raw: bytes | str = b"") -> None:
        self.section = section
        self.raw = raw.encode() if isinstance(raw, str) else raw
        text = f"{message} (specs/protocol.md §{section})"
        if self.raw:
            text += f"\n  bytes: {show_bytes(self.raw)}"
        super().__init__(text)


class MalformedEvent(ProtocolError):
    """An SSE event that is not a well-formed Datastar event (wrong data lines, bad JSON...)."""


class PageBootstrapError(ProtocolError):
    """A page response that a tab cannot start from (no `meta[data-signals]`, no `via_tab`)."""


class UnexpectedResponse(ProtocolError):
    """A protocol request answered with a status or content type the spec does not allow."""


class UsageError(VTError):
    """vt was called in a way it does not support; the message says how to call it instead."""


class ElementNotInteractive(VTError):
    """`click`, `press` or `type` found the element but not the binding the gesture needs."""


class WaitTimeout(VTError, TimeoutError):
    """A wait's condition did not hold before its deadline.

    The message explains itself: what was awaited, the closest thing seen, the tab's timeline
    since the last action, and where the raw transcript was saved.
    """
