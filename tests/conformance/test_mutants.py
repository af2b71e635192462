"""The mutation check: each deliberately broken variant of the reference runtime
(`reference_impl.options.FAULTS`, `specs/conformance-app.md` §14) fails the suite.

The default run checks each mutant against the scenario expected to catch it; the `slow`
level runs the whole conformance suite against every mutant and prints the kill matrix by
level (`scripts/test --slow`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vt
from reference_impl.examples.conformance import create_app
from reference_impl.options import FAULTS
from vt.cli.batch import Batch, Outcome

# fault -> the scenario that must catch it.
EXPECTED = {
    "drop-ready": "core-stream",
    "app-state-per-session": "scopes-app",
    "bad-json-500": "errors-status-codes",
    "unescaped-markup": "security-markup-as-text",
    "foreign-tab-accepted": "security-foreign-tab",
    "forget-queued-render": "core-queued-render",
    "reorder-chat": "scopes-room-order",
    "skip-resync": "recovery-resync",
}
# A mutant fails its scenario by a wait running out; a short deadline keeps the check quick
# (the reference runtime passes every wait of the suite well within it, test_suite.py). The
# slow level's whole-suite matrix keeps a longer one: the reference passes each scenario there.
DEADLINE = 0.5
MATRIX_DEADLINE = 2.0
SUITE = [s for s in vt.bundled_scenarios() if s.app == "conformance"]
BY_NAME = {s.name: s for s in SUITE}


def mutant(fault: str) -> Callable[[vt.Scenario], Any]:
    """A fresh conformance app with `fault` switched on, per scenario."""
    return lambda scenario: create_app(faults=[fault])


def run_against(
    fault: str, scenarios: list[vt.Scenario], output: Path, deadline: float = DEADLINE
) -> list[Outcome]:
    batch = Batch(url=None, timeout=deadline, output=output, app=mutant(fault))
    return batch.run(scenarios, lambda outcome: None)


def test_every_fault_has_an_expected_scenario() -> None:
    assert set(EXPECTED) == set(FAULTS)
    missing = sorted(set(EXPECTED.values()) - set(BY_NAME))
    assert not missing, f"expected scenarios that are not in the suite: {missing}"


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_the_expected_scenario_kills_the_mutant(fault: str, tmp_path: Path) -> None:
    scenario = BY_NAME[EXPECTED[fault]]
    [outcome] = run_against(fault, [scenario], tmp_path)
    assert outcome.status == "failed", (
        f"mutant {fault!r} ({FAULTS[fault]}) survived scenario {scenario.name!r}"
    )
    # The failure names the scenario and the step that caught it.
    assert f"scenario {scenario.name!r}" in outcome.message


@pytest.mark.slow
@pytest.mark.timeout(900)  # the whole suite once per mutant: minutes on a shared machine
def test_kill_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    levels = sorted({s.level for s in SUITE})
    killed_by: dict[str, set[str]] = {level: set() for level in levels}
    for fault in sorted(FAULTS):
        for outcome in run_against(fault, SUITE, tmp_path / fault, MATRIX_DEADLINE):
            if outcome.status == "failed":
                killed_by[outcome.scenario.level].add(fault)
    killed = set().union(*killed_by.values())
    with capsys.disabled():
        print(f"\nmutants killed, of {len(FAULTS)}, by level:")
        for level in levels:
            names = ", ".join(sorted(killed_by[level])) or "-"
            print(f"  {level:<10}{len(killed_by[level]):>3}  {names}")
        print(f"  {'suite':<10}{len(killed):>3}")
    assert killed == set(FAULTS), f"mutants no scenario kills: {sorted(set(FAULTS) - killed)}"
