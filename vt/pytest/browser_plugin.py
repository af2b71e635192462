"""vt's real-browser fixtures for pytest, on top of pytest-playwright (`pytest11` entry point
`vt_browser`).

Fixtures (when `playwright` is installed: `pip install 'vt[browser]'`):

* `vt_browser_users` — a `vt.browser.BrowserUsers` factory on the server under test
  (`vt_server`): `a = vt_browser_users.open("/")` is a new user in its own browser context
  (its own session) with the page loaded and its stream open; `vt_browser_context_args`
  (default `{}`) are the contexts' options.
* `vt_browser` — the worker's one Chromium (`vt.browser.Chromium`, session-scoped): every
  test makes its own contexts in it, closed after the test; `vt_browser_launch_args` says how
  it is launched (pytest-playwright's `--headed` and `--slowmo` apply when it is installed).
* `vt_browser_path` — the Chromium that is launched (`--vt-browser-path`, `VT_BROWSER_PATH`,
  then `chromium` on PATH; never downloaded).
* With pytest-playwright installed too, its `browser_type_launch_args` gets that executable
  and the flags Chromium needs as root on a closed network (`vt.browser.LAUNCH_ARGS`), so its
  own `page` fixture runs the same browser.

No browser: the tests that need one are skipped with the reason and the fix; with
`VT_BROWSER_REQUIRED=1` (CI) they fail instead.

Console errors and uncaught page errors in any user's page fail the test;
`@pytest.mark.vt_browser_allow("regex", ...)` allows the messages a test expects. When a test
fails, each user's screenshot, Playwright trace (`--vt-browser-trace`, default on failure),
console log and recorded SSE frames are written to the test's folder under `--vt-output`.

This module imports neither playwright nor vt.browser at load time: pytest loads it in every
run, with or without a browser.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, NoReturn

import pytest

from ..browser.chromium import browser_required

__all__ = ["ALLOW_MARKER", "MissingPlaywright", "no_browser"]

ALLOW_MARKER = "vt_browser_allow"
PLAYWRIGHT_DEFAULT_OUTPUT = "test-results"  # pytest-playwright's --output default
PLAYWRIGHT_HINT = (
    "playwright is not installed: pip install 'vt[browser]' "
    "(scripts/setup installs it with the dev tools)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest hook: the browser options, in vt's group."""
    group = parser.getgroup("vt", "vt: server-driven UI testing")
    group.addoption(
        "--vt-browser-path",
        dest="vt_browser_path",
        default=None,
        help="the Chromium executable for browser tests (env VT_BROWSER_PATH; default: "
        "chromium on PATH)",
    )
    group.addoption(
        "--vt-browser",
        action="store_true",
        dest="vt_browser_scenarios",
        help="also run each scenario item (--vt, --vt-scenarios) in Chromium users; a "
        "scenario using a verb a person cannot do (request, drop...) is skipped, naming it",
    )
    group.addoption(
        "--vt-browser-trace",
        dest="vt_browser_trace",
        choices=["on-failure", "off"],
        default="on-failure",
        help="record a Playwright trace per browser user, kept when the test fails",
    )


def pytest_configure(config: pytest.Config) -> None:
    """pytest hook: the marker, and the fixtures that fit what is installed.

    The fixtures are registered here, after every entry-point plugin, so that vt's
    `browser_type_launch_args` overrides pytest-playwright's (the later registration wins).
    """
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}(*regexes): browser console or page errors matching one of these "
        "regexes do not fail the test",
    )
    if importlib.util.find_spec("playwright") is None:
        config.pluginmanager.register(MissingPlaywright(), "vt-browser-fixtures")
        return
    config.pluginmanager.import_plugin("vt.pytest.browser_fixtures")
    if config.pluginmanager.has_plugin("playwright"):  # pytest-playwright
        # pytest-playwright empties its --output folder at the start of every session (and
        # of every xdist worker); its default is vt's report folder, so left alone it would
        # delete vt's failure reports. Unless the user chose a folder, it gets a subfolder.
        if getattr(config.option, "output", None) == PLAYWRIGHT_DEFAULT_OUTPUT:
            vt_output = config.getoption("vt_output", None) or config.getini("vt_output")
            config.option.output = str(Path(config.rootpath, vt_output, "playwright"))
        # Not imported by name: that module imports this one.
        fixtures: Any = config.pluginmanager.get_plugin("vt.pytest.browser_fixtures")
        launch = fixtures.PytestPlaywrightLaunch()
        config.pluginmanager.register(launch, "vt-pytest-playwright-launch")


def no_browser(reason: str) -> NoReturn:
    """Skip the test for `reason` (which says the fix), or fail it under VT_BROWSER_REQUIRED=1."""
    if browser_required():
        pytest.fail(f"VT_BROWSER_REQUIRED is set, and {reason}", pytrace=False)
    pytest.skip(reason)


class MissingPlaywright:
    """Stand-ins when playwright is missing: a test asking for a browser is skipped (or
    fails under VT_BROWSER_REQUIRED=1) saying how to install it."""

    @pytest.fixture
    def vt_browser_path(self) -> Path:
        """Unavailable without playwright."""
        no_browser(PLAYWRIGHT_HINT)

    @pytest.fixture
    def vt_browser(self) -> Any:
        """Unavailable without playwright."""
        no_browser(PLAYWRIGHT_HINT)

    @pytest.fixture
    def vt_browser_users(self) -> Any:
        """Unavailable without playwright."""
        no_browser(PLAYWRIGHT_HINT)
