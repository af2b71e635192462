"""Two nodes in one process on the in-memory backplane (no NATS): what a backplane does, fast.
And the default: an app given no backplane keeps its state in its own hub, as before."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

import vt
from reference_impl.backplane import MemoryBackplane
from reference_impl.examples import cluster
from vt.client.server import LiveServer

pytestmark = pytest.mark.cluster


@pytest.fixture
def two_nodes() -> Iterator[list[str]]:
    backplane = MemoryBackplane("n1")
    servers = [
        LiveServer(cluster.create_app(backplane=b)).start()
        for b in (backplane, backplane.node("n2"))
    ]
    try:
        yield [s.url for s in servers]
    finally:
        for server in servers:
            server.stop()


def test_a_message_on_one_node_reaches_a_tab_on_the_other(two_nodes: list[str]) -> None:
    async def run() -> None:
        async with vt.AsyncClient(two_nodes) as client:
            a = await client.new_session("a").open("/chat/r")
            b = await client.new_session("b").open("/chat/r")
            assert (a.label, b.label) == ("a/1@n1", "b/1@n2")  # reports name the node
            await a.ready()
            await b.ready()
            await a.action("Send", name="a", draft="hello", mid="1")
            await a.action("Send", name="a", draft="hello", mid="1")  # a retry: shown once
            await a.action("Send", name="a", draft="again", mid="2")
            await client.expect_all([a, b], "#log", "a: hello; a: again;")
            assert b.text("#count") == "2"

    anyio.run(run)


def test_concurrent_increments_from_both_nodes_end_exact(two_nodes: list[str]) -> None:
    async def run() -> None:
        async with vt.AsyncClient(two_nodes) as client:
            tabs = [await client.new_session().open("/counter/k") for _ in range(4)]
            async with anyio.create_task_group() as group:
                for tab in tabs:
                    for _ in range(5):
                        group.start_soon(tab.action, "Inc")
            await client.expect_all(tabs, "#count", "20")

    anyio.run(run)


def test_a_session_on_two_nodes_shares_its_state(two_nodes: list[str]) -> None:
    async def run() -> None:
        async with vt.AsyncClient(two_nodes) as client:
            session = client.new_session("s", node=1)
            here = await session.open("/session")
            there = await session.open("/session", node=2)
            assert there.label.endswith("@n2")
            await here.ready()
            await there.ready()
            await there.action("Inc")
            await client.expect_all([here, there], "#visits", "1")

    anyio.run(run)


def test_without_a_backplane_an_app_keeps_its_state_in_its_hub() -> None:
    app = cluster.create_app()
    assert app.replicator is None
    assert app.hub.replicator is None
    with LiveServer(app) as server:

        async def run() -> None:
            async with vt.AsyncClient(server.url) as client:
                tab = await client.new_session().open("/counter/x")
                await tab.ready()
                await tab.action("Inc")
                await tab.expect_text("#count", "1")

        anyio.run(run)
    assert app.state["cluster_counters"] == {"x": 1}
