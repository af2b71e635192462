"""The scopes example: a tab, a session and an app counter side by side (specs §8)."""

from __future__ import annotations

import pytest

import vt
from reference_impl import App
from reference_impl.examples import scopes

pytestmark = pytest.mark.anyio


@pytest.fixture
def vt_app() -> App:
    return scopes.create_app()


async def test_each_counter_reaches_exactly_its_scope(vt_async_client: vt.AsyncClient) -> None:
    a = await vt_async_client.new_session("s1").open("/")
    b = await a.fork()
    c = await vt_async_client.new_session("s2").open("/")
    for tab in (a, b, c):
        await tab.ready()

    await a.action("IncTab")
    await a.action("IncSess")
    await a.action("IncApp")

    await a.expect_text("#app-count", "1")
    await b.expect_text("#app-count", "1")
    await c.expect_text("#app-count", "1")
    assert (a.text("#tab-count"), a.text("#session-count")) == ("1", "1")
    assert (b.text("#tab-count"), b.text("#session-count")) == ("0", "1")
    assert (c.text("#tab-count"), c.text("#session-count")) == ("0", "0")


async def test_a_new_tab_starts_from_the_shared_values(vt_async_client: vt.AsyncClient) -> None:
    a = await vt_async_client.new_session().open("/")
    await a.ready()
    await a.action("IncSess")
    await a.action("IncApp")
    await a.expect_text("#app-count", "1")

    sibling = await a.fork()
    stranger = await vt_async_client.new_session().open("/", connect=False)

    assert [sibling.text(f"#{k}-count") for k in ("tab", "session", "app")] == ["0", "1", "1"]
    assert [stranger.text(f"#{k}-count") for k in ("tab", "session", "app")] == ["0", "0", "1"]
