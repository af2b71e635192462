"""The conformance suite (`specs/scenarios/<level>/`) passes, every scenario, against the
reference runtime: each scenario on a fresh instance of the app it names, through the same
batch runner `vt conformance` uses."""

from __future__ import annotations

from pathlib import Path

import pytest

import vt
from vt.cli.batch import Batch

# Every bundled scenario written for a reference app (the plain-Datastar chat level names
# none: tests/targets/ runs it against the SDK targets).
# The cluster and faults levels start processes: tests/cluster/ runs them.
SCENARIOS = [s for s in vt.bundled_scenarios() if s.app is not None and s.embedded]
LEVELS = ("core", "scopes", "recovery", "errors", "security")


def test_the_suite_has_every_level() -> None:
    levels = {s.level for s in SCENARIOS}
    assert levels >= set(LEVELS), f"levels found: {sorted(levels)}"
    for level in LEVELS:
        assert all(s.conformance is not None for s in SCENARIOS if s.level == level), (
            f"every {level} scenario runs against the conformance app or one of its variants"
        )


def test_every_scenario_names_its_sections() -> None:
    nameless = [s.name for s in SCENARIOS if not s.sections]
    assert not nameless, f"scenarios naming no section of specs/protocol.md: {nameless}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.level}/{s.name}" for s in SCENARIOS])
def test_scenario_passes_against_the_reference_runtime(
    scenario: vt.Scenario, tmp_path: Path
) -> None:
    outcome = Batch(url=None, timeout=None, output=tmp_path).one(scenario)
    assert outcome.status == "passed", outcome.message
