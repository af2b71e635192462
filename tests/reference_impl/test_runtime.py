"""Runtime behaviour beyond the §10 checklist: routes, caps, uploads, signals, redirects,
lifecycle hooks, periodic streams and stream delivery guarantees."""

from __future__ import annotations

import json
import logging
import re

import anyio
import httpx
import pytest
from probe_app import app_recorder, on_server

import vt
from reference_impl import App, Composition, Ctx, action, h
from reference_impl.assets import default_datastar_js, missing_client_script
from reference_impl.tabs import safe_redirect
from tests.deadline import deadline

pytestmark = pytest.mark.anyio


async def test_head_renders_the_page_without_a_body(vt_async_client: vt.AsyncClient) -> None:
    response = await vt_async_client.new_session().request("HEAD", "/shared")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_method_mismatch_is_405_and_mints_no_session(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()

    post_page = await session.request("POST", "/shared")
    put_action = await session.request("PUT", "/_action/Inc")
    get_close = await session.request("GET", "/_sse/close")  # `/` catches every GET (§2)

    assert post_page.status_code == 405
    assert "GET" in post_page.headers["allow"]
    assert put_action.status_code == 405
    assert get_close.status_code == 200
    assert "set-cookie" not in post_page.headers


async def test_unmatched_path_is_404_without_a_session() -> None:
    class Page(Composition):
        def view(self, ctx: Ctx) -> h.Node:
            return h.p("counter")

    app = App(insecure_cookies=True)
    app.mount("/counter", Page)
    with vt.LiveServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            missing = await client.get("/nope")
            slash = await client.get("/counter/")
            page = await client.get("/counter")

    assert (missing.status_code, missing.content) == (404, b"404 page not found\n")
    assert "set-cookie" not in missing.headers
    assert slash.status_code == 404  # Go's mux neither matches nor redirects it
    assert page.status_code == 200


@pytest.mark.probe_options(max_sessions=1)
async def test_session_cap_refuses_new_sessions_only(vt_async_client: vt.AsyncClient) -> None:
    first = await vt_async_client.new_session().open("/")
    await first.ready()

    refused = await vt_async_client.new_session().request("GET", "/")
    again = await first.fork()

    assert (refused.status_code, refused.text) == (503, "server is at capacity\n")
    assert again.id != first.id  # a live session is never refused


@pytest.mark.probe_options(max_request_body=0)
async def test_without_a_body_cap_the_beacon_still_reads_at_most_4_kib(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)

    at_cap = await session.request("POST", "/_sse/close", content=b"x" * 4096)
    over = await session.request("POST", "/_sse/close", content=b"x" * 4097)

    assert (at_cap.status_code, at_cap.content) == (200, b"")
    assert (over.status_code, over.text) == (413, "request too large\n")


@pytest.mark.probe_options(max_contexts=2)
async def test_tab_cap_refuses_pages_and_rebootstraps_fall_back_to_reload(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)
    await session.open("/", connect=False)

    refused = await session.request("GET", "/")
    stale = "/_" + "1" * 64
    recovered = await session.request(
        "GET", "/_sse", params={"datastar": json.dumps({"via_tab": stale})}
    )

    assert (refused.status_code, refused.text) == (503, "server is at capacity\n")
    assert recovered.status_code == 200
    assert b"window.location.reload()" in recovered.content


async def test_multipart_upload_binds_files_and_text_signals(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    result = await tab.upload("Upload", {"doc": ("me.png", b"PNG-bytes")}, status="from-test")
    missing = await tab.upload("Upload", {"other": ("x.txt", b"x")})

    assert (result.status, missing.status) == (200, 200)
    await tab.expect_text("#note", "me.png:PNG-bytes:from-test")
    script = await tab.wait_until(
        lambda: next(iter(tab.scripts), None), description="receive the error toast"
    )
    assert vt.classify_script(script).value == "no file"


async def test_nested_and_typed_signals_are_injected_best_effort(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    await tab.action("EchoForm", form={"name": "ada"}, prefs={"dark": True})
    await tab.expect_text("#note", "ada|{'dark': True}")
    await tab.action("Inc", step="3")  # a numeric string is parsed
    await tab.expect_text("#n", "3")
    await tab.action("Inc", step=1.5)  # not whole: ignored, the last good value stays
    await tab.expect_text("#n", "6")
    await tab.action("Inc", step=[1])  # wrong shape: ignored
    await tab.expect_text("#n", "9")
    flat = await tab.session.request(
        "POST",
        "/_action/EchoForm",
        content=json.dumps({"via_tab": tab.id, "form.name": "flat"}).encode(),
    )
    assert flat.status_code == 200
    await tab.expect_text("#note", "flat|")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("/next", True),
        ("https://example.org/x", True),
        ("next?a=1", True),
        ("javascript:alert(1)", False),
        (" \tJaVaScRiPt:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("//evil.example", False),
        ("\\\\evil", False),
        ("", False),
        ("   ", False),
    ],
)
def test_redirect_scheme_rule(url: str, safe: bool) -> None:
    assert safe_redirect(url) is safe


async def test_unsafe_redirect_is_dropped(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    await tab.action("Redirect", url="javascript:alert(1)")

    await tab.expect_quiet(0.3)
    assert tab.scripts == []


async def test_silent_action_still_ships_its_explicit_push(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    await tab.action("Silent")

    await tab.expect_text("#solo", "silent push")
    assert tab.text("#n") == "0"  # no re-render...
    await tab.action("Inc")
    await tab.expect_text("#n", "2")  # ...but the write persisted


async def test_on_connect_runs_once_and_on_dispose_on_beacon(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    await tab.reconnect()
    await tab.ready()
    recorder = app_recorder(probe)

    assert recorder.count("init", tab.id) == 1
    assert recorder.count("connect", tab.id) == 1
    assert recorder.count("dispose", tab.id) == 0
    await tab.drop()
    assert recorder.count("dispose", tab.id) == 0  # a mere disconnect disposes nothing
    tab_id = tab.id
    await tab.close()
    assert recorder.count("dispose", tab_id) == 1


async def test_periodic_stream_ticks_like_actions_and_stops_at_dispose(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    await tab.action("Tick")  # starts a 50 ms ticker that increments n

    await tab.wait_until(lambda: int(tab.text("#n")) >= 3, description="see three ticks")
    server_tab = probe.tabs[tab.id]
    ticker = server_tab.tickers[0]
    tab_id = tab.id
    await tab.close()
    assert await on_server(probe, lambda: ticker.done)
    assert tab_id not in probe.tabs


async def test_a_push_while_disconnected_is_delivered_on_reconnect(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    await tab.drop()

    await tab.action("Explicit", label="late")
    await tab.connect()

    await tab.expect_event(
        lambda e: isinstance(e, vt.PatchElements) and '<div id="x-late">' in e.elements,
        description="receive the push made while disconnected",
        since=0,
    )


async def test_a_newer_stream_supersedes_the_older_one(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    body = httpx.QueryParams({"datastar": json.dumps({"via_tab": tab.id})})
    data = b""

    with deadline(5, "the new count on the newer stream", lambda: data):
        async with tab.session.http.stream(
            "GET", vt_async_client.url_of(f"/_sse?{body}"), headers={"Accept-Encoding": "identity"}
        ) as second:
            await tab.wait_until(lambda: not tab.connected, description="see the old stream end")
            # The superseded stream's end leaves the tab connected: the newer stream is open
            # (else a TTL sweep would dispose a tab with an open stream, §3.5).
            assert probe.hub.tabs[tab.id].connected
            await tab.session.request(
                "POST",
                "/_action/Inc",
                content=json.dumps({"via_tab": tab.id}).encode(),
            )
            async for chunk in second.aiter_raw():
                data += chunk
                if b'<span id="n">1</span>' in data:
                    break
    assert re.search(rb'<span id="n">1</span>', data)


async def test_concurrent_async_updates_of_one_app_key_lose_nothing(
    vt_async_client: vt.AsyncClient,
) -> None:
    tabs = [await vt_async_client.new_session().open("/shared") for _ in range(3)]
    for tab in tabs:
        await tab.ready()

    async with anyio.create_task_group() as group:
        for _ in range(20):
            for tab in tabs:
                group.start_soon(tab.action, "BumpAppSlow")

    for tab in tabs:
        await tab.expect_text("#app", "60")


async def test_a_failed_write_puts_the_queue_back() -> None:
    """At-least-once (§5.4.3): a drain whose write fails leaves its items queued."""
    import asyncio

    from probe_app import Probe

    from reference_impl.compositions import Mount
    from reference_impl.sessions import Session
    from reference_impl.stream import StreamResponse
    from reference_impl.tabs import Ctx as TabCtx

    app = App(insecure_cookies=True)
    tab = TabCtx(app.hub, Mount.of("/", Probe), Session("0" * 64), "/_" + "0" * 64, {})
    tab.patch_elements(h.div("kept", id="solo"))
    tab.patch_signals({"pushed": 1})
    stream = StreamResponse(tab, app.options)

    async def broken(message: object) -> None:
        raise OSError("connection reset")

    written = await stream.drain(broken, asyncio.Event())

    assert written is False
    assert tab.queue.elements == ['<div id="solo">kept</div>']
    assert tab.queue.signals == {"pushed": 1}


async def test_datastar_js_serves_the_configured_file(tmp_path: object) -> None:
    from pathlib import Path

    script = Path(str(tmp_path)) / "datastar.js"
    script.write_text("// Datastar v1.0.2 stand-in\nexport {}\n")
    configured = App(insecure_cookies=True, datastar_js=script)
    bare = App(insecure_cookies=True)
    for app in (configured, bare):
        app.mount("/", Composition)
    with vt.LiveServer(configured) as one, vt.LiveServer(bare) as two:
        async with httpx.AsyncClient() as client:
            served = await client.get(f"{one.url}/_datastar.js")
            placeholder = await client.get(f"{two.url}/_datastar.js")

    assert served.status_code == 200
    assert served.headers["content-type"] == "application/javascript"
    assert served.text == script.read_text()
    assert "set-cookie" in served.headers  # a matched route: a session is minted
    assert placeholder.status_code == 200  # the default client, or a placeholder saying so
    default = default_datastar_js()
    assert placeholder.content == (default.read_bytes() if default else missing_client_script())


async def test_stale_action_reload_is_brotli_compressed_when_accepted(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)

    response = await session.request(
        "POST",
        "/_action/Inc",
        content=json.dumps({"via_tab": "/_" + "9" * 64}).encode(),
        headers={"Accept-Encoding": "br"},
    )

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert b"window.location.reload()" in response.content  # httpx decoded it


def test_mount_refuses_clashing_keys_and_actions() -> None:
    from reference_impl import SignalStr, action

    class TabKey(Composition):
        tab = SignalStr("via_tab")

    class Twice(Composition):
        a = SignalStr("k")
        b = SignalStr("k")

    class TwoActions(Composition):
        @action("Go")
        def one(self, ctx: Ctx) -> None: ...

        @action("Go")
        def two(self, ctx: Ctx) -> None: ...

    for bad in (TabKey, Twice, TwoActions):
        with pytest.raises(ValueError, match="via_tab|used by both|defined twice"):
            App().mount("/", bad)


async def test_app_failures_on_the_page_path_and_odd_route_params() -> None:
    """A failing `on_init` is only logged (the page renders); a failing view is a 500, never a
    half page; a path parameter keeps its spelling (`{Name}`)."""

    class Hooked(Composition):
        def on_init(self, ctx: Ctx) -> None:
            raise RuntimeError("init failed")

        def view(self, ctx: Ctx) -> h.Node:
            return h.p(f"hello {ctx.params.get('Name', '?')}", id="hello")

    class Broken(Composition):
        def view(self, ctx: Ctx) -> h.Node:
            raise RuntimeError("view failed")

    class Awaited(Composition):
        def __init__(self) -> None:
            self.greeting = "not yet"

        async def on_init(self, ctx: Ctx) -> None:  # an async hook is awaited
            await anyio.sleep(0)
            self.greeting = "awaited"

        def view(self, ctx: Ctx) -> h.Node:
            return h.p(self.greeting, id="greeting")

    app = App(insecure_cookies=True)
    app.mount("/u/{Name}", Hooked)
    app.mount("/broken", Broken)
    app.mount("/awaited", Awaited)
    with vt.LiveServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            hooked = await client.get("/u/Ada")
            broken = await client.get("/broken")
            awaited = await client.get("/awaited")

    assert hooked.status_code == 200
    assert '<p id="hello">hello Ada</p>' in hooked.text
    assert (broken.status_code, broken.text) == (500, "internal server error\n")
    assert '<p id="greeting">awaited</p>' in awaited.text


async def test_caps_hold_for_chunked_bodies_and_the_beacons_default() -> None:
    """A body with no Content-Length is counted as it streams in: the cap's last byte is
    taken, one more is refused (§4.2). With no request-body cap, a beacon still stops at
    4 KiB (§4.4.1)."""

    class Page(Composition):
        def view(self, ctx: Ctx) -> h.Node:
            return h.p("page")

    def chunks(size: int) -> object:
        async def body() -> object:
            yield b"x" * (size - 1)
            yield b"x"

        return body()

    capped = App(insecure_cookies=True, max_request_body=1024)
    capped.mount("/", Page)
    uncapped = App(insecure_cookies=True, max_request_body=0)
    uncapped.mount("/", Page)
    with vt.LiveServer(capped) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            at_cap = await client.post("/_action/X", content=chunks(1024))  # type: ignore[arg-type]
            over = await client.post("/_action/X", content=chunks(1025))  # type: ignore[arg-type]
    with vt.LiveServer(uncapped) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            beacon_at_cap = await client.post("/_sse/close", content=b"x" * 4096)
            beacon_over = await client.post("/_sse/close", content=b"x" * 4097)

    assert at_cap.status_code == 404  # read whole, then refused as not JSON
    assert over.status_code == 413
    assert beacon_at_cap.status_code == 200
    assert beacon_over.status_code == 413


async def test_a_view_failing_on_resync_still_opens_the_stream() -> None:
    """A reconnect whose fresh render raises is logged; the stream still opens and reaches
    `: ready` (§5.5.2), it does not die mid-response."""

    class Fragile(Composition):
        def __init__(self) -> None:
            self.renders = 0

        def view(self, ctx: Ctx) -> h.Node:
            self.renders += 1
            if self.renders > 1:
                raise RuntimeError("the resync render fails")
            return h.p("first", id="first")

    app = App(insecure_cookies=True)
    app.mount("/", Fragile)
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url) as client:
            tab = await client.new_session().open("/")
            await tab.ready()
            info = await tab.reconnect()
            await tab.ready()

    assert info is not None
    assert info.status == 200
    assert tab.text("#first") == "first"  # the page as it was: no render replaced it
    assert any("the resync render fails" in line for line in server.errors)


async def test_the_first_file_of_a_field_is_the_one_ctx_file_gives() -> None:
    """`ctx.file(name)` is the first part of that field, as the first value of a text field
    wins (§4.1.3)."""

    class Page(Composition):
        def __init__(self) -> None:
            self.seen = "nothing"

        def view(self, ctx: Ctx) -> h.Node:
            return h.p(self.seen, id="seen")

        @action("Up")
        def up(self, ctx: Ctx) -> None:
            found = ctx.file("doc")
            self.seen = found.filename if found is not None and found.filename else "none"
            ctx.sync_now()

    app = App(insecure_cookies=True)
    app.mount("/", Page)
    with vt.LiveServer(app) as server:
        async with vt.AsyncClient(server.url) as client:
            tab = await client.new_session().open("/")
            await tab.ready()
            answer = await tab.session.request(
                "POST",
                "/_action/Up",
                data={"via_tab": tab.id},
                files=[("doc", ("first.txt", b"1")), ("doc", ("second.txt", b"2"))],
            )
            assert answer.status_code == 200
            await tab.expect_text("#seen", "first.txt")


async def test_a_panic_is_logged_and_an_action_error_is_not(
    vt_async_client: vt.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    with caplog.at_level(logging.ERROR, logger="reference_impl"):
        await tab.action("Fail")  # the app's answer to the user: a toast, not a fault
        await tab.expect_script("toast", "nope: bad input")
        assert not [r for r in caplog.records if "Fail on" in r.getMessage()]
        await tab.action("Panic")
        await tab.expect_script("toast", "Something went wrong")

    logged = [r.getMessage() for r in caplog.records]
    assert any("Panic on" in m and "secret internal detail" in m for m in logged), logged
