"""The conformance app (specs/conformance-app.md), feature by feature, and each test-only fault
(`Options.faults`) shown to break what it names, with vt's Python API."""

from __future__ import annotations

import signal
import socket
import sys
import time

import anyio
import httpx
import pytest

import vt
from reference_impl import App
from reference_impl.examples import conformance
from reference_impl.examples.conformance import FEATURES, MAX_UPLOAD, PANIC_TEXT, SLOW_SECONDS
from reference_impl.options import FAULTS
from tests.deadline import deadline

pytestmark = pytest.mark.anyio


@pytest.fixture
def vt_app(request: pytest.FixtureRequest) -> App:
    """The conformance app; parametrize indirectly with a list of faults for a mutant."""
    return conformance.create_app(getattr(request, "param", ()))


def faulty(*faults: str) -> pytest.MarkDecorator:
    """Serve the app with these faults switched on."""
    return pytest.mark.parametrize("vt_app", [list(faults)], indirect=True, ids=faults)


def stream_items(tab: vt.AsyncTab, since: int) -> list[vt.StreamItem]:
    """Events and comments from index `since`, heartbeats left out."""
    return [
        e for e in tab.events[since:] if not (isinstance(e, vt.PatchSignals) and e.is_heartbeat)
    ]


def script_kinds(tab: vt.AsyncTab) -> list[tuple[str, str | None]]:
    return [(k.kind, k.value) for k in map(vt.classify_script, tab.scripts)]


# -- the index and the routes ------------------------------------------------------------------


async def test_index_links_every_feature_and_catches_unmatched_paths(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    index = await session.open("/", connect=False)
    elsewhere = await session.open("/no/such/page", connect=False)

    links = [(a.attrs["href"], a.text) for a in index.select("#features a")]
    assert links == FEATURES
    assert index.text("h1") == "Via conformance app"
    assert elsewhere.text("h1") == "Via conformance app"  # `/` matches every GET path (§2)


async def test_every_route_renders_its_heading(vt_async_client: vt.AsyncClient) -> None:
    session = vt_async_client.new_session()
    headings = {}
    for path, _ in FEATURES:
        tab = await session.open(path, connect=False)
        headings[path] = tab.text("h1")

    assert headings == {
        "/counter": "Counter",
        "/scopes": "Scopes",
        "/chat": "Via Chat",
        "/rooms/lobby": "#lobby",
        "/errors": "Errors",
        "/upload": "Upload",
        "/push": "Push",
        "/broadcast": "Broadcast",
        "/redirect": "Redirect",
        "/slow": "Slow",
        "/ticker": "Ticker",
        "/types": "Types",
        "/hooks": "Hooks",
        "/watch": "Watch",
        "/events": "Events",
        "/markup": "Markup",
        "/broken": "Broken",
        "/drain": "Drain",
        "/expiry": "Expiry",
    }


# -- features ------------------------------------------------------------------------------------


async def test_counter_is_per_tab_and_steps_by_its_signal(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/counter")
    sibling = await tab.fork()
    await sibling.ready()

    await tab.action("Inc", step=2)
    await tab.expect_text("#count", "2")
    await tab.action("Dec", step=1)
    await tab.expect_text("#count", "1")

    await sibling.expect_quiet(0.2)
    assert sibling.text("#count") == "0"


async def test_scopes_reach_exactly_their_scope(vt_async_client: vt.AsyncClient) -> None:
    a = await vt_async_client.new_session("s1").open("/scopes")
    b = await a.fork()
    c = await vt_async_client.new_session("s2").open("/scopes")
    for tab in (a, b, c):
        await tab.ready()

    for name in ("IncTab", "IncSess", "IncApp"):
        await a.action(name)

    for tab in (a, b, c):
        await tab.expect_text("#app-count", "1")
    await b.expect_text("#session-count", "1")
    counts = [[t.text(f"#{k}-count") for k in ("tab", "session", "app")] for t in (a, b, c)]
    assert counts == [["1", "1", "1"], ["0", "1", "1"], ["0", "0", "1"]]


async def test_chat_fans_out_in_order_and_as_text(vt_async_client: vt.AsyncClient) -> None:
    alice = await vt_async_client.new_session("alice").open("/chat")
    bob = await vt_async_client.new_session("bob").open("/chat")
    await alice.ready()
    await bob.ready()

    await alice.action("Send", name="alice", draft="first")
    await alice.action("Send", draft='<b id="evil">second</b>')

    await bob.expect_text("article", 'alice: <b id="evil">second</b>')
    assert [p.text for p in bob.select("article p")] == [
        "alice: first",
        'alice: <b id="evil">second</b>',
    ]
    assert bob.select_one("#evil") is None  # markup arrives as text
    await alice.expect_signal("draft", "")


async def test_rooms_are_isolated(vt_async_client: vt.AsyncClient) -> None:
    here = await vt_async_client.new_session("here").open("/rooms/a")
    there = await vt_async_client.new_session("there").open("/rooms/a")
    elsewhere = await vt_async_client.new_session("elsewhere").open("/rooms/b")
    for tab in (here, there, elsewhere):
        await tab.ready()

    await here.action("Send", name="h", draft="in a")

    await there.expect_text("article", "h: in a")
    assert elsewhere.select("article p") == []
    fresh = await vt_async_client.new_session().open("/rooms/b", connect=False)
    assert fresh.select("article p") == []


async def test_a_returned_error_and_a_panic_are_toasts(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/errors")
    await tab.ready()

    failed = await tab.action("Fail")
    await tab.expect_script("toast", "that did not work")
    panicked = await tab.action("Panic")
    await tab.expect_script("toast", "Something went wrong")

    assert (failed.status, panicked.status) == (200, 200)
    assert script_kinds(tab) == [("toast", "that did not work"), ("toast", "Something went wrong")]
    assert PANIC_TEXT.encode() not in tab.transcript


async def test_upload_reads_the_file_and_the_text_fields(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/upload")
    await tab.ready()
    assert tab.text("#upload-result") == "nothing uploaded"

    result = await tab.upload("Upload", {"file": ("hello.txt", b"hello world")}, label="greeting")

    assert result.status == 200
    await tab.expect_text("#upload-result", "greeting: hello.txt (11 bytes)")


async def test_upload_without_a_file_is_a_toast_and_over_the_cap_is_413(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/upload")
    await tab.ready()

    empty = await tab.upload("Upload", {"other": ("a.txt", b"a")})  # no `file` field
    await tab.expect_script("toast", "no file")
    too_big = await tab.upload("Upload", {"file": ("big.bin", b"x" * (MAX_UPLOAD + 1))})

    assert (empty.status, too_big.status) == (200, 413)
    assert tab.text("#upload-result") == "nothing uploaded"


async def test_push_sends_elements_and_signals_to_the_pusher_only(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/push")
    sibling = await tab.fork()
    await tab.ready()
    await sibling.ready()

    await tab.action("Push")
    await tab.action("Push")

    await tab.expect_text("#pushed", "push 2")
    await tab.expect_signal("pushes", 2)
    await sibling.expect_quiet(0.2)
    assert (sibling.text("#pushed"), sibling.signals["pushes"]) == ("no push yet", 0)


async def test_broadcast_reaches_every_tab_of_every_session_and_route(
    vt_async_client: vt.AsyncClient,
) -> None:
    sender = await vt_async_client.new_session("sender").open("/broadcast")
    listener = await vt_async_client.new_session("listener").open("/broadcast")
    counter = await vt_async_client.new_session("counter").open("/counter")
    for tab in (sender, listener, counter):
        await tab.ready()

    await sender.action("Broadcast", message="hi all")

    for tab in (sender, listener, counter):
        await tab.expect_signal("broadcast", "hi all")


async def test_redirect_goes_to_safe_urls_and_drops_others(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/redirect")
    await tab.ready()

    await tab.action("Go", to="javascript:alert(1)")
    await tab.expect_text("#attempts", "1")  # the render came: the redirect was dropped
    assert [kind for kind, _ in script_kinds(tab)] == []

    await tab.action("Go", to="/counter", follow_redirects=False)
    found = await tab.expect_script("redirect")
    assert found.value == "/counter"
    assert tab.text("#attempts") == "1"  # a queued redirect discards the render (§5.4.2)


async def test_slow_actions_on_one_tab_are_serialised(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/slow")
    await tab.ready()

    start = time.monotonic()
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(tab.action, "Slow")
    elapsed = time.monotonic() - start

    await tab.expect_text("#slow-done", "3")
    assert elapsed >= 3 * SLOW_SECONDS, f"three slow actions took {elapsed:.2f}s together"


async def test_ticker_ticks_until_stopped(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/ticker")
    await tab.ready()

    await tab.action("Start")
    await tab.wait_until(lambda: int(tab.text("#ticks")) >= 3, description="see three ticks")
    await tab.action("Stop")
    await tab.expect_text("#ticker-status", "stopped")
    stopped_at = tab.text("#ticks")

    await tab.expect_quiet(3 * conformance.TICK_SECONDS)
    assert tab.text("#ticks") == stopped_at


async def test_closing_the_tab_stops_its_ticker(
    vt_async_client: vt.AsyncClient, vt_app: App
) -> None:
    tab = await vt_async_client.new_session().open("/ticker")
    await tab.ready()
    await tab.action("Start")
    await tab.expect_text("#ticker-status", "running")
    ticker = await anyio.to_thread.run_sync(
        lambda: vt_app.call_threadsafe(lambda: vt_app.tabs[tab.id].composition.ticker)
    )
    assert not ticker.done

    await tab.close()  # the close beacon disposes the tab (§4.4)

    assert await anyio.to_thread.run_sync(lambda: vt_app.call_threadsafe(lambda: ticker.done))


# -- faults: each breaks the spec in the one way it names -----------------------------------


def test_every_fault_has_a_test_here() -> None:
    tested = {
        mark.args[1][0][0]
        for test in globals().values()
        for mark in getattr(test, "pytestmark", [])
        if mark.name == "parametrize" and mark.args[0] == "vt_app"
    }
    assert tested == set(FAULTS)


def test_an_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown faults \\['drop-redy'\\]"):
        conformance.create_app(["drop-redy"])


@faulty("drop-ready")
async def test_fault_drop_ready(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/counter")

    await tab.action("Inc")
    await tab.expect_text("#count", "1")  # the stream works...

    with pytest.raises(vt.WaitTimeout):
        await tab.ready(timeout=0.3)  # ...but never says `: ready` (§5.3.1)


@faulty("app-state-per-session")
async def test_fault_app_state_per_session(vt_async_client: vt.AsyncClient) -> None:
    writer = await vt_async_client.new_session().open("/scopes")
    await writer.ready()
    await writer.action("IncApp")
    await writer.expect_text("#app-count", "1")

    other = await vt_async_client.new_session().open("/scopes", connect=False)

    assert other.text("#app-count") == "0"  # should be 1 (§8.2)


@faulty("bad-json-500")
async def test_fault_bad_json_500(vt_async_client: vt.AsyncClient) -> None:
    session = vt_async_client.new_session()
    await session.open("/counter", connect=False)

    response = await session.request(
        "POST", "/_action/Inc", content=b"{", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 500  # should be 404 (§4.2)


@faulty("unescaped-markup")
async def test_fault_unescaped_markup(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/chat")
    await tab.ready()

    await tab.action("Send", name="m", draft='<b id="evil">bold</b>')
    await tab.expect_text("article", "m: bold")

    assert tab.select_one("#evil") is not None  # the text became markup


@faulty("foreign-tab-accepted")
async def test_fault_foreign_tab_accepted(vt_async_client: vt.AsyncClient) -> None:
    owner = await vt_async_client.new_session("owner").open("/counter")
    await owner.ready()
    intruder = vt_async_client.new_session("intruder")
    await intruder.open("/counter", connect=False)

    response = await intruder.request(
        "POST",
        "/_action/Inc",
        json={"via_tab": owner.id, "step": 1},
    )

    assert response.status_code == 200  # should be 403 (§4.2)
    await owner.expect_text("#count", "1")


@faulty("forget-queued-render")
async def test_fault_forget_queued_render(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/counter", connect=False)
    assert (await tab.action("Inc")).status == 200

    await tab.ready()

    assert tab.text("#count") == "0"  # the render queued before the stream is lost (§5.4.4)


@faulty("reorder-chat")
async def test_fault_reorder_chat(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/chat")
    await tab.ready()

    await tab.action("Send", name="w", draft="first")
    await tab.action("Send", draft="second")
    await tab.expect_text("article", "w: second")

    reader = await vt_async_client.new_session().open("/chat", connect=False)
    assert [p.text for p in reader.select("article p")] == ["w: second", "w: first"]


@faulty("skip-resync")
async def test_fault_skip_resync(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/push")
    await tab.ready()
    await tab.action("Push")
    await tab.expect_signal("pushes", 1)
    await tab.drop()
    mark = len(tab.events)

    await tab.reconnect()
    await tab.ready()

    # Should be the pushed signals, then a full render, then `: ready` (§5.5.2).
    assert [type(e).__name__ for e in stream_items(tab, mark)] == ["Comment"]


@pytest.mark.e2e
async def test_the_command_line_serves_the_app_with_the_faults_it_is_given() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    module = "reference_impl.examples.conformance"
    argv = [sys.executable, "-m", module, "--port", str(port), "--fault", "bad-json-500"]
    log = b""
    async with await anyio.open_process(argv) as process:
        try:
            assert process.stderr is not None
            with deadline(20, "'Uvicorn running on' in the app's log", lambda: log):
                async for chunk in process.stderr:
                    log += chunk
                    if b"Uvicorn running on" in log:
                        break
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                page = await client.get("/counter")
                malformed = await client.post("/_action/Inc", content=b"{")
        finally:
            process.send_signal(signal.SIGINT)  # graceful: drain, then stop
            with deadline(15, "exit after SIGINT", lambda: log):
                await process.wait()

    assert page.status_code == 200, log.decode()
    assert "<h1>Counter</h1>" in page.text
    assert malformed.status_code == 500, log.decode()  # the fault is on
