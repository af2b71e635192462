"""The `cluster` and `faults` levels against real processes: nats-server, node processes and
Toxiproxy, all started and stopped by vt (no process is left behind).

The default run takes a few scenarios; the `slow` level runs every scenario of both levels,
on one node and on three (the faults level), and every mutant backplane against the level.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import vt
from vt.cli.batch import Batch, Outcome
from vt.scenario.clusters import ClusterPool

from .support import no_process_left, require_tools

pytestmark = pytest.mark.cluster

BY_NAME = {s.name: s for s in vt.bundled_scenarios()}
CLUSTER = [s for s in BY_NAME.values() if s.level == "cluster"]
FAULTS = [s for s in BY_NAME.values() if s.level == "faults"]
# mutant backplane (reference_impl.jetstream.BACKPLANE_FAULTS) -> a scenario that catches it
MUTANTS = {
    "backplane-drop-record": "cluster-order",
    "backplane-reorder": "cluster-sequence",
    "backplane-lose-conflict": "cluster-counter",
    "backplane-forget-offset": "cluster-restart",
}


def run(scenarios: Sequence[vt.Scenario], tmp: Path, **pool: object) -> list[Outcome]:
    batch = Batch(url=None, timeout=10.0, output=tmp, clusters=ClusterPool(**pool))  # type: ignore[arg-type]
    with no_process_left():
        return batch.run(scenarios, lambda outcome: None)


def failures(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.scenario.name}: {o.message[:2000]}" for o in outcomes if o.status != "passed"]


def test_cross_node_scenarios_pass_on_three_nodes_started_from_a_command(tmp_path: Path) -> None:
    require_tools("nats-server")
    names = ["cluster-fan-out", "cluster-sequence", "cluster-counter", "cluster-session"]
    # A user's own nodes are started the same way (`--node-command`); here the reference's.
    command = (
        f"{sys.executable} -m vt serve cluster --port {{port}} --nats {{nats}} --node {{node}}"
    )
    assert not failures(run([BY_NAME[n] for n in names], tmp_path, command=command))


def test_a_cut_mid_event_is_survived_and_a_runtime_without_resync_is_caught(
    tmp_path: Path,
) -> None:
    require_tools("toxiproxy-server")
    cut = BY_NAME["faults-cut"]
    assert not failures(run([cut], tmp_path / "ok"))
    [broken] = run([cut], tmp_path / "broken", faults=["skip-resync"])
    assert broken.status == "failed", "a runtime that skips the resync survived a cut stream"
    assert "did not all show 'which is longer than three hundred bytes'" in broken.message


def test_pytest_runs_a_faults_scenario_on_a_local_cluster_it_starts_and_stops(
    pytester: pytest.Pytester,
) -> None:
    require_tools("toxiproxy-server")
    with no_process_left():
        # In process, pytest-playwright's soft-assertion scope would nest in the outer run's.
        result = pytester.runpytest(
            "-p", "no:playwright", "--vt-level", "faults", "-k", "faults-cut", "-v"
        )
    result.assert_outcomes(passed=1, deselected=len(FAULTS) - 1)
    result.stdout.fnmatch_lines(["*vt::faults::faults-cut PASSED*"])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_cluster_level_passes(tmp_path: Path) -> None:
    require_tools()
    assert not failures(run(CLUSTER, tmp_path))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("nodes", [1, 3])
def test_the_faults_level_passes(nodes: int, tmp_path: Path) -> None:
    require_tools()
    assert not failures(run(FAULTS, tmp_path, nodes=nodes))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", sorted(MUTANTS))
def test_each_mutant_backplane_is_caught(fault: str, tmp_path: Path) -> None:
    require_tools("nats-server")
    [outcome] = run([BY_NAME[MUTANTS[fault]]], tmp_path, backplane_faults=[fault])
    assert outcome.status == "failed", f"mutant backplane {fault!r} survived {MUTANTS[fault]}"
