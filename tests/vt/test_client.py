"""Sessions and tabs over real HTTP: cookies, page loads, streams, reconnects, re-bootstrap,
responses, transcripts, and what a server that breaks the protocol gets told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.responses import Response

import vt
from tests.vt.apps import (
    NEW_TAB,
    OLD_TAB,
    READY,
    Counter,
    Scripted,
    Shared,
    app_for,
    patch,
    signals,
)

pytestmark = pytest.mark.anyio

Serve = Callable[[Any], str]


async def test_the_secure_session_cookie_travels_over_loopback_http(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        session = client.new_session()
        tab = await session.open("/")
        assert tab.page is not None
        assert "Secure" in tab.page.headers["set-cookie"]  # the runtime's default cookie
        await tab.ready()  # a stream without the cookie would be 403 (session mismatch)
        result = await tab.action("Inc")
        assert result.status == 200
        await tab.expect_text("#count", "1")
        assert session.cookies.keys() == {"via_session"}


def test_the_secure_cookie_goes_to_loopback_hosts_only() -> None:
    from vt.client.http import is_loopback

    assert is_loopback("127.0.0.1:8000")
    assert is_loopback("localhost")
    assert is_loopback("[::1]:80")
    assert not is_loopback("example.com:80")
    assert not is_loopback("10.0.0.1")


async def test_every_request_says_identity_encoding_unless_asked(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY]])
    url = serve(scripted.app())
    async with vt.AsyncClient(url, timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        await tab.action("X")
    assert [h["accept-encoding"] for h in scripted.request_headers] == ["identity"] * 3
    async with vt.AsyncClient(url, timeout=3, accept_encoding="gzip") as client:
        await client.new_session().open("/", connect=False)
    assert scripted.request_headers[-1]["accept-encoding"] == "gzip"


async def test_every_response_is_recorded(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        await tab.action("Inc")
        await tab.action("Nope")
        summary = [
            (r.method, r.url.split("?")[0].rsplit("/", 1)[-1], r.status) for r in tab.responses
        ]
        assert summary == [
            ("GET", "", 200),
            ("GET", "_sse", 200),
            ("POST", "Inc", 200),
            ("POST", "Nope", 404),
        ]
        stream = tab.responses[1]
        assert stream.content_type == "text/event-stream"
        assert stream.headers["x-accel-buffering"] == "no"
        assert stream.headers["cache-control"] == "no-cache"


async def test_a_fork_shares_the_session_and_a_new_session_does_not(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Shared)), timeout=3) as client:
        first = await client.new_session("s1").open("/")
        sibling = await first.fork()
        stranger = await client.new_session("s2").open("/")
        for tab in (first, sibling, stranger):
            await tab.ready()
        assert first.session is sibling.session
        assert first.id != sibling.id
        assert sibling.session.cookies == first.session.cookies != stranger.session.cookies

        await first.action("Put", new="shared-by-s1")

        await sibling.expect_text("#value", "shared-by-s1")
        await client.expect_none([stranger], "shared-by-s1", 0.3)


async def test_reload_beacons_the_old_tab_and_gets_a_new_id(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        old = tab.id

        await tab.reload()

        assert tab.id != old
        assert tab.connected
        beacon = [r for r in tab.responses if r.url.endswith("/_sse/close")]
        assert [r.status for r in beacon] == [200]
        # The old id is gone on the server: an action with it gets Via's reload answer.
        stale = await tab.session.request(
            "POST", "/_action/Inc", json={"via_tab": old}, headers={"Datastar-Request": "true"}
        )
        assert stale.status_code == 200
        assert b"window.location.reload()" in stale.content


async def test_an_action_on_a_closed_tab_gets_a_reload_script(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        await tab.close()
        assert not tab.connected

        result = await tab.action("Inc", follow_redirects=False)

        assert result.status == 200
        assert [type(e).__name__ for e in result.events] == ["PatchElements"]
        reload = await tab.expect_script("reload")
        assert reload.kind == "reload"
        assert tab.select("body script") == []  # it removed itself, as in a browser


async def test_a_stale_tab_is_rebootstrapped_by_the_runtime_and_adopts_its_new_id(
    serve: Serve,
) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        stale = tab.id
        await tab.close()  # the server forgets the tab; its id is stale but recoverable

        await tab.connect()  # with the stale id, and the page URL as Referer
        await tab.ready()

        assert tab.id != stale
        assert tab.id.startswith("/_")
        assert tab.select_one(f'[id="{stale}"]') is None
        assert tab.text(f'[id="{tab.id}"] #count') == "0"
        assert tab.responses[-1].status == 200
        await tab.action("Inc")
        await tab.expect_text("#count", "1")


async def test_drop_then_reconnect_resyncs_the_newest_view(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        await tab.drop()
        assert not tab.connected
        for n in (1, 2, 3):
            await tab.action("Set", n=n)

        await tab.reconnect()
        await tab.ready()

        assert tab.text("#count") == "3"
        assert len(tab.transcripts) == 2
        second = tab.transcript.decode()
        assert second.index("datastar-patch-elements") < second.index(": ready")
        assert ">1<" not in second
        assert ">2<" not in second


async def test_events_before_ready_are_applied_not_discarded(serve: Serve) -> None:
    scripted = Scripted(
        streams=[[patch('<div id="x">queued</div>', f'[id="{OLD_TAB}"]', "inner"), READY]]
    )
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        assert tab.text(f'[id="{OLD_TAB}"]') == "queued"
        kinds = [type(e).__name__ for e in tab.events]
        assert kinds == ["PatchElements", "Comment"]


async def test_a_rebootstrap_gives_the_tab_its_new_id(serve: Serve) -> None:
    def answer(server: Scripted, name: str, body: dict[str, Any]) -> Response:
        if body.get("via_tab") == NEW_TAB:
            server.push(patch(f'<div id="{NEW_TAB}">acted</div>'))
        return Response(b"")

    scripted = Scripted(
        streams=[
            [
                signals({"via_tab": NEW_TAB, "n": 0}),
                patch(f'<div id="{NEW_TAB}">fresh</div>', f'[id="{OLD_TAB}"]', "replace"),
                READY,
            ],
            [READY],
        ],
        on_action=answer,
    )
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.id == OLD_TAB
        await tab.ready()

        assert tab.id == NEW_TAB
        assert tab.select_one(f'[id="{OLD_TAB}"]') is None
        assert tab.text(f'[id="{NEW_TAB}"]') == "fresh"
        changes = [e.text for e in tab.timeline.entries if e.text.startswith("tab id changed")]
        assert len(changes) == 1

        await tab.action("Go")
        await tab.expect_text(f'[id="{NEW_TAB}"]', "acted")
        await tab.reconnect()
        await tab.ready()

    assert scripted.actions == [("Go", {"via_tab": NEW_TAB, "n": 0})]
    assert [q["via_tab"] for q in scripted.stream_queries] == [OLD_TAB, NEW_TAB]


MALFORMED = (
    b"event: datastar-patch-elements\ndata: mode upsert\ndata: selector #x\n"
    b"data: elements <b>x</b>\n\n"
)


async def test_a_malformed_event_fails_the_next_wait_naming_the_rule(serve: Serve) -> None:
    scripted = Scripted(streams=[[MALFORMED, patch(f'<div id="{OLD_TAB}">after</div>'), READY]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        with pytest.raises(vt.MalformedEvent) as info:
            await tab.ready()
        message = str(info.value)
        assert "unknown mode 'upsert'" in message
        assert "(specs/protocol.md §6.2)" in message
        assert "bytes: b'event: datastar-patch-elements\\ndata: mode upsert" in message
        # Like a browser, the stream goes on: the next event applied, and ready still comes.
        await tab.ready()
        assert tab.text("body") == "after"


async def test_a_lenient_client_records_protocol_errors_without_raising(serve: Serve) -> None:
    scripted = Scripted(streams=[[MALFORMED, READY]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=3, strict=False) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        assert [e.section for e in tab.protocol_errors] == ["6.2"]


async def test_an_event_cut_off_by_the_end_of_the_stream_is_reported(serve: Serve) -> None:
    cut = b'event: datastar-patch-elements\ndata: elements <div id="x">never</div>\n'
    scripted = Scripted(streams=[[READY, cut]], keep_open=False)
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        with pytest.raises(vt.ProtocolError) as info:
            await tab.wait_until(lambda: not tab.connected or None, description="see the end")
        assert info.value.section == "5.2"
        assert info.value.raw == cut
        assert "never" not in tab.text("body")


async def test_a_refused_stream_is_an_unexpected_response(serve: Serve) -> None:
    scripted = Scripted(stream_status=403)
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/", connect=False)
        with pytest.raises(
            vt.UnexpectedResponse,
            match=r"answered 403 ''; a stream needs 200 text/event-stream "
            r".*§5\.1\)\n  bytes: b'go away'",
        ):
            await tab.connect()


async def test_events_in_an_action_response_are_applied(serve: Serve) -> None:
    def answer(server: Scripted, name: str, body: dict[str, Any]) -> Response:
        if name == "Sse":
            return Response(
                patch(f'<div id="{OLD_TAB}">from sse</div>'), media_type="text/event-stream"
            )
        if name == "Html":
            return Response(
                "<p>appended</p>",
                media_type="text/html",
                headers={"datastar-selector": f'[id="{OLD_TAB}"]', "datastar-mode": "append"},
            )
        return Response('{"n": 9}', media_type="application/json")

    scripted = Scripted(streams=[[READY]], on_action=answer)
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        await tab.ready()
        sse = await tab.action("Sse")
        assert tab.text("body") == "from sse"
        html = await tab.action("Html")
        assert tab.text("body") == "from sse appended"
        await tab.action("Json")
        assert tab.signals["n"] == 9
        assert len(sse.events) == 1
        assert len(html.events) == 1


async def test_a_missing_target_is_logged_like_a_browser_console(serve: Serve) -> None:
    scripted = Scripted(streams=[[READY, patch('<div id="ghost">boo</div>')]])
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        message = await tab.expect_console("PatchElementsNoTargetsFound")
        assert "'ghost'" in message
        assert tab.console == [message]


async def test_the_sync_client_runs_the_same_code(serve: Serve) -> None:
    url = serve(app_for(Counter))
    with vt.Client(url, timeout=3) as client:
        tab = client.new_session().open("/")
        tab.ready()
        fork = tab.fork()
        tab.action("Inc")
        tab.expect_text("#count", "1")
        tab.reload()
        assert tab.id != fork.id
        assert tab.text("#count") == "0"
        assert [r.status for r in tab.responses][:3] == [200, 200, 200]
        tab.close()
        assert not tab.connected


async def test_a_stalled_tab_reads_nothing_until_it_resumes(serve: Serve) -> None:
    from reference_impl.examples import conformance

    async with vt.AsyncClient(serve(conformance.create_app()), timeout=3) as client:
        tab = await client.new_session().open("/push")
        await tab.ready()
        await tab.stall()
        await tab.action("Push")
        with pytest.raises(vt.WaitTimeout):  # sent, but in the socket: not read
            await tab.expect_text("#pushed", "push 1", timeout=0.3)
        await tab.resume()
        await tab.expect_text("#pushed", "push 1")
        assert [e.text for e in tab.timeline.of_kind("stall")] == [
            "stopped reading the stream",
            "reads the stream again",
        ]
