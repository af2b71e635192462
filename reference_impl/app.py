"""The Via runtime: an ASGI app that serves mounted compositions over Via's wire protocol.

    app = App(insecure_cookies=True)
    app.mount("/", Room)
    serve(app, port=3000)          # or any ASGI server

Routes, status codes and ordering follow `specs/protocol.md` (which follows Via, see
`../shared/research/via-protocol.md`); each handler cites the section it implements. Where
the runtime deliberately differs from Via, `specs/deviations.md` says so and why.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import secrets
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import csp
from .assets import default_datastar_js, missing_client_script
from .compositions import Mount
from .compress import Compressor, accepts_brotli
from .decode import TooLarge, decode_action, is_multipart, read_capped
from .jsonenc import MISSING, encode_json, lookup
from .options import DEFAULT_HEARTBEAT, Options
from .page import beacon_script, render_page
from .sessions import Session, SessionStore, is_hex64
from .sse import patch_elements, patch_signals
from .state import StateAppEvents, new_lock
from .stream import StreamResponse
from .tabs import Ctx, Subscription, script_event

__all__ = ["App", "Options"]

log = logging.getLogger("reference_impl")

NOT_FOUND = "404 page not found\n"
AT_CAPACITY = "server is at capacity\n"

Handler = Callable[[Request, Session], Awaitable[Response]]


@dataclass(slots=True)
class EventLog:
    """A `StateAppEvents` log: every event appended, and how many are folded in the value."""

    events: list[Any] = field(default_factory=list)
    folded: int = 0


class App:
    """A Via application: mounts, sessions, tabs, app state, and the ASGI entry point."""

    def __init__(self, options: Options | None = None, **overrides: Any) -> None:
        base = options or Options()
        for key, value in overrides.items():
            if not hasattr(base, key):
                raise TypeError(f"unknown option {key!r}")
            setattr(base, key, value)
        if base.heartbeat <= 0:
            base.heartbeat = DEFAULT_HEARTBEAT  # Via floors d <= 0 to the default (§5.3)
        self.options = base
        self.csp_secret = base.csp_secret or secrets.token_bytes(32)
        self.mounts: list[Mount] = []
        self.sessions = SessionStore()
        self.tabs: dict[str, Ctx] = {}
        self.subscribers: dict[Subscription, set[Ctx]] = {}
        self.state: dict[str, Any] = {}
        self.logs: dict[str, EventLog] = {}
        self.draining = False
        self.loop: asyncio.AbstractEventLoop | None = None  # set while serving
        self.sweeps = 0
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._folds: dict[str, StateAppEvents[Any, Any]] = {}
        self._fold_scheduled = False
        self._asgi: Starlette | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._datastar_js: bytes | None = None
        self._startup: list[Callable[[], Any]] = []

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
        routes = []
        if self.options.health_endpoints:
            # Served before sessions: no cookie is ever minted for a probe (§9).
            routes += [
                Route("/livez", self._live, methods=["GET"]),
                Route("/healthz", self._live, methods=["GET"]),
                Route("/readyz", self._ready, methods=["GET"]),
            ]
        routes += [
            Route("/_sse", self._matched(self._sse), methods=["GET"]),
            Route("/_sse/close", self._matched(self._close), methods=["POST"]),
            Route("/_action/{name}", self._matched(self._action), methods=["POST"]),
            Route("/_datastar.js", self._matched(self._datastar), methods=["GET"]),
        ]
        # `/` is a catch-all, so it goes last: every other GET path renders it (§2).
        for mount in sorted(self.mounts, key=lambda m: m.route == "/"):
            path = "/{_rest:path}" if mount.route == "/" else mount.route
            routes.append(Route(path, self._matched(self._page_for(mount)), methods=["GET"]))
        app = Starlette(routes=routes, lifespan=self._lifespan)
        # Go's mux: `/counter/` does not match `/counter` and is not redirected to it.
        app.router.redirect_slashes = False
        app.router.default = self._not_found
        return app

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.loop = asyncio.get_running_loop()
        self.draining = False
        for fn in self._startup:
            result = fn()
            if inspect.isawaitable(result):
                await result
        self._sweeper = asyncio.create_task(self._sweep_loop())
        try:
            yield
        finally:
            await self.shutdown()

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

    # -- logging ----------------------------------------------------------------------------------

    def log_exception(self, message: str) -> None:
        """Log an exception with its traceback (never sent to clients)."""
        log.error("%s\n%s", message, traceback.format_exc())

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
            return self.sessions.create(cookie), False
        return self.sessions.create(), True

    def _set_cookie(self, response: Response, session: Session) -> None:
        # Written as Go's net/http writes it (§3): no Max-Age, a browser-session cookie.
        secure = "" if self.options.insecure_cookies else " Secure;"
        response.headers.append(
            "set-cookie",
            f"{self.options.session_cookie}={session.id}; Path=/; HttpOnly;{secure} SameSite=Lax",
        )

    # -- tabs -------------------------------------------------------------------------------------

    def _page_nonce(self, tab_id: str) -> str | None:
        return csp.page_nonce(self.csp_secret, tab_id) if self.options.csp else None

    async def _new_tab(
        self,
        mount: Mount,
        session: Session,
        params: dict[str, str],
        query: dict[str, str],
        document_of: str | None = None,
    ) -> tuple[Ctx, str] | None:
        """A new tab and its first render (`<div id=TAB>`), after `on_init`; None if the view
        raised. `document_of` is the stale tab whose document it takes over (§5.5)."""
        tab_id = f"{mount.route}_{secrets.token_hex(32)}"
        tab = Ctx(
            self, mount, session, tab_id, params, query, self._page_nonce(document_of or tab_id)
        )
        tab.hold()
        hook = getattr(tab.composition, "on_init", None)
        if hook is not None:
            try:
                result = hook(tab)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # An on_init failure is only logged; the page still renders (§2).
                self.log_exception(f"on_init of {tab.id} failed")
        try:
            view = tab.view_html()
        except Exception:
            self.log_exception(f"view of {tab.id} failed")
            return None
        tab.settle()
        return tab, view

    def register(self, tab: Ctx) -> None:
        """Make a tab live: reachable by id and subscribed to what its render read."""
        self.tabs[tab.id] = tab
        tab.registered = True
        self.reindex(tab, frozenset(), tab.subscriptions)

    def reindex(self, tab: Ctx, old: Iterable[Subscription], new: Iterable[Subscription]) -> None:
        """Move a tab's subscriptions from `old` to `new` keys (its last render's reads)."""
        for key in old:
            subs = self.subscribers.get(key)
            if subs is not None:
                subs.discard(tab)
                if not subs:
                    del self.subscribers[key]
        for key in new:
            self.subscribers.setdefault(key, set()).add(tab)

    def at_tab_capacity(self) -> bool:
        """True when `max_contexts` tabs are live."""
        cap = self.options.max_contexts
        return bool(cap) and len(self.tabs) >= cap

    def recoverable(self, tab_id: str) -> Mount | None:
        """The mount a well-formed but unknown tab id belongs to (§4.3), or None.

        Recoverable: the part after the last `_` is 64 lowercase hex and the part before it
        is a mounted route pattern.
        """
        route, sep, suffix = tab_id.rpartition("_")
        if not sep or not is_hex64(suffix):
            return None
        return next((m for m in self.mounts if m.route == route), None)

    async def dispose(self, tab: Ctx, reason: str) -> None:
        """Forget a tab: end its stream and tickers, then run `on_dispose` (after any running
        action: hooks are serialised with actions)."""
        if tab.disposed:
            return
        tab.disposed = True
        tab.registered = False
        self.tabs.pop(tab.id, None)
        self.reindex(tab, tab.subscriptions, ())
        for ticker in tab.tickers:
            ticker.stop()
        tab.interrupt()
        hook = getattr(tab.composition, "on_dispose", None)
        if hook is not None:
            await tab.run(hook, "on_dispose", hook=True)
        log.debug("disposed %s (%s)", tab.id, reason)

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
                    await self.dispose(tab, "ttl")
        for tab in self.tabs.values():
            if tab.connected:
                tab.session.touch()
        self.sessions.sweep(self.options.session_ttl, now)
        self.sweeps += 1

    async def shutdown(self) -> None:
        """Begin draining: `/readyz` answers 503, every tab is disposed and its stream ends."""
        self.draining = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for tab in list(self.tabs.values()):
            await self.dispose(tab, "shutdown")

    # -- state fan-out (§8) -----------------------------------------------------------------------

    def key_lock(self, scope: str, key: str) -> asyncio.Lock:
        """The lock serialising asynchronous updates of one state key."""
        lock = self._locks.get((scope, key))
        if lock is None:
            lock = self._locks[(scope, key)] = new_lock()
        return lock

    def fan_out(self, scope: str, key: str, origin: Ctx | None) -> None:
        """Re-render every other live tab whose last render read this key (§8).

        Session-scoped keys only reach tabs of the writer's session. The renders happen when
        each tab's stream drains, so many subscribers never hold up the writer's response.
        """
        for tab in self.subscribers.get((scope, key), ()):
            if tab is origin:
                continue
            if scope == "sess" and (origin is None or tab.session is not origin.session):
                continue
            tab.needs_render = True
            tab.wake()

    def event_log(self, key: str) -> EventLog:
        """The `StateAppEvents` log under `key`."""
        found = self.logs.get(key)
        if found is None:
            found = self.logs[key] = EventLog()
        return found

    def schedule_fold(self, handle: StateAppEvents[Any, Any]) -> None:
        """Fold appended events soon (after the running action), then fan out to every reader,
        the writer included (§8)."""
        self._folds[handle.key] = handle
        if not self._fold_scheduled:
            self._fold_scheduled = True
            asyncio.get_running_loop().call_soon(self._fold)

    def _fold(self) -> None:
        self._fold_scheduled = False
        folds, self._folds = self._folds, {}
        for key, handle in folds.items():
            if handle.fold_pending(self):
                self.fan_out("app", key, origin=None)

    def broadcast(self, js: str) -> int:
        """Run a script in every registered tab (connected or not); returns the tab count."""
        if not js:
            return 0
        for tab in self.tabs.values():
            tab.exec_script(js)
        return len(self.tabs)

    def broadcast_notify(self, message: str) -> int:
        """Show a toast in every registered tab; returns the tab count."""
        for tab in self.tabs.values():
            tab.notify(message)
        return len(self.tabs)

    def broadcast_signals(self, signals: dict[str, Any]) -> int:
        """Push signals to every registered tab (re-sent on resync); returns the tab count."""
        if not signals:
            return 0
        for tab in self.tabs.values():
            tab.patch_signals(signals)
        return len(self.tabs)

    # -- health (§9) -----------------------------------------------------------------------------

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

    # -- page (§2) ------------------------------------------------------------------------------

    def _page_for(self, mount: Mount) -> Handler:
        async def page(request: Request, session: Session) -> Response:
            return await self._page(request, session, mount)

        return page

    async def _page(self, request: Request, session: Session, mount: Mount) -> Response:
        if self.at_tab_capacity():
            return PlainTextResponse(AT_CAPACITY, status_code=503)
        params = {k: v for k, v in request.path_params.items() if k != "_rest"}
        made = await self._new_tab(mount, session, params, dict(request.query_params))
        if made is None:
            return PlainTextResponse("internal server error\n", status_code=500)
        tab, view = made
        self.register(tab)
        request.state.nonce = tab.nonce if tab.nonce is not None else request.state.nonce
        opts = self.options
        body = render_page(
            title=opts.title,
            description=opts.description,
            lang=opts.lang,
            seed_json=encode_json(tab.seed()),
            tab_id=tab.id,
            view_html=view,
            reconnect_manager=opts.reconnect_manager,
            head=opts.head,
        )
        return Response(body, media_type="text/html; charset=utf-8")

    # -- actions (§4) -----------------------------------------------------------------------------

    async def _action(self, request: Request, session: Session) -> Response:
        # Status codes in Via's order (§4.2): 413, 404, 200 reload, 403, 404, 200.
        multipart = is_multipart(request)
        cap = self.options.max_upload if multipart else self.options.max_request_body
        try:
            body = await read_capped(request, cap)
        except TooLarge:
            return PlainTextResponse("request too large\n", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("bad request\n", status_code=400)
        payload, files = await decode_action(request, body, self.options.max_upload)
        try:
            return await self._dispatch(request, session, payload, files)
        finally:
            for parts in files.values():
                for upload in parts:
                    await upload.close()  # spooled to disk past 1 MiB: never leak the file

    async def _dispatch(
        self,
        request: Request,
        session: Session,
        payload: dict[str, Any] | None,
        files: dict[str, list[UploadFile]],
    ) -> Response:
        tab_id = payload.get("via_tab") if payload is not None else None
        if payload is None or not isinstance(tab_id, str) or not tab_id:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        tab = self.tabs.get(tab_id)
        if tab is None:
            if self.recoverable(tab_id) is None:
                return PlainTextResponse(NOT_FOUND, status_code=404)
            return self._reload_response(request, tab_id)
        if session is not tab.session:
            return PlainTextResponse("session mismatch\n", status_code=403)
        name = request.path_params["name"]
        method_name = tab.mount.actions.get(name)
        if method_name is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)

        def call(ctx: Ctx) -> Any:
            inject_signals(ctx, payload)
            ctx.payload = payload
            ctx.files = files
            return getattr(ctx.composition, method_name)(ctx)

        await tab.run(call, f"action {name}")
        return Response(b"", status_code=200)

    def _reload_response(self, request: Request, stale_id: str) -> Response:
        """The stale-but-recoverable answer: one SSE event that reloads the page (§4.3).

        Its script carries the stale document's page nonce under CSP (Via uses the request's,
        which that document's policy does not allow: a recorded deviation).
        """
        nonce = self._page_nonce(stale_id)
        data = script_event("window.location.reload()", nonce).encode()
        headers = {"Cache-Control": "no-cache"}
        if self.options.compression and accepts_brotli(request.headers.get("accept-encoding", "")):
            data = Compressor.whole(data)
            headers["Content-Encoding"] = "br"
        return Response(data, media_type="text/event-stream", headers=headers)

    # -- close beacon (§4.4) ------------------------------------------------------------------

    async def _close(self, request: Request, session: Session) -> Response:
        try:
            body = await read_capped(request, self.options.max_request_body or 4096)
        except TooLarge:
            return PlainTextResponse("request too large\n", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("bad request\n", status_code=400)
        # Unknown ids and other sessions' tabs are ignored, silently: always 200.
        tab = self.tabs.get(body.decode("utf-8", "replace").strip())
        if tab is not None and tab.session is session:
            await self.dispose(tab, "beacon")
        return Response(b"", status_code=200)

    # -- the stream (§5) --------------------------------------------------------------------------

    async def _sse(self, request: Request, session: Session) -> Response:
        tab_id = _stream_tab_id(request.query_params.get("datastar", ""))
        if tab_id is None:
            return Response(b"", status_code=404)
        compress = self.options.compression and accepts_brotli(
            request.headers.get("accept-encoding", "")
        )
        tab = self.tabs.get(tab_id)
        if tab is None:
            mount = self.recoverable(tab_id)
            if mount is None:
                return Response(b"", status_code=404)
            return await self._recover_stream(request, session, mount, tab_id, compress)
        if session is not tab.session:
            return Response(b"", status_code=403)
        resync = tab.ever_connected
        if not tab.connect_hook_ran:
            tab.connect_hook_ran = True
            hook = getattr(tab.composition, "on_connect", None)
            if hook is not None:
                # Before the headers; its pushes are drained before `: ready` (§5.5 a).
                await tab.run(hook, "on_connect", hook=True)
        opening = (lambda: resync_bytes(tab)) if resync else None
        return StreamResponse(self, tab, opening=opening, compress=compress)

    async def _recover_stream(
        self, request: Request, session: Session, mount: Mount, stale_id: str, compress: bool
    ) -> Response:
        """An unknown but recoverable tab id on `/_sse` (§5.5 c): re-bootstrap a fresh tab into
        the stale page when its URL is known (Referer, or a route without params), else
        answer with a reload."""
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            path, query = parts.path or "/", dict(parse_qsl(parts.query))
        elif not mount.params:
            path, query = mount.route, {}
        else:
            return self._reload_response(request, stale_id)
        params = mount.match(path)
        if params is None or self.at_tab_capacity():
            return self._reload_response(request, stale_id)
        made = await self._new_tab(mount, session, params, query, document_of=stale_id)
        if made is None:
            return self._reload_response(request, stale_id)
        tab, view = made
        self.register(tab)
        tab.connect_hook_ran = True
        tab.exec_script(beacon_script(tab.id))
        hook = getattr(tab.composition, "on_connect", None)
        if hook is not None:
            await tab.run(hook, "on_connect", hook=True)

        def opening() -> bytes:
            # The full seed (the new via_tab first of all), then the view replacing the stale
            # container, found by an attribute selector since ids contain `/` (§5.5 c).
            selector = '[id="' + stale_id.replace("\\", "\\\\").replace('"', '\\"') + '"]'
            return (
                patch_signals(tab.seed()) + patch_elements(view, selector=selector, mode="replace")
            ).encode()

        return StreamResponse(self, tab, opening=opening, compress=compress)


def resync_bytes(tab: Ctx) -> bytes:
    """A reconnect's opening (§5.5 b): the server-pushed signals (latest values, never
    `via_tab`), then a fresh full render."""
    out = ""
    pushed = {**tab.pushed_signals, **tab.queue.signals}
    pushed.pop("via_tab", None)
    if pushed:
        out += patch_signals(pushed)
    try:
        out += patch_elements(tab.view_html())
    except Exception:
        tab.app.log_exception(f"view of {tab.id} failed on resync")
    return out.encode()


def inject_signals(tab: Ctx, payload: dict[str, Any]) -> None:
    """Decode the client's values into the tab's typed signals, best effort (§4.1): a value
    that cannot be coerced is ignored; injected values are not echoed back."""
    for signal in tab.mount.signals:
        raw = lookup(payload, signal.key)
        if raw is MISSING:
            continue
        ok, value = signal.coerce(raw)
        if ok:
            tab.signals[signal.key] = value


def _stream_tab_id(raw: str) -> str | None:
    """`via_tab` from the stream's `datastar` query parameter (URL-decoded JSON), or None."""
    if not raw:
        return None
    try:
        signals = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    tab_id = signals.get("via_tab") if isinstance(signals, dict) else None
    return tab_id if isinstance(tab_id, str) and tab_id else None
