"""vt's browser plugin, black-box: inner pytest runs in a subprocess with a real Chromium.

A page that logs a console error or throws fails its test unless a marker allows the message;
a failing test leaves each user's screenshot, trace, console log and SSE frames behind; with no
browser, tests are skipped saying how to get one, or fail under VT_BROWSER_REQUIRED=1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BROKEN_PAGE = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    # A deliberately broken page: it logs an error as it loads.
    return chat.create_app(head="<script>console.error('boom from the page')</script>")
"""

TESTS = """
import pytest

def test_console_error_fails(vt_browser_users):
    vt_browser_users.open("/")

@pytest.mark.vt_browser_allow(r"^boom from the page$")
def test_allowed_console_error_passes(vt_browser_users):
    vt_browser_users.open("/")

@pytest.mark.vt_browser_allow(r"^boom from the page$")
def test_uncaught_page_error_fails(vt_browser_users):
    user = vt_browser_users.open("/")
    user.page.evaluate("setTimeout(() => { throw new Error('thrown in the page') }, 0)")
    user.expect_text("h1", "Via Chat")

@pytest.mark.vt_browser_allow(r"^boom from the page$")
def test_failure_leaves_artifacts(vt_browser_users):
    a, b = vt_browser_users.open_many(2)
    a.type("input[data-bind=draft]", "recorded hello")
    a.press("input[data-bind=draft]", "Enter")
    b.expect_text("article", "recorded hello")
    b.expect_text("article", "never sent", timeout=0.2)

# Last in the file, run first: after Playwright's sync API starts, no other event loop can run
# in this thread, so the plugin runs the browser tests after the others.
@pytest.mark.anyio
async def test_an_async_test_in_the_same_session(vt_async_client):
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
"""


def test_console_and_page_errors_fail_and_failures_leave_artifacts(
    pytester: pytest.Pytester, vt_browser_path: Path
) -> None:
    pytester.makeconftest(BROKEN_PAGE)
    pytester.makepyfile(test_inner=TESTS)
    output = pytester.path / "test-results"  # vt's default --vt-output, and playwright's
    # A file of the user's in vt's report folder: pytest-playwright empties its own output
    # folder at session start, which must not be vt's (vt itself removes only old reports).
    earlier = output / "notes" / "kept.txt"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("kept")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--vt-browser-path={vt_browser_path}"
    )

    result.assert_outcomes(passed=2, failed=3)
    assert earlier.read_text() == "kept", "pytest-playwright emptied vt's report folder"
    result.stdout.fnmatch_lines(
        [
            "*test_console_error_fails*",
            "*1 console or page error(s) in the browser*",
            "*[[]A[]] console error: boom from the page*",
            "*test_uncaught_page_error_fails*",
            "*1 console or page error(s) in the browser*",
            "*[[]A[]] pageerror error: thrown in the page*",
            "*FAILED test_inner.py::test_console_error_fails*",
            "*FAILED test_inner.py::test_uncaught_page_error_fails*",
            "*FAILED test_inner.py::test_failure_leaves_artifacts*",
        ]
    )
    folder = next(output.glob("test_inner.py-test_failure_leaves_artifacts*"))
    for user in ("A", "B"):
        assert (folder / f"screenshot-{user}.png").read_bytes().startswith(b"\x89PNG")
        assert (folder / f"trace-{user}.zip").read_bytes().startswith(b"PK")
        assert "boom from the page" in (folder / f"console-{user}.txt").read_text()
        record = json.loads((folder / f"sse-{user}.json").read_text())
        streams = [r for r in record["requests"] if r["stream"]]
        assert streams, f"{user}: no event stream recorded: {record['requests']}"
        events = [e for s in streams for e in s["events"] if "event" in e]
        assert any(
            e["event"] == "datastar-patch-elements" and "recorded hello" in e["data"]
            for e in events
        ), events
    # A passing test leaves nothing behind.
    assert not list(output.glob("test_inner.py-test_allowed_console_error_passes*"))


NEEDS_A_BROWSER = """
def test_needs_a_browser(vt_browser_users):
    vt_browser_users.open("/")
"""


@pytest.mark.parametrize(
    ("required", "outcome"), [("", {"skipped": 1}), ("1", {"errors": 1})], ids=["skip", "fail"]
)
def test_no_browser_skips_with_the_fix_or_fails_when_required(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    required: str,
    outcome: dict[str, int],
) -> None:
    monkeypatch.setenv("VT_BROWSER_PATH", str(pytester.path / "no-such-chromium"))
    monkeypatch.setenv("VT_BROWSER_REQUIRED", required)
    pytester.makeconftest(BROKEN_PAGE)
    pytester.makepyfile(test_inner=NEEDS_A_BROWSER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")

    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*VT_BROWSER_PATH names *no-such-chromium*not an executable*"])
    if required:
        result.stdout.fnmatch_lines(["*VT_BROWSER_REQUIRED is set, and*"])


def test_without_playwright_browser_tests_skip_and_the_rest_of_vt_works(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VT_BROWSER_REQUIRED", raising=False)  # CI sets it; this is the user's run
    # A project whose Python has no playwright: the import system finds none (None in
    # sys.modules), from the conftest on, which pytest loads before the plugins configure.
    pytester.makeconftest('import sys\nsys.modules["playwright"] = None\n' + BROKEN_PAGE)
    pytester.makepyfile(
        test_inner=NEEDS_A_BROWSER
        + """
def test_vt_without_a_browser(vt_client):
    tab = vt_client.new_session().open("/")
    tab.ready()
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:playwright", "-rs")

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*playwright is not installed*vt[[]browser[]]*"])
