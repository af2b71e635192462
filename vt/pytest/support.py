"""The pytest plugin's machinery, kept apart so the plugin module stays a list of hooks and
fixtures: what a scenario item does (through the one harness, `vt.scenario.harness`), failure
reports, the pytest-asyncio-safe client host.

Imported lazily by `vt.pytest.plugin` (pytest imports every plugin for every run).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ..client.client import AsyncClient
from ..client.report import slug
from ..errors import RefusedInBrowser, VTError
from ..scenario.format import Scenario
from ..scenario.harness import (
    GoldenPlan,
    RemoteServer,
    clear_folder,
    report_take,
    report_warning,
    run_served,
    serving,
)
from ..scenario.html_report import ReportTab, write_report
from ..scenario.runner import ScenarioFailed, browser_refusal, scenario_app
from .goldens import GOLDEN_PROPERTY, UPDATE_HINT, golden_folder, result_to_json
from .settings import NO_APP_MESSAGE, vt_settings

__all__ = [
    "failure_report",
    "hosted",
    "make_browser_scenario_test",
    "make_scenario_test",
    "node_folder",
    "serve_target",
    "report_failed_test",
]


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
def serve_target(base_url: str | None, app: Any) -> Iterator[RemoteServer | Any]:
    """The server under test: the `base_url` one, or `app` served on a loopback port for
    the duration of the `with` (`vt.scenario.harness.serving`)."""
    with serving(base_url, app) as server:
        yield server


def failure_report(request: pytest.FixtureRequest, folder: Path, write: Callable[[], Path]) -> None:
    """Write the report of a failed test with `write` (it returns `report.html`); an
    unwritable folder is a one-line warning, and the test keeps its own failure."""
    try:
        page = write()
    except OSError as exc:
        text = report_warning(folder, exc)
        request.node.add_report_section("teardown", "vt report", text)
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(text)
        return
    request.node.user_properties.append(("vt_report", str(page)))
    request.node.add_report_section("teardown", "vt report", f"failure report: {page}")


def report_failed_test(
    request: pytest.FixtureRequest, tabs: Mapping[str, ReportTab], message: str, errors: list[str]
) -> None:
    """The report of a failed test that used a client fixture: its tabs and the failure."""
    folder = node_folder(vt_settings(request).output, request.node.nodeid)
    title = request.node.nodeid
    failure_report(
        request,
        folder,
        lambda: write_report(folder, tabs, title=title, message=message, server_errors=errors),
    )


def make_scenario_test(scenario: Scenario, *, bundled: bool) -> Callable[..., None]:
    """The test function of one scenario item: runs it through the one harness against
    `--vt-base-url`, the project's `vt_app`, or a fresh instance of the scenario's own app.

    A project's scenario (not a `bundled` one of vt's) takes goldens when its golden folder
    exists (`<folder>/goldens/<file stem>/<scenario>/`), or writes them under
    `--vt-update-goldens`."""

    def test(request: pytest.FixtureRequest, vt_app: Any, vt_client_options: Any) -> None:
        settings = vt_settings(request)
        # Several nodes, or node and wire faults: on local clusters vt starts (one pool per
        # worker), unless --vt-base-url names the nodes.
        clusters = None
        if not settings.base_url and not scenario.embedded:
            clusters = request.getfixturevalue("vt_clusters")
        elif vt_app is None and not settings.base_url and scenario.app is None:
            if bundled:
                # Written for any server (the plain-Datastar chat level): no app of its own.
                pytest.skip(f"{scenario.name} names no app: give --vt-base-url or a vt_app")
            pytest.fail(NO_APP_MESSAGE, pytrace=False)
        node = request.node
        folder = node_folder(settings.output, node.nodeid)
        clear_folder(folder)
        options = {"timeout": settings.timeout, **dict(vt_client_options)}
        options.setdefault("artifacts_dir", folder / "waits")
        # vt's own scenarios take no goldens: their folder is in vt's package, not the project.
        where = golden_folder(node.path, node.nodeid)
        goldens = None
        if not bundled and (where.is_dir() or settings.update_goldens):
            goldens = GoldenPlan(where, update=settings.update_goldens, hint=UPDATE_HINT)
        try:
            take = run_served(
                scenario,
                url=settings.base_url,
                make_app=lambda: vt_app if vt_app is not None else scenario_app(scenario),
                clusters=clusters,
                client_options=options,
                goldens=goldens,
            )
        except VTError as exc:  # no cluster could be started (a tool missing, say)
            pytest.fail(f"{scenario.name}: {exc}", pytrace=False)
        if take.golden is not None:
            node.user_properties.append((GOLDEN_PROPERTY, result_to_json(take.golden, where)))
        if take.errors:
            node.user_properties.append(("vt_server_errors", "\n".join(take.errors[-50:])))
        if not take.ok:
            failure_report(request, folder, lambda: report_take(folder, take, title=node.nodeid))
            pytest.fail(take.message, pytrace=False)

    test.__name__ = f"test_{scenario.name}"
    test.__doc__ = scenario.description
    return test


def make_browser_scenario_test(scenario: Scenario, *, bundled: bool) -> Callable[..., None]:
    """The test function of one scenario's browser item (`--vt-browser`): the same steps in
    Chromium users (`vt.browser.driver`) in the worker's one Chromium (`vt_browser`), on the
    same target as its HTTP item. Skipped, with the step named, when the scenario uses a verb
    a person cannot do: known from the file alone (`browser_refusal`, no browser launched),
    or met on the page (an action or signal no element offers)."""

    def test(request: pytest.FixtureRequest, vt_app: Any) -> None:
        settings = vt_settings(request)
        refusal = browser_refusal(scenario)
        if refusal is None and not scenario.embedded:
            refusal = "it needs several nodes or faults (servers vt starts)"
        if refusal is not None:
            pytest.skip(f"{scenario.name}: {refusal}; it runs over HTTP only")
        # Imported here: only browser items need Playwright.
        from ..browser.driver import run_in_browsers

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
