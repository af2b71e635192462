"""The failure report (`report.html`) a reader opens first: the reason at the top (the
traceback folded below it), a timeline that ends with the wait that failed, and under
"Server errors" only the server's errors, not an action error the app shows as a toast on
purpose (issue 17)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vt
from reference_impl import ActionError, Composition, Ctx, StateTab, action, h
from tests.vt.apps import app_for
from vt.scenario.html_report import render_html, split_reason, write_report

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]

PYTEST_FAILURE = """\
    def test_counter(vt_client):
        tab = vt_client.new_session("a").open("/")
>       tab.expect_text("#count", "2")
E       vt.WaitTimeout: a/1 did not show '2' in '#count' within 5s.
E         now: '1' in '#count'

tests/test_app.py:9: WaitTimeout"""

PYTHON_TRACEBACK = """\
scenario 'x' (x.toml) failed at step 2 (line 7): click '#go':
Traceback (most recent call last):
  File "vt/scenario/runner.py", line 160, in run_scenario
    await state.do(step)
  File "vt/client/tab.py", line 20, in click
    raise KeyError(selector)
KeyError: '#go'"""


class Toasts(Composition):
    """An action that fails on purpose (a toast for the user) and one that crashes."""

    count = StateTab[int]("count", 0)

    def view(self, ctx: Ctx) -> h.Node:
        return h.p(h.text(self.count.read(ctx)), id="count")

    @action("Refuse")
    def refuse(self, ctx: Ctx) -> None:
        raise ActionError("you cannot do that")

    @action("Crash")
    def crash(self, ctx: Ctx) -> None:
        raise RuntimeError("the server broke")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            PYTEST_FAILURE,
            "vt.WaitTimeout: a/1 did not show '2' in '#count' within 5s.\n  now: '1' in '#count'",
        ),
        (
            PYTHON_TRACEBACK,
            "scenario 'x' (x.toml) failed at step 2 (line 7): click '#go':\nKeyError: '#go'",
        ),
        ("a/1 received 'secret', which no tab should have.", None),
    ],
    ids=["pytest", "python", "plain"],
)
def test_the_reason_is_split_from_the_traceback(message: str, reason: str | None) -> None:
    found, traceback = split_reason(message)
    assert found == (reason if reason is not None else message)
    assert traceback == ("" if reason is None else message)


async def test_the_report_opens_with_the_reason_and_ends_with_the_failed_wait(
    serve: Serve, tmp_path: Path
) -> None:
    async with vt.AsyncClient(serve(app_for(Toasts)), timeout=0.3) as client:
        tab = await client.new_session("a").open("/")
        await tab.ready()
        with pytest.raises(vt.WaitTimeout):
            await tab.expect_text("#count", "2")
        last = tab.timeline.entries[-1]
        assert (last.kind, last.text) == ("failed", "did not show '2' in '#count' within 0.3s")
        page = write_report(tmp_path, {"a": tab}, title="t", message=PYTEST_FAILURE)
    html = page.read_text()
    main = html[html.index("<main>") :]
    first = re.search(r"<pre>(.*?)</pre>", main, re.S)
    assert first is not None
    assert first.group(1).startswith("vt.WaitTimeout: a/1 did not show &#x27;2&#x27;")
    assert main.index("<details><summary>Traceback") > main.index(first.group(0))
    assert "def test_counter" not in main[: main.index("<details>")]
    rows = re.findall(r"<tr id=[^>]*>(.*?)</tr>", html)
    assert "<td>failed</td>" in rows[-1]  # the timeline ends with the failed wait
    assert "did not show" in rows[-1]
    assert "(none captured)" in html


async def test_an_action_error_the_app_shows_is_not_a_server_error(serve: Serve) -> None:
    server = vt.LiveServer(app_for(Toasts)).start()
    try:
        async with vt.AsyncClient(server.url, timeout=2) as client:
            tab = await client.new_session("a").open("/")
            await tab.ready()
            await tab.action("Refuse")
            await tab.expect_script("toast", "you cannot do that")
            assert server.errors == []
            await tab.action("Crash")
            await tab.expect_script("toast", "Something went wrong")
            assert len(server.errors) == 1
            assert "the server broke" in server.errors[0]
    finally:
        server.stop()
    html = render_html({}, title="t", message="m", server_errors=server.errors)
    assert "the server broke" in html
    assert "you cannot do that" not in html
