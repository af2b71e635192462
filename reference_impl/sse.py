"""Encoding the stream's events: the mirror image of `vt/wire/sse.py` and `vt/wire/events.py`.

Datastar events are written by datastar-py (the official SDK, which passes Datastar's own
golden suite) rather than by hand. Signals are JSON-encoded here first, compact and with sorted
keys, as Via does; datastar-py would keep insertion order.
"""

from __future__ import annotations

from typing import Any

from datastar_py.consts import ElementPatchMode
from datastar_py.sse import SSE_HEADERS, ServerSentEventGenerator

from .jsonenc import encode_json

__all__ = [
    "HEADERS",
    "READY",
    "encode_json",
    "patch_elements",
    "patch_signals",
    "script_tag",
]

SSE = ServerSentEventGenerator

# Via's stream headers (specs/protocol.md §5.1): datastar-py's plus keep-alive for HTTP/1.1.
HEADERS: dict[str, str] = {**SSE_HEADERS, "Connection": "keep-alive"}

# The comment that tells a client the server is subscribed (§5.3).
READY = b": ready\n\n"


def patch_elements(elements: str, *, selector: str | None = None, mode: str | None = None) -> str:
    """A `datastar-patch-elements` event (outer morph by id when no selector/mode).

    datastar-py writes the event's head; the `elements` lines are split here at LF only
    (§6.1.1), not at every `str.splitlines()` break: a raw U+0085 in text stays text.
    """
    head = str(
        SSE.patch_elements("", selector=selector, mode=ElementPatchMode(mode) if mode else None)
    )
    lines = "".join(f"data: elements {line}\n" for line in elements.split("\n")) if elements else ""
    return head[:-1] + lines + "\n"


def patch_signals(signals: dict[str, Any]) -> str:
    """A `datastar-patch-signals` event; `{}` is the heartbeat."""
    return str(SSE.patch_signals(encode_json(signals)))


def script_tag(body: str, nonce: str | None = None) -> str:
    """The self-removing `<script>` Via appends to `body` for scripts, toasts and redirects."""
    nonce_attr = f' nonce="{nonce}"' if nonce else ""
    return f'<script{nonce_attr} data-effect="el.remove()">{body}</script>'
