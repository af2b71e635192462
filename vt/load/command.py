"""`vt load`: the command line, turned into Locust's.

    vt load SCENARIO|FILE[@N] ... [Locust's options] [--vt-timeout S] [--vt-events-only]
            [--vt-pace S] [--vt-summary FILE]

Each scenario (a file, or the name of a bundled one; `@N`: exactly N users of it) becomes a
Locust user class; everything after the scenarios goes to Locust unchanged (`--headless`,
`-u`, `-r`, `-t`, `--host URL[,URL...]`, `--csv`, `--html`, `--processes`, `--master`,
`--worker --master-host`, ...), vt's own options among them. The command replaces itself with
`python -m locust -f vt/load/locustfile.py ...` (`locust_command`), so Locust patches the
standard library for gevent before anything imports it, and Ctrl-C reaches Locust directly.

This module imports neither Locust nor gevent: the CLI checks the scenarios (a bad file is
reported as `vt run` reports it) without them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..scenario.format import Scenario, bundled_scenarios, load_scenario

__all__ = ["SCENARIOS_VARIABLE", "Chosen", "choose", "locust_command", "parse_choice"]

SCENARIOS_VARIABLE = "VT_LOAD_SCENARIOS"
"""The environment variable that carries the scenario files to the locustfile (one a line,
`PATH` or `PATH@N`), in every process Locust starts."""


@dataclass(frozen=True, slots=True)
class Chosen:
    """A scenario given to `vt load`, and how many users run it (0: Locust's share)."""

    scenario: Scenario
    fixed_count: int = 0

    def line(self) -> str:
        """Its line in `SCENARIOS_VARIABLE`."""
        path = str(Path(self.scenario.path).resolve())
        return f"{path}@{self.fixed_count}" if self.fixed_count else path


def parse_choice(text: str) -> tuple[str, int]:
    """`FILE@N` -> (FILE, N); `FILE` -> (FILE, 0).

    Raises:
        UsageError: N is not a positive whole number.
    """
    name, at, count = text.rpartition("@") if "@" in text else (text, "", "")
    if not at:
        return text, 0
    if not count.isdigit() or int(count) < 1:
        raise UsageError(f"{text!r}: the count after @ must be a whole number of users >= 1")
    return name, int(count)


def choose(texts: list[str]) -> list[Chosen]:
    """The scenarios named by `texts` (files, or names of bundled scenarios, each maybe with
    `@N`).

    Raises:
        ScenarioError: a file that is not a valid scenario (file, line and step named).
        UsageError: a name that is neither a file nor a bundled scenario.
    """
    chosen = []
    bundled: dict[str, Scenario] | None = None
    for text in texts:
        name, count = parse_choice(text)
        if Path(name).is_file():
            chosen.append(Chosen(load_scenario(name), count))
            continue
        if bundled is None:
            bundled = {s.name: s for s in bundled_scenarios()}
        if name not in bundled:
            raise UsageError(f"{name!r} is neither a scenario file nor a bundled scenario")
        chosen.append(Chosen(bundled[name], count))
    return chosen


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """`vt load`'s arguments -> (the scenarios: the leading arguments that are not options,
    Locust's arguments)."""
    count = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    return argv[:count], argv[count:]


def locust_command(
    chosen: list[Chosen], locust_args: list[str]
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run Locust on `chosen` with `locust_args`."""
    locustfile = Path(__file__).with_name("locustfile.py")
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), *locust_args]
    environment = dict(os.environ)
    environment[SCENARIOS_VARIABLE] = "\n".join(c.line() for c in chosen)
    return argv, environment


def run(argv: list[str]) -> int:  # noqa: RET503 (os.execve does not return)
    """`vt load ARGS`: check the scenarios, then become Locust (returns only on a usage
    error, with exit code 2)."""
    texts, locust_args = split_arguments(argv)
    if not texts:
        print("vt load: give at least one scenario (a file, or a bundled scenario's name)",
              file=sys.stderr)  # fmt: skip
        return 2
    chosen = choose(texts)
    if "--vt-events-only" in locust_args:
        from .lean import events_refusal

        for c in chosen:
            why = events_refusal(c.scenario)
            if why is not None:
                raise UsageError(f"--vt-events-only: scenario {c.scenario.name!r}: {why}")
    command, environment = locust_command(chosen, locust_args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, environment)  # the process is Locust's from here
