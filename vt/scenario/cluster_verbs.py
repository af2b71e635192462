"""The scenario verbs of clusters and faults (specs/scenario-format.md, specs/cluster.md): a
base of the runner's per-run state, so the runner module keeps the protocol verbs.

`fault`, `kill_node` and `restart_node` need a `NodeControl`: the servers vt started (a local
cluster, or the user's nodes from `--node-command`). `recover` is what a browser's reconnect
does after a fault: a tab whose stream ended opens a new one (the server resyncs it, §5.5),
retrying while its node is down; a tab whose session moved to another node (its node was
killed) loads its page there (the session's state is on the backplane, §C5). From that step
on, the tab does so whenever its stream ends again, as Datastar retries (a fault's effect can
land after the step that caused it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import anyio
import anyio.to_thread

from ..client.http import HTTPError
from ..client.tab import AsyncTab
from ..errors import ProtocolError, UsageError
from .format import Step

__all__ = ["ClusterVerbs", "NodeControl"]

_RETRY = 0.1  # seconds between reconnect tries while a node is down


class NodeControl(Protocol):
    """The servers vt started (`vt.cluster.local.LocalCluster` is one)."""

    @property
    def urls(self) -> list[str]:
        """The node URLs clients use, node 1 first."""

    def alive(self, number: int) -> bool:
        """True while node `number` (1-based) runs."""

    def kill(self, number: int) -> None:
        """SIGKILL node `number`."""

    def restart(self, number: int) -> None:
        """Start node `number` again; return when it is ready."""

    def fault(self, kind: str, target: int | str | None, options: dict[str, Any]) -> None:
        """Apply wire fault `kind` to `target` (a node number, `nats`, or every node)."""


class ClusterVerbs:
    """`fault`, `kill_node`, `restart_node`, `recover`, and the node a new session gets."""

    control: NodeControl | None
    client: Any
    sessions: dict[str, Any]
    run: Any
    timeout: float | None
    many: Callable[..., list[Any]]
    wait: Callable[[Step], float | None]
    _turn = 0
    watched: set[AsyncTab]

    def need_control(self, step: Step) -> NodeControl:
        if self.control is None:
            raise UsageError(
                f"{step.verb} needs servers that vt started: run without a URL (vt starts the "
                "scenario's app), or give the nodes' command (--node-command)"
            )
        return self.control

    def node_for_session(self, node: int | None) -> int | None:
        """The node a new session is pinned to: `node`, or the live nodes in turn."""
        if node is not None or self.control is None:
            return node
        control = self.control
        live = [i for i in range(1, len(control.urls) + 1) if control.alive(i)]
        if not live:
            raise AssertionError("every node is down")
        self._turn += 1
        return live[(self._turn - 1) % len(live)]

    async def v_fault(self, step: Step) -> None:
        control = self.need_control(step)
        options = {k: v for k, v in step.options.items() if k not in ("node", "for")}
        target = step.options.get("node")
        await anyio.to_thread.run_sync(control.fault, str(step.argument), target, options)
        seconds = step.options.get("for")
        if seconds is not None:
            # The fault clears itself while the next steps run (a stall that passes).
            async def clear_later() -> None:
                await anyio.sleep(float(seconds))  # the fault's duration, not synchronisation
                await anyio.to_thread.run_sync(control.fault, "clear", None, {})

            self.client.hub.start(clear_later)

    async def v_kill_node(self, step: Step) -> None:
        control = self.need_control(step)
        number = int(step.argument)
        await anyio.to_thread.run_sync(control.kill, number)
        dead = control.urls[number - 1]
        # The load balancer sends the dead node's sessions to the live nodes.
        for session in self.sessions.values():
            if getattr(session, "base_url", None) == dead:
                session.pin(self.node_for_session(None))
        for tab in self.run.tabs.values():
            if getattr(tab, "node", None) == dead:  # a tab on a node of its own
                tab.node = control.urls[(self.node_for_session(None) or 1) - 1]

    async def v_restart_node(self, step: Step) -> None:
        control = self.need_control(step)
        await anyio.to_thread.run_sync(control.restart, int(step.argument))

    async def v_recover(self, step: Step) -> None:
        deadline = self.wait(step) or 10.0
        for tab in self.many(step):
            await recover(tab, deadline)
            if tab not in self.watched:
                self.watched.add(tab)
                self.client.hub.start(lambda tab=tab: keep_recovering(tab, deadline))


async def keep_recovering(tab: AsyncTab, deadline: float) -> None:
    """Recover `tab` each time its stream ends, until the client closes; a failure is kept
    for the tab's next wait to raise."""
    while True:
        while tab.connected:
            await tab.hub.changed(tab).wait()
        if tab.closed or getattr(tab.session, "closed", False):
            return  # closed by the scenario, or the client is closing
        try:
            await recover(tab, deadline)
        except Exception as exc:  # kept for the tab's next wait, never crashing the client
            tab.recording.failures.append(exc)
            return


async def recover(tab: AsyncTab, deadline: float) -> None:
    """Bring `tab` back after a fault (module docstring), within `deadline` seconds."""
    tab.recording.excuse_cutoffs()  # the injected fault cut the stream, not the server
    moved = tab.page is not None and not tab.page.url.startswith(tab.base_url + "/")
    end = time.monotonic() + deadline
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            if moved:
                await tab.reload(beacon=False)
            elif tab.connected:
                return
            else:
                await tab.connect()
            await tab.ready(max(0.1, end - time.monotonic()))
            return
        except (HTTPError, OSError, ProtocolError) as exc:
            last = exc
            tab.recording.excuse_cutoffs()
            await tab.drop()
            await anyio.sleep(_RETRY)  # the node is down or restarting: try again
    raise AssertionError(f"{tab.label} did not recover within {deadline:g}s: {last!r}")
