"""The per-tab patch queue's coalescing and drain order (specs/protocol.md §5.4), sans I/O."""

from __future__ import annotations

import vt
from reference_impl.tabs import PatchQueue


def events(data: bytes) -> list[vt.StreamItem]:
    decoder = vt.SSEDecoder()
    return [
        vt.parse_event(e)
        for e in [*decoder.feed(data), *decoder.close()]
        if isinstance(e, vt.ServerSentEvent)
    ]


def test_one_drain_is_render_and_elements_then_signals_then_scripts() -> None:
    queue = PatchQueue()
    queue.render = '<div id="t">old</div>'
    queue.render = '<div id="t">new</div>'  # the newest render replaces the older one
    queue.elements += ['<p id="a">a</p>', '<p id="b">b</p>']
    queue.signals.update({"x": 1, "form.name": "ada"})
    queue.signals.update({"x": 2})
    queue.scripts += ["one()", "two()"]

    drained = events(queue.encode(nonce=None))

    assert len(drained) == 3
    first, second, third = drained
    assert isinstance(first, vt.PatchElements)
    assert first.elements == '<div id="t">new</div><p id="a">a</p><p id="b">b</p>'
    assert isinstance(second, vt.PatchSignals)
    assert second.signals == {"x": 2, "form": {"name": "ada"}}
    assert isinstance(third, vt.PatchElements)
    assert (third.selector, third.mode) == ("body", vt.PatchMode.APPEND)
    assert third.elements == (
        '<script data-effect="el.remove()">'
        "try{one()}catch(e){console.error(e)};try{two()}catch(e){console.error(e)};</script>"
    )


def test_a_redirect_discards_everything_else() -> None:
    queue = PatchQueue(render="<div id='t'></div>", scripts=["x()"], signals={"a": 1})
    queue.redirect = "/first"
    queue.redirect = "/last"  # the last redirect wins

    drained = events(queue.encode(nonce="N"))

    assert len(drained) == 1
    assert drained[0].elements == (  # type: ignore[union-attr]
        '<script nonce="N" data-effect="el.remove()">'
        'setTimeout(() => window.location.href = "/last")</script>'
    )


def test_restore_keeps_what_was_queued_since_as_newer() -> None:
    queue = PatchQueue(render="r1", elements=["e1"], signals={"a": 1, "b": 1}, scripts=["s1"])
    taken = queue.take()
    assert not queue
    queue.render = "r2"
    queue.elements.append("e2")
    queue.signals["a"] = 2
    queue.scripts.append("s2")

    queue.restore(taken)  # the write of `taken` failed

    assert queue.render == "r2"
    assert queue.elements == ["e1", "e2"]
    assert queue.signals == {"a": 2, "b": 1}
    assert queue.scripts == ["s1", "s2"]


def test_an_empty_queue_encodes_to_nothing() -> None:
    assert PatchQueue().encode(nonce=None) == b""
