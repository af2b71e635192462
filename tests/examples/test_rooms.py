"""The rooms example: per-room channels in one app-scoped map keyed by room name."""

from __future__ import annotations

import pytest

import vt
from reference_impl import App
from reference_impl.examples import rooms

pytestmark = pytest.mark.anyio


@pytest.fixture
def vt_app() -> App:
    return rooms.create_app()


async def test_a_message_stays_in_its_room(vt_async_client: vt.AsyncClient) -> None:
    alice = await vt_async_client.new_session("alice").open("/rooms/tea")
    bob = await vt_async_client.new_session("bob").open("/rooms/tea")
    carol = await vt_async_client.new_session("carol").open("/rooms/coffee")
    lobby = await vt_async_client.new_session("dave").open("/")
    for tab in (alice, bob, carol, lobby):
        await tab.ready()

    await alice.action("Send", name="alice", draft="earl grey")

    await bob.expect_text("article", "alice: earl grey")
    await lobby.expect_text("#room-tea", "tea (1)")
    assert carol.select("article p") == []
    assert carol.text("h1") == "#coffee"
    await carol.action("Send", name="carol", draft="espresso")
    await lobby.expect_text("#room-coffee", "coffee (1)")
    await bob.expect_quiet(0.3, match=lambda e: "espresso" in repr(e))
    assert [p.text for p in bob.select("article p")] == ["alice: earl grey"]


async def test_open_redirects_to_the_room(vt_async_client: vt.AsyncClient) -> None:
    lobby = await vt_async_client.new_session().open("/")
    await lobby.ready()

    await lobby.action("Open", room=" jazz ", follow_redirects=False)

    script = await lobby.wait_until(
        lambda: next(iter(lobby.scripts), None), description="receive a redirect"
    )
    assert (vt.classify_script(script).kind, vt.classify_script(script).value) == (
        "redirect",
        "/rooms/jazz",
    )
