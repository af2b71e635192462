"""A node killed in the middle of 200 concurrent sends from sessions on every node: after it
restarts, every tab on every node shows all 200, each once, in one order (specs/cluster.md
§C3, §C5). A send whose answer never came (its node died) is sent again through a live node
with the same message id, as a client retries; the cluster app shows an id once."""

from __future__ import annotations

import re
import uuid

import anyio
import anyio.to_thread
import pytest

import vt
from vt.client.http import HTTPError
from vt.cluster.local import LocalCluster, node_command

from .support import no_process_left, require_tools

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

SENDS = 200
SENDERS = 6  # two sessions per node
KILLED = 2
KILL_AFTER = 60  # sends answered before node 2 is killed


async def send_all(client: vt.AsyncClient, room: str, cluster: LocalCluster) -> int:
    """Send SENDS messages from SENDERS tabs at once; kill node 2 when KILL_AFTER were
    answered. Returns how many sends were retried."""
    senders = [await client.new_session(f"s{i + 1}").open(room) for i in range(SENDERS)]
    for tab in senders:
        await tab.ready()
    answered = 0
    retried = 0
    killed = anyio.Event()

    async def kill() -> None:
        await anyio.to_thread.run_sync(cluster.kill, KILLED)
        killed.set()

    async def one(tab: vt.AsyncTab, number: int) -> None:
        nonlocal answered, retried
        signals = {"name": "w", "draft": f"msg {number:03}", "mid": f"m{number:03}"}
        for _ in range(20):  # bounded: each retry goes to a live node
            try:
                result = await tab.action("Send", **signals)
                if result.status == 200:
                    break
            except HTTPError:
                pass
            retried += 1
            await killed.wait()  # a failure before the kill is not expected: wait it out
            live = next(n for n in (1, 2, 3) if n != KILLED)
            if tab.session.base_url == cluster.urls[KILLED - 1]:
                tab.session.pin(live)
            await tab.reload(beacon=False)
            await tab.ready()
        else:
            raise AssertionError(f"send {number} never answered 200")
        answered += 1
        if answered == KILL_AFTER:
            client.hub.start(kill)

    async def sender(index: int) -> None:
        tab = senders[index]
        for number in range(index, SENDS, SENDERS):  # one tab's sends are serialised
            await one(tab, number)

    async with anyio.create_task_group() as group:
        for index in range(SENDERS):
            group.start_soon(sender, index)
    assert killed.is_set(), "node 2 was never killed: the test did not test a kill"
    return retried


@pytest.mark.timeout(600)
def test_a_node_killed_mid_sends_loses_nothing() -> None:
    require_tools("nats-server")
    room = f"/chat/kill-{uuid.uuid4().hex[:8]}"
    with no_process_left(), LocalCluster(node_command("cluster"), 3) as cluster:

        async def run() -> None:
            async with vt.AsyncClient(cluster.urls, timeout=60) as client:
                readers = [await client.new_session(f"r{n}", node=n).open(room) for n in (1, 3)]
                retried = await send_all(client, room, cluster)
                await anyio.to_thread.run_sync(cluster.restart, KILLED)
                late = [await client.new_session(f"late{n}", node=n).open(room) for n in (1, 2, 3)]
                tabs = readers + late
                await client.expect_all(tabs, "#count", str(SENDS))
                log = await client.expect_converged(tabs, "#log")
                bodies = re.findall(r"msg (\d{3})", log)
                assert sorted(bodies) == [f"{n:03}" for n in range(SENDS)], bodies
                print(
                    f"\n{SENDS} sends, node {KILLED} killed after {KILL_AFTER}: "
                    f"{retried} retried, all {SENDS} on {len(tabs)} tabs in one order"
                )

        anyio.run(run)
