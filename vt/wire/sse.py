"""Sans-IO Server-Sent-Events decoding: bytes in, events and comments out.

The decoder follows the WHATWG "event stream interpretation" algorithm
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
with three additions a test tool needs and a browser does not:

* comment lines are returned (Via's `: ready` is protocol, not noise);
* every event and comment keeps its exact raw bytes, for transcripts and error messages;
* an event cut off by the end of the stream is returned, marked ``terminated=False``, so the
  caller can report it (a browser silently drops it).

Lines are split on bytes, before any text decoding. CR and LF never occur inside a multi-byte
UTF-8 sequence, so a chunk boundary inside a character or inside a CRLF needs no special case
beyond remembering a trailing CR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Comment", "SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched SSE event.

    `event` is the raw `event:` field ("" when absent; WHATWG calls that type "message").
    `data` is the `data:` lines joined with LF. `terminated` is False only for an event that the
    end of the stream cut off before its blank line.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None
    raw: bytes = field(default=b"", repr=False, compare=False)
    terminated: bool = True

    @property
    def data_lines(self) -> list[str]:
        """The `data:` lines as sent, in order."""
        return self.data.split("\n")


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line (`: text`); `text` has the colon and one leading space removed."""

    text: str
    raw: bytes = field(default=b"", repr=False, compare=False)


_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Turn a byte stream into `ServerSentEvent` and `Comment` items, chunk by chunk.

    Feed any chunks with `feed()`; call `close()` at end of stream to get the cut-off event, if
    any. Invalid UTF-8 is replaced with U+FFFD, as the SSE spec requires.
    """

    __slots__ = (
        "_data",
        "_event",
        "_head",
        "_last_id",
        "_partial",
        "_raw",
        "_retry",
        "_skip_lf",
    )

    def __init__(self) -> None:
        self._partial = b""  # bytes of a line whose terminator has not arrived yet
        self._skip_lf = False  # the last chunk ended in CR: a leading LF belongs to it
        self._raw: list[bytes] = []  # raw lines (with terminators) of the event being built
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None  # persists across events, per WHATWG
        self._retry: int | None = None
        # The stream's first bytes until we know whether they are a UTF-8 BOM, which WHATWG
        # strips (None once past the start).
        self._head: bytes | None = b""

    def feed(self, chunk: bytes) -> list[ServerSentEvent | Comment]:
        """Decode one chunk; return the events and comments it completes, in stream order."""
        if self._head is not None:
            head = self._head + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._head = head
                return []
            self._head = None
            chunk = head[len(_BOM) :] if head.startswith(_BOM) else head
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                if self._raw:
                    self._raw[-1] += b"\n"
                chunk = chunk[1:]
        if not chunk:
            return []
        out: list[ServerSentEvent | Comment] = []
        data = self._partial + chunk if self._partial else chunk
        if b"\r" not in data:
            # The common case (Datastar SDKs write LF only): one C-level split.
            lines = data.split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                self._line(line, line + b"\n", out)
            return out
        start = 0
        size = len(data)
        while start < size:
            cr = data.find(b"\r", start)
            lf = data.find(b"\n", start)
            if cr < 0 and lf < 0:
                break
            if cr < 0 or (0 <= lf < cr):
                self._line(data[start:lf], data[start : lf + 1], out)
                start = lf + 1
            elif cr + 1 < size:
                end = cr + 2 if data[cr + 1 : cr + 2] == b"\n" else cr + 1
                self._line(data[start:cr], data[start:end], out)
                start = end
            else:
                # CR is the last byte: the line ends here, but an LF may open the next chunk.
                self._line(data[start:cr], data[start : cr + 1], out)
                self._skip_lf = True
                start = size
        self._partial = data[start:]
        return out

    def close(self) -> list[ServerSentEvent | Comment]:
        """Finish the stream; return a final unterminated line's item and any cut-off event."""
        out: list[ServerSentEvent | Comment] = []
        if self._head:
            self._partial, self._head = self._partial + self._head, None
        if self._partial:
            line, self._partial = self._partial, b""
            self._line(line, line, out)
        if self._data:
            out.append(self._dispatch(terminated=False))
        self._reset()
        return out

    def _line(self, line: bytes, raw: bytes, out: list[ServerSentEvent | Comment]) -> None:
        if not line:
            if self._data:
                self._raw.append(raw)
                out.append(self._dispatch(terminated=True))
            else:
                # WHATWG: a block without data lines dispatches nothing (its id still counts).
                self._reset()
            return
        text = line.decode("utf-8", "replace")
        if text[0] == ":":
            body = text[1:]
            out.append(Comment(body[1:] if body[:1] == " " else body, raw))
            return
        self._raw.append(raw)
        name, colon, value = text.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # Any other field name is ignored, as WHATWG requires; its bytes stay in `raw`.

    def _dispatch(self, *, terminated: bool) -> ServerSentEvent:
        event = ServerSentEvent(
            event=self._event,
            data="\n".join(self._data),
            id=self._last_id,
            retry=self._retry,
            raw=b"".join(self._raw),
            terminated=terminated,
        )
        self._reset()
        return event

    def _reset(self) -> None:
        self._raw = []
        self._event = ""
        self._data = []
        self._retry = None
