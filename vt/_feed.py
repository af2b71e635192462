"""Stream bytes to typed items: the one decode-then-read step of every SSE reader.

A tab's stream, an action's streamed response and the codec cases all feed bytes in chunks
and get back, per wire event or comment, either the typed item or the protocol error that
reading it raised (§6). The caller decides what to do with each; a bad event never stops the
events after it, as in a browser.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._events import StreamItem, read_item
from ._exceptions import ProtocolError
from ._sse import Comment, ServerSentEvent, SSEDecoder

__all__ = ["Fed", "ItemFeed"]

Fed = tuple[ServerSentEvent | Comment, StreamItem | ProtocolError]
"""One wire event or comment and what reading it gave: the item, or the protocol error."""


class ItemFeed:
    """An `SSEDecoder` followed by `read_item`, fed chunk by chunk."""

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = SSEDecoder()

    def feed(self, chunk: bytes) -> list[Fed]:
        """The events and comments that `chunk` completed, read."""
        return _read(self._decoder.feed(chunk))

    def close(self) -> list[Fed]:
        """The end of the stream: what the decoder still held (an event cut off is an error)."""
        return _read(self._decoder.close())


def _read(raws: Iterable[ServerSentEvent | Comment]) -> list[Fed]:
    out: list[Fed] = []
    for raw in raws:
        try:
            out.append((raw, read_item(raw)))
        except ProtocolError as exc:
            out.append((raw, exc))
    return out
