"""Timelines: entries in order, events described lazily, renderings relative to an origin."""

from __future__ import annotations

import re

import vt
from vt import ActionRef, PatchSignals, Timeline


def test_entries_keep_order_and_describe_events_when_read() -> None:
    timeline = Timeline()
    ref = ActionRef("alice/1", "Send", 0.0)
    timeline.add("action", "Send", None, ref)
    timeline.add("event", None, PatchSignals({"draft": ""}), ref)
    copy = timeline.copy()
    timeline.add("end", "stream #1 ended")

    assert [e.kind for e in timeline.entries] == ["action", "event", "end"]
    assert timeline.entries[1].text == 'patch-signals {"draft":""}'
    assert timeline.entries[1].after is ref
    assert len(copy) == 2  # a copy does not see later entries
    assert [e.kind for e in timeline.of_kind("event", "end")] == ["event", "end"]


def test_render_shows_times_relative_to_the_origin() -> None:
    timeline = Timeline()
    timeline.add("action", "Send")
    timeline.add("event", None, PatchSignals({}))
    origin = timeline.entries[0].at
    lines = timeline.render(origin=origin).splitlines()
    assert re.fullmatch(r"\s+\+0\.000s  action    Send", lines[0])
    assert re.fullmatch(r"\s+\+0\.\d{3}s  event     heartbeat \(patch-signals \{\}\)", lines[1])
    assert timeline.render(since=origin + 60) == "    (nothing)"
    many = Timeline()
    for n in range(5):
        many.add("comment", f": {n}")
    assert many.render(limit=2).splitlines()[0] == "    ... 3 earlier entries"


def test_an_event_log_reads_kept_bytes_back_into_the_same_events() -> None:
    from vt import EventLog, PatchElements, SSEDecoder, read_item

    raw = (
        b"event: datastar-patch-elements\ndata: selector #a\ndata: mode inner\n"
        b"data: elements <b>x</b>\n\n: ready\n\nevent: datastar-patch-signals\n"
        b"data: signals {}\n\n"
    )
    decoded = SSEDecoder().feed(raw)
    log = EventLog()
    for item in decoded:
        log.append_raw(item.raw)
    log.append(PatchSignals({"n": 1}))

    assert len(log) == 4
    assert log[0] == PatchElements("<b>x</b>", selector="#a", mode=vt.PatchMode.INNER)
    assert log[1] == read_item(decoded[1])
    assert log[-2] == PatchSignals({})
    assert log[3] == PatchSignals({"n": 1})
    assert log[0] is log[0]  # read once, then kept
    assert [type(e).__name__ for e in log[1:3]] == ["Comment", "PatchSignals"]
