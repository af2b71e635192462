"""One load user: vt's scenario runner on vt's client, its sessions held, every step timed.

A load user runs its scenario over and over (each run an *iteration*, with its own `{run}`
token) with `vt.run_scenario`, the runner every other surface uses, driving `LoadDriver` (a
`ScenarioDriver`). The driver keeps the user's sessions and tabs across iterations: the
first iteration's `open` steps load the pages and open the streams, later ones get the same
tabs back (a closed tab is opened anew), so a user holds its sessions for the whole test as a
person keeps a page open. `setup()` runs the scenario's leading `open` / `ready` steps alone,
so users hold their sessions before any of them acts.

Each step becomes `Sample`s, which the Locust side (`vt.load.users`) reports as request
events named after the step:

* an acting step (`action`, `post`, `click`, ...) and the other steps: their own time;
* an expect step that waits for something to arrive (`expect_text`, `expect_signal`,
  `converge`, ...): the **fan-out latency**, from the start of the step that acted last in the
  iteration to the moment each watched tab showed it; several tabs give one sample each;
* a failed step: its reason as vt explains it, made shorter (the headline and the closest
  text seen) and with the run token put back as `{run}`, so that Locust groups equal failures.

`open` and `ready` steps are reported only in an iteration that opened a tab: getting a held
tab back measures nothing.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from ..client.client import AsyncClient, AsyncSession
from ..client.tab import AsyncTab
from ..defaults import QUIET_WINDOW
from ..errors import ScenarioFailed, VTError, WaitTimeout, hide_frames
from ..replica.dom import Element
from ..scenario.format import Scenario, Step
from ..scenario.runner import StepTime, run_scenario
from .lean import open_events_tab

__all__ = ["ACTING", "FANOUT", "LoadDriver", "Sample", "short_reason"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

ACTING = frozenset({"action", "post", "get", "click", "type", "press", "upload", "request"})
"""Verbs that make the server write: the cause a fan-out latency is measured from."""
FANOUT = frozenset(
    {
        "expect_text",
        "expect_selector",
        "expect_signal",
        "expect_frame",
        "expect_console",
        "expect_script",
        "converge",
    }
)
"""Expect verbs that wait for something to arrive: reported as fan-out latency."""
FANOUT_KIND = "fan-out"
"""The Locust request type of fan-out samples."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One reported measure: `kind` (Locust's request type: the verb, or ``fan-out``),
    `name` (the scenario and the step as written), milliseconds, the tab (a fan-out sample's),
    and the reason when the step failed."""

    kind: str
    name: str
    ms: float
    tab: str = ""
    error: str | None = None


def step_name(scenario: Scenario, step: Step) -> str:
    """The name a step reports under: `chat-pair step 5 (line 19): expect_text 'hi {run}'`."""
    return f"{scenario.name} {step.describe()}"


class HeldSession:
    """A session of a load user, kept across iterations; what the runner calls `open` on."""

    def __init__(self, driver: LoadDriver, session: AsyncSession) -> None:
        self.driver = driver
        self.session = session
        self.held: list[AsyncTab] = []
        self.opened = 0  # `open` calls in this iteration: the index of the next held tab

    @property
    def name(self) -> str:
        """The session's name (the scenario's)."""
        return self.session.name

    async def open(
        self, path: str = "/", *, connect: bool = True, follow_redirects: bool | None = None
    ) -> AsyncTab:
        """The tab this `open` got in the first iteration, or a new one when there is none
        or it was closed (its close beacon sent)."""
        index, self.opened = self.opened, self.opened + 1
        if index < len(self.held) and not self.held[index].closed:
            return self.held[index]
        if self.driver.events_only:
            tab: AsyncTab = await open_events_tab(self.session, path, connect=connect)
        else:
            tab = await self.session.open(path, connect=connect, follow_redirects=follow_redirects)
        self.held[index : index + 1] = [tab]
        self.driver.opened_in_step()
        return tab

    async def request(self, method: str, path: str, /, **kwargs: Any) -> Any:
        """A plain request with the session's cookies (the `request` verb without a tab)."""
        return await self.session.request(method, path, **kwargs)


class LoadDriver:
    """The `ScenarioDriver` of one load user (see the module docstring).

    `client` must be entered (`async with`); `events_only` opens `vt.load.lean.EventsTab`s
    (no page replica); `timeout` overrides the wait deadline of the scenario's steps.
    """

    def __init__(
        self,
        client: AsyncClient,
        scenario: Scenario,
        *,
        events_only: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.client = client
        self.scenario = scenario
        self.events_only = events_only
        self.timeout = timeout
        self.sessions: dict[str, HeldSession] = {}
        self.iterations = 0
        self._step: Step | None = None
        self._fresh: set[int] = set()  # steps of this iteration that opened a tab
        self._arrivals: dict[int, dict[str, float]] = {}  # step -> tab label -> when shown
        prefix = []
        for step in scenario.steps:
            if step.verb not in ("open", "ready"):
                break
            prefix.append(step)
        self._setup = dataclasses.replace(scenario, steps=tuple(prefix)) if prefix else None

    # -- the ScenarioDriver protocol ----------------------------------------------------------

    def new_session(self, name: str | None = None) -> HeldSession:
        """The user's session called `name`, made on first use and then held."""
        key = name or f"session{len(self.sessions) + 1}"
        if key not in self.sessions:
            self.sessions[key] = HeldSession(self, self.client.new_session(key))
        return self.sessions[key]

    async def expect_all(
        self,
        tabs: Sequence[AsyncTab],
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> list[Element]:
        """Wait until every tab shows `text`, each tab on its own, noting when each did (its
        fan-out sample). A timeout names every tab that did not, then explains the first."""
        shown = self._arrivals.setdefault(self._step.number if self._step else 0, {})
        found: list[Element | None] = [None] * len(tabs)
        missed: list[tuple[AsyncTab, VTError]] = []

        async def one(index: int, tab: AsyncTab) -> None:
            try:
                found[index] = await tab.expect_text(selector, text, exact=exact, timeout=timeout)
            except VTError as exc:  # a timeout, or a protocol error the stream brought
                missed.append((tab, exc))
            else:
                shown[tab.label] = time.monotonic()

        async with anyio.create_task_group() as group:
            for index, tab in enumerate(tabs):
                group.start_soon(one, index, tab)
        if missed:
            names = ", ".join(tab.label for tab, _ in missed)
            first = missed[0][1]
            raise WaitTimeout(f"{len(missed)} of {len(tabs)} tabs did not: {names}\n{first}")
        return [element for element in found if element is not None]

    async def expect_converged(
        self, tabs: Sequence[AsyncTab], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """As `AsyncClient.expect_converged`."""
        return await self.client.expect_converged(tabs, selector, timeout=timeout)

    async def expect_none(
        self, tabs: Sequence[AsyncTab], marker: str, window: float = QUIET_WINDOW
    ) -> None:
        """As `AsyncClient.expect_none`."""
        await self.client.expect_none(tabs, marker, window)

    # -- runs ---------------------------------------------------------------------------------

    async def setup(self) -> list[Sample]:
        """Run the scenario's leading `open` / `ready` steps (nothing when it has none)."""
        return await self._run(self._setup) if self._setup is not None else []

    async def iterate(self) -> list[Sample]:
        """Run the whole scenario once on the held sessions; its samples (the failed step's
        last, when one failed)."""
        self.iterations += 1
        return await self._run(self.scenario)

    def opened_in_step(self) -> None:
        """A held session opened a new tab in the current step (it is then reported)."""
        if self._step is not None:
            self._fresh.add(self._step.number)

    def _on_step(self, step: Step) -> None:
        self._step = step

    async def _run(self, scenario: Scenario) -> list[Sample]:
        for session in self.sessions.values():
            session.opened = 0
        self._fresh, self._arrivals = set(), {}
        failure: ScenarioFailed | None = None
        try:
            run = await run_scenario(self, scenario, timeout=self.timeout, on_step=self._on_step)
            timings: Sequence[StepTime] = run.steps
        except ScenarioFailed as exc:
            timings, failure = exc.run.steps, exc
        samples: list[Sample] = []
        acted: float | None = None
        for timed in timings:
            step = timed.step
            name = step_name(self.scenario, step)
            kind = FANOUT_KIND if step.verb in FANOUT else step.verb
            if step.verb in ACTING:
                acted = timed.started
            if not timed.ok:
                reason = short_reason(failure, self.scenario) if failure else "failed"
                samples.append(Sample(kind, name, _ms(timed.ended - timed.started), error=reason))
            elif step.verb in ("open", "ready") and not self._fresh:
                continue  # a held tab given back: nothing was measured
            elif step.verb == "open" and step.number not in self._fresh:
                continue
            elif kind == FANOUT_KIND:
                origin = acted if acted is not None else timed.started
                shown = self._arrivals.get(step.number) or {_tabs_of(step): timed.ended}
                samples += [Sample(kind, name, _ms(at - origin), tab) for tab, at in shown.items()]
            else:
                samples.append(Sample(kind, name, _ms(timed.ended - timed.started)))
        return samples


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _tabs_of(step: Step) -> str:
    names = step.tab_names()
    return ", ".join(names) if names else "the last tab opened"


_RUN = re.escape("{run}")
_LINES_KEPT = ("closest", "now:", "expected", "got")


def short_reason(failure: ScenarioFailed, scenario: Scenario) -> str:
    """A failure's reason for a load report: its first lines and its "closest seen" / "now:"
    lines (of a traceback, its last line), with every run token in a text the scenario writes
    with `{run}` put back as `{run}` (so that equal failures of different iterations read the
    same)."""
    lines = failure.reason.strip().splitlines()
    if lines and lines[0].startswith("Traceback"):  # not a verdict: vt or the transport failed
        lines = lines[-1:]  # the exception, e.g. `httpx.ReadTimeout: ...`
    kept = lines[:2] + [
        line.strip() for line in lines[2:] if line.strip().lower().startswith(_LINES_KEPT)
    ]
    text = " | ".join(line.strip() for line in kept if line.strip())
    for template in _templates(scenario):
        pattern = re.escape(template).replace(_RUN, "[0-9a-f]{8}")
        text = re.sub(pattern, template.replace("\\", "\\\\"), text)
    return text


def _templates(scenario: Scenario) -> list[str]:
    """Every string of the scenario's steps that holds `{run}`."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str) and "{run}" in value:
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    for step in scenario.steps:
        walk(step.argument)
        walk(dict(step.options))
    return found
