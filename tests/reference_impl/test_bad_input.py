"""Bad input never yields a 500 or stops the server (specs/protocol.md §4.2, §5.1).

Hypothesis throws malformed JSON, wrong types, forged and foreign tab ids, unknown actions,
garbage content types and binary bodies at a live server of its own per test; every answer
must be one of the documented statuses, and after each barrage the same server still serves a
page, a normal action with 200 and `/readyz`, and has logged no unhandled exception. Each test
is self-contained: it checks the server it attacked, whatever ran before it or beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from probe_app import create_app

import vt

ACTION_STATUSES = {200, 403, 404, 413}
STREAM_STATUSES = {200, 403, 404}


class Fixture:
    """One live server and two sessions with a tab each (the owner's and a stranger's)."""

    def __init__(self, server: vt.LiveServer) -> None:
        self.server = server
        self.owner = httpx.Client(base_url=server.url, timeout=10)
        self.stranger = httpx.Client(base_url=server.url, timeout=10)
        self.own_tab = _tab_id(self.owner.get("/").text)
        self.foreign_tab = _tab_id(self.stranger.get("/").text)

    def close(self) -> None:
        self.owner.close()
        self.stranger.close()


def _tab_id(page: str) -> str:
    import html
    import re

    found = re.search(r'<meta data-signals="([^"]*)">', page)
    assert found is not None
    tab_id = json.loads(html.unescape(found.group(1)))["via_tab"]
    assert isinstance(tab_id, str)
    return tab_id


@contextmanager
def attacked_server() -> Iterator[Fixture]:
    """A probe server of the test's own (body cap 64 KiB, upload cap 128 KiB), stopped on exit
    so that its error log is complete when the test reads `server.errors`."""
    with vt.LiveServer(create_app(max_request_body=64 * 1024, max_upload=128 * 1024)) as server:
        fixture = Fixture(server)
        try:
            yield fixture
        finally:
            fixture.close()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
forged_ids = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"/[a-z{}/]{0,12}_[0-9a-fA-F]{60,68}", fullmatch=True),
    st.sampled_from(["/_" + "a" * 64, "/shared_" + "f" * 64, "/u/{name}_" + "0" * 64, ""]),
)
action_names = st.one_of(
    st.sampled_from(["Inc", "Panic", "Fail", "Upload", "Redirect", "Push", "Nope", "inc"]),
    # Dot-only names are path segments ("." and "..") that the client normalises away.
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ_0123456789.-~", min_size=1, max_size=20
    ).filter(lambda name: name.strip(".") != ""),
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/octet-stream",
    ]
)


@st.composite
def bodies(draw: st.DrawFn, own: str, foreign: str) -> bytes:
    kind = draw(st.sampled_from(["garbage", "json", "object"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    tab = draw(st.one_of(st.sampled_from([own, foreign]), forged_ids, json_values))
    payload: dict[str, Any] = {"via_tab": tab}
    payload.update(
        draw(
            st.dictionaries(
                st.sampled_from(["step", "status", "form", "prefs", "url", "value", "label"]),
                json_values,
                max_size=4,
            )
        )
    )
    return json.dumps(payload).encode()


# The default level sends a sample of the action barrage; the slow level the full count.
ACTION_EXAMPLES, ACTION_EXAMPLES_FULL = 25, 100


def _actions_never_500(examples: int) -> None:
    with attacked_server() as live:
        _barrage_actions(live, examples)
        _assert_still_serves(live)
    _assert_no_unhandled_exception(live.server)


def test_actions_never_500_and_the_server_still_serves() -> None:
    _actions_never_500(ACTION_EXAMPLES)


@pytest.mark.slow
def test_actions_never_500_and_the_server_still_serves_full() -> None:
    _actions_never_500(ACTION_EXAMPLES_FULL)


def test_streams_and_beacons_never_500_and_the_server_still_serves() -> None:
    with attacked_server() as live:
        _barrage_streams(live)
        _assert_still_serves(live)
    _assert_no_unhandled_exception(live.server)


def _barrage_actions(live: Fixture, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data(), name=action_names, content_type=content_types, foreign=st.booleans())
    @example(data=None, name="Inc", content_type="application/json", foreign=False)
    def barrage(data: st.DataObject | None, name: str, content_type: str, foreign: bool) -> None:
        if data is None:  # the explicit example: a body far over the cap
            body = b'{"via_tab": "' + b"x" * (2 << 20) + b'"}'
        else:
            body = data.draw(bodies(live.own_tab, live.foreign_tab))
        client = live.stranger if foreign else live.owner

        response = client.post(
            f"/_action/{name}", content=body, headers={"Content-Type": content_type}
        )

        assert response.status_code in ACTION_STATUSES, (response.status_code, response.text)
        if len(body) > 64 * 1024 and "multipart" not in content_type:
            assert response.status_code == 413

    barrage()


def _barrage_streams(live: Fixture) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        param=st.one_of(
            st.text(max_size=60),
            forged_ids.map(lambda t: json.dumps({"via_tab": t})),
            json_values.map(json.dumps),
        ),
        beacon=st.binary(max_size=200),
    )
    def barrage(param: str, beacon: bytes) -> None:
        with live.owner.stream(
            "GET", "/_sse", params={"datastar": param}, headers={"Accept-Encoding": "identity"}
        ) as response:
            status = response.status_code  # a recovered stream stays open: close it at once
        closed = live.owner.post("/_sse/close", content=beacon)

        assert status in STREAM_STATUSES
        assert (closed.status_code, closed.content) == (200, b"")

    barrage()


def _assert_still_serves(live: Fixture) -> None:
    """The attacked server answers a fresh page, a normal action (§4.1) and `/readyz`."""
    response = live.owner.post(
        "/_action/Inc",
        content=json.dumps({"via_tab": _tab_id(live.owner.get("/").text)}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.content) == (200, b"")
    assert live.owner.get("/readyz").status_code == 200


def _assert_no_unhandled_exception(server: vt.LiveServer) -> None:
    """No request of the barrage raised inside the app, even one whose answer looked fine."""
    assert not [e for e in server.errors if "Exception in ASGI" in e], server.errors
