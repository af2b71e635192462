"""The fan-out probe of Via's research notes §7 (specs/protocol.md §8), for each shared scope.

Tabs: A (writer, session S1, reads the key), B (S1, reads it), C (S2, reads it), D (S1, on a
route that does not read it). One action on A; then exactly the expected frames arrive, and
absence is checked over a quiet window.
"""

from __future__ import annotations

import anyio
import pytest
from probe_app import SCOPE_ACTIONS

import vt

pytestmark = pytest.mark.anyio

# Which tabs re-render, per scope: B shares A's session, C does not, D reads nothing.
EXPECTED = {
    "sess": {"A": True, "B": True, "C": False, "D": False},
    "app": {"A": True, "B": True, "C": True, "D": False},
    "events": {"A": True, "B": True, "C": True, "D": False},
}


def renders(tab: vt.AsyncTab, since: int) -> list[vt.PatchElements]:
    return [e for e in tab.events[since:] if isinstance(e, vt.PatchElements)]


@pytest.mark.parametrize("scope", ["sess", "app", "events"])
async def test_fanout_probe(vt_async_client: vt.AsyncClient, scope: str) -> None:
    action, selector = SCOPE_ACTIONS[scope]
    a = await vt_async_client.new_session("S1").open("/shared")
    tabs = {
        "A": a,
        "B": await a.fork(),
        "C": await vt_async_client.new_session("S2").open("/shared"),
        "D": await a.fork("/other"),
    }
    for tab in tabs.values():
        await tab.ready()
    marks = {name: len(tab.events) for name, tab in tabs.items()}

    result = await a.action(action)

    assert (result.status, result.body) == (200, b"")
    for name, tab in tabs.items():
        if EXPECTED[scope][name]:
            await tab.expect_text(selector, "1")
    async with anyio.create_task_group() as group:  # one quiet window for the four tabs
        for tab in tabs.values():
            group.start_soon(tab.expect_quiet, 0.3)  # nothing more: no duplicate or stray frame
    for name, tab in tabs.items():
        got = renders(tab, marks[name])
        want = 1 if EXPECTED[scope][name] else 0
        assert len(got) == want, f"{name} got {len(got)} patch-elements, expected {want}"
        if want:
            assert got[0].elements.startswith(f'<div id="{tab.id}">')
            assert [
                s
                for s in tab.events[marks[name] :]
                if isinstance(s, vt.PatchSignals) and not s.is_heartbeat
            ] == []
    if scope == "sess":
        assert tabs["C"].text("#sess") == "0"
