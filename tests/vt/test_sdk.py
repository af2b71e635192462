"""vt.conformance.sdk's sans-IO half: case files, decoding, and what the comparer counts as a
difference
(specs/sdk-cases/README.md §S3–§S4). The runner itself is exercised in tests/targets/."""

from __future__ import annotations

from pathlib import Path

import pytest

from vt import MalformedEvent, ProtocolError, UsageError
from vt.conformance.sdk import (
    ExpectedEvent,
    SDKCaseResult,
    compare_events,
    decode_wire_events,
    format_results,
    load_sdk_cases,
    main,
)

PE = "datastar-patch-elements"
PS = "datastar-patch-signals"


def wire(event: ExpectedEvent) -> bytes:
    """The ADR's canonical bytes for an expected event (§S3.0's field order)."""
    lines = [f"event: {event.event}"]
    if event.id is not None:
        lines.append(f"id: {event.id}")
    if event.retry is not None:
        lines.append(f"retry: {event.retry}")
    lines += [f"data: {key} {value}" for key, values in event.data.items() for value in values]
    return ("\n".join(lines) + "\n\n").encode()


def problems(expected: ExpectedEvent, body: bytes) -> list[str]:
    return compare_events([expected], decode_wire_events(body))


TAIL = b'data: mode inner\ndata: elements <div id="feed" class="a">\ndata: elements </div>\n\n'
ALL_OPTIONS = ExpectedEvent(
    PE,
    {"selector": ["#feed"], "mode": ["inner"], "elements": ['<div id="feed" class="a">', "</div>"]},
    id="e1",
    retry=2000,
)


def test_every_case_file_loads_and_its_own_canonical_bytes_pass() -> None:
    cases = load_sdk_cases()
    assert len(cases) >= 20
    for case in cases:
        assert case.method in ("GET", "POST")
        assert case.section.startswith("S"), case.name
        assert case.signals["events"], case.name
        body = b"".join(wire(event) for event in case.expect)
        assert compare_events(case.expect, decode_wire_events(body)) == [], case.name


def test_equivalent_forms_do_not_count() -> None:
    body = (
        b"event: datastar-patch-elements\nid: e1\nretry: 2000\n"
        b"data: mode inner\ndata: elements <div class='a'   id=feed>\n"
        b"data: selector #feed\ndata: elements </div>\n\n"
    )
    assert problems(ALL_OPTIONS, body) == []
    signals = ExpectedEvent(PS, {"signals": ['{"a":1,"b":"<"}']})
    assert (
        problems(
            signals, b'event: datastar-patch-signals\ndata: signals {"b": "\\u003c", "a": 1}\n\n'
        )
        == []
    )
    assert (
        problems(signals, b'event: datastar-patch-signals\r\ndata: signals {"a":1,"b":"<"}\r\n\r\n')
        == []
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            b"event: datastar-patch-elements\ndata: selector #feed\ndata: mode inner\n"
            b'data: elements <div id="feed" class="a">\ndata: elements </div>\n\n',
            "id is None",
        ),
        (
            b"event: datastar-patch-elements\nid: e1\nretry: 1000\ndata: selector #feed\n" + TAIL,
            "retry is 1000",
        ),
        (
            b"event: datastar-patch-elements\ndata: selector #feed\nid: e1\nretry: 2000\n" + TAIL,
            "requires event, id",
        ),
        (
            b"event: datastar-patch-elements\nid: e1\nretry: 2000\ndata: selector #feed\n"
            b'data: mode inner\ndata: elements <div id="feed" class="a"></div>\n\n',
            "'elements' lines differ",
        ),
        (
            b"event: datastar-patch-elements\nid: e1\nretry: 2000\ndata: selector #feed\n"
            b"data: mode inner\ndata: useViewTransition false\n"
            b'data: elements <div id="feed" class="a">\ndata: elements </div>\n\n',
            "unexpected data line(s) ['useViewTransition false']",
        ),
        (
            b"event: datastar-patch-elements\nid: e1\nretry: 2000\nfoo: bar\ndata: selector #feed\n"
            + TAIL,
            "unexpected field(s) ['foo']",
        ),
        (b"event: datastar-patch-signals\nid: e1\nretry: 2000\ndata: signals {}\n\n", "type is"),
    ],
)
def test_differences_are_named(body: bytes, says: str) -> None:
    found = problems(ALL_OPTIONS, body)
    assert any(says in problem for problem in found), found


def test_a_stated_default_mode_is_a_difference() -> None:
    minimal = ExpectedEvent(PE, {"elements": ['<p id="x">hi</p>']})
    body = b'event: datastar-patch-elements\ndata: mode outer\ndata: elements <p id="x">hi</p>\n\n'
    assert problems(minimal, body) == ["event 1: unexpected data line(s) ['mode outer']"]


def test_signals_split_differently_is_a_difference() -> None:
    multi = ExpectedEvent(PS, {"signals": ["{", '"a": 1', "}"]})
    found = problems(multi, b'event: datastar-patch-signals\ndata: signals {"a": 1}\n\n')
    assert len(found) == 1
    assert "'signals' lines differ" in found[0]


def test_missing_and_extra_events_are_reported() -> None:
    one = ExpectedEvent(PS, {"signals": ["{}"]})
    assert compare_events([one, one], decode_wire_events(wire(one))) == [
        "event 2: missing; expected datastar-patch-signals with data ['signals {}']"
    ]
    assert compare_events([], decode_wire_events(wire(one))) == [
        "event 1: unexpected datastar-patch-signals with data ['signals {}']"
    ]


def test_an_event_id_is_read_per_event_not_carried_over() -> None:
    first = ExpectedEvent(PS, {"signals": ["{}"]}, id="one")
    second = ExpectedEvent(PS, {"signals": ["{}"]})
    body = wire(first) + wire(second)
    assert compare_events([first, second], decode_wire_events(body)) == []


def test_broken_streams_raise() -> None:
    with pytest.raises(ProtocolError, match="ended inside an event"):
        decode_wire_events(b"event: datastar-patch-signals\ndata: signals {}\n")
    with pytest.raises(MalformedEvent, match="needs a selector"):
        decode_wire_events(
            b"event: datastar-patch-elements\ndata: mode inner\ndata: elements <p></p>\n\n"
        )


def test_case_folders_that_are_not_cases_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no SDK cases"):
        load_sdk_cases(tmp_path)
    (tmp_path / "bad.json").write_text('{"method": "PUT", "signals": {}, "expect": []}')
    with pytest.raises(UsageError, match="method must be GET or POST"):
        load_sdk_cases(tmp_path)


def test_table_lists_problems_and_closes_with_counts() -> None:
    results = [
        SDKCaseResult("good", "GET", ()),
        SDKCaseResult("bad", "POST", ("event 1: missing", "line one\nline two")),
    ]
    table = format_results(results, url="http://127.0.0.1:1")
    assert "good  GET   pass" in table
    assert "bad   POST  FAIL" in table
    assert "- line one\n" in table
    assert table.endswith("1 passed, 1 failed")


def test_main_refuses_an_unknown_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://127.0.0.1:9", "--case", "no-such-case"]) == 2
    assert "no such SDK case: no-such-case" in capsys.readouterr().err
