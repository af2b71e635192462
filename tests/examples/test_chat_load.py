"""The chat under concurrent load: 50 sessions each firing 20 concurrent `Send`s.

Completeness is read on the server: the room's event log (`StateAppEvents` keeps every event;
only the folded value is the newest 50) must hold all 1,000 messages exactly once. Convergence
is read over the wire: every tab's page replica must show the same newest 50, in log order.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import vt
from reference_impl import App
from reference_impl.examples import chat

pytestmark = pytest.mark.anyio

SESSIONS = 50
SENDS = 20


@pytest.fixture
def vt_app() -> App:
    return chat.create_app()


async def test_1000_concurrent_sends_are_all_logged_and_every_tab_converges(
    vt_async_client: vt.AsyncClient, vt_server: Any
) -> None:
    app: App = vt_server.app
    tabs = [await vt_async_client.new_session(f"s{i}").open("/") for i in range(SESSIONS)]
    for tab in tabs:
        await tab.ready()
    statuses: list[int] = []

    async def send(i: int, j: int) -> None:
        result = await tabs[i].action("Send", name=f"s{i}", draft=f"m{i}-{j}")
        statuses.append(result.status)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for j in range(SENDS):
                for i in range(SESSIONS):
                    group.start_soon(send, i, j)

    assert statuses == [200] * (SESSIONS * SENDS)
    log = await anyio.to_thread.run_sync(
        lambda: app.call_threadsafe(lambda: chat.Room.log.events(app))
    )
    sent = {(f"s{i}", f"m{i}-{j}") for i in range(SESSIONS) for j in range(SENDS)}
    assert len(log) == len(sent)  # none lost, none doubled
    assert {(m.sender, m.body) for m in log} == sent
    newest = [f"{m.sender}: {m.body}" for m in log[-chat.WINDOW :]]
    for tab in tabs:
        await tab.wait_until(
            lambda t=tab: [p.text for p in t.select("article p")] == newest,
            description="show the newest 50 messages of the log",
            timeout=20,
        )
