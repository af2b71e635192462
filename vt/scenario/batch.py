"""Running a batch of scenarios for the command line: outcomes, reports, progress, JUnit XML.

Each scenario runs through `vt.run_scenario` on its own event loop, against the given URL or
a fresh instance of the reference app it names (so scenarios never see each other's state).
A failure leaves one report folder (`vt/scenario/html_report.py`) under the output folder.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio

from ..client.client import AsyncClient
from ..client.server import LiveServer
from ..client.tab import AsyncTab
from ..client.waits import settle
from ..conformance.sdk import SDKCase, load_sdk_cases, run_sdk_cases
from ..defaults import HTTP_TIMEOUT
from .cluster_verbs import NodeControl
from .clusters import ClusterPool
from .format import Scenario, Step
from .golden import GoldenResult, compare_goldens, render_run
from .html_report import write_report
from .normalize import Rule
from .runner import ScenarioFailed, ScenarioRun, StepTime, run_scenario, scenario_app

__all__ = [
    "SDK_LEVEL",
    "Batch",
    "Outcome",
    "check_url",
    "clear_folder",
    "report_warning",
    "sdk_entries",
    "write_junit",
]

SDK_LEVEL = "sdk"
"""The conformance level of Datastar SDKs' `/test` endpoint (`vt.conformance.sdk`), run only on
request
(`vt conformance --level sdk URL`): a Via server or an app serves no `/test`."""


@dataclass(slots=True)
class Outcome:
    """One scenario's result: `status` is passed, failed, xfailed (expected failure) or
    xpassed (expected to fail, but passed: a failure of the expectation)."""

    scenario: Scenario
    status: str
    seconds: float
    message: str = ""
    report: Path | None = None
    server_errors: list[str] = field(default_factory=list)
    golden: GoldenResult | None = None


@dataclass(slots=True)
class Batch:
    """Settings shared by the scenarios of one command."""

    url: str | None
    timeout: float | None
    output: Path
    goldens: Path | None = None
    update_goldens: bool = False
    record: bool = False
    normalizers: Sequence[Rule] = ()
    expected: Mapping[str, str] = field(default_factory=dict)
    progress: TextIO | None = None
    started: float = field(default_factory=time.monotonic)
    # The app served for a scenario when there is no URL (a fresh one per scenario); the
    # mutation check passes one that builds a deliberately broken variant.
    app: Callable[[Scenario], Any] = scenario_app
    # The local clusters of the scenarios that need several nodes or faults (specs/cluster.md).
    clusters: ClusterPool = field(default_factory=ClusterPool)

    def run(
        self, scenarios: Sequence[Scenario], report: Callable[[Outcome], None]
    ) -> list[Outcome]:
        """Run each scenario; call `report` with each outcome as it is known."""
        outcomes = []
        # A finished scenario's server stops in the background while the next one runs
        # (uvicorn takes a few hundred ms to exit); every one is joined before returning.
        stopping: list[threading.Thread] = []
        try:
            for index, scenario in enumerate(scenarios, start=1):
                outcome = self.one(scenario, f"[{index}/{len(scenarios)}]", stopping)
                self.clear_progress()
                report(outcome)
                outcomes.append(outcome)
        finally:
            for thread in stopping:
                thread.join()
            self.clusters.close()
        return outcomes

    def one(
        self,
        scenario: Scenario,
        position: str = "",
        stopping: list[threading.Thread] | None = None,
    ) -> Outcome:
        """Run one scenario and return its outcome (never raises for a scenario failure).

        Given `stopping`, the embedded server is stopped by a thread added to it, which the
        caller joins; otherwise it is stopped before this returns."""
        began = time.monotonic()
        folder = self.output / _slug(scenario.name)
        clear_folder(folder)

        def on_step(step: Step) -> None:
            self.show_progress(f"{position} {scenario.name}: {step.describe()}")

        if self.url is not None:
            outcome = anyio.run(self._one, scenario, self.url, folder, on_step, list)
        elif self.clusters.wants(scenario):
            cluster = self.clusters.get(scenario)
            try:
                outcome = anyio.run(
                    self._one, scenario, cluster.urls, folder, on_step, list, cluster
                )
            finally:
                self.clusters.tidy(cluster)
        else:
            server = LiveServer(self.app(scenario)).start()
            try:
                outcome = anyio.run(
                    self._one, scenario, server.url, folder, on_step, lambda: server.errors
                )
            finally:
                if stopping is None:
                    server.stop()
                else:
                    stopping.append(threading.Thread(target=server.stop, name="vt-stop"))
                    stopping[-1].start()
        outcome.seconds = time.monotonic() - began
        return self.judge(outcome)

    def judge(self, outcome: Outcome) -> Outcome:
        """Turn a failure the expect file names into xfailed, and a pass it names into
        xpassed."""
        reason = self.expected.get(outcome.scenario.name)
        if reason is not None:
            if outcome.status == "failed":
                outcome.status = "xfailed"
                outcome.message = f"expected failure ({reason}):\n{outcome.message}"
            else:
                outcome.status = "xpassed"
                outcome.message = (
                    f"expected to fail ({reason}) but passed: remove it from the expect file"
                )
        return outcome

    def run_sdk(self, cases: Sequence[SDKCase], report: Callable[[Outcome], None]) -> list[Outcome]:
        """The SDK level (`vt.conformance.sdk`) against the batch's URL: one outcome per case, in
        the
        same rows, table, expect file and JUnit XML as the scenarios."""
        if self.url is None:
            raise ValueError(f"the {SDK_LEVEL} level needs the URL of a server serving /test")
        self.show_progress(f"{SDK_LEVEL}: {len(cases)} case(s) against {self.url}/test")
        began = time.monotonic()
        timeout = self.timeout if self.timeout is not None else HTTP_TIMEOUT
        results = anyio.run(lambda: run_sdk_cases(str(self.url), cases=cases, timeout=timeout))
        self.clear_progress()
        each = (time.monotonic() - began) / max(len(results), 1)
        by_name = {entry.name: entry for entry in sdk_entries(cases)}
        outcomes = []
        for result in results:
            lines = [*result.problems]
            if result.problems and result.body:
                lines.append("body: " + result.body.decode(errors="replace")[:2000])
            outcome = Outcome(
                by_name[result.case],
                "passed" if result.passed else "failed",
                each,
                "\n".join(lines),
            )
            outcomes.append(self.judge(outcome))
            report(outcomes[-1])
        return outcomes

    async def _one(
        self,
        scenario: Scenario,
        url: str | Sequence[str],
        folder: Path,
        on_step: Callable[[Step], None],
        server_errors: Callable[[], list[str]],
        control: NodeControl | None = None,
    ) -> Outcome:
        failure: ScenarioFailed | None = None
        run: ScenarioRun | None = None
        async with AsyncClient(url, artifacts_dir=folder / "waits") as client:
            try:
                run = await run_scenario(
                    client, scenario, timeout=self.timeout, on_step=on_step, control=control
                )
            except ScenarioFailed as exc:
                failure = exc
        golden: GoldenResult | None = None
        diff = ""
        if run is not None and self.goldens is not None:
            await settle(list(run.tabs.values()))  # the last step's patches are on their way
            texts = render_run(run, self.normalizers)
            target = self.goldens / _slug(scenario.name)
            golden = compare_goldens(target, texts, update=self.update_goldens or self.record)
            if not golden.ok:
                diff = str(golden.failure("run `vt check ... --update` (or `vt record`)"))
        errors = server_errors()
        if failure is None and not diff:
            return Outcome(scenario, "passed", 0.0, golden=golden, server_errors=errors)
        message = str(failure) if failure is not None else diff
        source = failure.run if failure is not None else run
        tabs = source.tabs if source is not None else {}
        steps = source.steps if source is not None else []
        page = self.write_report(
            folder, tabs, scenario.name, message, steps=steps, diff=diff, errors=errors
        )
        return Outcome(scenario, "failed", 0.0, message, page, errors, golden)

    def write_report(
        self,
        folder: Path,
        tabs: Mapping[str, AsyncTab],
        title: str,
        message: str,
        *,
        steps: Sequence[StepTime],
        diff: str,
        errors: Sequence[str],
    ) -> Path | None:
        """Write the failure report; on an unwritable folder, print one warning line."""
        try:
            return write_report(
                folder,
                tabs,
                title=title,
                message=message,
                steps=steps,
                golden_diff=diff,
                server_errors=errors,
            )
        except OSError as exc:
            print(report_warning(folder, exc), file=sys.stderr)
            return None

    def show_progress(self, text: str) -> None:
        """A live status line on stderr, once the run has taken over a second (TTY only)."""
        if self.progress is None or time.monotonic() - self.started < 1.0:
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.progress.write("\r" + text[:width].ljust(width))
        self.progress.flush()

    def clear_progress(self) -> None:
        """Erase the status line before a result line is printed."""
        if self.progress is not None and time.monotonic() - self.started >= 1.0:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.progress.write("\r" + " " * width + "\r")
            self.progress.flush()


def progress_stream() -> TextIO | None:
    """stderr when it is a terminal (a progress line would litter a log file), else None."""
    return sys.stderr if sys.stderr.isatty() else None


def clear_folder(folder: Path) -> None:
    """Remove an old report folder of the same test or scenario, if it can be removed."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def report_warning(folder: Path, exc: OSError) -> str:
    """The one line said when a report cannot be written (a read-only checkout)."""
    return f"vt: warning: could not write the failure report to {folder} ({exc.strerror or exc})"


def check_url(url: str, timeout: float = 5.0) -> str | None:
    """None when `url` answers HTTP (any status); otherwise one line saying what was tried and
    what to do."""
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
            "`vt serve chat --port 3000`, or give no URL to test the embedded reference runtime"
        )
    return None


def color_enabled(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when `NO_COLOR` is set (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def write_junit(path: Path, outcomes: Sequence[Outcome], suite: str = "vt") -> None:
    """JUnit XML of the outcomes: one testcase per scenario, classname `vt.<level>`; expected
    failures as skipped; the server's captured errors in `system-err`."""
    failures = sum(o.status in ("failed", "xpassed") for o in outcomes)
    skipped = sum(o.status == "xfailed" for o in outcomes)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(outcomes)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{sum(o.seconds for o in outcomes):.3f}",
    )
    for outcome in outcomes:
        case = ET.SubElement(
            root,
            "testcase",
            classname=f"vt.{outcome.scenario.level}",
            name=outcome.scenario.name,
            file=outcome.scenario.path,
            time=f"{outcome.seconds:.3f}",
        )
        if outcome.status in ("failed", "xpassed"):
            node = ET.SubElement(case, "failure", message=outcome.message.splitlines()[0][:200])
            node.text = outcome.message
        elif outcome.status == "xfailed":
            ET.SubElement(case, "skipped", type="pytest.xfail", message=outcome.message[:200])
        if outcome.report is not None:
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="vt_report", value=str(outcome.report))
        if outcome.server_errors:
            ET.SubElement(case, "system-err").text = "\n".join(outcome.server_errors)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def sdk_entries(cases: Sequence[SDKCase] | None = None) -> list[Scenario]:
    """The SDK cases as rows of the conformance table: one step-less `Scenario` per case,
    level `sdk`, named and described by the case."""
    return [
        Scenario(
            name=case.name,
            path=str(case.path or case.name),
            steps=(),
            description=f"{case.method} /test: {case.about}".rstrip(": "),
            level=SDK_LEVEL,
            sections=(case.section,) if case.section else (),
        )
        for case in (load_sdk_cases() if cases is None else cases)
    ]
