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
* `vt_clusters` — the local clusters vt starts for scenario items of the cluster and faults
  levels (session-scoped).
* `vt_golden` — compare tabs' normalised streams with golden files (`--vt-update-goldens`),
  keyed by test file and test name.

Options: `--vt` (add the project's scenario files, from the `vt_scenarios` folders, default
`tests/scenarios`), `--vt-scenarios PATH` (a folder or file of yours), `--vt-level LEVEL` /
`--vt-bundled` (vt's own scenarios of a level / of every level), `--vt-base-url URL` (else
pytest-base-url's `--base-url`), `--vt-timeout SECONDS` (the wait deadline of `expect_*`,
`ready`, `wait_until`), `--vt-http-timeout SECONDS` (each HTTP request and stream connect),
`--vt-output DIR` (failure reports; default `test-results`, emptied of old reports at the
start of a run), `--vt-update-goldens`. Markers: `vt` and `vt_<level>` (`-m vt_chat`).
Scenario files are collected as test files (`vt.pytest.collect`).

The module imports nothing heavy at load time: pytest imports every plugin for every run.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..defaults import HTTP_TIMEOUT, WAIT_TIMEOUT
from .settings import (
    BASE_URL_ENV,
    CONFIG,
    DEFAULT_SCENARIOS,
    IGNORED_APP_MESSAGE,
    LEVELS,
    NO_APP_MESSAGE,
    REPORT_FILES,
    VTConfig,
    resolve,
    vt_settings,
    within,
)

if TYPE_CHECKING:
    from vt import AsyncClient, Client
    from vt.pytest.goldens import GoldenLedger, VTGolden
    from vt.scenario.clusters import ClusterPool

__all__ = ["GoldenSummary", "VTConfig", "artifacts_dir", "vt_settings"]

_CALL_FAILED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest hook: vt's command-line options and ini keys."""
    group = parser.getgroup("vt", "vt: server-driven UI testing")
    group.addoption(
        "--vt",
        action="store_true",
        dest="vt_scenarios_on",
        help=f"add the project's scenario files (*.toml under the vt_scenarios folders, default "
        f"{DEFAULT_SCENARIOS}) as tests, run against vt_app",
    )
    group.addoption(
        "--vt-scenarios",
        action="append",
        default=[],
        metavar="PATH",
        help="add the scenario files under PATH (a folder, or one .toml file) as tests "
        "(repeatable)",
    )
    group.addoption(
        "--vt-level",
        action="append",
        default=[],
        dest="vt_levels",
        metavar="LEVEL",
        help="add vt's own bundled scenarios of LEVEL (chat, core, scopes, ...), run against "
        "vt_app or else each scenario's reference app (repeatable)",
    )
    group.addoption(
        "--vt-bundled",
        action="store_true",
        dest="vt_bundled",
        help="add vt's own bundled scenarios of every level written for a reference app",
    )
    group.addoption(
        "--vt-base-url",
        dest="vt_base_url",
        action="append",
        default=None,
        help="test the server at this URL instead of serving vt_app; repeat it (or separate "
        "URLs with commas) for a cluster's nodes: sessions are spread across them, each "
        f"tab pinned to its node (env {BASE_URL_ENV}; else pytest-base-url's --base-url)",
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
    parser.addini(
        "vt_scenarios",
        f"the project's scenario folders, added by --vt (default {DEFAULT_SCENARIOS})",
        type="paths",
        default=[],
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-asyncio's configure, which warns
def pytest_configure(config: pytest.Config) -> None:
    """pytest hook: resolve the settings once, into the config stash; register markers; share
    the base URL with pytest-base-url."""
    settings = resolve(config)
    config.stash[CONFIG] = settings
    if settings.base_url and getattr(config.option, "base_url", "absent") is None:
        config.option.base_url = settings.first_url  # pytest-base-url's `base_url`
    for path in settings.scenario_paths:
        _collect_too(config, path)
    if settings.scenarios:
        for path in settings.project_folders:
            _collect_too(config, path)
    config.pluginmanager.register(GoldenSummary(config), "vt-golden-summary")
    config.addinivalue_line("markers", "vt: a vt scenario (added by --vt / --vt-scenarios)")
    for level in LEVELS:
        config.addinivalue_line("markers", f"vt_{level}: vt scenarios of level {level}")
    # pytest-asyncio warns on every run while `asyncio_default_fixture_loop_scope` is unset.
    # vt's async fixtures are function-scoped, so nothing of vt's depends on it: say nothing
    # on vt's behalf (a project that sets the option gets its value and no warning anyway).
    warnings.filterwarnings(
        "ignore",
        message='The configuration option "asyncio_default_fixture_loop_scope" is unset',
        category=pytest.PytestDeprecationWarning,
    )


def _collect_too(config: pytest.Config, path: Path) -> None:
    """Add a scenario path to what pytest collects, unless an argument already covers it."""
    if not path.exists():
        return
    covered = [Path(str(arg).split("::")[0]).absolute() for arg in config.args]
    if not any(within(path, arg) for arg in covered):
        config.args.append(str(path))


def pytest_report_header(config: pytest.Config) -> list[str]:
    """pytest hook: say, at session start, that tests share the `--vt-base-url` server (and
    that `vt_app` is not served), and where `--vt` looked for scenario files."""
    settings = config.stash[CONFIG]
    lines = []
    if settings.base_url:
        lines.append(IGNORED_APP_MESSAGE.format(url=settings.base_url))
    if settings.scenarios:
        folders = ", ".join(str(p) for p in settings.project_folders)
        lines.append(f"vt: --vt adds the scenario files under {folders} (ini: vt_scenarios)")
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest hook: an unreachable server is one line, once (not a failure per test); old
    report folders go (the controller does it, before xdist's workers start)."""
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    settings = config.stash[CONFIG]
    if settings.base_url and settings.check_url:
        from vt.scenario.harness import check_url

        problem = check_url(settings.base_url)
        if problem is not None:
            raise pytest.UsageError(problem)
    _clear_output(settings.output)


def _clear_output(output: Path) -> None:
    """Remove old report folders from vt's report folder (pytest-playwright empties its own
    output folder the same way): only folders that hold what vt writes there, so a folder of
    the user's that happens to sit there stays."""
    if not output.is_dir():
        return
    for child in output.iterdir():
        if child.is_dir() and any(any(child.glob(pattern)) for pattern in REPORT_FILES):
            shutil.rmtree(child, ignore_errors=True)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """pytest hook: a scenario file of this run is a `ScenarioFile` (`vt.pytest.collect`)."""
    if file_path.suffix != ".toml":
        return None
    if not parent.config.stash[CONFIG].wants(file_path, parent.session):
        return None
    from vt.pytest.collect import ScenarioFile

    return ScenarioFile.from_parent(parent, path=file_path)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """pytest hook: vt's bundled levels (`--vt-level`, `--vt-bundled`) as one collector `vt`
    beside the session's own results."""
    report = yield
    settings = collector.config.stash[CONFIG]
    if isinstance(collector, pytest.Session) and (settings.levels or settings.bundled):
        from vt.pytest.collect import BundledScenarios

        bundled = BundledScenarios.from_parent(collector, name="vt", nodeid="vt")
        bundled.levels = () if settings.bundled else settings.levels
        report.result.append(bundled)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """pytest hook: remember a failed call, so fixtures write a report at teardown."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = str(report.longreprtext)
    return report


class GoldenSummary:
    """A plugin object gathering `vt_golden`'s and scenario items' golden outcomes from test
    reports (so from xdist workers too), for the end-of-run summary: compared, written,
    unused (removed with `--vt-update-goldens`), what to run next. It imports vt only when
    the run took goldens or has golden folders (`vt.pytest.goldens.GoldenLedger`)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[str] = []  # JSON, one per comparison
        self.outcomes: list[tuple[str, bool]] = []  # node id, passed
        option = config.option
        self.partial = bool(
            option.keyword
            or option.markexpr
            or getattr(option, "lf", False)
            or getattr(option, "stepwise", False)
            or any("::" in str(arg) for arg in config.args)
        )
        self.ledger: GoldenLedger | None = None

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """pytest hook: a run that deselected tests does not judge which goldens are unused."""
        self.partial = self.partial or bool(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """pytest hook: keep each test's golden results and outcome."""
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes.append((report.nodeid, report.passed))
            self.results.extend(str(v) for k, v in report.user_properties if k == "vt_golden")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """pytest hook: find the unused goldens (and remove them under the update flag), on
        the controller only."""
        if hasattr(self.config, "workerinput"):
            return
        root = self.config.rootpath
        folders = {(root / nodeid.split("::")[0]).parent for nodeid, _ in self.outcomes}
        if not self.results and not any((f / "goldens").is_dir() for f in folders):
            return
        from vt.pytest.goldens import GoldenLedger, result_from_json

        ledger = GoldenLedger(root, self.config.stash[CONFIG].update_goldens)
        ledger.partial = self.partial
        ledger.results = [result_from_json(text) for text in self.results]
        for nodeid, passed in self.outcomes:
            ledger.test_ran(nodeid, passed)
        ledger.find_unused()
        if ledger.update:
            ledger.remove_unused()
        self.ledger = ledger

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """pytest hook: the summary lines."""
        if self.ledger is not None:
            for line in self.ledger.summary():
                terminalreporter.write_line(line)


def _settings(request: pytest.FixtureRequest) -> VTConfig:
    return request.config.stash[CONFIG]


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


@pytest.fixture(scope="session")
def vt_clusters() -> Iterator[ClusterPool]:
    """The local clusters (nats-server, nodes, Toxiproxy) of the scenario items that need
    several nodes or faults (`--vt-level cluster`), started on first use and reused by the
    worker's later items; all stopped when the session ends."""
    from vt.scenario.clusters import ClusterPool

    pool = ClusterPool()
    try:
        yield pool
    finally:
        pool.close()


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
    from vt.scenario.harness import clear_folder

    clear_folder(_folder(request))  # an old report of this test goes; this run's will replace it
    with Client(vt_server.url, **vt_client_options) as client:
        yield client
        _report_if_failed(request, vt_server, {tab.label: tab for tab in client.tabs})


def _report_if_failed(request: pytest.FixtureRequest, server: Any, tabs: Mapping[str, Any]) -> None:
    failed = request.node.stash.get(_CALL_FAILED, None)
    if failed is not None:
        from vt.pytest.support import report_failed_test

        report_failed_test(request, tabs, failed, list(getattr(server, "errors", ())))


@pytest.fixture
async def vt_async_client(
    request: pytest.FixtureRequest, vt_server: Any, vt_client_options: dict[str, Any]
) -> AsyncIterator[AsyncClient]:
    """An async `vt.AsyncClient` for the server under test. Works under anyio's plugin and
    under pytest-asyncio (also `asyncio_mode = auto`); a failed test leaves a report with
    every tab's transcript, timeline and page under `--vt-output`."""
    from vt import AsyncClient
    from vt.pytest.support import hosted
    from vt.scenario.harness import clear_folder

    clear_folder(_folder(request))  # an old report of this test goes; this run's will replace it
    async with hosted(AsyncClient(vt_server.url, **vt_client_options)) as client:
        yield client
        _report_if_failed(request, vt_server, {tab.label: tab for tab in client.tabs})


@pytest.fixture
def vt_golden(request: pytest.FixtureRequest) -> VTGolden:
    """Compare tabs' normalised streams with golden files under
    `<test dir>/goldens/<test file stem>/<test>/` (see `VTGolden.check`, and `acheck` in an
    async test); `--vt-update-goldens` writes them."""
    from vt.pytest.goldens import VTGolden, golden_folder

    node = request.node
    folder = golden_folder(Path(node.path), node.nodeid)
    return VTGolden(folder, _settings(request).update_goldens, node.user_properties)


def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """The folder of a failing test's report: `<--vt-output>/<test id>` (made on write)."""
    return _folder(request)
