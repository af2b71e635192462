"""Timelines: entries in order, events described lazily, renderings relative to an origin."""

from __future__ import annotations

import re

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
