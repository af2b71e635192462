"""The Via runtime: an ASGI app that serves mounted compositions over Via's wire protocol.

    app = App(insecure_cookies=True)
    app.mount("/", Room)
    serve(app, port=3000)          # or any ASGI server

`App` keeps the mounts, the lifecycle (start-up, TTL sweeps, shutdown) and the route table;
every matched route first resolves its session (specs/protocol.md §3). The wire handlers are
in `handlers.py`, the state every tab shares in `hub.py`. Where the runtime deliberately
differs from Via, `specs/deviations.md` says so and why.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import csp
from .assets import default_datastar_js, missing_client_script
from .compositions import Mount
from .handlers import AT_CAPACITY, NOT_FOUND, Handler, Handlers
from .hub import Hub
from .options import DEFAULT_HEARTBEAT, FAULTS, Options
from .replication import Replicator
from .sessions import Session, SessionStore, is_hex64
from .tabs import Ctx

__all__ = ["App", "Options"]


class App:
    """A Via application: mounts, sessions, lifecycle, and the ASGI entry point.

    The state its tabs share (registry, app state, fan-out, broadcasts) is its `hub`;
    `state`, `tabs` and the `broadcast*` methods are the hub's.
    """

    def __init__(self, options: Options | None = None, **overrides: Any) -> None:
        base = options or Options()
        for key, value in overrides.items():
            if not hasattr(base, key):
                raise TypeError(f"unknown option {key!r}")
            setattr(base, key, value)
        base.faults = frozenset(base.faults)
        unknown = sorted(base.faults - FAULTS.keys())
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {sorted(FAULTS)}")
        if base.heartbeat <= 0:
            base.heartbeat = DEFAULT_HEARTBEAT  # Via floors d <= 0 to the default (§5.3.3)
        self.options = base
        self.csp_secret = base.csp_secret or secrets.token_bytes(32)
        self.mounts: list[Mount] = []
        self.sessions = SessionStore()
        self.hub: Hub[Ctx] = Hub(base)
        self.handlers = Handlers(self.hub, self.mounts, self.csp_secret)
        # A cluster node (WithBackplane, specs/cluster.md): shared state lives on the backplane.
        self.replicator: Replicator | None = None
        if base.backplane is not None:
            self.replicator = Replicator(self.hub, base.backplane, self.sessions.sessions.get)
            self.hub.replicator = self.replicator
        self.draining = False
        self.loop: asyncio.AbstractEventLoop | None = None  # set while serving
        self.sweeps = 0
        self._asgi: Starlette | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._datastar_js: bytes | None = None
        self._startup: list[Callable[[], Any]] = []

    @property
    def state(self) -> dict[str, Any]:
        """App-scoped state values by wire key (the hub's); set entries before serving to
        seed or stash app-wide objects."""
        return self.hub.state

    @property
    def tabs(self) -> dict[str, Ctx]:
        """Every live tab, by id (the hub's registry)."""
        return self.hub.tabs

    # -- configuration --------------------------------------------------------------------------

    def mount(self, route: str, composition: type[Any]) -> None:
        """Serve `composition` at `route` (Via's `Mount`); `{name}` segments are path params."""
        if any(m.route == route for m in self.mounts):
            raise ValueError(f"route {route!r} is mounted twice")
        self.mounts.append(Mount.of(route, composition))
        self._asgi = None

    def on_startup(self, fn: Callable[[], Any]) -> None:
        """Run `fn()` (sync or async) when the server starts, before it accepts requests."""
        self._startup.append(fn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._asgi is None:
            self._asgi = self._build()
        await self._asgi(scope, receive, send)

    def _build(self) -> Starlette:
        """The route table."""
        handlers = self.handlers
        routes = []
        if self.options.health_endpoints:
            # Served before sessions: no cookie is ever minted for a probe (§9.1).
            routes += [
                Route("/livez", self._live, methods=["GET"]),
                Route("/healthz", self._live, methods=["GET"]),
                Route("/readyz", self._ready, methods=["GET"]),
            ]
        routes += [
            Route("/_sse", self._matched(handlers.stream), methods=["GET"]),
            Route("/_sse/close", self._matched(handlers.beacon), methods=["POST"]),
            Route("/_action/{name}", self._matched(handlers.action), methods=["POST"]),
            Route("/_datastar.js", self._matched(self._datastar), methods=["GET"]),
        ]
        # `/` is a catch-all, so it goes last: every other GET path renders it (§2).
        for mount in sorted(self.mounts, key=lambda m: m.route == "/"):
            path = "/{_rest:path}" if mount.route == "/" else mount.route
            routes.append(Route(path, self._matched(handlers.page_for(mount)), methods=["GET"]))
        app = Starlette(routes=routes, lifespan=self._lifespan)
        # Go's mux: `/counter/` does not match `/counter` and is not redirected to it.
        app.router.redirect_slashes = False
        app.router.default = self._not_found
        return app

    # -- lifecycle --------------------------------------------------------------------------------

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.loop = asyncio.get_running_loop()
        self.draining = False
        if self.replicator is not None:
            await self.replicator.start()  # the replay first: serve what this node missed
        for fn in self._startup:
            result = fn()
            if inspect.isawaitable(result):
                await result
        self._sweeper = asyncio.create_task(self._sweep_loop())
        try:
            yield
        finally:
            await self.shutdown()
            if self.replicator is not None:
                await self.replicator.stop()

    def call_threadsafe(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Run `fn()` on the serving event loop from another thread (awaiting it if it returns
        an awaitable) and return its result. The runtime is single-threaded: this is the
        way in for other threads (a test, a worker), as Via's pushes are from goroutines."""
        loop = self.loop
        if loop is None:
            raise RuntimeError("the app is not being served (no event loop yet)")

        async def call() -> Any:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout)

    async def _sweep_loop(self) -> None:
        """TTL sweeps every TTL/2 (§3); a timer, so it sleeps."""
        opts = self.options
        period = min(x for x in (opts.context_ttl, opts.session_ttl, 120.0) if x > 0) / 2
        while True:
            await asyncio.sleep(period)
            await self.sweep()

    async def sweep(self, now: float | None = None) -> None:
        """Dispose idle stream-less tabs and expire idle sessions (one sweep).

        A tab with an open stream is never reaped, however idle (§3).
        """
        now = time.monotonic() if now is None else now
        ttl = self.options.context_ttl
        if ttl > 0:
            for tab in list(self.tabs.values()):
                if not tab.connected and now - tab.last_seen > ttl:
                    await tab.dispose("ttl")
        for tab in self.tabs.values():
            if tab.connected:
                tab.session.touch()
        self.sessions.sweep(self.options.session_ttl, now)
        self.sweeps += 1

    async def shutdown(self) -> None:
        """Begin draining: `/readyz` answers 503, every tab is disposed and its stream ends
        (§9.2)."""
        self.draining = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for tab in list(self.tabs.values()):
            await tab.dispose("shutdown")

    # -- broadcasts (§8.3) ------------------------------------------------------------------------

    def broadcast(self, js: str) -> int:
        """Run a script in every registered tab (connected or not); returns the tab count."""
        return self.hub.broadcast(js)

    def broadcast_notify(self, message: str) -> int:
        """Show a toast in every registered tab; returns the tab count."""
        return self.hub.broadcast_notify(message)

    def broadcast_signals(self, signals: dict[str, Any]) -> int:
        """Push signals to every registered tab (re-sent on resync); returns the tab count."""
        return self.hub.broadcast_signals(signals)

    # -- sessions (§3) ----------------------------------------------------------------------------

    def _matched(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A matched route's endpoint: the session first (503 at the cap), then the handler;
        then the cookie (if minted) and the CSP header (if configured) on its response."""

        async def endpoint(request: Request) -> Response:
            session, minted = self._session_for(request)
            if session is None:
                return PlainTextResponse(AT_CAPACITY, status_code=503)
            request.state.nonce = csp.request_nonce() if self.options.csp else None
            response = await handler(request, session)
            if minted:
                self._set_cookie(response, session)
            nonce = request.state.nonce
            if nonce is not None:
                policy = csp.policy(nonce, self.options.csp_extra)
                response.headers["Content-Security-Policy"] = policy
            return response

        return endpoint

    def _session_for(self, request: Request) -> tuple[Session | None, bool]:
        """(session, minted?): the cookie's session; a well-formed unknown id is adopted with
        no new cookie, anything else gets a fresh one. None when a new one is over the cap."""
        cookie = request.cookies.get(self.options.session_cookie)
        session = self.sessions.get(cookie)
        if session is not None:
            return session, False
        cap = self.options.max_sessions
        if cap and len(self.sessions) >= cap:
            return None, False
        if cookie is not None and is_hex64(cookie):
            adopted = self.sessions.create(cookie)
            if self.replicator is not None:  # its state may have been written on another node
                self.replicator.adopt(adopted)
            return adopted, False
        return self.sessions.create(), True

    def _set_cookie(self, response: Response, session: Session) -> None:
        # Written as Go's net/http writes it (§3): no Max-Age, a browser-session cookie.
        secure = "" if self.options.insecure_cookies else " Secure;"
        response.headers.append(
            "set-cookie",
            f"{self.options.session_cookie}={session.id}; Path=/; HttpOnly;{secure} SameSite=Lax",
        )

    # -- health (§9) and the client script ---------------------------------------------------------

    async def _live(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _ready(self, request: Request) -> Response:
        if self.draining:
            return PlainTextResponse("draining\n", status_code=503)
        return PlainTextResponse("ok")

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Unmatched paths never mint a session (§3).
        await PlainTextResponse(NOT_FOUND, status_code=404)(scope, receive, send)

    async def _datastar(self, request: Request, session: Session) -> Response:
        path = self.options.datastar_js or default_datastar_js()
        if path is None:
            body = missing_client_script()  # says how to get one
        else:
            if self._datastar_js is None:
                self._datastar_js = Path(path).read_bytes()
            body = self._datastar_js
        return Response(body, media_type="application/javascript")
