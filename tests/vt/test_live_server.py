"""`vt.LiveServer.stop()`: it wakes uvicorn at once instead of waiting for uvicorn's next tick,
and still shuts down as uvicorn does (the app's lifespan shutdown, open streams cut after the
grace period). How long a stop takes is measured by `benchmarks/server_cycle.py`; these tests
check the behaviour, with uvicorn's tick made so long that a stop that waited for it would
fail the test's deadline. And the connections it accepts send without Nagle's delay."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from typing import Any

import httpx
import pytest

import vt
from vt.client import server as server_module

# Far above the deadline below: a stop that waits for a tick cannot make it.
LONG_TICK = 60.0
DEADLINE = 10.0  # seconds: generous for a loaded machine, far under LONG_TICK


class Lifespan:
    """An ASGI app that answers pages and records its lifespan events."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _stopped_within(server: vt.LiveServer, deadline: float) -> float:
    began = time.monotonic()
    server.stop()
    took = time.monotonic() - began
    assert took < deadline, f"stop() took {took:.2f}s (uvicorn's tick is {LONG_TICK:g}s here)"
    return took


def test_stop_does_not_wait_for_uvicorns_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "_TICK", LONG_TICK)
    app = Lifespan()
    server = vt.LiveServer(app).start()
    with httpx.Client(base_url=server.url) as client:  # a keep-alive connection left open
        assert client.get("/").text == "ok"
        _stopped_within(server, DEADLINE)
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]
    assert not any(t.name == f"vt-server-{server.port}" for t in threading.enumerate())


def test_an_open_response_is_cut_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "_TICK", LONG_TICK)
    release = threading.Event()

    async def endless(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support: uvicorn's "auto" carries on without it
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data\n", "more_body": True})
        while not release.is_set():  # a stream that only ends when it is cut
            await asyncio.sleep(0.01)

    server = vt.LiveServer(endless, shutdown_grace=0.5).start()
    with (
        httpx.Client(base_url=server.url, timeout=DEADLINE) as client,
        client.stream("GET", "/") as response,
    ):
        assert next(response.iter_raw()) == b"data\n"
        took = _stopped_within(server, DEADLINE)
    release.set()
    assert took >= 0.5, f"the open response was cut before the grace period ({took:.2f}s)"
    assert not any(t.name == f"vt-server-{server.port}" for t in threading.enumerate())


def test_accepted_connections_send_without_nagles_delay() -> None:
    """asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets made with the TCP
    protocol number; uvicorn writes a response's head and body apart, so without it every
    request but the first on a kept-alive connection waited ~40 ms for the client's delayed
    ACK (`benchmarks/server_cycle.py` has the figures)."""

    async def nodelay(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        client = tuple(scope["client"])
        found = [  # this request's connection, as the server's event loop holds it
            obj.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for obj in gc.get_objects()
            if isinstance(obj, asyncio.Transport)
            and not obj.is_closing()
            and obj.get_extra_info("peername") == client
        ]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": repr(found).encode()})

    with vt.LiveServer(nodelay) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/").text == "[1]"
