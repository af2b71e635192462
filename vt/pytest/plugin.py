"""vt's pytest plugin (loaded through the `pytest11` entry point).

Fixtures:

* `vt_app` — override it to return your ASGI app; vt serves it on a free loopback port, a
  fresh server per test.
* `vt_server` — the server under test: `vt_app` served by uvicorn for the test (torn down
  after it), or the URL given by `--vt-base-url` / `VT_BASE_URL`. Has `.url` and `.errors`.
  Override it to point tests at servers your project starts itself (any object with `.url`).
* `vt_client_options` — the options of every client (`vt.ClientOptions`: `timeout`,
  `strict`, `accept_encoding`, ...); override it as pytest-playwright's `browser_context_args`.
* `vt_client` — a `vt.Client` (sync) for that server; closes its sessions after the test.
* `vt_async_client` — a `vt.AsyncClient` for async tests (anyio's plugin, or pytest-asyncio).
* `vt_golden` — compare tabs' normalised streams with golden files (`--vt-update-goldens`).

Options: `--vt` (add the bundled scenarios as tests), `--vt-scenarios DIR` (add your own),
`--vt-base-url URL`, `--vt-timeout SECONDS` (the wait deadline of `expect_*`, `ready`,
`wait_until`), `--vt-http-timeout SECONDS` (each HTTP request and stream connect),
`--vt-output DIR` (failure reports; default `test-results`), `--vt-update-goldens`.
Markers: `vt` and `vt_<level>` (`-m vt_chat`).

The module imports nothing heavy at load time: pytest imports every plugin for every run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..defaults import HTTP_TIMEOUT, WAIT_TIMEOUT

if TYPE_CHECKING:
    from vt import AsyncClient, Client
    from vt.pytest.support import VTGolden

__all__ = ["GoldenSummary", "ScenarioCollector", "VTConfig", "artifacts_dir", "vt_settings"]

BASE_URL_ENV = "VT_BASE_URL"
NO_APP_MESSAGE = (
    "vt has no server to test: override the `vt_app` fixture to return your ASGI app "
    "(vt serves it on 127.0.0.1), or pass --vt-base-url URL (or set VT_BASE_URL)."
)
IGNORED_APP_MESSAGE = (
    "vt: --vt-base-url is set, so every test talks to {url} and shares its state; a `vt_app` "
    "fixture is ignored. For a fresh app per test, drop --vt-base-url (vt serves vt_app per test)."
)
# Levels known before any scenario is read, so `-m vt_core` passes --strict-markers anyway.
LEVELS = ("core", "chat", "sdk", "browser", "slow")


@dataclass(frozen=True, slots=True)
class VTConfig:
    """The plugin's settings for this run (from the command line, ini file and environment)."""

    base_url: str | None
    timeout: float
    output: Path
    scenarios: bool
    scenario_dirs: tuple[Path, ...]
    update_goldens: bool
    http_timeout: float = HTTP_TIMEOUT
    profile: str = "auto"


_CONFIG = pytest.StashKey[VTConfig]()
_CALL_FAILED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest hook: vt's command-line options and ini keys."""
    group = parser.getgroup("vt", "vt: server-driven UI testing")
    group.addoption(
        "--vt", action="store_true", dest="vt_scenarios_on", help="add vt's bundled scenarios"
    )
    group.addoption(
        "--vt-scenarios",
        action="append",
        default=[],
        metavar="DIR",
        help="add the scenario files (*.toml) under DIR as tests (repeatable)",
    )
    group.addoption(
        "--vt-base-url",
        dest="vt_base_url",
        action="append",
        default=None,
        help="test the server at this URL instead of serving vt_app; repeat it (or separate "
        "URLs with commas) for a cluster's nodes: sessions are spread across them, each "
        f"tab pinned to its node (env {BASE_URL_ENV})",
    )
    group.addoption(
        "--vt-timeout",
        dest="vt_timeout",
        type=float,
        default=None,
        help="the wait deadline: how long vt's waits (expect_*, ready, wait_until) give "
        f"their condition, in seconds (default {WAIT_TIMEOUT:g})",
    )
    group.addoption(
        "--vt-http-timeout",
        dest="vt_http_timeout",
        type=float,
        default=None,
        help="how long one HTTP request (page, action, stream connect) may take, in seconds "
        f"(default {HTTP_TIMEOUT:g})",
    )
    group.addoption(
        "--vt-output",
        dest="vt_output",
        default=None,
        help="directory for failure reports and transcripts (default test-results)",
    )
    group.addoption(
        "--vt-update-goldens",
        action="store_true",
        help="write missing golden files and rewrite differing ones (vt_golden)",
    )
    parser.addini("vt_base_url", "default for --vt-base-url", default=None)
    parser.addini("vt_timeout", "default for --vt-timeout", default=str(WAIT_TIMEOUT))
    group.addoption(
        "--vt-profile",
        dest="vt_profile",
        choices=("auto", "via", "datastar"),
        default=None,
        help="how vt reads pages: auto (Via's when the page carries via_tab, plain Datastar "
        "otherwise), via or datastar (default: auto)",
    )
    parser.addini("vt_profile", "default for --vt-profile", default="auto")
    parser.addini("vt_http_timeout", "default for --vt-http-timeout", default=str(HTTP_TIMEOUT))
    parser.addini("vt_output", "default for --vt-output", default="test-results")


def pytest_configure(config: pytest.Config) -> None:
    """pytest hook: resolve the settings once, into the config stash; register markers."""
    given = config.getoption("vt_base_url")
    base_url = (
        (" ".join(given) if given else None)
        or config.getini("vt_base_url")
        or os.environ.get(BASE_URL_ENV)
        or None
    )
    timeout = config.getoption("vt_timeout") or float(config.getini("vt_timeout"))
    output = Path(config.getoption("vt_output") or config.getini("vt_output"))
    if not output.is_absolute():
        output = config.rootpath / output
    dirs = tuple(Path(d).absolute() for d in config.getoption("vt_scenarios"))
    config.stash[_CONFIG] = VTConfig(
        base_url,
        timeout,
        output,
        bool(config.getoption("vt_scenarios_on")),
        dirs,
        bool(config.getoption("vt_update_goldens")),
        config.getoption("vt_http_timeout") or float(config.getini("vt_http_timeout")),
        config.getoption("vt_profile") or config.getini("vt_profile"),
    )
    config.pluginmanager.register(GoldenSummary(), "vt-golden-summary")
    config.addinivalue_line("markers", "vt: a vt scenario (added by --vt / --vt-scenarios)")
    for level in LEVELS:
        config.addinivalue_line("markers", f"vt_{level}: vt scenarios of level {level}")


def pytest_report_header(config: pytest.Config) -> str | None:
    """pytest hook: say, at session start, that tests share the `--vt-base-url` server (and
    that `vt_app` is not served)."""
    settings = config.stash[_CONFIG]
    if settings.base_url:
        return IGNORED_APP_MESSAGE.format(url=settings.base_url)
    return None


class ScenarioCollector(pytest.Collector):
    """The parent of the scenario items (`vt`); they are made at collection's end, not by
    collecting this node."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """Nothing: the items are added by `pytest_collection_modifyitems`."""
        return []


@pytest.hookimpl(tryfirst=True)  # before `-m` / `-k` deselect: scenario items are selectable
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """pytest hook: add one item per scenario (`--vt`, `--vt-scenarios`)."""
    settings = config.stash[_CONFIG]
    if not settings.scenarios and not settings.scenario_dirs:
        return
    from vt.pytest.support import make_browser_scenario_test, make_scenario_test
    from vt.scenario.format import ScenarioError, bundled_scenarios, load_scenarios

    try:
        # `--vt` adds the scenarios written for the reference apps (and any Via app); those
        # that name no app (the plain-Datastar chat level) come with `--vt-scenarios DIR`.
        # The cluster and faults levels need processes vt starts (a local cluster, Toxiproxy):
        # `vt conformance --level cluster` runs them (specs/cluster.md §C9).
        bundled = [s for s in bundled_scenarios() if s.app is not None and s.embedded]
        scenarios = bundled if settings.scenarios else []
        for folder in settings.scenario_dirs:
            scenarios.extend(load_scenarios(folder))
    except ScenarioError as exc:
        raise pytest.UsageError(str(exc)) from None
    # One parent for every scenario item, so node ids read `vt::<level>::<name>`.
    parent = ScenarioCollector.from_parent(session, name="vt", nodeid="vt")
    added: list[pytest.Item] = []
    # Each scenario over HTTP, and with `--vt-browser` (browser_plugin) in browsers too.
    makers = [("", make_scenario_test)]
    if config.getoption("vt_browser_scenarios", False):
        makers.append(("[browser]", make_browser_scenario_test))
    for scenario in scenarios:
        marker = f"vt_{scenario.level}"
        if scenario.level not in LEVELS:
            config.addinivalue_line("markers", f"{marker}: vt scenarios of level {scenario.level}")
        for suffix, make in makers:
            item = pytest.Function.from_parent(
                parent,
                name=f"{scenario.level}::{scenario.name}{suffix}",
                callobj=make(scenario, settings),
            )
            item.add_marker(pytest.mark.vt)
            item.add_marker(getattr(pytest.mark, marker))
            added.append(item)
    # Reported as collected, so pytest's "collected N items" counts them.
    config.hook.pytest_collectreport(
        report=pytest.CollectReport(parent.nodeid, "passed", None, list(added))
    )
    items.extend(added)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """pytest hook: remember a failed call, so fixtures write a report at teardown."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = str(report.longreprtext)
    return report


class GoldenSummary:
    """A plugin object gathering `vt_golden`'s outcomes from test reports (so from xdist
    workers too), for the end-of-run summary: compared, written, unused, what to run next."""

    def __init__(self) -> None:
        self.results: list[str] = []  # JSON, one per comparison

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """pytest hook: keep the `vt_golden` properties of each test's call."""
        if report.when == "call":
            self.results.extend(str(v) for k, v in report.user_properties if k == "vt_golden")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """pytest hook: the summary lines."""
        if not self.results:
            return
        from vt.pytest.support import GoldenSession, result_from_json

        session = GoldenSession([result_from_json(text) for text in self.results])
        for line in session.summary():
            terminalreporter.write_line(line)


def _settings(request: pytest.FixtureRequest) -> VTConfig:
    return request.config.stash[_CONFIG]


def _folder(request: pytest.FixtureRequest) -> Path:
    from vt.pytest.support import node_folder

    return node_folder(_settings(request).output, request.node.nodeid)


@pytest.fixture
def vt_app() -> Any:
    """The ASGI app under test: None until you override this fixture (in a conftest) to
    return yours. It may be parametrized indirectly to run a test against several apps."""
    return None


@pytest.fixture
def vt_server(request: pytest.FixtureRequest, vt_app: Any) -> Iterator[Any]:
    """The server under test, with a `.url`: `vt_app` on a free loopback port, or the
    `--vt-base-url` server. A served app lives for one test, so state never leaks between
    tests; its error log goes to the report (and JUnit's properties) if the test fails.

    Override this fixture to test a server your project starts itself: yield any object with
    a `.url` (and optionally `.errors`, a list of log lines)."""
    from vt.pytest.support import serve_target

    settings = _settings(request)
    if not settings.base_url and vt_app is None:
        pytest.fail(NO_APP_MESSAGE, pytrace=False)
    with serve_target(settings.base_url, vt_app) as server:
        yield server
    if server.errors:
        text = "\n".join(server.errors[-50:])
        request.node.add_report_section("teardown", "vt server errors", text)
        request.node.user_properties.append(("vt_server_errors", text))


@pytest.fixture
def vt_client_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword options of every vt client of a test (`vt.ClientOptions`). Override it to
    change them, e.g. ``return {**vt_client_options, "strict": False}``; the default has
    `--vt-timeout`, `--vt-profile` and an `artifacts_dir` under `--vt-output`."""
    settings = _settings(request)
    return {
        "timeout": settings.timeout,
        "http_timeout": settings.http_timeout,
        "profile": settings.profile,
        "artifacts_dir": _folder(request) / "waits",
    }


@pytest.fixture
def vt_client(
    request: pytest.FixtureRequest, vt_server: Any, vt_client_options: dict[str, Any]
) -> Iterator[Client]:
    """A sync `vt.Client` for the server under test; a failed test leaves a report (see
    `vt_async_client`)."""
    from vt import Client
    from vt.scenario.batch import clear_folder

    clear_folder(_folder(request))  # an old report of this test goes; this run's will replace it
    with Client(vt_server.url, **vt_client_options) as client:
        yield client
        _report_if_failed(request, vt_server, {tab.label: tab for tab in client.tabs})


def _report_if_failed(request: pytest.FixtureRequest, server: Any, tabs: Mapping[str, Any]) -> None:
    failed = request.node.stash.get(_CALL_FAILED, None)
    if failed is not None:
        from vt.pytest.support import failure_report

        errors = list(getattr(server, "errors", ()))
        failure_report(request, _folder(request), tabs, message=failed, errors=errors)


@pytest.fixture
async def vt_async_client(
    request: pytest.FixtureRequest, vt_server: Any, vt_client_options: dict[str, Any]
) -> AsyncIterator[AsyncClient]:
    """An async `vt.AsyncClient` for the server under test. Works under anyio's plugin and
    under pytest-asyncio (also `asyncio_mode = auto`); a failed test leaves a report with
    every tab's transcript, timeline and page under `--vt-output`."""
    from vt import AsyncClient
    from vt.pytest.support import hosted
    from vt.scenario.batch import clear_folder

    clear_folder(_folder(request))  # an old report of this test goes; this run's will replace it
    async with hosted(AsyncClient(vt_server.url, **vt_client_options)) as client:
        yield client
        _report_if_failed(request, vt_server, {tab.label: tab for tab in client.tabs})


@pytest.fixture
def vt_golden(request: pytest.FixtureRequest) -> VTGolden:
    """Compare tabs' normalised streams with golden files under `<test dir>/goldens/<test>/`
    (see `VTGolden.check`); `--vt-update-goldens` writes them."""
    from vt.client.report import slug
    from vt.pytest.support import VTGolden

    name = slug(request.node.name).strip("-")
    folder = Path(request.node.path).parent / "goldens" / name
    return VTGolden(folder, _settings(request).update_goldens, request.node.user_properties)


def vt_settings(request: pytest.FixtureRequest) -> VTConfig:
    """This run's vt settings, for plugins built on this one (`vt.pytest.browser_plugin`)."""
    return _settings(request)


def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """The folder of a failing test's report: `<--vt-output>/<test id>` (made on write)."""
    return _folder(request)
