"""The sans-process parts of clusters: the codec, the in-memory backplane's semantics, subject
tokens, the scenario format's new verbs, and `{run}` in a scenario's route."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

import vt
from reference_impl import codec
from reference_impl.backplane import Cell, MemoryBackplane
from reference_impl.examples import cluster
from reference_impl.jetstream import token, untoken
from vt.client.server import LiveServer
from vt.scenario.format import ScenarioError

pytestmark = pytest.mark.cluster


@dataclass(frozen=True)
class Item:
    name: str
    tags: tuple[str, ...]


def test_values_cross_as_json_and_come_back_as_their_declared_type() -> None:
    value = {"a": [Item("x", ("p", "q"))], "b": []}
    data = codec.encode(value)
    assert data == {"a": [{"name": "x", "tags": ["p", "q"]}], "b": []}
    assert codec.decode(dict[str, list[Item]], data) == value
    assert codec.decode(int | None, None) is None


def test_a_handle_declared_in_a_class_registers_its_type() -> None:
    assert codec.registered_type("app", "cluster_counters") == dict[str, int]
    assert codec.registered_type("events", "cluster_log") is cluster.Post


class Sink:
    def __init__(self) -> None:
        self.cells: list[tuple[str, bytes, int]] = []
        self.records: list[tuple[str, int, bytes]] = []

    def cell(self, key: str, value: bytes, revision: int) -> None:
        self.cells.append((key, value, revision))

    def record(self, log: str, seq: int, data: bytes) -> None:
        self.records.append((log, seq, data))


def test_the_memory_backplane_swaps_only_at_the_latest_revision_and_replays() -> None:
    async def run() -> None:
        one = MemoryBackplane("n1")
        assert await one.swap("k", b"1", 0) == 1
        assert await one.swap("k", b"2", 0) is None  # a lost race: the caller reloads
        assert await one.load("k") == Cell(b"1", 1)
        assert await one.append("log", b"a", "id1") == 1
        assert await one.append("log", b"a", "id1") == 1  # a retry appends nothing
        late = Sink()
        await one.node("n2").open(late)  # a node that starts later replays everything
        assert late.cells == [("k", b"1", 1)]
        assert late.records == [("log", 1, b"a")]
        assert await one.append("log", b"b", "id2") == 2
        await asyncio.sleep(0)  # deliveries are scheduled on the node's loop
        assert late.records[-1] == ("log", 2, b"b")

    asyncio.run(run())


def test_keys_become_subject_tokens_and_back() -> None:
    for key in ("log", "cluster_log", "a.b c", "sess.ab12.x", "ü/*>"):
        assert untoken(token(key)) == key
        assert all(c.isalnum() or c in "_-~" for c in token(key))


def test_the_new_verbs_are_checked_when_a_scenario_is_read() -> None:
    head = '[scenario]\nnodes = 3\n[[step]]\nopen = "a"\nnode = 2\n'
    scenario = vt.parse_scenario(head + '[[step]]\nfault = "cut"\nbytes = 300\n')
    assert scenario.nodes == 3
    assert scenario.needs_proxies
    assert scenario.controls_nodes
    with pytest.raises(ScenarioError, match="unknown fault 'flood'"):
        vt.parse_scenario(head + '[[step]]\nfault = "flood"\n')
    with pytest.raises(ScenarioError, match="kill_node's argument must be a int"):
        vt.parse_scenario(head + '[[step]]\nkill_node = "two"\n')
    with pytest.raises(ScenarioError, match="no tab named 'b'"):
        vt.parse_scenario(head + '[[step]]\nrecover = "b"\n')


def test_fault_steps_need_servers_that_vt_started() -> None:
    scenario = vt.parse_scenario(
        '[scenario]\nroute = "/session"\n[[step]]\nopen = "a"\n[[step]]\nkill_node = 1\n'
    )
    with LiveServer(cluster.create_app()) as server:

        async def run() -> None:
            async with vt.AsyncClient(server.url) as client:
                await vt.run_scenario(client, scenario)

        with pytest.raises(vt.ScenarioFailed, match="needs servers that vt started"):
            anyio.run(run)


def test_run_tokens_are_replaced_in_the_route() -> None:
    scenario = vt.parse_scenario('[scenario]\nroute = "/chat/r-{run}"\n[[step]]\nopen = "a"\n')
    with LiveServer(cluster.create_app()) as server:

        async def run() -> str:
            async with vt.AsyncClient(server.url) as client:
                done = await vt.run_scenario(client, scenario)
                return str(done.tabs["a"].path)

        path = anyio.run(run)
    assert path.startswith("/chat/r-")
    assert "{run}" not in path


def test_every_must_of_the_cluster_spec_is_named_by_a_cluster_or_faults_scenario() -> None:
    text = (Path(__file__).resolve().parents[2] / "specs" / "cluster.md").read_text()
    clauses: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        found = re.match(r"^(C\d+\.\d+)\.\s", line)
        if found:
            current = found.group(1)
        elif line.startswith("#"):
            current = ""
        if current:
            clauses[current] = clauses.get(current, "") + line
    musts = {n for n, body in clauses.items() if "MUST" in body}
    named = {
        section
        for s in vt.bundled_scenarios()
        if s.level in ("cluster", "faults")
        for section in s.sections
    }
    # A scenario naming C3 covers its clauses C3.1, C3.2...
    uncovered = sorted(n for n in musts if n not in named and n.split(".")[0] not in named)
    assert musts, "no MUST clause found in specs/cluster.md"
    assert not uncovered, f"MUST clauses no scenario names: {uncovered}"
