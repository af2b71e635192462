"""The one harness: serve, run a scenario, settle, take goldens, compare, write the report.

Every surface that runs a scenario goes through here: the command line (`vt run`, `vt record`,
`vt check`, `vt conformance`), `pytest --vt`'s scenario items and the `vt_golden` fixture, and
the browser parity test. So a scenario behaves the same everywhere, and a golden is always
taken the same way: once the streams have gone quiet after the last step (`Recorder.settle`),
never at once (the patches an action causes arrive after its response).

The path is driver-agnostic: `run_and_take` runs on vt's HTTP client or on any other
`ScenarioDriver` (real browsers: `vt.browser.driver.BrowserRecorder` says how their tabs settle
and what their golden text is). `run_served` adds the server: the given URL, or an app served
on a free loopback port for the one run.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import anyio

from ..client.client import AsyncClient, cluster_nodes
from ..client.server import LiveServer
from ..client.waits import settle
from ..errors import VTError
from .cluster_verbs import NodeControl
from .clusters import ClusterPool
from .format import Scenario, Step
from .golden import GoldenResult, GoldenTab, compare_goldens, render_tabs
from .html_report import write_report
from .normalize import Rule
from .runner import ScenarioFailed, ScenarioRun, StepTime, run_scenario

__all__ = [
    "HTTP_RECORDER",
    "GoldenPlan",
    "HttpRecorder",
    "Recorder",
    "RemoteServer",
    "Take",
    "check_url",
    "clear_folder",
    "report_take",
    "report_warning",
    "run_and_take",
    "run_over_http",
    "run_served",
    "serving",
    "take_goldens",
]

RUN_LABEL = "<run>"
"""What a run's `{run}` token becomes in its goldens (each run makes a new token)."""


# -- serving ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """A server vt did not start (a URL was given); only its URL is known."""

    url: str
    errors: Sequence[str] = ()


@contextlib.contextmanager
def serving(
    url: str | None, app: Any = None, *, stopping: list[threading.Thread] | None = None
) -> Iterator[RemoteServer | LiveServer]:
    """The server under test for the `with`: `url`'s, or `app` served on a free loopback port.

    Given `stopping`, the served app is stopped by a thread added to that list (uvicorn takes
    a few hundred ms to exit: the caller's next run goes on meanwhile, and joins them all);
    otherwise it is stopped before the `with` ends."""
    if url:
        yield RemoteServer(url.rstrip("/"))
        return
    if app is None:
        raise VTError("no server to test: give a URL or an app")
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        if stopping is None:
            server.stop()
        else:
            stopping.append(threading.Thread(target=server.stop, name="vt-stop"))
            stopping[-1].start()


def check_url(url: str, timeout: float = 5.0) -> str | None:
    """None when `url` answers HTTP (any status); otherwise one line saying what was tried and
    what to do. Several URLs (a cluster's nodes, separated by spaces or commas) are each
    checked."""
    nodes = cluster_nodes(url) if url.strip() else (url,)
    if len(nodes) > 1:
        return next(filter(None, (check_url(one, timeout) for one in nodes)), None)
    url = nodes[0]
    if not re.match(r"^https?://[^/]+", url):
        return (
            f"vt: {url!r} is not an http(s) URL; give one like http://127.0.0.1:3000 "
            "(or no URL, to test the embedded reference runtime)"
        )
    # The standard library, not vt's client: one plain GET, no cookies, no streams.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return None  # it answered: a 404 at the root is the scenario's business
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return (
            f"vt: could not reach {url} ({reason}); is the server running? Start one with "
            "`vt serve chat --port 3000` (or `vt serve module:factory`), or give no URL to "
            "test the embedded reference runtime"
        )
    return None


# -- settling and goldens -----------------------------------------------------------------------


class Recorder(Protocol):
    """How a driver's tabs go quiet and what a golden reads of them. vt's HTTP client:
    `HTTP_RECORDER`; real browsers: `vt.browser.driver.BrowserRecorder`."""

    async def settle(self, tabs: Sequence[Any]) -> bool:
        """Wait until no tab receives a patch for the quiet window (bounded); True when that
        quiet was seen."""

    async def views(self, tabs: Mapping[str, Any]) -> Mapping[str, GoldenTab]:
        """Per tab name, what `render_tabs` reads of it (its events, id and session)."""


class HttpRecorder:
    """vt's HTTP client's tabs (`AsyncTab`): settled on the hub's change events, read as
    they are."""

    async def settle(self, tabs: Sequence[Any]) -> bool:
        """`vt.client.waits.settle` over the tabs."""
        return await settle(list(tabs))

    async def views(self, tabs: Mapping[str, Any]) -> Mapping[str, GoldenTab]:
        """The tabs themselves."""
        return tabs


HTTP_RECORDER = HttpRecorder()


async def take_goldens(
    tabs: Mapping[str, Any],
    title: str,
    *,
    token: str | None = None,
    rules: Sequence[Rule] = (),
    recorder: Recorder = HTTP_RECORDER,
) -> dict[str, str]:
    """Per tab name, its golden text, taken once the streams have gone quiet: the one place
    goldens are taken. A run's `token` (its `{run}` text) becomes `<run>`."""
    await recorder.settle(list(tabs.values()))
    values = {RUN_LABEL: token} if token else {}
    return render_tabs(await recorder.views(tabs), title, rules, values=values)


@dataclass(frozen=True, slots=True)
class GoldenPlan:
    """Where a run's goldens go: `folder/<tab>.txt`, (re)written with `update`, normalised by
    the named rules and `rules`; `hint` is what the user runs to accept a change."""

    folder: Path
    update: bool = False
    rules: Sequence[Rule] = ()
    hint: str = "re-run with the update flag"


# -- running ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Take:
    """One scenario run and what was made of it: the run (also when a step failed: the tabs
    up to that step), the failure, and the golden comparison (None when not asked, or when a
    step failed)."""

    scenario: Scenario
    run: ScenarioRun | None
    failure: ScenarioFailed | None = None
    golden: GoldenResult | None = None
    hint: str = ""
    errors: list[str] = field(default_factory=list)  # the server's error log, when served
    texts: dict[str, str] | None = None  # per tab, the golden text (when taken)

    @property
    def diff(self) -> str:
        """The failed golden comparison's diffs and summary, or ""."""
        if self.golden is None or self.golden.ok:
            return ""
        return str(self.golden.failure(self.hint))

    @property
    def ok(self) -> bool:
        """Every step passed and every golden matched (or was written)."""
        return self.failure is None and not self.diff

    @property
    def message(self) -> str:
        """What went wrong: the step's failure, or the golden diff ("" when `ok`)."""
        return str(self.failure) if self.failure is not None else self.diff

    @property
    def tabs(self) -> Mapping[str, Any]:
        """The run's tabs by scenario name."""
        return self.run.tabs if self.run is not None else {}

    @property
    def steps(self) -> Sequence[StepTime]:
        """Each step's times."""
        return self.run.steps if self.run is not None else []


async def run_and_take(
    driver: Any,
    scenario: Scenario,
    *,
    goldens: GoldenPlan | None = None,
    texts: bool = False,
    recorder: Recorder = HTTP_RECORDER,
    timeout: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    control: NodeControl | None = None,
) -> Take:
    """Run `scenario` on `driver` (an `AsyncClient`, or any `ScenarioDriver` with its
    `recorder`); then, if it passed and `goldens` is given (or `texts`), settle and take the
    goldens (`Take.texts`), and compare them with `goldens`. A failed step is returned in the
    `Take`, not raised. `control` is the servers vt started, for the node and fault steps."""
    try:
        run = await run_scenario(
            driver, scenario, timeout=timeout, on_step=on_step, control=control
        )
    except ScenarioFailed as failure:
        # The runner's own failure: its run is the `ScenarioRun` (errors.py types it loosely).
        return Take(scenario, cast(ScenarioRun, failure.run), failure)
    take = Take(scenario, run)
    if goldens is not None or texts:
        rules = goldens.rules if goldens is not None else ()
        take.texts = await take_goldens(
            run.tabs, scenario.name, token=run.token, rules=rules, recorder=recorder
        )
    if goldens is not None:
        take.golden = compare_goldens(goldens.folder, take.texts or {}, update=goldens.update)
        take.hint = goldens.hint
    return take


async def run_over_http(
    url: str | Sequence[str],
    scenario: Scenario,
    *,
    client_options: Mapping[str, Any] | None = None,
    goldens: GoldenPlan | None = None,
    timeout: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    control: NodeControl | None = None,
) -> Take:
    """`run_and_take` on a fresh `AsyncClient` for `url` (a server, or a cluster's node
    URLs), closed before returning."""
    async with AsyncClient(url, **dict(client_options or {})) as client:
        return await run_and_take(
            client, scenario, goldens=goldens, timeout=timeout, on_step=on_step, control=control
        )


def run_served(
    scenario: Scenario,
    *,
    url: str | None,
    make_app: Callable[[], Any] | None = None,
    clusters: ClusterPool | None = None,
    client_options: Mapping[str, Any] | None = None,
    goldens: GoldenPlan | None = None,
    timeout: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    stopping: list[threading.Thread] | None = None,
) -> Take:
    """Serve, run over HTTP on an event loop of its own, and return the take with the
    server's captured errors. For callers outside an event loop (the CLI, sync tests).

    The server: `url` (one, or a cluster's nodes separated by spaces); else, for a scenario
    that needs processes of vt's (several nodes, node or wire faults: `ClusterPool.wants`), a
    local cluster of `clusters`, left tidy for the next scenario; else the app `make_app`
    makes, served on a free loopback port (`serving`).
    """

    def run(target: str | Sequence[str], control: NodeControl | None = None) -> Take:
        return anyio.run(
            lambda: run_over_http(
                target,
                scenario,
                client_options=client_options,
                goldens=goldens,
                timeout=timeout,
                on_step=on_step,
                control=control,
            )
        )

    if not url and clusters is not None and clusters.wants(scenario):
        cluster = clusters.get(scenario)
        try:
            return run(cluster.urls, cluster)
        finally:
            clusters.tidy(cluster)
    with serving(url, None if url or make_app is None else make_app(), stopping=stopping) as server:
        take = run(server.url)
        take.errors = list(server.errors)
    return take


# -- reports ------------------------------------------------------------------------------------


def report_take(folder: Path, take: Take, *, title: str) -> Path:
    """Write the failure report of `take` into `folder`; return its `report.html`.

    Raises:
        OSError: the folder cannot be written (callers say so in one line, and the failure
            stays the scenario's own).
    """
    return write_report(
        folder,
        take.tabs,
        title=title,
        message=take.message,
        steps=take.steps,
        golden_diff=take.diff,
        server_errors=take.errors,
    )


def clear_folder(folder: Path) -> None:
    """Remove an old report folder of the same test or scenario, if it can be removed."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def report_warning(folder: Path, exc: OSError) -> str:
    """The one line said when a report cannot be written (a read-only checkout)."""
    return f"vt: could not write the failure report to {folder} ({exc.strerror or exc})"
