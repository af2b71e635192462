"""Scenario files as Locust user classes, their steps as Locust request events.

`user_class(scenario)` makes a Locust `User` class for a scenario (`vt load` makes one per
file, in `vt/load/locustfile.py`). Each user is one `vt.AsyncClient` against one of the
`--host` URLs (several, comma-separated: users are spread over them round-robin), running a
`LoadDriver` on this process's asyncio loop thread (`vt.load.bridge`):

* `on_start`: the client is entered and the scenario's leading `open` / `ready` steps run, so
  the user holds its sessions before it acts;
* the task: wait a random 0..2x `--vt-pace` seconds (mean `--vt-pace`; none by default), then
  one iteration of the whole scenario on the held sessions;
* `on_stop`: the client closes (close beacons, streams ended).

Every `Sample` is fired as a request event: request type the verb or ``fan-out``, name the
scenario and the step as written, response time the sample's milliseconds, a failure its
reason. Locust then does the rest: percentiles over tabs and iterations, CSV and HTML reports,
the web UI, distribution over worker processes. vt adds one thing Locust has no column for,
the slowest tab of each fan-out step (`Slowest`): workers send theirs with their reports, and
the master (or a single process) prints them at the end with the fan-out percentiles and, with
`--vt-summary FILE`, writes them as JSON.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import random
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import User, argument_parser, constant, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import WorkerRunner

from ..client.client import AsyncClient
from ..defaults import WAIT_TIMEOUT
from ..errors import VTError
from ..scenario.format import Scenario, load_scenario
from .bridge import Held, shared_loop
from .command import SCENARIOS_VARIABLE, parse_choice
from .driver import FANOUT_KIND, LoadDriver, Sample
from .lean import events_refusal

__all__ = [
    "ScenarioUser",
    "Slowest",
    "add_options",
    "register",
    "scenario_classes",
    "summary",
    "user_class",
]

_NUMBERS: Iterator[int] = itertools.count(1)


def add_options(parser: LocustArgumentParser) -> None:
    """vt's options, added to Locust's (they reach the workers with the test's start)."""
    group = parser.add_argument_group("vt", "vt's options for scenario users")
    group.add_argument(
        "--vt-timeout",
        type=float,
        default=WAIT_TIMEOUT,
        help=f"wait deadline of every step, seconds (default {WAIT_TIMEOUT:g})",
    )
    group.add_argument(
        "--vt-events-only",
        action="store_true",
        default=False,
        help="keep no page replica: expect_text looks for the text in the patches",
    )
    group.add_argument(
        "--vt-pace",
        type=float,
        default=0.0,
        help="seconds a user waits before each iteration, on average (random 0..2x)",
    )
    group.add_argument(
        "--vt-summary", default="", help="write the fan-out summary (JSON) to this file"
    )


class ScenarioUser(User):
    """A Locust user running one vt scenario (see the module docstring); `user_class` makes
    one subclass per scenario."""

    abstract = True
    scenario: ClassVar[Scenario]
    wait_time = constant(0)  # the pause is `--vt-pace`, taken before each iteration

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.number = next(_NUMBERS)
        self.driver: LoadDriver | None = None
        self.held = Held()
        runner = environment.runner
        worker = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        self.label = f"user {self.number} of worker {worker}"
        self.host_index = worker + self.number

    def on_start(self) -> None:
        """Enter the client and open the scenario's sessions (its leading `open`/`ready`)."""
        options = _options(self.environment)
        hosts = [h.strip() for h in (self.host or "").split(",") if h.strip()]
        if not hosts:
            raise VTError("vt load needs the server: --host URL (several: URL,URL,...)")
        url = hosts[self.host_index % len(hosts)]
        client = AsyncClient(url, timeout=options.vt_timeout)
        loop = shared_loop()
        loop.call(self.held.enter(client))
        self.driver = LoadDriver(
            client, self.scenario, events_only=options.vt_events_only, timeout=options.vt_timeout
        )
        try:
            self._report(loop.call(self.driver.setup()))
        except Exception:  # a bug, not a failed step (those are reported): Locust logs it
            self.on_stop()  # Locust calls on_stop only for a user it stops
            raise

    @task
    def iterate(self) -> None:
        """One run of the scenario on the held sessions, after the `--vt-pace` pause."""
        pace = _options(self.environment).vt_pace
        if pace > 0:
            gevent.sleep(random.uniform(0, 2 * pace))  # spreads the actions: load, not a wait
        if self.driver is not None:
            self._report(shared_loop().call(self.driver.iterate()))

    def on_stop(self) -> None:
        """Close the client: close beacons, streams ended, connections closed."""
        if shared_loop().running:  # else the process is quitting, and its loop is gone
            shared_loop().call(self.held.release())
        self.driver = None

    def _report(self, samples: list[Sample]) -> None:
        fire = self.environment.events.request.fire
        for sample in samples:
            fire(
                request_type=sample.kind,
                name=sample.name,
                response_time=sample.ms,
                response_length=0,
                exception=sample.error,
                context={"tab": sample.tab, "user": self.label},
            )
            if sample.kind == FANOUT_KIND and sample.error is None:
                SLOWEST.offer(sample.name, sample.ms, f"{sample.tab} ({self.label})")


def user_class(scenario: Scenario, *, fixed_count: int = 0) -> type[ScenarioUser]:
    """A Locust user class running `scenario`; `fixed_count` > 0 makes exactly that many of
    them (Locust's `fixed_count`), the rest of the users going to the other classes. The
    class is named after the scenario (`chat-pair` -> `ChatPairUser`)."""
    name = "".join(part.capitalize() for part in _words(scenario.name)) or "Scenario"
    attributes: dict[str, Any] = {"scenario": scenario, "abstract": False}
    if fixed_count:
        attributes["fixed_count"] = fixed_count
    return type(f"{name}User", (ScenarioUser,), attributes)


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in text).split()


def _options(environment: Environment) -> Namespace:
    options: Namespace | None = environment.parsed_options
    if options is None:  # a user started without Locust's command line (a library run)
        parser = LocustArgumentParser()
        add_options(parser)
        options = parser.parse_args([])
    return options


class Slowest:
    """Per fan-out step: the slowest sample and the tab it was, merged across workers."""

    def __init__(self) -> None:
        self.steps: dict[str, tuple[float, str]] = {}

    def offer(self, name: str, ms: float, where: str) -> None:
        """Keep (`ms`, `where`) when it is the slowest of step `name` so far."""
        if ms > self.steps.get(name, (-1.0, ""))[0]:
            self.steps[name] = (ms, where)

    def merge(self, other: dict[str, list[Any]]) -> None:
        """Take a worker's report (`take`)."""
        for name, (ms, where) in other.items():
            self.offer(name, float(ms), str(where))

    def take(self) -> dict[str, list[Any]]:
        """This process's slowest tabs since the last report, for the master; then forget
        them (the master keeps the slowest)."""
        taken = {name: [ms, where] for name, (ms, where) in self.steps.items()}
        self.steps.clear()
        return taken


SLOWEST = Slowest()


def summary(environment: Environment) -> list[dict[str, Any]]:
    """Per fan-out step: samples, failures, p50/p95/p99/max (ms) and the slowest tab."""
    rows = []
    for (name, kind), entry in sorted(environment.stats.entries.items()):
        if kind != FANOUT_KIND:
            continue
        slowest = SLOWEST.steps.get(name, (0.0, ""))
        rows.append(
            {
                "step": name,
                "samples": entry.num_requests,
                "failures": entry.num_failures,
                **{f"p{p}": entry.get_response_time_percentile(p / 100) for p in (50, 95, 99)},
                "max": entry.max_response_time,
                "slowest_tab": slowest[1],
            }
        )
    return rows


def check_events_only(environment: Environment, classes: list[type[ScenarioUser]]) -> None:
    """Refuse `--vt-events-only` for a scenario with a step that reads the page.

    Raises:
        VTError: naming the scenario and the step.
    """
    if not _options(environment).vt_events_only:
        return
    for cls in classes:
        why = events_refusal(cls.scenario)
        if why is not None:
            raise VTError(f"--vt-events-only: scenario {cls.scenario.name!r}: {why}")


def register(classes: list[type[ScenarioUser]]) -> None:
    """Hook vt's options, checks, reports and summary into Locust's events."""
    hooks: Any = events  # Locust's event hooks are untyped
    # Locust 2.47's worker rebuilds and runs its whole argument parser once per option of every
    # spawn message (`k not in argument_parser.default_args_dict()` in a comprehension, in
    # runners.py): about 90 parses, seconds of a busy worker's hub during which no heartbeat
    # goes out and the master drops the worker. The defaults cannot change within a process.
    if not hasattr(argument_parser.default_args_dict, "cache_info"):
        argument_parser.default_args_dict = functools.cache(argument_parser.default_args_dict)
    hooks.init_command_line_parser.add_listener(add_options)
    for noisy in ("httpx", "httpcore"):  # a line per request at Locust's INFO level
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def _checked(environment: Environment, **_: Any) -> None:
        check_events_only(environment, classes)

    def _send(client_id: str, data: dict[str, Any], **_: Any) -> None:
        data["vt_slowest"] = SLOWEST.take()

    def _receive(client_id: str, data: dict[str, Any], **_: Any) -> None:
        SLOWEST.merge(data.get("vt_slowest", {}))

    def _summarise(environment: Environment, **_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        rows = summary(environment)
        print(render(rows), flush=True)
        path = _options(environment).vt_summary
        if path:
            Path(path).write_text(json.dumps(rows, indent=2) + "\n")

    def _stop_loop(environment: Environment, **_: Any) -> None:
        shared_loop().stop()

    hooks.init.add_listener(_checked)
    hooks.report_to_master.add_listener(_send)
    hooks.worker_report.add_listener(_receive)
    hooks.quitting.add_listener(_summarise)
    hooks.quitting.add_listener(_stop_loop)


def render(rows: list[dict[str, Any]]) -> str:
    """The fan-out summary as a text table."""
    lines = ["vt fan-out (ms, from the action to each watched tab):"]
    for row in rows:
        lines.append(
            f"  {row['step']}: {row['samples']} samples, {row['failures']} failed, "
            f"p50 {row['p50']}, p95 {row['p95']}, p99 {row['p99']}, max {row['max']:.0f}, "
            f"slowest {row['slowest_tab'] or '-'}"
        )
    if not rows:
        lines.append("  (no fan-out step ran)")
    return "\n".join(lines)


def scenario_classes(lines: str) -> list[type[ScenarioUser]]:
    """The user classes of `SCENARIOS_VARIABLE`'s value (`PATH` or `PATH@N` a line); two
    scenarios of the same name get distinct class names.

    Raises:
        ScenarioError: a file that is not a valid scenario.
        VTError: no scenario given (the locustfile was run without `vt load`).
    """
    classes: list[type[ScenarioUser]] = []
    for line in filter(None, (row.strip() for row in lines.splitlines())):
        path, count = parse_choice(line)
        cls = user_class(load_scenario(path), fixed_count=count)
        taken = {c.__name__ for c in classes}
        if cls.__name__ in taken:
            cls.__name__ = cls.__qualname__ = f"{cls.__name__}{len(classes) + 1}"
        classes.append(cls)
    if not classes:
        raise VTError(
            f"no scenario given: run this through `vt load SCENARIO` ({SCENARIOS_VARIABLE})"
        )
    return classes
