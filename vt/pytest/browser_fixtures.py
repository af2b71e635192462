"""vt's real-browser fixtures and hooks, registered by `vt.pytest.browser_plugin` when
playwright is installed (see that module for what they offer)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..browser.chromium import LAUNCH_ARGS, find_browser
from ..browser.record import describe_errors
from ..browser.users import BrowserUsers, Chromium
from ..errors import BrowserNotFound
from .browser_plugin import ALLOW_MARKER, no_browser
from .plugin import artifacts_dir, vt_settings

__all__ = ["REPORTS", "USERS", "PytestPlaywrightLaunch"]

USERS = pytest.StashKey[BrowserUsers]()
"""The test's `vt_browser_users`, while it runs."""
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
"""The test's reports so far, by phase (`setup`, `call`)."""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest hook: run the tests that use pytest-playwright's sync fixtures after all the
    others (a stable sort).

    Playwright's sync API marks its event loop as the thread's running loop from its first
    call until its session-scoped fixtures end, and while it does no other event loop can run
    in that thread: anyio's async tests would fail. Last, they share the thread with no one.
    vt's own fixtures run Playwright in a loop of their own thread and need no such care.
    """
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """pytest hook: keep each phase's report, so the fixture's teardown knows if the test
    failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """pytest hook: after a passing test body, its browsers' console and page errors (those
    the marker does not allow) fail it."""
    result = yield
    users = item.stash.get(USERS, None)
    errors = users.errors(_allowed(item)) if users is not None else []
    if errors:
        pytest.fail(describe_errors(errors), pytrace=False)
    return result


def _allowed(item: pytest.Item) -> list[str]:
    return [str(p) for mark in item.iter_markers(ALLOW_MARKER) for p in mark.args]


@pytest.fixture(scope="session")
def vt_browser_path(pytestconfig: pytest.Config) -> Path:
    """The Chromium executable the browser tests launch."""
    try:
        return find_browser(pytestconfig.getoption("vt_browser_path"))
    except BrowserNotFound as missing:
        no_browser(str(missing))


@pytest.fixture(scope="session")
def vt_browser_launch_args(pytestconfig: pytest.Config) -> dict[str, Any]:
    """How `vt_browser` is launched (`vt.browser.Chromium`'s options): headless unless
    pytest-playwright's `--headed` is given, slowed by its `--slowmo`. Override to change."""
    slow_mo = pytestconfig.getoption("slowmo", None)
    return {
        "headless": not pytestconfig.getoption("headed", False),
        "slow_mo": float(slow_mo) if slow_mo else None,
    }


@pytest.fixture(scope="session")
def vt_browser(vt_browser_path: Path, vt_browser_launch_args: dict[str, Any]) -> Iterator[Chromium]:
    """The worker's one Chromium (`vt.browser.Chromium`), launched at its first use and
    closed when the session ends; every test makes its own contexts in it."""
    with Chromium(vt_browser_path, **vt_browser_launch_args) as chromium:
        yield chromium


@pytest.fixture
def vt_browser_context_args() -> dict[str, Any]:
    """Options of each user's browser context (Playwright's `Browser.new_context`: viewport,
    locale, ...); override to change."""
    return {}


@pytest.fixture
def vt_browser_users(
    request: pytest.FixtureRequest,
    vt_browser: Chromium,
    vt_browser_context_args: dict[str, Any],
    vt_server: Any,
) -> Iterator[BrowserUsers]:
    """Browser users on the server under test; each `new()`/`open()` is one more person
    with their own context in the worker's Chromium. Their contexts are closed after the
    test; on failure, each user's artifacts are saved first."""
    trace = request.config.getoption("vt_browser_trace") == "on-failure"
    users = BrowserUsers(
        vt_browser,
        vt_server.url,
        timeout=vt_settings(request).timeout,
        context_args=vt_browser_context_args,
        trace=trace,
    )
    request.node.stash[USERS] = users
    try:
        yield users
        reports = request.node.stash.get(REPORTS, {})
        if any(r.failed for r in reports.values()) and users.users:
            folder = artifacts_dir(request)
            saved = users.save_artifacts(folder)
            request.node.add_report_section(
                "teardown",
                "vt browser artifacts",
                "\n".join(str(p) for p in saved) or f"nothing could be saved in {folder}",
            )
    finally:
        users.close()
        del request.node.stash[USERS]


class PytestPlaywrightLaunch:
    """Registered when pytest-playwright is installed too: its own `browser` fixture (and
    `page`, `context`...) launches vt's Chromium with vt's flags."""

    @pytest.fixture(scope="session")
    def browser_type_launch_args(
        self, browser_type_launch_args: dict[str, Any], vt_browser_path: Path
    ) -> dict[str, Any]:
        """pytest-playwright's launch options, with vt's executable and Chromium flags."""
        args = [*LAUNCH_ARGS, *browser_type_launch_args.get("args", [])]
        return {**browser_type_launch_args, "executable_path": str(vt_browser_path), "args": args}
