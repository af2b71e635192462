"""The counter example: a tab-scoped count moved by a step signal."""

from __future__ import annotations

import pytest

import vt
from reference_impl import App
from reference_impl.examples import counter

pytestmark = pytest.mark.anyio


@pytest.fixture
def vt_app() -> App:
    return counter.create_app()


async def test_steps_up_and_down(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    assert tab.signals["step"] == 1

    await tab.action("Inc", step=5)
    await tab.expect_text("#count", "5")
    await tab.action("Dec", step=2)

    await tab.expect_text("#count", "3")


async def test_each_tab_has_its_own_count(vt_async_client: vt.AsyncClient) -> None:
    first = await vt_async_client.new_session().open("/")
    second = await first.fork()
    await first.ready()
    await second.ready()

    await first.action("Inc")

    await first.expect_text("#count", "1")
    await second.expect_quiet(0.3)
    assert second.text("#count") == "0"
