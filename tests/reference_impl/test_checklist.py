"""Via's conformance checklist (research notes §10), one or more tests per item, over real HTTP
against the reference runtime. Test names carry the item number: `test_10_NN_...`."""

from __future__ import annotations

import html
import json
import re
import time

import anyio
import brotli
import httpx
import pytest
from probe_app import app_recorder, on_server

import vt
from reference_impl import App
from tests.deadline import deadline

pytestmark = pytest.mark.anyio

HEX64 = re.compile(r"[0-9a-f]{64}")
TAB_ID = re.compile(r"/_[0-9a-f]{64}")
NOT_FOUND = b"404 page not found\n"


def patches(tab: vt.AsyncTab, since: int = 0) -> list[vt.StreamItem]:
    """Events (no heartbeats) and comments from index `since`."""
    return [
        e for e in tab.events[since:] if not (isinstance(e, vt.PatchSignals) and e.is_heartbeat)
    ]


def kinds(items: list[vt.StreamItem]) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, vt.Comment):
            out.append(f": {item.text}")
        elif isinstance(item, vt.PatchSignals):
            out.append("signals")
        elif isinstance(item, vt.PatchElements):
            out.append("script" if item.selector == "body" else "elements")
        else:
            out.append(type(item).__name__)
    return out


def elements_events(tab: vt.AsyncTab, since: int = 0) -> list[vt.PatchElements]:
    return [
        e for e in tab.events[since:] if isinstance(e, vt.PatchElements) and e.selector != "body"
    ]


async def post_json(
    session: vt.AsyncSession, name: str, body: bytes, **headers: str
) -> httpx.Response:
    return await session.request(
        "POST",
        f"/_action/{name}",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


async def stream_raw(
    client: httpx.AsyncClient, url: str, until: bytes, limit: float = 5.0, **headers: str
) -> tuple[httpx.Response, bytes]:
    """Open a stream with plain httpx and read raw bytes until `until` shows up (or it ends)."""
    data = b""
    with deadline(limit, f"{until!r} on {url}", lambda: data):
        async with client.stream("GET", url, headers=headers) as response:
            async for chunk in response.aiter_raw():
                data += chunk
                if until in data:
                    break
    return response, data


def sse_url(tab_id: str) -> str:
    return "/_sse?" + str(httpx.QueryParams({"datastar": json.dumps({"via_tab": tab_id})}))


# -- 1, 2: the page -------------------------------------------------------------------------


@pytest.mark.probe_options(insecure_cookies=False)
async def test_10_01_page_document(vt_async_client: vt.AsyncClient) -> None:
    session = vt_async_client.new_session()
    response = await session.request("GET", "/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    cookie = response.headers["set-cookie"]
    assert re.fullmatch(
        r"via_session=[0-9a-f]{64}; Path=/; HttpOnly; Secure; SameSite=Lax", cookie
    ), cookie
    page = response.text
    seed_attr = re.search(r'<meta data-signals="([^"]*)">', page)
    assert seed_attr is not None
    seed = json.loads(html.unescape(seed_attr.group(1)))
    tab_id = seed.pop("via_tab")
    assert TAB_ID.fullmatch(tab_id)
    assert seed == {"form": {"name": ""}, "prefs": {}, "status": "idle", "step": 1}
    assert '<meta data-init="@get(&#39;/_sse&#39;)">' in page
    assert '<script type="module" src="/_datastar.js"></script>' in page
    assert f'<div id="{tab_id}"><main><span id="n">0</span>' in page


async def test_10_01_insecure_cookies_drop_secure(vt_async_client: vt.AsyncClient) -> None:
    response = await vt_async_client.new_session().request("GET", "/")

    assert re.fullmatch(
        r"via_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax", response.headers["set-cookie"]
    )


async def test_10_01_param_route_tab_id_names_the_pattern(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/u/ada", connect=False)

    assert re.fullmatch(r"/u/\{name\}_[0-9a-f]{64}", tab.id)
    assert tab.text("#who") == "hello ada"


async def test_10_02_each_get_mints_a_tab_and_keeps_the_cookie(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    first = await session.open("/", connect=False)
    second = await session.open("/", connect=False)

    assert first.id != second.id
    assert first.page is not None
    assert "set-cookie" in first.page.headers
    assert second.page is not None
    assert "set-cookie" not in second.page.headers


# -- 3, 4, 5: the stream -------------------------------------------------------------------


async def test_10_03_stream_headers_and_ready_first(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    stream = tab.responses[-1]
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in stream.headers
    assert tab.transcript.startswith(b": ready\n\n")
    assert elements_events(tab) == []  # the view is not re-sent on a first connect


@pytest.mark.probe_options(heartbeat=0.05)
async def test_10_04_heartbeat_is_an_empty_signals_patch(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    await tab.expect_event(
        lambda e: isinstance(e, vt.PatchSignals) and e.is_heartbeat,
        description="receive a heartbeat",
    )
    assert b"event: datastar-patch-signals\ndata: signals {}\n\n" in tab.transcript


@pytest.mark.probe_options(heartbeat=0.2)
async def test_10_04_heartbeats_keep_coming_one_per_interval(
    vt_async_client: vt.AsyncClient,
) -> None:
    """Heartbeats go on after the first, and never faster than one per interval (§5.3.3): the
    server can only be late, so their count is bounded by the time since the page was asked
    for (before the stream, whose loop times them, began)."""
    began = time.monotonic()
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    def beats() -> int:
        return sum(isinstance(e, vt.PatchSignals) and e.is_heartbeat for e in tab.events)

    await tab.wait_until(lambda: beats() >= 3, description="three heartbeats")
    elapsed = time.monotonic() - began

    assert beats() <= elapsed / 0.2 + 2, f"{beats()} heartbeats in {elapsed:.2f}s"


@pytest.mark.probe_options(heartbeat=0.05)
async def test_10_05_brotli_stream_has_no_plaintext_ready(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/", connect=False)
    decompressor = brotli.Decompressor()
    plain = b""
    raw = b""
    url = vt_async_client.url_of(sse_url(tab.id))
    with deadline(5, "heartbeat in the decompressed stream", lambda: plain):
        async with tab.session.http.stream(
            "GET", url, headers={"Accept-Encoding": "gzip, br;q=0"}
        ) as response:
            assert response.headers["content-encoding"] == "br"
            async for chunk in response.aiter_raw():
                raw += chunk
                plain += decompressor.process(chunk)
                if b"data: signals {}" in plain:
                    break
    assert response.status_code == 200
    assert b": ready" not in raw
    assert b": ready" not in plain
    assert plain.startswith(b"event: datastar-patch-signals\ndata: signals {}\n\n")


# -- 6, 7, 8: actions and their frames -----------------------------------------------------


async def test_10_06_action_answers_empty_and_renders_on_the_stream(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    mark = len(tab.events)

    result = await tab.action("Inc", step=2)

    assert (result.status, result.body) == (200, b"")
    await tab.expect_text("#n", "2")
    renders = elements_events(tab, mark)
    assert len(renders) == 1
    assert renders[0].elements.startswith(f'<div id="{tab.id}">')
    assert renders[0].selector is None
    assert renders[0].mode is vt.PatchMode.OUTER


async def test_10_07_state_write_and_explicit_push_share_one_event(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    mark = len(tab.events)

    await tab.action("IncAndPatch")

    await tab.expect_text("#solo", "explicit")
    await tab.expect_quiet(0.3)
    renders = elements_events(tab, mark)
    assert len(renders) == 1
    payload = renders[0].elements
    assert payload.startswith(f'<div id="{tab.id}">')
    assert payload.index(f'<div id="{tab.id}">') < payload.index('<div id="solo">explicit</div>')
    assert tab.text("#n") == "1"


async def test_10_08_signal_write_sends_signals_only(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    mark = len(tab.events)

    await tab.action("SetStatus")

    await tab.expect_signal("status", "busy")
    await tab.expect_quiet(0.3)
    arrived = patches(tab, mark)
    assert kinds(arrived) == ["signals"]
    signals = arrived[0]
    assert isinstance(signals, vt.PatchSignals)
    assert signals.signals == {"status": "busy"}


# -- 9, 10, 11: refused actions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{}", "application/json"),
        (b'{"via_tab": ', "application/json"),
        (b"via_tab=%2F_abc", "application/x-www-form-urlencoded"),
        (b'{"via_tab": "/_' + b"0" * 63 + b'"}', "application/json"),  # bad hex length
        (b'{"via_tab": "/nowhere_' + b"a" * 64 + b'"}', "application/json"),  # not mounted
        (b'{"via_tab": 12}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"", "text/plain"),
    ],
)
async def test_10_09_undecodable_or_unrecoverable_action_is_404(
    vt_async_client: vt.AsyncClient, body: bytes, content_type: str
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)

    response = await post_json(session, "Inc", body, **{"Content-Type": content_type})

    assert (response.status_code, response.content) == (404, NOT_FOUND)


async def test_10_10_unknown_action_is_404(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/", connect=False)

    result = await tab.action("NoSuchAction")
    lowercase = await tab.action("inc")  # names are case-sensitive

    assert (result.status, result.body) == (404, NOT_FOUND)
    assert lowercase.status == 404


async def test_10_10_session_mismatch_is_403_before_the_action_name(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session("owner").open("/", connect=False)
    other = vt_async_client.new_session("other")
    await other.open("/", connect=False)
    body = json.dumps({"via_tab": tab.id}).encode()

    foreign = await post_json(other, "Inc", body)
    foreign_unknown = await post_json(other, "NoSuchAction", body)
    async with httpx.AsyncClient(base_url=vt_async_client.base_url) as bare:
        no_cookie = await bare.post(
            "/_action/Inc", content=body, headers={"Content-Type": "application/json"}
        )

    for response in (foreign, foreign_unknown, no_cookie):
        assert (response.status_code, response.content) == (403, b"session mismatch\n")
    assert "set-cookie" in no_cookie.headers  # a session was minted for the cookie-less one
    await tab.connect()
    await tab.ready()
    assert tab.text("#n") == "0"  # nothing ran


async def test_10_11_never_issued_recoverable_id_reloads(vt_async_client: vt.AsyncClient) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)
    ghost = "/shared_" + "ab" * 32
    body = json.dumps({"via_tab": ghost}).encode()

    response = await post_json(session, "BumpApp", body, **{"Accept-Encoding": "identity"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == (
        "event: datastar-patch-elements\n"
        "data: mode append\n"
        "data: selector body\n"
        'data: elements <script data-effect="el.remove()">window.location.reload()</script>\n'
        "\n"
    )


# -- 12, 13: stale tabs on the stream --------------------------------------------------------


async def test_10_12_stale_id_rebootstraps_into_the_old_page(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    await tab.action("Inc", step=5)
    await tab.expect_text("#n", "5")
    stale = tab.id
    await tab.close()  # beacon: the server forgets the tab; the page stays as it was
    mark = len(tab.events)

    await tab.connect()  # the browser's retry, with the stale id (no Referer: route `/`)
    await tab.ready()

    assert tab.id != stale
    assert TAB_ID.fullmatch(tab.id)
    arrived = patches(tab, mark)
    assert kinds(arrived) == ["signals", "elements", "script", ": ready"]
    seed, swap = arrived[0], arrived[1]
    assert isinstance(seed, vt.PatchSignals)
    assert isinstance(swap, vt.PatchElements)
    assert seed.signals == {
        "via_tab": tab.id,
        "form": {"name": ""},
        "prefs": {},
        "status": "idle",
        "step": 1,
    }
    assert swap.selector == f'[id="{stale}"]'
    assert swap.mode is vt.PatchMode.REPLACE
    assert swap.elements.startswith(f'<div id="{tab.id}"><main><span id="n">0</span>')
    assert f"sendBeacon('/_sse/close','{tab.id}')" in tab.scripts[-1].text
    assert tab.select_one(f'[id="{tab.id}"]') is not None
    assert tab.select_one(f'[id="{stale}"]') is None
    assert app_recorder(probe).count("connect", tab.id) == 1

    mark = len(tab.events)
    result = await tab.action("Inc")
    assert result.status == 200
    await tab.expect_text("#n", "1")  # on this same stream
    assert len(elements_events(tab, mark)) == 1


async def test_10_12_rebootstrap_recovers_path_params_from_the_referer(
    vt_async_client: vt.AsyncClient,
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)
    stale = "/u/{name}_" + "cd" * 32
    url = vt_async_client.url_of(sse_url(stale))

    response, data = await stream_raw(
        session.http,
        url,
        until=b": ready\n\n",
        **{"Accept-Encoding": "identity", "Referer": vt_async_client.url_of("/u/grace?x=1")},
    )

    assert response.status_code == 200
    events = [
        vt.parse_event(e) for e in vt.SSEDecoder().feed(data) if not isinstance(e, vt.Comment)
    ]
    seed, swap = events[0], events[1]
    assert isinstance(seed, vt.PatchSignals)
    assert isinstance(swap, vt.PatchElements)
    new_id = seed.signals["via_tab"]
    assert re.fullmatch(r"/u/\{name\}_[0-9a-f]{64}", new_id)
    assert new_id != stale
    assert swap.selector == '[id="/u/{name}_' + "cd" * 32 + '"]'
    assert '<p id="who">hello grace</p>' in swap.elements


async def test_10_13_param_route_without_referer_reloads(vt_async_client: vt.AsyncClient) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)
    url = vt_async_client.url_of(sse_url("/u/{name}_" + "ef" * 32))

    response, data = await stream_raw(
        session.http, url, until=b"reload()", **{"Accept-Encoding": "identity"}
    )

    assert response.status_code == 200
    assert b'<script data-effect="el.remove()">window.location.reload()</script>' in data


@pytest.mark.parametrize(
    "tab_id",
    ["", "garbage", "/_nothex", "/_" + "a" * 63, "/_" + "A" * 64, "/nowhere_" + "a" * 64],
)
async def test_10_13_unrecoverable_id_on_the_stream_is_404(
    vt_async_client: vt.AsyncClient, tab_id: str
) -> None:
    session = vt_async_client.new_session()
    await session.open("/", connect=False)

    response = await session.request("GET", sse_url(tab_id))
    missing = await session.request("GET", "/_sse")
    garbled = await session.request("GET", "/_sse?datastar=%7Bnot-json")

    for answer in (response, missing, garbled):
        assert (answer.status_code, answer.content) == (404, b"")


# -- 14, 15: reconnects and offline queues ---------------------------------------------------


async def test_10_14_reconnect_resyncs_pushed_signals_then_the_view(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    await tab.action("Push", value=1)
    await tab.action("Push", value=2)
    await tab.action("Inc")
    await tab.expect_text("#n", "1")
    await tab.expect_signal("pushed", 2)
    await tab.drop()
    mark = len(tab.events)

    await tab.reconnect()
    await tab.ready()

    arrived = patches(tab, mark)
    assert kinds(arrived) == ["signals", "elements", ": ready"]
    signals, view = arrived[0], arrived[1]
    assert isinstance(signals, vt.PatchSignals)
    assert signals.signals == {"pushed": 2}  # latest only; never via_tab or client signals
    assert isinstance(view, vt.PatchElements)
    assert view.selector is None
    assert view.elements.startswith(f'<div id="{tab.id}"><main><span id="n">1</span>')


async def test_10_14_reconnect_without_pushes_sends_the_view_only(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    mark = len(tab.events)

    await tab.reconnect()
    await tab.ready()

    assert kinds(patches(tab, mark)) == ["elements", ": ready"]


async def test_10_15_offline_actions_deliver_the_newest_render_and_every_push(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/", connect=False)
    for action, label in [("Inc", None), ("Explicit", "a"), ("Inc", None), ("Explicit", "b")]:
        result = await (tab.action(action, label=label) if label else tab.action(action))
        assert result.status == 200

    await tab.connect()
    await tab.ready()

    arrived = patches(tab)
    assert kinds(arrived) == ["elements", ": ready"]
    first = arrived[0]
    assert isinstance(first, vt.PatchElements)
    assert first.elements.startswith(f'<div id="{tab.id}"><main><span id="n">2</span>')
    assert first.elements.count(f'<div id="{tab.id}">') == 1  # no stale intermediate render
    assert first.elements.endswith('<div id="x-a">a</div><div id="x-b">b</div>')


# -- 16: errors and panics -------------------------------------------------------------------


async def test_10_16_returned_error_is_a_toast(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    result = await tab.action("Fail")

    assert (result.status, result.body) == (200, b"")
    script = await tab.wait_until(
        lambda: next(iter(tab.scripts), None), description="receive a script"
    )
    kind = vt.classify_script(script)
    assert (kind.kind, kind.value) == ("toast", "nope: bad input")
    assert "via-toast-root" in script.text


@pytest.mark.parametrize(
    ("verbose", "shown"),
    [(False, "Something went wrong"), (True, "panic: secret internal detail")],
)
async def test_10_16_panic_is_a_toast_that_hides_its_text(
    vt_async_client: vt.AsyncClient, probe: App, verbose: bool, shown: str
) -> None:
    probe.options.verbose_errors = verbose
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    result = await tab.action("Panic")

    assert (result.status, result.body) == (200, b"")
    script = await tab.wait_until(
        lambda: next(iter(tab.scripts), None), description="receive a script"
    )
    assert vt.classify_script(script).value == shown
    if not verbose:
        assert b"secret" not in tab.transcript
    assert tab.text("#n") == "100"  # state written before the panic is flushed


# -- 17, 18: fan-out across tabs and sessions ------------------------------------------------


async def test_10_17_session_state_reaches_siblings_only(vt_async_client: vt.AsyncClient) -> None:
    a = await vt_async_client.new_session("s1").open("/shared")
    b = await a.fork()
    c = await vt_async_client.new_session("s2").open("/shared")
    for tab in (a, b, c):
        await tab.ready()

    await a.action("BumpSess")

    await a.expect_text("#sess", "1")
    await b.expect_text("#sess", "1")
    await c.expect_quiet(0.3)
    assert c.text("#sess") == "0"


async def test_10_18_app_state_reaches_every_reader_and_no_one_else(
    vt_async_client: vt.AsyncClient,
) -> None:
    a = await vt_async_client.new_session("s1").open("/shared")
    d = await a.fork("/other")
    c = await vt_async_client.new_session("s2").open("/shared")
    for tab in (a, c, d):
        await tab.ready()

    await a.action("BumpApp")

    await a.expect_text("#app", "1")
    await c.expect_text("#app", "1")
    await d.expect_quiet(0.3)


# -- 19, 20: broadcast and per-tab serialisation --------------------------------------------


async def test_10_19_broadcast_reaches_every_tab_and_counts_them(
    vt_async_client: vt.AsyncClient,
) -> None:
    first = await vt_async_client.new_session("s1").open("/")
    tabs = [first, await first.fork("/other"), await vt_async_client.new_session("s2").open("/")]
    for tab in tabs:
        await tab.ready()

    await first.action("Broadcast")

    for tab in tabs:
        await tab.expect_signal("all", 3)
        script = await tab.wait_until(
            lambda t=tab: next(iter(t.scripts), None), description="receive the broadcast"
        )
        assert "console.log('hi all')" in script.text


async def test_10_20_concurrent_actions_on_one_tab_are_serialised(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    statuses: list[int] = []

    async def fire() -> None:
        statuses.append((await tab.action("IncSlow")).status)

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(fire)
    await fire()

    assert statuses == [200] * 51
    await tab.expect_text("#n", "51")


# -- 21, 22: body caps and the close beacon --------------------------------------------------


@pytest.mark.probe_options(max_request_body=1024, max_upload=4096)
async def test_10_21_bodies_over_the_caps_are_413(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/", connect=False)
    big_json = json.dumps({"via_tab": tab.id, "status": "x" * 2000}).encode()

    json_response = await post_json(tab.session, "Inc", big_json)
    upload = await tab.upload("Upload", {"doc": ("a.txt", b"x" * 8000)})
    small_upload = await tab.upload("Upload", {"doc": ("a.txt", b"x" * 100)})
    beacon = await tab.session.request("POST", "/_sse/close", content=b"/_" + b"a" * 2000)

    assert (json_response.status_code, json_response.content) == (413, b"request too large\n")
    assert (upload.status, upload.body) == (413, b"request too large\n")
    assert small_upload.status == 200
    assert beacon.status_code == 413


async def test_10_22_close_beacon_forgets_the_tab(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    tab_id = tab.id

    await tab.close()
    unknown = await tab.session.request("POST", "/_sse/close", content=b"/_" + b"b" * 64)
    after = await post_json(tab.session, "Inc", json.dumps({"via_tab": tab_id}).encode())

    assert tab.responses[-1].status == 200
    assert (unknown.status_code, unknown.content) == (200, b"")
    assert app_recorder(probe).count("dispose", tab_id) == 1
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/event-stream")
    assert b"window.location.reload()" in after.content


async def test_10_22_the_beacon_ends_the_tabs_open_stream(vt_async_client: vt.AsyncClient) -> None:
    """Disposal ends the stream from the server's side, cleanly (§5.5.4): the client sees the
    response end while it still reads it (the beacon is sent raw, not by `close()`, which
    would drop the stream itself)."""
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    beacon = await tab.session.request("POST", "/_sse/close", content=tab.id.encode())

    assert beacon.status_code == 200
    await tab.wait_until(
        lambda: not tab.connected, description="the server to end the disposed tab's stream"
    )
    ended = [entry.text for entry in tab.timeline.of_kind("end")]
    assert ended == ["stream #1 ended: server ended the stream"]


async def test_10_22_foreign_beacon_is_ignored(vt_async_client: vt.AsyncClient, probe: App) -> None:
    tab = await vt_async_client.new_session("owner").open("/")
    await tab.ready()
    intruder = vt_async_client.new_session("intruder")

    response = await intruder.request("POST", "/_sse/close", content=tab.id.encode())

    assert (response.status_code, response.content) == (200, b"")
    assert (await tab.action("Inc")).status == 200
    await tab.expect_text("#n", "1")
    assert app_recorder(probe).count("dispose", tab.id) == 0


# -- 23: CSP ------------------------------------------------------------------------------


def _nonce(policy: str) -> str:
    found = re.search(r"'nonce-([A-Za-z0-9_-]{22})'", policy)
    assert found is not None, policy
    return found.group(1)


@pytest.mark.probe_options(csp=True, csp_extra=("img-src 'self' data:",))
async def test_10_23_pushed_scripts_carry_the_page_nonce(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    assert tab.page is not None
    policy = tab.page.headers["content-security-policy"]
    assert policy == (
        f"default-src 'self'; script-src 'self' 'nonce-{_nonce(policy)}' 'unsafe-eval'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; img-src 'self' data:"
    )
    page_nonce = _nonce(policy)

    toast = await tab.action("Toast")
    # The redirect script is what is checked here, so the tab does not follow it.
    redirect = await tab.action("Redirect", url="/next", follow_redirects=False)

    await tab.wait_until(lambda: len(tab.scripts) >= 2, description="receive two scripts")
    assert [s.attrs.get("nonce") for s in tab.scripts] == [page_nonce, page_nonce]
    assert [vt.classify_script(s).kind for s in tab.scripts] == ["toast", "redirect"]
    assert _nonce(toast.headers["content-security-policy"]) != page_nonce  # per request
    assert _nonce(redirect.headers["content-security-policy"]) != page_nonce


@pytest.mark.probe_options(csp=True)
async def test_10_23_rebootstrapped_tab_keeps_its_documents_nonce(
    vt_async_client: vt.AsyncClient,
) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()
    assert tab.page is not None
    page_nonce = _nonce(tab.page.headers["content-security-policy"])
    await tab.close()

    await tab.connect()  # re-bootstrap into the same document
    await tab.ready()
    await tab.action("Toast")

    await tab.wait_until(lambda: len(tab.scripts) >= 2, description="receive the toast")
    assert [s.attrs.get("nonce") for s in tab.scripts] == [page_nonce, page_nonce]


async def test_10_23_without_csp_scripts_have_no_nonce(vt_async_client: vt.AsyncClient) -> None:
    tab = await vt_async_client.new_session().open("/")
    await tab.ready()

    result = await tab.action("Toast")

    assert "content-security-policy" not in result.headers
    script = await tab.wait_until(
        lambda: next(iter(tab.scripts), None), description="receive the toast"
    )
    assert "nonce" not in script.attrs
    assert b"nonce" not in tab.transcript


# -- 24, 25: health, shutdown and the TTL sweep ----------------------------------------------


async def test_10_24_health_probes_and_draining(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    session = vt_async_client.new_session()
    tab = await session.open("/")
    await tab.ready()
    async with httpx.AsyncClient(base_url=vt_async_client.base_url) as bare:
        for path in ("/livez", "/healthz", "/readyz"):
            response = await bare.get(path)
            assert (response.status_code, response.text) == (200, "ok")
            assert "set-cookie" not in response.headers

        await on_server(probe, probe.shutdown)

        ready = await bare.get("/readyz")
        live = await bare.get("/livez")
    assert (ready.status_code, ready.text) == (503, "draining\n")
    assert (live.status_code, live.text) == (200, "ok")
    assert app_recorder(probe).count("dispose", tab.id) == 1
    await tab.wait_until(lambda: not tab.connected, description="see its stream end")


@pytest.mark.probe_options(context_ttl=0.4)
async def test_10_25_ttl_sweeps_idle_tabs_but_never_connected_ones(
    vt_async_client: vt.AsyncClient, probe: App
) -> None:
    session = vt_async_client.new_session()
    live = await session.open("/")
    await live.ready()
    idle = await session.open("/", connect=False)
    recorder = app_recorder(probe)

    swept = await anyio.to_thread.run_sync(lambda: recorder.wait_for("dispose", idle.id, 5.0))

    assert swept, "the never-connected tab was not swept within 5 s (TTL 0.4 s)"
    stale = await idle.action("Inc")
    assert b"window.location.reload()" in stale.body
    assert recorder.count("dispose", live.id) == 0
    assert (await live.action("Inc")).status == 200
    await live.expect_text("#n", "1")
