"""Brotli on event streams (specs/protocol.md §5.6): Via compresses with quality 5, flushed
per write, and only when the `Accept-Encoding` header has the token `br` (parameters such as
`;q=0` are ignored, as Via does)."""

from __future__ import annotations

from typing import Any

__all__ = ["Compressor", "accepts_brotli"]

try:
    import brotli as _brotli
except ImportError:  # the runtime still works, uncompressed
    _brotli = None

AVAILABLE = _brotli is not None
QUALITY = 5


def accepts_brotli(accept_encoding: str) -> bool:
    """True when brotli is available and the header lists the `br` token."""
    if not AVAILABLE:
        return False
    tokens = (part.split(";", 1)[0].strip().lower() for part in accept_encoding.split(","))
    return "br" in tokens


class Compressor:
    """One stream's brotli state: every `chunk()` is flushed so the client can decode it."""

    def __init__(self) -> None:
        assert _brotli is not None
        self._c: Any = _brotli.Compressor(quality=QUALITY)

    def chunk(self, data: bytes) -> bytes:
        """Compress and flush `data` (a whole number of events)."""
        out: bytes = self._c.process(data) + self._c.flush()
        return out

    def finish(self) -> bytes:
        """The end of the compressed stream."""
        out: bytes = self._c.finish()
        return out

    @staticmethod
    def whole(data: bytes) -> bytes:
        """A complete compressed body (for one-shot responses)."""
        assert _brotli is not None
        out: bytes = _brotli.compress(data, quality=QUALITY)
        return out
