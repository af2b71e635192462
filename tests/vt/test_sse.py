"""The sans-IO SSE decoder: WHATWG rules, raw bytes, and chunk boundaries anywhere."""

from __future__ import annotations

import pytest

from vt import Comment, ServerSentEvent, SSEDecoder

STREAMS = {
    "lf": b"event: a\ndata: one\n\n: ready\n\nevent: b\ndata: two\ndata: three\n\n",
    "crlf": (
        b"event: a\r\ndata: one\r\n\r\n: ready\r\n\r\nevent: b\r\ndata: two\r\ndata: three\r\n\r\n"
    ),
    "cr": b"event: a\rdata: one\r\r: ready\r\revent: b\rdata: two\rdata: three\r\r",
    "mixed": b"event: a\r\ndata: one\n\r: ready\r\n\nevent: b\rdata: two\r\ndata: three\n\n",
    "utf8": "event: a\ndata: h\u00e9llo \u2603 \U0001f600\n\n".encode(),
    "fields": b"id: 7\nretry: 1500\nevent: x\ndata:no-space\ndata:  two-spaces\nfoo: bar\n\n",
}


def decode_all(data: bytes, cuts: list[int]) -> list[ServerSentEvent | Comment]:
    decoder = SSEDecoder()
    out: list[ServerSentEvent | Comment] = []
    start = 0
    for cut in [*cuts, len(data)]:
        out.extend(decoder.feed(data[start:cut]))
        start = cut
    out.extend(decoder.close())
    return out


def shape(items: list[ServerSentEvent | Comment]) -> list[tuple[object, ...]]:
    return [
        ("comment", i.text)
        if isinstance(i, Comment)
        else (i.event, i.data, i.id, i.retry, i.terminated)
        for i in items
    ]


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_single_split_gives_the_same_items(name: str) -> None:
    data = STREAMS[name]
    whole = shape(decode_all(data, []))
    assert whole  # the stream decodes to something
    for cut in range(1, len(data)):
        assert shape(decode_all(data, [cut])) == whole, f"split at byte {cut}"


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_byte_by_byte_gives_the_same_items(name: str) -> None:
    data = STREAMS[name]
    assert shape(decode_all(data, list(range(1, len(data))))) == shape(decode_all(data, []))


def test_line_endings_decode_alike() -> None:
    expected = shape(decode_all(STREAMS["lf"], []))
    assert expected == [
        ("a", "one", None, None, True),
        ("comment", "ready"),
        ("b", "two\nthree", None, None, True),
    ]
    for name in ("crlf", "cr", "mixed"):
        assert shape(decode_all(STREAMS[name], [])) == expected


def test_fields_follow_whatwg() -> None:
    (event,) = decode_all(STREAMS["fields"], [])
    assert isinstance(event, ServerSentEvent)
    assert (event.id, event.retry, event.event) == ("7", 1500, "x")
    assert event.data == "no-space\n two-spaces"  # one space after the colon is removed


def test_multibyte_characters_survive_any_split() -> None:
    (event,) = decode_all(STREAMS["utf8"], [17, 18, 19])
    assert isinstance(event, ServerSentEvent)
    assert event.data == "h\u00e9llo \u2603 \U0001f600"


def test_raw_bytes_of_each_event_are_kept() -> None:
    items = decode_all(STREAMS["crlf"], [5, 30])
    events = [i for i in items if isinstance(i, ServerSentEvent)]
    assert events[0].raw == b"event: a\r\ndata: one\r\n\r\n"
    assert events[1].raw == b"event: b\r\ndata: two\r\ndata: three\r\n\r\n"


def test_event_cut_off_by_end_of_stream_is_reported_unterminated() -> None:
    items = decode_all(b"event: a\ndata: one\n\nevent: b\ndata: cut", [])
    assert shape(items) == [("a", "one", None, None, True), ("b", "cut", None, None, False)]


def test_block_without_data_dispatches_nothing_but_keeps_its_id() -> None:
    items = decode_all(b"id: 3\n\nevent: x\n\ndata: d\n\n", [])
    assert shape(items) == [("", "d", "3", None, True)]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    (event,) = decode_all(b"data: \xff\xfe ok\n\n", [])
    assert isinstance(event, ServerSentEvent)
    assert event.data == "\ufffd\ufffd ok"
