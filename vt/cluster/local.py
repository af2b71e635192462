"""A local cluster: one `nats-server` with JetStream and N nodes of an app on it, all on
127.0.0.1 free ports, optionally behind Toxiproxy; `vt serve EXAMPLE --nodes N` and the
`cluster` and `faults` levels start one (specs/cluster.md §C7).

The nodes are separate processes started from a command template, so a node can be killed
(SIGKILL) and restarted on its port. The default template serves a reference example
(`vt serve EXAMPLE --port {port} --nats {nats} --node {node}`); a user's own node (Go or
Python) is tested the same way by giving its command, with the placeholders `{port}`,
`{nats}`, `{node}` (`n1`...) and `{index}` (1...).
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import UsageError
from .procs import LOOPBACK, Process, free_port
from .tools import NATS_SERVER, find_tool
from .toxiproxy import Toxiproxy

__all__ = ["LocalCluster", "node_command"]

STARTUP = 60.0  # seconds a process gets to come up (a loaded machine imports slowly)


def node_command(example: str, *, backplane: bool = True, faults: Sequence[str] = ()) -> list[str]:
    """The default node template: `vt serve EXAMPLE` on `{port}` (on `{nats}` as `{node}`)."""
    argv = [sys.executable, "-m", "vt", "serve", example, "--port", "{port}"]
    if backplane:
        argv += ["--nats", "{nats}", "--node", "{node}"]
    for fault in faults:
        argv += ["--fault", fault]
    return argv


class LocalCluster:
    """`nats-server` and `nodes` node processes (module docstring). Use as a context manager,
    or `start()` and `stop()`; `urls` are what clients talk to (the proxies' when `proxies`).

    Args:
        command: the node template (a string split as a shell would, or a list); default
            `node_command(example)`.
        nodes: how many nodes.
        backplane: start NATS and pass it to the nodes (False: independent nodes, for one
            node behind a proxy).
        proxies: put a Toxiproxy in front of each node and, per node, of NATS, for faults.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        nodes: int = 3,
        *,
        backplane: bool = True,
        proxies: bool = False,
        workdir: Path | None = None,
    ) -> None:
        if nodes < 1:
            raise UsageError("a cluster has at least one node")
        self.template = shlex.split(command) if isinstance(command, str) else list(command)
        self.count = nodes
        self.backplane = backplane
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="vt-cluster-"))
        self._own_workdir = workdir is None
        self.nats: Process | None = None
        self.nats_port = 0
        self.toxiproxy: Toxiproxy | None = Toxiproxy(self.workdir) if proxies else None
        self.ports = [free_port() for _ in range(nodes)]
        self.nodes: list[Process] = []
        self.urls: list[str] = [f"http://{LOOPBACK}:{port}" for port in self.ports]
        self._nats_for: list[int] = [0] * nodes  # the NATS port each node is given

    def __repr__(self) -> str:
        return f"<LocalCluster {self.count} nodes {self.urls}>"

    # -- start and stop ---------------------------------------------------------------------------

    def start(self) -> LocalCluster:
        """Start NATS, the proxies and the nodes; returns once every node is ready."""
        try:
            if self.backplane:
                self.nats_port = free_port()
                self.start_nats()
            if self.toxiproxy is not None:
                self._proxies(self.toxiproxy.start())
            else:
                self._nats_for = [self.nats_port] * self.count
            self.nodes = [self._node(i) for i in range(self.count)]
            for node in self.nodes:
                node.start()
            for index in range(self.count):
                self.wait_ready(index + 1)
        except BaseException:
            self.stop()
            raise
        return self

    def _proxies(self, toxiproxy: Toxiproxy) -> None:
        for index, port in enumerate(self.ports):
            name = f"n{index + 1}"
            self.urls[index] = f"http://{LOOPBACK}:{toxiproxy.proxy(name, port)}"
            if self.backplane:
                self._nats_for[index] = toxiproxy.proxy(f"nats-{name}", self.nats_port)

    def start_nats(self) -> None:
        """Start (or restart, on the same port and store) the NATS server."""
        store = self.workdir / "jetstream"
        argv = [find_tool(NATS_SERVER), "-js", "-a", LOOPBACK, "-p", str(self.nats_port)]
        self.nats = Process("nats-server", [*argv, "-sd", str(store)], self.workdir / "nats.log")
        self.nats.start().wait_port(self.nats_port, STARTUP)

    def stop_nats(self) -> None:
        """Stop the NATS server (the nodes keep trying to reconnect)."""
        if self.nats is not None:
            self.nats.stop()

    def _node(self, index: int) -> Process:
        values = {
            "port": str(self.ports[index]),
            "nats": f"nats://{LOOPBACK}:{self._nats_for[index]}",
            "node": f"n{index + 1}",
            "index": str(index + 1),
        }
        argv = [part.format(**values) for part in self.template]
        return Process(f"node n{index + 1}", argv, self.workdir / f"n{index + 1}.log")

    def wait_ready(self, number: int) -> None:
        """Wait until node `number` (1-based) answers `/readyz`."""
        port = self.ports[number - 1]
        self.nodes[number - 1].wait_http(f"http://{LOOPBACK}:{port}/readyz", STARTUP)

    def stop(self) -> None:
        """Stop every node, the proxies and NATS (each bounded); remove the work folder."""
        # Every node is told first, so that they wind down together: one grace period for
        # the cluster, not one per node (a loaded machine made the sum exceed a minute).
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.stop()
        if self.toxiproxy is not None:
            self.toxiproxy.stop()
        if self.nats is not None:
            self.nats.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        """The process ids of everything started (for leak checks)."""
        processes = [*self.nodes, self.nats, self.toxiproxy.process if self.toxiproxy else None]
        return [p.pid for p in processes if p is not None and p.pid is not None]

    # -- node faults ------------------------------------------------------------------------------

    def alive(self, number: int) -> bool:
        """True while node `number` runs."""
        return self.node(number).alive

    def node(self, number: int) -> Process:
        """Node `number` (1-based)."""
        if not 1 <= number <= self.count:
            raise UsageError(f"node {number}: the cluster has nodes 1..{self.count}")
        return self.nodes[number - 1]

    def kill(self, number: int) -> None:
        """SIGKILL node `number`: it dies mid-request, as a crashed machine's would."""
        self.node(number).kill()

    def restart(self, number: int) -> None:
        """Start node `number` again on its port; returns once it is ready (it has replayed
        the backplane: specs/cluster.md §C5)."""
        node = self.node(number)
        node.stop()
        self.nodes[number - 1] = self._node(number - 1).start()
        self.wait_ready(number)

    # -- wire faults ------------------------------------------------------------------------------

    def fault(self, kind: str, target: int | str | None, options: dict[str, Any]) -> None:
        """Apply a wire fault (`vt.cluster.faults.FAULTS`) to node `target`'s proxy (its
        number), to the NATS proxies (`"nats"`, or `"nats-N"` for one node's), or to every
        node's proxy (None). `outage` without a target is a backplane outage."""
        if self.toxiproxy is None:
            raise UsageError("faults need the proxies: this cluster was started without them")
        if kind == "clear":
            self.toxiproxy.reset()
            return
        if target is None:
            target = "nats" if kind == "outage" else "nodes"
        names = self._proxy_names(target)
        self.toxiproxy.fault(names, kind, options)

    def _proxy_names(self, target: int | str) -> list[str]:
        numbers = range(1, self.count + 1)
        if target == "nodes":
            return [f"n{i}" for i in numbers]
        if target == "nats":
            if not self.backplane:
                raise UsageError("no backplane: this cluster has no NATS to cut")
            return [f"nats-n{i}" for i in numbers]
        if isinstance(target, int):
            self.node(target)
            return [f"n{target}"]
        if isinstance(target, str) and target.startswith("nats-n"):
            self.node(int(target[6:]))
            return [target]
        raise UsageError(f"fault target {target!r}: a node number, 'nats' or 'nats-nN'")
