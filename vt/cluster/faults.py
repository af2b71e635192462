"""The wire faults a scenario's `fault` step names (specs/scenario-format.md), sans-IO: the
names and what each does. `vt.cluster.toxiproxy` applies them."""

from __future__ import annotations

__all__ = ["FAULTS", "NODE_VERBS"]

FAULTS: dict[str, str] = {
    "latency": "each chunk to the client waits `ms` (plus up to `jitter`) milliseconds",
    "bandwidth": "the client's side gets at most `rate` KB/s",
    "cut": "connections close after `bytes` more bytes to the client (mid-event)",
    "reset": "connections are reset (TCP RST) as soon as data flows",
    "stall": "nothing flows to the client (nothing is lost) until cleared",
    "outage": "the proxy is down: connections cut, new ones refused (NATS: a backplane outage)",
    "clear": "every fault removed, every proxy up",
}
NODE_VERBS = frozenset({"fault", "kill_node", "restart_node"})
"""The verbs that need vt to have started the servers (a local cluster, `--node-command`)."""
