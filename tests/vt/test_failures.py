"""What a failing wait says: the closest thing seen, the timeline since the last action with
relative times, and where the transcript was saved."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import vt
from reference_impl.examples import chat
from tests.vt.apps import OLD_TAB, READY, Scripted, page, patch

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]


@pytest.fixture
async def chat_client(serve: Serve, artifacts: Path) -> Any:
    async with vt.AsyncClient(serve(chat.create_app()), timeout=2, artifacts_dir=artifacts) as c:
        yield c


async def test_a_text_timeout_explains_itself(chat_client: vt.AsyncClient, artifacts: Path) -> None:
    alice = await chat_client.new_session("alice").open("/")
    bob = await chat_client.new_session("bob").open("/")
    await bob.ready()
    await alice.action("Send", name="alice", draft="hello bib")
    await bob.expect_text("article", "hello bib")

    with pytest.raises(vt.WaitTimeout) as info:
        await bob.expect_text("article", "alice: hello bob", timeout=0.2)

    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == "bob/1 did not show 'alice: hello bob' in 'article' within 0.2s."
    assert lines[1] == "  now: 'alice: hello bib' in 'article'"
    assert re.fullmatch(r"  tab bob/1 id='/_[0-9a-f]{6}.*, stream #1 open", lines[2]) or (
        lines[2].startswith("  tab bob/1 id='/_") and lines[2].endswith("stream #1 open")
    )
    assert lines[3] == "  timeline since the last action (alice/1 Send), times relative to it:"
    timeline = "\n".join(lines[4:-1])
    # bob's own view of the action: the re-render it caused, at a positive relative time.
    assert re.search(r"^\s+\+\d+\.\d{3}s  event\s+patch-elements outer #/_", timeline, re.M)
    assert "text 'Via Chat alice: hello bib" in timeline
    saved = Path(lines[-1].removeprefix("  transcript: "))
    assert saved.parent == artifacts
    assert saved.name == "bob-1.sse"
    assert b"hello bib" in saved.read_bytes()
    assert saved.with_suffix(".html").read_text().count("hello bib") == 1


async def text_timeout_while(
    tab: vt.AsyncTab, scripted: Scripted, selector: str, wanted: str, change: bytes
) -> list[str]:
    """The lines of the `WaitTimeout` of `expect_text(selector, wanted)` when the page
    changes (`change` is pushed on the stream) while the wait runs."""
    failures: list[str] = []

    async def fail() -> None:
        with pytest.raises(vt.WaitTimeout) as info:
            await tab.expect_text(selector, wanted, timeout=0.3)
        failures.append(str(info.value))

    async with anyio.create_task_group() as group:
        group.start_soon(fail)
        await anyio.wait_all_tasks_blocked()  # the wait saw the first text
        scripted.push(change)
    return failures[0].splitlines()


@contextlib.asynccontextmanager
async def scripted_tab(serve: Serve, body: str) -> AsyncIterator[tuple[vt.AsyncTab, Scripted]]:
    """A ready tab on a scripted page with `body`, and the script of its stream."""
    scripted = Scripted(streams=[[READY]], page_html=page(body=body))
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        tab = await client.new_session("t").open("/")
        await tab.ready()
        yield tab, scripted


async def test_a_text_timeout_shows_the_text_the_page_shows_now(serve: Serve) -> None:
    # Issue 17: the message said 'tea: 0' (the first of two equally close texts the wait saw)
    # while the page showed 'tea: 1'.
    async with scripted_tab(serve, '<p id="opt-tea">tea: 0</p>') as (tab, scripted):
        change = patch('<p id="opt-tea">tea: 1</p>')
        lines = await text_timeout_while(tab, scripted, "#opt-tea", "tea: 2", change)
        assert tab.text("#opt-tea") == "tea: 1"
    assert lines[1] == "  now: 'tea: 1' in '#opt-tea'"
    assert not any("closest earlier" in line for line in lines)  # 'tea: 0' is no closer


async def test_a_text_timeout_also_shows_a_closer_text_seen_earlier(serve: Serve) -> None:
    async with scripted_tab(serve, '<p id="cup">tea: 0</p>') as (tab, scripted):
        change = patch('<p id="cup">coffee</p>')
        lines = await text_timeout_while(tab, scripted, "#cup", "tea: 2", change)
        assert lines[1:3] == ["  now: 'coffee' in '#cup'", "  closest earlier: 'tea: 0'"]
        # Nothing matches the selector now: said, with the page's text.
        gone = patch('<div id="cup2">gone</div>', selector="#cup", mode="outer")
        lines = await text_timeout_while(tab, scripted, "#cup", "tea: 2", gone)
    assert lines[1] == "  now: nothing matches '#cup'; the page's text is 'gone'"
    assert lines[2] == "  closest earlier: 'coffee'"


async def test_a_signal_timeout_lists_the_values_seen(chat_client: vt.AsyncClient) -> None:
    tab = await chat_client.new_session("ann").open("/")
    await tab.ready()
    await tab.action("Send", draft="x")
    with pytest.raises(vt.WaitTimeout) as info:
        await tab.expect_signal("draft", "never", timeout=0.2)
    message = str(info.value)
    assert "ann/1 did not have signal 'draft' == 'never' within 0.2s." in message
    assert "closest seen: values seen: " in message
    assert "timeline since the last action (ann/1 Send)" in message
    assert re.search(r"\+\d\.\d{3}s  action\s+Send", message)
    assert re.search(r"\+\d\.\d{3}s  event\s+patch-signals \{\"draft\":\"\"\}", message)


async def test_a_tab_that_never_connected_says_so(chat_client: vt.AsyncClient) -> None:
    tab = await chat_client.new_session("cy").open("/", connect=False)
    with pytest.raises(vt.WaitTimeout, match=r"never connected: call connect\(\) or ready\(\)"):
        await tab.expect_text("article", "anything", timeout=0.1)


async def test_a_fan_out_timeout_names_only_the_tabs_that_missed(
    chat_client: vt.AsyncClient,
) -> None:
    tabs = await chat_client.open_tabs(3)
    await tabs[2].drop()  # this one will miss the message
    await tabs[0].action("Send", name="a", draft="to all")

    with pytest.raises(vt.WaitTimeout) as info:
        await chat_client.expect_all(tabs, "article", "a: to all", timeout=0.5)

    message = str(info.value)
    assert message.startswith(
        "user3/1 did not all show 'a: to all' in 'article' within 0.5s. (1 of 3 tabs did not.)"
    )
    assert "tab user3/1" in message
    assert "stream #1 ended: dropped by the test" in message
    assert "tab user1/1" not in message


async def test_a_convergence_timeout_shows_the_difference(chat_client: vt.AsyncClient) -> None:
    tabs = await chat_client.open_tabs(3)
    await tabs[1].drop()
    await tabs[0].action("Send", name="a", draft="diverge")
    await chat_client.expect_all([tabs[0], tabs[2]], "article", "diverge")

    with pytest.raises(vt.WaitTimeout) as info:
        await chat_client.expect_converged(tabs, "article", timeout=0.3)

    message = str(info.value)
    assert message.startswith(
        "user2/1 did not converge on the same 'article' within 0.3s. (1 of 3 tabs did not.)"
    )
    assert (
        "2 different versions of 'article'; 1 tab(s) differ from the most common one: user2/1"
        in (message)
    )
    assert "\n-<p>\n-<strong>a: </strong>diverge</p>\n" in message
    assert "tab user1/1" not in message


async def test_a_leak_names_the_tabs_that_received_the_marker(chat_client: vt.AsyncClient) -> None:
    tabs = await chat_client.open_tabs(2)
    failures: list[str] = []

    async def watch() -> None:
        with pytest.raises(vt.Leak) as info:  # a VTError, and an AssertionError for pytest
            await chat_client.expect_none(tabs, "secret-7", window=2)
        failures.append(str(info.value))

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        await anyio.wait_all_tasks_blocked()  # the watch is waiting before the send
        await tabs[0].action("Send", name="a", draft="secret-7")

    (message,) = failures
    assert "received 'secret-7', which no tab of this group should have." in message
    # It fails at the first leak, naming every tab that had received the marker by then.
    assert re.match(r"user[12]/1(, user[12]/1)? received 'secret-7'", message)


async def test_quiet_failure_lists_what_arrived(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=2) as client:
        tab = await client.new_session("dee").open("/")
        await tab.ready()
        scripted.push(patch(f'<div id="{OLD_TAB}">noise</div>'))
        with pytest.raises(vt.UnexpectedEvent) as info:  # a VTError, and an AssertionError
            await tab.expect_quiet(0.5)
        assert tab.timeline.entries[-1].kind == "failed"  # a report's timeline ends with it
        message = str(info.value)
        assert message.startswith("dee/1 was expected to stay quiet for 0.50s, but received:")
        assert re.search(r"patch-elements outer #/_a+… \(88 B\) text 'noise'", message)
        assert "text 'noise'" in message
