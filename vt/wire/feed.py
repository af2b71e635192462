"""Stream bytes to readings: the one decode-then-read step of every SSE reader.

A tab's stream, an action's streamed response and the codec cases all feed bytes in chunks
and get back, per wire event or comment, the comment or how a browser reads the event (a
`Reading`: the event it applies, what it logs, and the rules of §6 the event breaks). The
caller applies each reading; a bad event never stops the events after it, as in a browser.
"""

from __future__ import annotations

from collections.abc import Iterable

from .events import Reading, read_as_browser
from .sse import Comment, ServerSentEvent, SSEDecoder

__all__ = ["Fed", "ItemFeed"]

Fed = tuple[ServerSentEvent | Comment, Reading | Comment]
"""One wire event or comment and how a browser reads it: the comment, or the event's
`Reading`."""


class ItemFeed:
    """An `SSEDecoder` followed by `read_as_browser`, fed chunk by chunk."""

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = SSEDecoder()

    def feed(self, chunk: bytes) -> list[Fed]:
        """The events and comments that `chunk` completed, read."""
        return _read(self._decoder.feed(chunk))

    def close(self) -> list[Fed]:
        """The end of the stream: what the decoder still held (an event cut off is dropped,
        with a §5.2 violation)."""
        return _read(self._decoder.close())


def _read(raws: Iterable[ServerSentEvent | Comment]) -> list[Fed]:
    return [(raw, raw if isinstance(raw, Comment) else read_as_browser(raw)) for raw in raws]
