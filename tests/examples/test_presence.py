"""The presence example: who is online and who is typing, app-scoped."""

from __future__ import annotations

import pytest

import vt
from reference_impl import App
from reference_impl.examples import presence

pytestmark = pytest.mark.anyio


@pytest.fixture
def vt_app() -> App:
    return presence.create_app()


async def test_who_is_online_follows_connects_and_close_beacons(
    vt_async_client: vt.AsyncClient,
) -> None:
    ada = await vt_async_client.new_session("ada").open("/")
    await ada.ready()
    await ada.action("Rename", name="ada")
    await ada.expect_text("#online", "ada")
    bob = await vt_async_client.new_session("bob").open("/")
    bob.signals.patch({"name": "bob"})  # typed into the name field before the stream opened

    await bob.ready()
    await bob.action("Rename")

    await ada.expect_text("#online", "ada bob")
    await bob.close()
    await ada.wait_until(
        lambda: [li.text for li in ada.select("#online li")] == ["ada"],
        description="see bob leave",
    )


async def test_typing_shows_to_others_only_and_clears_on_send(
    vt_async_client: vt.AsyncClient,
) -> None:
    ada = await vt_async_client.new_session("ada").open("/")
    bob = await vt_async_client.new_session("bob").open("/")
    for tab, name in ((ada, "ada"), (bob, "bob")):
        await tab.ready()
        await tab.action("Rename", name=name)

    await ada.action("Typing", draft="hel")

    await bob.expect_text("#typing", "ada typing…")
    assert ada.text("#typing") == ""
    await ada.action("Send", draft="hello")
    await bob.expect_text("article", "ada: hello")
    await bob.wait_until(lambda: bob.text("#typing") == "", description="see ada stop typing")


async def test_typing_binding_uses_datastar_1_modifier_syntax(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/", connect=False)

    assert 'data-on:input__debounce.200ms="@post(&#39;/_action/Typing&#39;)"' in tab.page_html
