"""The local clusters a batch starts for the scenarios that need them (specs/cluster.md): a
scenario with `nodes = N` (or a batch told `--nodes N`), or with a `fault` / `kill_node` step,
runs on a `LocalCluster` of its app's nodes, which later scenarios of the batch reuse (their
`{run}` tokens keep their state apart); a batch stops every cluster it started."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..cluster.local import LocalCluster, node_command
from ..errors import VTError
from .format import Scenario

__all__ = ["ClusterPool"]


@dataclass(slots=True)
class ClusterPool:
    """Local clusters by (command, nodes, proxies), started on first use.

    `command` is the user's node template (`--node-command`); without it each scenario's app is
    served by the reference runtime, with the test-only `faults` and `backplane_faults` (the
    mutation check).
    """

    nodes: int | None = None
    command: str | None = None
    faults: Sequence[str] = ()
    backplane_faults: Sequence[str] = ()
    clusters: dict[tuple[str, int, bool], LocalCluster] = field(default_factory=dict)

    def wants(self, scenario: Scenario) -> bool:
        """True when `scenario` runs on a local cluster rather than the embedded app."""
        count = self.nodes or scenario.nodes
        return count > 1 or scenario.controls_nodes or self.command is not None

    def get(self, scenario: Scenario) -> LocalCluster:
        """The cluster for `scenario` (started, every node up, no fault left on)."""
        count = self.nodes or scenario.nodes
        proxies = scenario.needs_proxies
        backplane = count > 1 or self.command is not None
        if self.command is not None:
            template: str | list[str] = self.command
        else:
            if scenario.app is None or ":" in scenario.app:
                raise VTError(
                    f"scenario {scenario.name!r}: a local cluster serves a reference example "
                    'by name (`app = "cluster"`); give --node-command for another app'
                )
            template = node_command(scenario.app, backplane=backplane, faults=self.faults)
            for fault in self.backplane_faults:
                template += ["--backplane-fault", fault]
        key = (" ".join(template) if isinstance(template, list) else template, count, proxies)
        cluster = self.clusters.get(key)
        if cluster is None:
            cluster = LocalCluster(template, count, backplane=backplane, proxies=proxies)
            self.clusters[key] = cluster.start()
        return cluster

    def tidy(self, cluster: LocalCluster) -> None:
        """After a scenario: faults cleared, killed nodes restarted."""
        if cluster.toxiproxy is not None:
            cluster.fault("clear", None, {})
        for number in range(1, cluster.count + 1):
            if not cluster.alive(number):
                cluster.restart(number)

    def close(self) -> None:
        """Stop every cluster started."""
        clusters, self.clusters = list(self.clusters.values()), {}
        for cluster in clusters:
            cluster.stop()
