"""Running a batch of scenarios for the command line: outcomes, progress, JUnit XML.

Each scenario runs through the one harness (`vt.scenario.harness.run_served`) on its own event
loop, against the given URL (or a cluster's node URLs), a local cluster vt starts when the
scenario needs several nodes or faults (`ClusterPool`, reused by later scenarios), the user's
app (`--app`), or a fresh instance of the app it names (so scenarios never see each other's
state). A failure leaves one report folder
(`vt/scenario/html_report.py`) under the output folder.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio

from ..conformance.sdk import SDKCase, load_sdk_cases, run_sdk_cases
from ..defaults import HTTP_TIMEOUT
from ..scenario.clusters import ClusterPool
from ..scenario.format import Scenario, Step
from ..scenario.golden import GoldenResult
from ..scenario.harness import (
    GoldenPlan,
    clear_folder,
    report_take,
    report_warning,
    run_served,
)
from ..scenario.normalize import Rule
from ..scenario.runner import scenario_app

__all__ = [
    "SDK_LEVEL",
    "Batch",
    "Outcome",
    "color_enabled",
    "progress_stream",
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

        goldens = None
        if self.goldens is not None:
            goldens = GoldenPlan(
                self.goldens / _slug(scenario.name),
                update=self.update_goldens or self.record,
                rules=self.normalizers,
                hint="run `vt check ... --update` (or `vt record`)",
            )
        take = run_served(
            scenario,
            url=self.url,
            make_app=lambda: self.app(scenario),
            clusters=self.clusters,
            client_options={"artifacts_dir": folder / "waits"},
            goldens=goldens,
            timeout=self.timeout,
            on_step=on_step,
            stopping=stopping,
        )
        outcome = Outcome(scenario, "passed", 0.0, golden=take.golden, server_errors=take.errors)
        if not take.ok:
            outcome.status, outcome.message = "failed", take.message
            try:
                outcome.report = report_take(folder, take, title=scenario.name)
            except OSError as exc:
                print(report_warning(folder, exc), file=sys.stderr)
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
