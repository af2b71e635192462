"""The plain profile's chat scenarios (specs/scenarios/datastar-chat/) against the three SDK
targets: one test per scenario and target, all on one process per target, so each scenario
also meets a room earlier runs left messages in (its texts carry `{run}`)."""

from __future__ import annotations

import anyio
import pytest

import vt
from vt.specfiles import specs_dir

SCENARIOS = vt.load_scenarios(specs_dir() / "scenarios" / "datastar-chat")


def test_the_plain_chat_level_has_every_scenario_the_profile_promises() -> None:
    names = {s.name for s in SCENARIOS}
    assert names == {
        f"datastar-chat-{topic}"
        for topic in ("two-sessions", "fan-out", "order", "escaping", "leak", "fifty-sessions")
    }
    assert {s.level for s in SCENARIOS} == {"datastar-chat"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name.removeprefix("datastar-"))
def test_plain_chat_scenario(target_url: str, scenario: vt.Scenario) -> None:
    async def run(url: str) -> vt.ScenarioRun:
        # A generous wait: the machine is shared, and a slow answer is not a wrong one.
        async with vt.AsyncClient(url, timeout=15.0, http_timeout=15.0) as client:
            return await vt.run_scenario(client, scenario)

    result = anyio.run(run, target_url)
    assert all(tab.profile == "datastar" for tab in result.tabs.values())
    assert all(step.ok for step in result.steps)
