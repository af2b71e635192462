"""The pytest plugin's machinery, kept apart so the plugin module stays a list of hooks and
fixtures: scenario items (`pytest --vt`), the `vt_golden` fixture's object, failure reports.

Imported lazily by `vt.pytest.plugin` (pytest imports every plugin for every run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from ..client.client import AsyncClient
from ..client.report import slug
from ..client.server import LiveServer
from ..client.tab import AsyncTab
from ..scenario.batch import clear_folder
from ..scenario.format import Scenario
from ..scenario.golden import GoldenResult, compare_goldens, render_tabs
from ..scenario.html_report import ReportTab, write_report
from ..scenario.normalize import Rule
from ..scenario.runner import (
    ScenarioFailed,
    ScenarioRun,
    browser_refusal,
    run_scenario,
    scenario_app,
)

__all__ = [
    "GOLDEN_PROPERTY",
    "GoldenSession",
    "VTGolden",
    "failure_report",
    "hosted",
    "make_browser_scenario_test",
    "make_scenario_test",
    "node_folder",
    "result_from_json",
    "result_to_json",
    "serve_target",
]

UPDATE_HINT = "re-run with --vt-update-goldens, review the changed files, commit them"


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """A server vt did not start (`--vt-base-url`); only its URL is known."""

    url: str
    errors: Sequence[str] = ()


def node_folder(output: Path, nodeid: str) -> Path:
    """The report folder of one test: its node id made a file name (the tail, if long)."""
    name = slug(nodeid).strip("-")
    return output / name[-150:]


@contextlib.asynccontextmanager
async def hosted(client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """`async with client`, entered and exited in one task of its own under asyncio.

    pytest-asyncio runs an async fixture's setup and teardown in different tasks; the client's
    task group (its stream readers) must be exited by the task that entered it, or anyio
    raises at teardown. A host task owns the client for the fixture's whole life instead.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # trio: one task runs an anyio fixture's setup and teardown
        loop = None
    if loop is None:
        async with client:
            yield client
        return
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def host() -> None:
        async with client:
            entered.set()
            await leave.wait()

    task = loop.create_task(host(), name="vt client host")
    waiter = asyncio.ensure_future(entered.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # the client failed to open: raise its error here
    try:
        yield client
    finally:
        leave.set()
        await task


@contextlib.contextmanager
def serve_target(base_url: str | None, app: Any) -> Iterator[Any]:
    """The server under test: the `base_url` one, or `app` served on a loopback port for
    the duration of the `with`."""
    if base_url:
        yield RemoteServer(base_url.rstrip("/"))
        return
    with LiveServer(app) as server:
        yield server


def failure_report(
    request: pytest.FixtureRequest,
    folder: Path,
    tabs: Mapping[str, ReportTab],
    *,
    message: str,
    errors: Sequence[str] = (),
    steps: Sequence[Any] = (),
    golden_diff: str = "",
) -> None:
    """Write the report of a failed test; an unwritable folder is a one-line warning, and the
    test keeps its own failure."""
    try:
        page = write_report(
            folder,
            tabs,
            title=request.node.nodeid,
            message=message,
            steps=steps,
            golden_diff=golden_diff,
            server_errors=errors,
        )
    except OSError as exc:
        text = f"vt: could not write the failure report to {folder} ({exc.strerror or exc})"
        request.node.add_report_section("teardown", "vt report", text)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)
        return
    request.node.user_properties.append(("vt_report", str(page)))
    request.node.add_report_section("teardown", "vt report", f"failure report: {page}")


def make_scenario_test(scenario: Scenario, settings: Any) -> Callable[..., None]:
    """The test function of one scenario item: runs it against `--vt-base-url`, the
    project's `vt_app`, or a fresh instance of the scenario's own app. `settings` is the
    plugin's `VTConfig`."""

    def test(request: pytest.FixtureRequest, vt_app: Any, vt_client_options: Any) -> None:
        app = vt_app
        if app is None and not settings.base_url:
            if scenario.app is None:
                # A scenario written for any server (the plain-Datastar chat level) has no
                # reference app to serve: it runs against --vt-base-url or the project's vt_app.
                pytest.skip(f"{scenario.name} names no app: give --vt-base-url or a vt_app")
            app = scenario_app(scenario)
        folder = node_folder(settings.output, request.node.nodeid)
        clear_folder(folder)
        options = {"timeout": settings.timeout, **dict(vt_client_options)}
        options.setdefault("artifacts_dir", folder / "waits")
        with serve_target(settings.base_url, app) as server:
            failure = anyio.run(_run, server.url, scenario, options)
            errors = list(server.errors)
        if errors:
            request.node.user_properties.append(("vt_server_errors", "\n".join(errors[-50:])))
        if failure is not None:
            failure_report(
                request,
                folder,
                failure.run.tabs,
                message=str(failure),
                errors=errors,
                steps=failure.run.steps,
            )
            pytest.fail(str(failure), pytrace=False)

    test.__name__ = f"test_{scenario.name}"
    test.__doc__ = scenario.description
    return test


def make_browser_scenario_test(scenario: Scenario, settings: Any) -> Callable[..., None]:
    """The test function of one scenario's browser item (`--vt-browser`): the same steps in
    Chromium users (`vt.browser.driver`) in the worker's one Chromium (`vt_browser`), on the
    same target as its HTTP item. Skipped, with the step named, when the scenario uses a verb
    a person cannot do: known from the file alone (`browser_refusal`, no browser launched),
    or met on the page (an action or signal no element offers)."""

    def test(request: pytest.FixtureRequest, vt_app: Any) -> None:
        refusal = browser_refusal(scenario)
        if refusal is not None:
            pytest.skip(f"{scenario.name}: {refusal}; it runs over HTTP only")
        # Imported here: only browser items need Playwright.
        from ..browser.driver import run_in_browsers
        from ..errors import RefusedInBrowser

        chromium = request.getfixturevalue("vt_browser")  # after the refusal: none launched
        app = vt_app
        if app is None and not settings.base_url:
            app = scenario_app(scenario)
        folder = node_folder(settings.output, request.node.nodeid)
        clear_folder(folder)
        with serve_target(settings.base_url, app) as server:
            try:
                chromium.call(
                    run_in_browsers,
                    server.url,
                    scenario,
                    browser=chromium.browser,
                    timeout=settings.timeout,
                    artifacts=folder,
                )
                failure = None
            except ScenarioFailed as failed:
                failure = failed
        if failure is None:
            return
        if isinstance(failure.__cause__, RefusedInBrowser):
            pytest.skip(f"{scenario.name}: {failure.step.describe()}: {failure.__cause__}")
        request.node.add_report_section("teardown", "vt browser artifacts", str(folder))
        # Outside the `except`: the failure is said once, not chained to its causes.
        pytest.fail(f"in browsers: {failure}", pytrace=False)

    test.__name__ = f"test_{scenario.name}_in_browsers"
    test.__doc__ = scenario.description
    return test


async def _run(url: str, scenario: Scenario, options: dict[str, Any]) -> ScenarioFailed | None:
    async with AsyncClient(url, **options) as client:
        try:
            await run_scenario(client, scenario)
        except ScenarioFailed as exc:
            return exc
    return None


GOLDEN_PROPERTY = "vt_golden"


def result_to_json(result: GoldenResult) -> str:
    """A comparison's outcome as JSON (a test report property, so it survives xdist)."""
    return json.dumps(
        {
            "folder": str(result.folder),
            "compared": result.compared,
            "written": result.written,
            "mismatched": list(result.mismatched),
            "missing": result.missing,
            "unused": result.unused,
        }
    )


def result_from_json(text: str) -> GoldenResult:
    """The inverse of `result_to_json` (diffs are not carried: they are in the test's failure)."""
    data = json.loads(text)
    return GoldenResult(
        Path(data["folder"]),
        compared=data["compared"],
        written=data["written"],
        mismatched=dict.fromkeys(data["mismatched"], ""),
        missing=data["missing"],
        unused=data["unused"],
    )


@dataclass(slots=True)
class GoldenSession:
    """Every golden comparison of a pytest run, for the end-of-run summary."""

    results: list[GoldenResult] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Lines for the terminal summary (empty when no test used `vt_golden`)."""
        if not self.results:
            return []
        total = {
            "matched": sum(len(r.compared) for r in self.results),
            "differ": sum(len(r.mismatched) for r in self.results),
            "written": sum(len(r.written) for r in self.results),
            "missing": sum(len(r.missing) for r in self.results),
            "unused": sum(len(r.unused) for r in self.results),
        }
        lines = ["vt goldens: " + ", ".join(f"{v} {k}" for k, v in total.items())]
        for result in self.results:
            if not result.ok or result.written or result.unused:
                lines.append(result.summary(UPDATE_HINT))
        if total["differ"] or total["missing"]:
            lines.append(f"next: {UPDATE_HINT}")
        return lines


class VTGolden:
    """The `vt_golden` fixture: compare tabs' normalised streams with golden files.

        run = await vt.run_scenario(vt_async_client, scenario)
        vt_golden.check(run)                  # or vt_golden.check({"alice": tab, ...})

    Goldens live in `<test file's folder>/goldens/<test name>/<tab>.txt`. Missing or
    differing files fail the test with a bounded diff, unless `--vt-update-goldens` was given,
    which (re)writes them.
    """

    def __init__(
        self,
        folder: Path,
        update: bool,
        properties: list[tuple[str, object]],
        rules: Sequence[Rule] = (),
    ) -> None:
        self.folder = folder
        self.update = update
        self.rules = list(rules)
        self.properties = properties  # the test's user_properties: they reach xdist's controller
        self.last: GoldenResult | None = None

    def check(
        self,
        tabs: ScenarioRun | Mapping[str, AsyncTab],
        *,
        name: str | None = None,
        normalize: Sequence[tuple[str, str]] = (),
    ) -> GoldenResult:
        """Compare each tab (by name) with its golden; `normalize` adds (regex, replacement)
        rules for this call. Raises `GoldenMismatch` with the diffs when they differ."""
        if isinstance(tabs, ScenarioRun):
            title, by_name = tabs.scenario.name, tabs.tabs
        else:
            title, by_name = name or self.folder.name, dict(tabs)
        rules = [*self.rules, *(Rule("custom", p, r) for p, r in normalize)]
        texts = render_tabs(by_name, title, rules)
        folder = self.folder / name if name else self.folder
        result = compare_goldens(folder, texts, update=self.update)
        self.properties.append((GOLDEN_PROPERTY, result_to_json(result)))
        self.last = result
        if not result.ok:
            raise result.failure(UPDATE_HINT)
        return result
