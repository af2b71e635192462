"""The seed's chatroom, over the wire, in async and sync form.

The headline behaviours (fan-out, order, escaping) are the bundled scenario files
(`specs/scenarios/chat/*.toml`), run here through `vt.run_scenario` and its sync twin
`vt.Client.run_scenario`: one definition, also run by `vt run` and `pytest --vt`.
"""

from __future__ import annotations

import pytest

import vt
from reference_impl.examples.chat import WINDOW

pytestmark = pytest.mark.anyio


def scenario(name: str) -> vt.Scenario:
    """A bundled scenario file (`specs/scenarios/<name>.toml`): the one definition of the
    behaviour, run here, by `vt run` and by `pytest --vt`."""
    return next(s for s in vt.bundled_scenarios() if s.name == name)


async def test_message_fans_out_across_sessions(vt_async_client: vt.AsyncClient) -> None:
    run = await vt.run_scenario(vt_async_client, scenario("chat-fan-out"))

    alice, bob = run.tabs["alice"], run.tabs["bob"]
    assert alice.session.cookies["via_session"] != bob.session.cookies["via_session"]


def test_message_fans_out_across_sessions_sync(vt_client: vt.Client) -> None:
    run = vt_client.run_scenario(scenario("chat-fan-out"))

    assert set(run.tabs) == {"alice", "bob"}
    assert [s.ok for s in run.steps] == [True] * len(run.scenario.steps)


async def test_messages_accumulate_in_order(vt_async_client: vt.AsyncClient) -> None:
    run = await vt.run_scenario(vt_async_client, scenario("chat-order"))

    texts = [p.text for p in run.tabs["reader"].select("article p")]
    assert texts == [f"w: first {run.token}", f"w: second {run.token}"]


def test_messages_accumulate_in_order_sync(vt_client: vt.Client) -> None:
    run = vt_client.run_scenario(scenario("chat-order"))

    assert [s.step.verb for s in run.steps][-2:] == ["expect_text", "expect_text"]


async def test_markup_in_a_message_arrives_as_text(vt_async_client: vt.AsyncClient) -> None:
    run = await vt.run_scenario(vt_async_client, scenario("chat-escaping"))

    assert run.tabs["bob"].scripts == []


async def test_a_scenario_fails_naming_its_step(vt_async_client: vt.AsyncClient) -> None:
    text = """
[scenario]
app = "chat"

[[step]]
open = "writer"

[[step]]
action = "Send"
signals = { draft = "first" }

[[step]]
expect_text = "never sent"
selector = "article"
timeout = 0.3
"""
    with pytest.raises(vt.ScenarioFailed) as failed:
        await vt.run_scenario(vt_async_client, vt.parse_scenario(text, path="broken.toml"))

    message = str(failed.value)
    assert "broken.toml" in message
    assert "step 3 (line 12): expect_text 'never sent'" in message
    assert "did not show 'never sent' in 'article' within 0.3s" in message
    assert failed.value.step.number == 3


async def test_blank_draft_sends_nothing(vt_async_client: vt.AsyncClient) -> None:
    alice = await vt_async_client.new_session("alice").open("/")
    await alice.ready()

    await alice.action("Send", draft="   ")

    await alice.expect_quiet(0.3)
    assert alice.select("article p") == []


async def test_name_defaults_to_anon_and_is_trimmed(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    assert tab.signals["name"] == "Anon"

    await tab.action("Send", name="   ", draft="  hi  ")
    await tab.action("Send", name=" zoe ", draft="yo")

    await tab.expect_text("article", "zoe: yo")
    assert [p.text for p in tab.select("article p")] == ["Anon: hi", "zoe: yo"]


async def test_room_keeps_the_newest_window(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    for n in range(WINDOW + 5):
        await tab.action("Send", draft=f"m{n}")

    await tab.expect_text("article", f"m{WINDOW + 4}")
    lines = [p.text for p in tab.select("article p")]
    assert lines == [f"Anon: m{n}" for n in range(5, WINDOW + 5)]
