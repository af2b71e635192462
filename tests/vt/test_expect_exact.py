"""`expect_text(..., exact=True)`: the element's whole text (whitespace-normalised), not a
substring, so a counter showing `-15` does not pass a check for `15` (issue 22). The same
`exact = true` in a scenario's `expect_text` step, for one tab and for several."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import vt
from tests.vt.apps import READY, Scripted, page

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]
MINUS = page(body='<p id="n">\n  -15 </p><p id="m">15</p>')


async def test_exact_text_is_the_whole_text(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]], page_html=MINUS)
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        tab = await client.new_session("a").open("/")
        await tab.expect_text("#n", "15")  # a substring: the trap exact closes
        with pytest.raises(vt.WaitTimeout) as caught:
            await tab.expect_text("#n", "15", exact=True, timeout=0.2)
        assert "did not show exactly '15' in '#n'" in str(caught.value)
        assert (await tab.expect_text("#n", "-15", exact=True)).text == "-15"
        # The first matching element that shows it exactly, not the first element.
        assert (await tab.expect_text("p", "15", exact=True)).get("id") == "m"
        other = await client.new_session("b").open("/")
        found = await client.expect_all([tab, other], "p", "15", exact=True)
        assert [e.get("id") for e in found] == ["m", "m"]
        with pytest.raises(vt.WaitTimeout):
            await client.expect_all([tab, other], "#n", "15", exact=True, timeout=0.2)


def test_the_sync_twin_takes_exact(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]], page_html=MINUS)
    with vt.Client(serve(scripted.app()), timeout=2) as client:
        tab = client.new_session("a").open("/")
        with pytest.raises(vt.WaitTimeout):
            tab.expect_text("#n", "15", exact=True, timeout=0.2)


def scenario(step: str) -> vt.Scenario:
    return vt.parse_scenario(
        f'[scenario]\nname = "x"\n\n[[step]]\nopen = "a"\n[[step]]\nopen = "b"\n{step}',
        path="exact.toml",
    )


@pytest.mark.parametrize("tabs", ['tab = "a"', 'tabs = ["a", "b"]'])
async def test_a_scenario_step_checks_the_exact_text(serve: Serve, tabs: str) -> None:
    scripted = Scripted(streams=[[READY], [READY]], page_html=MINUS)
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        substring = scenario(f'[[step]]\nexpect_text = "15"\nselector = "#n"\n{tabs}\n')
        await vt.run_scenario(client, substring)
        exact = scenario(
            f'[[step]]\nexpect_text = "15"\nselector = "#n"\nexact = true\n{tabs}\ntimeout = 0.2\n'
        )
        with pytest.raises(vt.ScenarioFailed) as failed:
            await vt.run_scenario(client, exact)
        assert "exactly '15'" in failed.value.reason
        whole = scenario(f'[[step]]\nexpect_text = "-15"\nselector = "#n"\nexact = true\n{tabs}\n')
        await vt.run_scenario(client, whole)


def test_exact_must_be_a_boolean() -> None:
    with pytest.raises(vt.ScenarioError, match="exact"):
        scenario('[[step]]\nexpect_text = "15"\nexact = "yes"\n')
