"""Via's own harness tests (via-protocol.md §8.3: `vt/vt_test.go` and the chat example),
expressed with vt against the reference runtime. Each test names the Go test it mirrors.

Where Via's harness matches substrings in raw bytes, these assert on the page a user would
see; the raw-byte form is kept where the Go test is about the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import vt
from reference_impl import App
from reference_impl.examples import chat
from tests.vt.apps import Counter, Uploader, app_for

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]


@pytest.fixture
async def counter(serve: Serve) -> Any:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        yield client


async def test_serve_drives_the_mounted_app_over_http(counter: vt.AsyncClient) -> None:
    """TestServe_drivesTheMountedAppOverHTTP: a re-fetched page carries the `init` value."""
    tab = await counter.new_session().open("/", connect=False)
    again = await tab.fork()
    assert again.signals["greeting"] == "hello"
    assert again.text("#greeting") == "hello"


async def test_serve_works_when_mount_happens_after_serve(serve: Serve) -> None:
    """TestServe_serverWorksWhenMountHappensAfterServe."""
    app = App()
    url = serve(app)
    app.mount("/late", Counter)
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/late")
        await tab.ready()
        assert tab.id.startswith("/late_")


async def test_new_client_picks_up_tab_id_from_render(counter: vt.AsyncClient) -> None:
    """TestNewClient_picksUpTabIDFromRender and TestTabIDFromHTML_extractsTheRenderedViaTabID:
    the id is read from meta[data-signals] (entities decoded, then JSON)."""
    tab = await counter.new_session().open("/", connect=False)
    assert tab.id.startswith("/_")
    assert re.fullmatch(r"/_[0-9a-f]{64}", tab.id)
    assert tab.select_one(f'[id="{tab.id}"]') is not None  # the view container


async def test_html_returns_the_last_fetched_body(counter: vt.AsyncClient) -> None:
    """TestClient_HTML_returnsLastFetchedBody."""
    tab = await counter.new_session().open("/", connect=False)
    assert "<button" in tab.page_html
    assert ">+<" in tab.page_html
    assert tab.text("#inc") == "+"


async def test_reload_refetches_and_switches_tab_id(counter: vt.AsyncClient) -> None:
    """TestClient_Reload_refetchesAndReturnsCurrentBody: a fresh body and a different id."""
    tab = await counter.new_session().open("/", connect=False)
    old_id, old_html = tab.id, tab.page_html
    await tab.reload()
    assert tab.id != old_id
    assert tab.page_html != old_html
    assert tab.id in tab.page_html


async def test_action_returns_response_status(counter: vt.AsyncClient) -> None:
    """TestActionCall_Fire_returnsResponseStatus."""
    tab = await counter.new_session().open("/")
    result = await tab.action("Inc")
    assert result.status == 200
    assert result.body == b""


async def test_action_addressed_by_the_markup(counter: vt.AsyncClient) -> None:
    """TestAction_acceptsBoundMethodValue: Go gets typo safety from a method value; vt gets it
    from the page: `click` fires the action the button's data-on:click names."""
    tab = await counter.new_session().open("/")
    await tab.ready()
    (result,) = await tab.click("#inc")
    assert result.status == 200
    assert result.name == "POST /_action/Inc"
    await tab.expect_text("#count", "1")


async def test_unknown_action_is_404(counter: vt.AsyncClient) -> None:
    """TestActionCall_Fire_returns404OnUnknownMethod."""
    tab = await counter.new_session().open("/", connect=False)
    assert (await tab.action("Nope")).status == 404


async def test_signals_reach_the_action_and_queue_until_the_stream(counter: vt.AsyncClient) -> None:
    """TestActionCall_WithSignal_carriesValueIntoActionPayload: three actions before any
    stream; the first connect delivers only the newest render."""
    tab = await counter.new_session().open("/", connect=False)
    for n in (1, 2, 3):
        assert (await tab.action("Set", n=n)).status == 200
    await tab.ready()
    assert tab.text("#count") == "3"
    renders = [e for e in tab.events if isinstance(e, vt.PatchElements)]
    assert len(renders) == 1
    assert ">1<" not in tab.transcript.decode()


async def test_upload_sends_a_multipart_body(serve: Serve) -> None:
    """TestActionRequest_WithFile_sendsMultipartBody."""
    async with vt.AsyncClient(serve(app_for(Uploader)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        result = await tab.upload("Upload", {"file": ("me.png", b"PNG-bytes")}, note="from-test")
        assert result.status == 200
        await tab.expect_text("#got", "me.png:PNG-bytes:from-test")
        assert b"me.png:PNG-bytes:from-test" in tab.transcript


async def test_upload_text_fields_carry_scalar_types(serve: Serve) -> None:
    """TestActionRequest_WithFile_andWithSignal_combineScalarTypes."""
    async with vt.AsyncClient(serve(app_for(Uploader)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        result = await tab.upload("Show", {"file": ("f.txt", b"x")}, s="text", i=7, b=True)
        assert result.status == 200
        await tab.expect_text("#got", "'text' 7 True")


async def test_stream_carries_heartbeats(serve: Serve) -> None:
    """TestSSE_streamsHeartbeatsAndPatches: with a 50 ms heartbeat, a patch-signals arrives
    with no action; vt recognises it as a heartbeat and it changes nothing."""
    async with vt.AsyncClient(serve(app_for(Counter, heartbeat=0.05)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        before = tab.signals.to_dict()
        beat = await tab.expect_event(
            lambda e: isinstance(e, vt.PatchSignals) and e.is_heartbeat,
            description="receive a heartbeat",
        )
        assert isinstance(beat, vt.PatchSignals)
        assert beat.signals == {}
        assert tab.signals.to_dict() == before
        assert tab.timeline.of_kind("heartbeat")


async def test_sessions_are_isolated_and_forks_share(counter: vt.AsyncClient) -> None:
    """TestNewClient/TestClient_Fork/TestClient_SSE_usesIsolatedHTTPTransport: in Python the
    isolation that matters is the cookie jar: each session has its own, a fork shares it, and
    the stream and actions use it (a foreign cookie would be a 403)."""
    alice = await counter.new_session("alice").open("/")
    bob = await counter.new_session("bob").open("/")
    alice2 = await alice.fork()
    for tab in (alice, bob, alice2):
        await tab.ready()
        assert (await tab.action("Inc")).status == 200
    assert alice.session.cookies == alice2.session.cookies
    assert alice.session.cookies["via_session"] != bob.session.cookies["via_session"]


async def test_local_signals_are_refused(counter: vt.AsyncClient) -> None:
    """TestWithSignal_warnsOnUnderscoreLocalSignal: Via warns; vt refuses, since a browser
    never sends `_` signals and a test that does proves nothing about one."""
    tab = await counter.new_session().open("/", connect=False)
    with pytest.raises(vt.UsageError, match="are local"):
        await tab.action("Inc", _theme="dark")
    with pytest.raises(vt.UsageError, match="are local"):
        await tab.upload("Inc", {}, _theme="dark")
    assert (await tab.action("Inc", theme="dark")).status == 200


async def test_errors_become_a_toast_without_internals(counter: vt.AsyncClient) -> None:
    """TestAction_defaultPanicToastHidesInternalMessage."""
    tab = await counter.new_session().open("/")
    await tab.ready()
    await tab.action("Fail")
    toast = await tab.expect_script("toast")
    assert toast.value == "Something went wrong"
    assert b"secret internals" not in tab.transcript


# -- internal/examples/chat/main_test.go -----------------------------------------------------


@pytest.fixture
async def chat_client(serve: Serve) -> Any:
    async with vt.AsyncClient(serve(chat.create_app()), timeout=3) as client:
        yield client


async def test_chat_message_fans_out_across_sessions(chat_client: vt.AsyncClient) -> None:
    """TestChat_messageFansOutAcrossSessions, typed and sent the way a user does it."""
    alice = await chat_client.new_session("alice").open("/")
    bob = await chat_client.new_session("bob").open("/")
    await bob.ready()

    await alice.type("input[placeholder=name]", "alice")
    await alice.type("input[placeholder='message…']", "hello bob")
    await alice.press("input[placeholder='message…']", "Enter")

    line = await bob.expect_text("article", "alice: hello bob", timeout=2)
    assert line.text == "alice: hello bob"
    assert bob.signals["draft"] == ""


async def test_chat_messages_accumulate_in_order(chat_client: vt.AsyncClient) -> None:
    """TestChat_messagesAccumulateInOrder: a fresh page GET shows first before second."""
    writer = await chat_client.new_session("writer").open("/")
    await writer.ready()
    await writer.type("input[placeholder='message…']", "first")
    await writer.click("button")
    await writer.type("input[placeholder='message…']", "second")
    await writer.click("button")
    await writer.expect_text("article", "second")

    reader = await chat_client.new_session("reader").open("/", connect=False)

    assert [p.text for p in reader.select("article p")] == ["Anon: first", "Anon: second"]


async def test_chat_fan_out_reaches_every_reader_and_no_one_else(serve: Serve) -> None:
    """The §7 fan-out probe on the chat: every tab of every session converges on the same
    room; a second app's tabs (another room) never see the message."""
    room = serve(chat.create_app())
    other = serve(chat.create_app())
    async with (
        vt.AsyncClient(room, timeout=3) as client,
        vt.AsyncClient(other, timeout=3) as elsewhere,
    ):
        readers = await client.open_tabs(5)
        strangers = await elsewhere.open_tabs(2)
        await readers[0].action("Send", name="r1", draft="hi all")
        await client.expect_all(readers, "article", "r1: hi all")
        await client.expect_converged(readers, "article")
        await elsewhere.expect_none(strangers, "hi all", 0.3)


def test_chat_fan_out_sync(serve: Serve) -> None:
    """The same fan-out assertions from the sync client (one implementation underneath)."""
    with vt.Client(serve(chat.create_app()), timeout=3) as client:
        readers = client.open_tabs(3)
        readers[0].type("input[placeholder='message…']", "sync hello")
        readers[0].press("input[placeholder='message…']", "Enter")
        lines = client.expect_all(readers, "article", "Anon: sync hello")
        assert [line.text for line in lines] == ["Anon: sync hello"] * 3
        assert "sync hello" in client.expect_converged(readers, "article")
        client.expect_none(readers, "never sent", 0.2)
