"""Goldens and normalisers, sans-IO: rules, comparison, bounded diffs, summaries; the batch
runner's progress line."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import vt
from vt.cli.batch import Batch
from vt.client.timeline import ActionRef
from vt.client.waits import settle
from vt.pytest.goldens import VTGolden
from vt.scenario.golden import MAX_DIFF_LINES, compare_goldens, render_tab
from vt.scenario.harness import take_goldens
from vt.scenario.normalize import NAMED_RULES, Rule, normalize
from vt.sync.client import with_async_tabs


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("tab-ids", '{"via_tab":"/_abc123"}', '{"via_tab":"<tab-id>"}'),
        ("session-ids", "via_session=Zx9_-.a; Path=/", "via_session=<session-id>; Path=/"),
        ("nonces", '<script nonce="q1w2e3">', '<script nonce="<nonce>">'),
        ("ports", "http://127.0.0.1:43817/x", "http://127.0.0.1:<port>/x"),
        ("timestamps", "at 2026-12-01T19:24:00.123Z", "at <time>"),
        ("timestamps", "epoch 1764617040123 ms", "epoch <time> ms"),
    ],
)
def test_each_named_rule(name: str, text: str, expected: str) -> None:
    assert NAMED_RULES[name].apply(text) == expected
    assert normalize(text, named=[name]) == expected


def test_exact_values_go_first_longest_first_then_custom_rules() -> None:
    text = "tab /_ab and /_abc; count=17"
    values = {"<tab:a>": "/_ab", "<tab:b>": "/_abc"}
    custom = [Rule.parse(r"count=\d+=>count=N")]
    assert (
        normalize(text, values=values, named=[], custom=custom)
        == "tab <tab:a> and <tab:b>; count=N"
    )


def test_bad_user_rules_and_names_say_so() -> None:
    with pytest.raises(ValueError, match="REGEX=>REPLACEMENT"):
        Rule.parse("no arrow")
    with pytest.raises(ValueError, match="no normaliser named 'ids'"):
        normalize("x", named=["ids"])


def test_compare_writes_only_with_update_and_lists_unused(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    missing = compare_goldens(folder, {"a": "1\n"})
    assert (missing.missing, missing.ok, folder.exists()) == (["a"], False, False)

    written = compare_goldens(folder, {"a": "1\n", "b": "2\n"}, update=True)
    assert written.written == ["a", "b"]
    (folder / "stale.txt").write_text("old")

    same = compare_goldens(folder, {"a": "1\n", "b": "2\n"})
    assert (same.compared, same.unused, same.ok) == (["a", "b"], ["stale"], True)
    assert "unused (no tab of the scenario has this name; delete if stale): stale" in (
        same.summary("HINT")
    )


def test_a_mismatch_is_a_bounded_unified_diff(tmp_path: Path) -> None:
    compare_goldens(tmp_path, {"a": "".join(f"line {i}\n" for i in range(200))}, update=True)
    result = compare_goldens(tmp_path, {"a": "".join(f"LINE {i}\n" for i in range(200))})
    diff = result.mismatched["a"]
    assert diff.startswith(
        f"--- {tmp_path / 'a.txt'} (golden)\n+++ {tmp_path / 'a.txt'} (this run)"
    )
    assert len(diff.splitlines()) == MAX_DIFF_LINES + 1
    assert diff.endswith("more diff lines")
    message = str(result.failure("re-run with --update"))
    assert "next: review the diff; if the change is intended, re-run with --update" in message


def test_the_progress_line_shows_only_after_a_second(tmp_path: Path) -> None:
    stream = io.StringIO()
    batch = Batch(url=None, timeout=None, output=tmp_path, progress=stream)
    batch.show_progress("[1/2] early")
    assert stream.getvalue() == ""
    batch.started = time.monotonic() - 1.5
    batch.show_progress("[2/2] late")
    assert stream.getvalue().startswith("\r[2/2] late")
    batch.clear_progress()
    assert stream.getvalue().endswith("\r")


# -- settling before a golden is taken ----------------------------------------------------------


def _paced_stream(delays: list[float], forever: float | None = None) -> Any:
    """A Via page whose stream sends `: ready`, then one patch after each of `delays` seconds,
    then (with `forever`) a patch every `forever` seconds until the client goes."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, StreamingResponse
    from starlette.routing import Route

    from tests.vt.apps import OLD_TAB, READY, page, patch

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(page())

    async def sse(request: Any) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield READY
            for n, delay in enumerate(delays):
                await asyncio.sleep(delay)
                yield patch(f'<div id="{OLD_TAB}">late {n}</div>')
            n = 0
            while forever is not None:
                await asyncio.sleep(forever)
                n += 1
                yield patch(f'<div id="{OLD_TAB}">tick {n}</div>')
            await asyncio.sleep(3600)  # open and quiet until the client goes

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/_sse", sse), Route("/{path:path}", index)])


@pytest.mark.anyio
async def test_settle_waits_for_the_patches_still_on_their_way(serve: Any) -> None:
    url = serve(_paced_stream([0.15, 0.15]))  # each gap under the quiet window
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        assert await settle([tab], window=0.3) is True
        assert tab.text("body") == "late 1"  # both arrived before the quiet was called


@pytest.mark.anyio
async def test_settle_gives_up_after_its_limit_on_a_stream_that_never_goes_quiet(
    serve: Any,
) -> None:
    url = serve(_paced_stream([], forever=0.05))
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        started = time.monotonic()
        assert await settle([tab], window=0.3, limit=0.6) is False
        assert 0.6 <= time.monotonic() - started < 2.0  # bounded: the limit, not forever
        assert "tick" in tab.text("body")


# -- a tab's connections, apart ---------------------------------------------------------------


@dataclass
class _Session:
    name: str = "s"
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class _Tab:
    """What a golden reads of a tab: its events, and which came in an action's response."""

    events: list[Any]
    response_origin: dict[int, ActionRef]
    id_or_none: str | None = None
    session: _Session = field(default_factory=_Session)


def test_a_golden_does_not_depend_on_which_connection_was_read_first() -> None:
    from tests.vt.apps import patch
    from vt.wire.events import read_raw

    stream_1, stream_2 = (read_raw(patch(f'<p id="s">stream {n}</p>')) for n in (1, 2))
    answer = read_raw(patch('<p id="r">in the answer</p>'))
    send = ActionRef("a/1", "POST /send", 1.0)
    # The action's SSE answer read between the stream's two events, or before both.
    between = _Tab([stream_1, answer, stream_2], {1: send})
    first = _Tab([answer, stream_1, stream_2], {0: send})
    assert render_tab(between) == render_tab(first)
    assert render_tab(first).splitlines()[-3:] == [
        "# response to POST /send",
        "patch-elements mode=outer",
        '  <p id="r">in the answer</p>',
    ]


def test_an_action_answered_with_sse_is_a_section_of_its_own(serve: Any) -> None:
    from starlette.responses import Response

    from tests.vt.apps import Scripted, page, patch

    def answer(server: Scripted, name: str, payload: dict[str, Any]) -> Response:
        server.push(patch('<p id="fan">fanned out</p>'))  # on the stream, meanwhile
        body = patch('<p id="own">the answer</p>')
        return Response(body, media_type="text/event-stream")

    targets = page(body='<p id="fan"></p><p id="own"></p>')
    url = serve(Scripted(page_html=targets, on_action=answer).app())
    with vt.Client(url, timeout=3) as client:
        tab = client.new_session("a").open("/")
        tab.ready()
        tab.action("Send")
        tab.expect_text("#fan", "fanned out")
        texts = with_async_tabs({"a": tab}, lambda tabs: take_goldens(tabs, "t"))
    stream, _, answered = texts["a"].partition("# response to Send\n")
    assert "fanned out" in stream
    assert "the answer" not in stream
    assert "the answer" in answered


def test_goldens_are_taken_once_the_streams_are_quiet(serve: Any, tmp_path: Path) -> None:
    # Two patches 0.15 s apart arrive after the tab is ready: a golden taken at once (as
    # `vt_golden` did) missed them; one taken once the streams are quiet has both.
    url = serve(_paced_stream([0.15, 0.15]))
    with vt.Client(url, timeout=3) as client:
        tab = client.new_session().open("/")
        tab.ready()
        VTGolden(tmp_path, update=True, properties=[]).check({"a": tab})
    assert "late 1" in (tmp_path / "a.txt").read_text()
