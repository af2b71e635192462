"""A load user's runs (`vt.load.driver`): held sessions, samples per step and per tab,
failures that name the tabs, events-only tabs; and the `vt load` command line's checks."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import vt
from reference_impl.examples.chat import create_app
from tests.load.lossy import lossy_chat
from vt.errors import ScenarioFailed
from vt.load.command import choose, parse_choice, split_arguments
from vt.load.driver import LoadDriver, Sample, short_reason
from vt.load.lean import EventsTab, events_refusal, patch_text

pytestmark = pytest.mark.anyio

SCENARIO = vt.load_scenario(Path(__file__).with_name("chat-pair.toml"))
FANOUT = "chat-pair step 5 (line 21): expect_text 'alice: hi {run}'"


@pytest.fixture
def chat() -> Iterator[str]:
    with vt.LiveServer(create_app()) as server:
        yield server.url


def kinds(samples: list[Sample]) -> list[str]:
    return [s.kind for s in samples]


async def test_a_user_holds_its_tabs_and_reports_each_tab_of_the_fan_out(chat: str) -> None:
    async with vt.AsyncClient(chat, timeout=20) as client:
        user = LoadDriver(client, SCENARIO)
        assert kinds(await user.setup()) == ["open", "open", "ready"]
        tabs = [tab for session in user.sessions.values() for tab in session.held]
        first = await user.iterate()
        second = await user.iterate()
        assert [tab for session in user.sessions.values() for tab in session.held] == tabs
    for samples in (first, second):  # held tabs: open and ready are not measured again
        assert kinds(samples) == ["action", "fan-out", "fan-out"], samples
        action, *fanout = samples
        assert {s.tab for s in fanout} == {"alice/1", "bob/1"}
        assert all(s.name == FANOUT and s.error is None for s in fanout)
        # From the action's start to each tab showing the message: at least the action.
        assert all(s.ms >= action.ms > 0 for s in fanout), samples


async def test_a_missed_fan_out_names_the_tabs_and_reads_the_same_every_iteration() -> None:
    with vt.LiveServer(lossy_chat(share=1.0)) as server:
        async with vt.AsyncClient(server.url) as client:
            user = LoadDriver(client, SCENARIO, timeout=0.5)
            await user.setup()
            failed = [(await user.iterate())[-1] for _ in range(2)]
    for sample in failed:
        assert (sample.kind, sample.name) == ("fan-out", FANOUT)
        assert sample.error is not None
        assert sample.error.startswith("WaitTimeout: 2 of 2 tabs did not: alice/1, bob/1 | ")
        assert "did not show 'alice: hi {run}' in 'article' within 0.5s" in sample.error
        assert not re.search(r"hi [0-9a-f]{8}", sample.error), sample.error
    assert failed[0].error == failed[1].error  # one row in Locust's failures, not one a run


async def test_events_only_users_find_the_text_in_the_patches_and_keep_no_page(
    chat: str,
) -> None:
    async with vt.AsyncClient(chat, timeout=20) as client:
        user = LoadDriver(client, SCENARIO, events_only=True)
        await user.setup()
        samples = await user.iterate()
        tabs = [tab for session in user.sessions.values() for tab in session.held]
        assert all(isinstance(tab, EventsTab) for tab in tabs)
        assert [tab.select("article") for tab in tabs] == [[], []]  # no page kept
        assert all(tab.id for tab in tabs)  # the signals are: an action carries the tab id
    assert kinds(samples) == ["action", "fan-out", "fan-out"], samples
    assert all(s.error is None for s in samples)


async def test_events_only_waits_fail_when_the_text_never_comes(chat: str) -> None:
    wrong = vt.parse_scenario(
        Path(SCENARIO.path).read_text().replace("alice: hi {run}", "bob: {run}")
    )
    async with vt.AsyncClient(chat) as client:
        user = LoadDriver(client, wrong, events_only=True, timeout=0.5)
        await user.setup()
        failed = (await user.iterate())[-1]
    assert failed.error is not None
    assert "did not receive a patch showing 'bob: {run}' (events-only)" in failed.error


def test_patch_text_reads_the_elements_as_a_page_shows_them() -> None:
    events = (
        b"event: datastar-patch-elements\n"
        b"data: selector #log\n"
        b"data: elements <article><p><b>alice</b>: hi &lt;3</p>\n"
        b"data: elements   <p>two</p></article>\n\n"
    )
    assert patch_text(events) == "alice: hi <3 two"
    assert patch_text(b"event: datastar-patch-signals\ndata: signals {}\n\n") == ""


def test_events_only_refuses_the_steps_that_read_the_page() -> None:
    clicking = vt.parse_scenario(
        '[scenario]\nname = "c"\n[[step]]\nopen = "a"\n[[step]]\nclick = "b"\n'
    )
    assert events_refusal(clicking) == (
        "step 2 (line 5): click 'b' reads the page, which an events-only user does not keep"
    )
    assert events_refusal(SCENARIO) is None


def test_the_command_line_splits_scenarios_from_locusts_arguments() -> None:
    assert split_arguments(["a.toml", "b.toml@3", "--headless", "-u", "5", "x"]) == (
        ["a.toml", "b.toml@3"],
        ["--headless", "-u", "5", "x"],
    )
    assert parse_choice("dir/a@b.toml@12") == ("dir/a@b.toml", 12)
    assert parse_choice("a.toml") == ("a.toml", 0)
    with pytest.raises(vt.UsageError, match="whole number of users"):
        parse_choice("a.toml@0")
    chosen = choose([f"{SCENARIO.path}@2", "chat-fan-out"])
    assert [(c.scenario.name, c.fixed_count) for c in chosen] == [
        ("chat-pair", 2),
        ("chat-fan-out", 0),
    ]


@pytest.mark.e2e  # `vt load` as a user runs it: the installed command, its own process
@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ([], "give at least one scenario"),
        (["no-such.toml"], "'no-such.toml' is neither a scenario file nor a bundled scenario"),
        (
            ["chat-escaping", "--vt-events-only"],
            "expect_selector 'article script' reads the page, which an events-only user does "
            "not keep",
        ),
    ],
)
def test_vt_load_refuses_bad_arguments_before_starting_locust(
    arguments: list[str], said: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vt", "load", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert said in done.stderr, done.stderr


def test_a_failure_that_is_no_verdict_reports_its_exception_line() -> None:
    traceback = (
        'Traceback (most recent call last):\n  File "x.py", line 1\nhttpx.ReadTimeout: timed out'
    )
    failed = ScenarioFailed(vt.ScenarioRun(SCENARIO), SCENARIO.steps[0], traceback)
    assert short_reason(failed, SCENARIO) == "httpx.ReadTimeout: timed out"
