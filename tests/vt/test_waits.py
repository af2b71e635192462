"""`wait_until` waits for a truthy value, as Playwright's `wait_for_function` does: an empty
list (`tab.select` of something not there yet), 0, "" keep it waiting (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

import vt
from tests.vt.apps import OLD_TAB, READY, Scripted, patch

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]


async def test_wait_until_waits_for_a_truthy_value(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        tab = await client.new_session("a").open("/")
        await tab.ready()
        with pytest.raises(vt.WaitTimeout, match="show #missing"):
            await tab.wait_until(
                lambda: tab.select("#missing"), description="show #missing", timeout=0.2
            )
        found: list[Any] = []

        async def wait() -> None:
            found.append(
                await tab.wait_until(lambda: tab.select("#late"), description="show #late")
            )

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert found == []  # still waiting: [] is not a result
            scripted.push(patch(f'<div id="{OLD_TAB}"><p id="late">here</p></div>'))
        assert [e.text for e in found[0]] == ["here"]
        # 0 and "" wait too; a truthy value is returned as is.
        with pytest.raises(vt.WaitTimeout):
            await tab.wait_until(lambda: len(tab.select("#missing")), description="n", timeout=0.1)
        assert await tab.wait_until(lambda: tab.text("#late"), description="text") == "here"


def test_the_sync_wait_until_waits_for_a_truthy_value(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]])
    with vt.Client(serve(scripted.app()), timeout=2) as client:
        tab = client.new_session("a").open("/")
        with pytest.raises(vt.WaitTimeout):
            tab.wait_until(lambda: tab.select("#missing"), timeout=0.2)  # the call


async def test_converging_on_empty_content_still_returns(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY], [READY]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        tabs = await client.open_tabs(2)
        assert await client.expect_converged(tabs, "div") == ""  # the tab's empty <div>
