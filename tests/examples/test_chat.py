"""The seed's chatroom, over the wire, in async and sync form (issue 2's acceptance tests).

Each behaviour is written twice, `async` and `_sync`, from the same vt API: the sync client is
a thin wrapper over the async one, and these tests are how we keep it as short to use.
"""

from __future__ import annotations

import pytest

import vt
from reference_impl.examples.chat import WINDOW

pytestmark = pytest.mark.anyio


async def test_message_fans_out_across_sessions(vt_async_client: vt.AsyncClient) -> None:
    alice = await vt_async_client.new_session("alice").open("/")
    bob = await vt_async_client.new_session("bob").open("/")
    await bob.ready()
    assert alice.session.cookies["via_session"] != bob.session.cookies["via_session"]

    result = await alice.action("Send", name="alice", draft="hello bob")

    assert result.status == 200
    assert result.body == b""
    line = await bob.expect_text("article", "alice: hello bob", timeout=2)
    assert line.text == "alice: hello bob"
    assert bob.signals["draft"] == ""  # bob's own draft untouched
    await alice.expect_signal("draft", "")  # alice's cleared by the server


def test_message_fans_out_across_sessions_sync(vt_client: vt.Client) -> None:
    alice = vt_client.new_session("alice").open("/")
    bob = vt_client.new_session("bob").open("/")
    bob.ready()

    assert alice.action("Send", name="alice", draft="hello bob").status == 200
    line = bob.expect_text("article", "alice: hello bob", timeout=2)
    assert line.text == "alice: hello bob"
    alice.expect_signal("draft", "")


async def test_messages_accumulate_in_order(vt_async_client: vt.AsyncClient) -> None:
    writer = await vt_async_client.new_session("writer").open("/")
    await writer.ready()
    await writer.action("Send", name="w", draft="first")
    await writer.action("Send", draft="second")
    await writer.expect_text("article", "w: second")

    reader = await vt_async_client.new_session("reader").open("/", connect=False)

    lines = [p.text for p in reader.select("article p")]
    assert lines == ["w: first", "w: second"]


def test_messages_accumulate_in_order_sync(vt_client: vt.Client) -> None:
    writer = vt_client.new_session("writer").open("/")
    writer.ready()
    writer.action("Send", name="w", draft="first")
    writer.action("Send", draft="second")
    writer.expect_text("article", "w: second")

    reader = vt_client.new_session("reader").open("/", connect=False)

    assert [p.text for p in reader.select("article p")] == ["w: first", "w: second"]


async def test_markup_in_a_message_arrives_as_text(vt_async_client: vt.AsyncClient) -> None:
    mallory = await vt_async_client.new_session("mallory").open("/")
    bob = await vt_async_client.new_session("bob").open("/")
    await bob.ready()
    payload = "<script>alert(1)</script>"

    await mallory.action("Send", name="<b>m</b>", draft=payload)

    line = await bob.expect_text("article", payload, timeout=2)
    assert line.text == f"<b>m</b>: {payload}"
    assert bob.select("article script") == []
    assert bob.select("article b") == []
    assert bob.scripts == []  # nothing the browser would have run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bob.transcript.decode()


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
