"""The Via runtime: an ASGI app that serves mounted compositions over Via's wire protocol.

    app = App(insecure_cookies=True)
    app.mount("/", Room)
    serve(app, port=3000)          # or any ASGI server

Routes, status codes and ordering follow `specs/protocol.md` (which follows Via, see
`../shared/research/via-protocol.md`); each handler cites the section it implements.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .compositions import Mount
from .page import render_page
from .sessions import Session, SessionStore, is_hex64, new_hex64
from .sse import HEADERS, READY, encode_json, patch_elements, patch_signals, script_tag
from .state import StateAppEvents, new_lock
from .tabs import Ctx

__all__ = ["App", "Options"]

log = logging.getLogger("reference_impl")

NOT_FOUND = "404 page not found\n"


@dataclass(slots=True)
class Options:
    """Runtime configuration; every field mirrors a Via option (named in its comment)."""

    title: str = "Via"  # WithTitle
    insecure_cookies: bool = False  # WithInsecureCookies: no Secure flag (plain-http dev)
    session_cookie: str = "via_session"  # WithSessionCookieName
    heartbeat: float = 25.0  # WithSSEHeartbeat; <= 0 means the default
    context_ttl: float = 15 * 60.0  # WithContextTTL; <= 0 disables the tab sweep
    session_ttl: float = 30 * 60.0  # WithSessionTTL
    max_sessions: int = 0  # WithMaxSessions; 0 = no cap
    max_contexts: int = 0  # WithMaxContexts; 0 = no cap
    max_request_body: int = 1 << 20  # WithMaxRequestBody (JSON actions, close beacon)
    max_upload: int = 32 << 20  # WithMaxUploadSize (multipart actions)
    verbose_errors: bool = False  # WithVerboseErrors: panic text in toasts
    datastar_js: str | Path | None = None  # file served at /_datastar.js
    reconnect_manager: bool = True  # WithoutSSEReconnect turns it off
    health_endpoints: bool = True  # WithoutHealthEndpoints turns them off


class App:
    """A Via application: mounts, sessions, tabs, app state, and the ASGI entry point."""

    def __init__(self, options: Options | None = None, **overrides: Any) -> None:
        base = options or Options()
        for key, value in overrides.items():
            if not hasattr(base, key):
                raise TypeError(f"unknown option {key!r}")
            setattr(base, key, value)
        if base.heartbeat <= 0:
            base.heartbeat = 25.0
        self.options = base
        self.mounts: list[Mount] = []
        self.sessions = SessionStore()
        self.tabs: dict[str, Ctx] = {}
        self.state: dict[str, Any] = {}
        self.event_logs: dict[str, list[Any]] = {}
        self.draining = False
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._folds: dict[str, StateAppEvents[Any, Any]] = {}
        self._fold_scheduled = False
        self._asgi: Starlette | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # -- configuration --------------------------------------------------------------------------

    def mount(self, route: str, composition: type[Any]) -> None:
        """Serve `composition` at `route` (Via's `Mount`); `{name}` segments are path params."""
        if any(m.route == route for m in self.mounts):
            raise ValueError(f"route {route!r} is mounted twice")
        self.mounts.append(Mount.of(route, composition))
        self._asgi = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._asgi is None:
            self._asgi = self._build()
        await self._asgi(scope, receive, send)

    def _build(self) -> Starlette:
        routes = [
            Route("/_sse", self._sse, methods=["GET"]),
            Route("/_sse/close", self._close, methods=["POST"]),
            Route("/_action/{name}", self._action, methods=["POST"]),
            Route("/_datastar.js", self._datastar_js, methods=["GET"]),
        ]
        if self.options.health_endpoints:
            routes[:0] = [
                Route("/livez", self._live, methods=["GET"]),
                Route("/healthz", self._live, methods=["GET"]),
                Route("/readyz", self._ready, methods=["GET"]),
            ]
        for mount in sorted(self.mounts, key=lambda m: m.route == "/"):
            path = "/{_rest:path}" if mount.route == "/" else mount.route
            routes.append(Route(path, self._page_for(mount), methods=["GET"]))
        return Starlette(routes=routes, lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self._sweeper = asyncio.create_task(self._sweep_loop())
        try:
            yield
        finally:
            await self.shutdown()

    # -- logging ----------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        """Log an operational message."""
        log.info(message)

    def log_exception(self, message: str) -> None:
        """Log an exception with its traceback (never sent to clients)."""
        log.error("%s\n%s", message, traceback.format_exc())

    # -- sessions and tabs -----------------------------------------------------------------------

    def _session_for(self, request: Request) -> tuple[Session | None, bool]:
        """The request's session, minting one if needed (None when at the session cap)."""
        session, must_mint = self.sessions.lookup(request.cookies.get(self.options.session_cookie))
        if not must_mint:
            return session, False
        cap = self.options.max_sessions
        if cap and len(self.sessions) >= cap:
            return None, False
        return self.sessions.mint(), True

    def _set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            self.options.session_cookie,
            session.id,
            path="/",
            httponly=True,
            secure=not self.options.insecure_cookies,
            samesite="lax",
        )

    def _recoverable(self, tab_id: str) -> Mount | None:
        """The mount a well-formed but unknown tab id belongs to (§4.3), or None."""
        route, sep, suffix = tab_id.rpartition("_")
        if not sep or not is_hex64(suffix):
            return None
        return next((m for m in self.mounts if m.route == route), None)

    def dispose(self, tab: Ctx, reason: str) -> None:
        """Forget a tab: run `on_dispose` and end its stream."""
        if tab.disposed:
            return
        tab.disposed = True
        self.tabs.pop(tab.id, None)
        hook = getattr(tab.composition, "on_dispose", None)
        if hook is not None:
            self._run_hook(hook, tab, "on_dispose")
        tab._wake.set()
        log.debug("disposed %s (%s)", tab.id, reason)

    def _run_hook(self, hook: Callable[[Ctx], Any], tab: Ctx, name: str) -> None:
        try:
            result = hook(tab)
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:
            self.log_exception(f"{name} of {tab.id} failed")

    async def _sweep_loop(self) -> None:
        """TTL sweeps: never reap a tab with an open stream (§3)."""
        opts = self.options
        period = min(x for x in (opts.context_ttl, opts.session_ttl, 60.0) if x > 0) / 2
        while True:
            await asyncio.sleep(period)
            self.sweep()

    def sweep(self, now: float | None = None) -> None:
        """Dispose idle stream-less tabs and expire idle sessions (one sweep)."""
        now = time.monotonic() if now is None else now
        ttl = self.options.context_ttl
        if ttl > 0:
            for tab in list(self.tabs.values()):
                if not tab.connected and now - tab.last_seen > ttl:
                    self.dispose(tab, "ttl")
        live = {tab.session.id for tab in self.tabs.values() if tab.connected}
        for session in list(self.sessions.sessions.values()):
            if session.id in live:
                session.touch()
        self.sessions.sweep(self.options.session_ttl, now)

    async def shutdown(self) -> None:
        """Begin draining: `/readyz` answers 503, every tab is disposed and its stream ends."""
        self.draining = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for tab in list(self.tabs.values()):
            self.dispose(tab, "shutdown")

    # -- state fan-out --------------------------------------------------------------------------

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
        for tab in self.tabs.values():
            if tab is origin or (scope, key) not in tab.subscriptions:
                continue
            if scope == "sess" and (origin is None or tab.session is not origin.session):
                continue
            tab.needs_render = True
            tab.wake()

    def schedule_fold(self, handle: StateAppEvents[Any, Any]) -> None:
        """Fold appended events soon (after the running action), then fan out."""
        self._folds[handle.key] = handle
        if not self._fold_scheduled:
            self._fold_scheduled = True
            asyncio.get_running_loop().call_soon(self._fold)

    def _fold(self) -> None:
        self._fold_scheduled = False
        folds, self._folds = self._folds, {}
        for key, handle in folds.items():
            events = self.event_logs.get(key, [])
            self.event_logs[key] = []
            handle.apply_fold(self.state, events)
            self.fan_out("app", key, origin=None)

    def broadcast(self, js: str) -> int:
        """Run a script in every registered tab; returns how many tabs got it."""
        if not js:
            return 0
        for tab in self.tabs.values():
            tab.exec_script(js)
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

    async def _datastar_js(self, request: Request) -> Response:
        session, minted = self._session_for(request)
        path = self.options.datastar_js
        if path is None:
            response: Response = PlainTextResponse(
                "// reference_impl: no datastar.js configured (Options.datastar_js)\n",
                media_type="application/javascript",
            )
        else:
            response = Response(Path(path).read_bytes(), media_type="application/javascript")
        if minted and session is not None:
            self._set_cookie(response, session)
        return response

    # -- page (§2) ------------------------------------------------------------------------------

    def _page_for(self, mount: Mount) -> Callable[[Request], Awaitable[Response]]:
        async def page(request: Request) -> Response:
            return await self._page(request, mount)

        return page

    async def _page(self, request: Request, mount: Mount) -> Response:
        session, minted = self._session_for(request)
        cap = self.options.max_contexts
        if session is None or (cap and len(self.tabs) >= cap):
            return PlainTextResponse("server is at capacity\n", status_code=503)
        params = dict(request.path_params)
        params.pop("_rest", None)
        tab = Ctx(self, mount, session, f"{mount.route}_{new_hex64()}", params)
        tab.hold()
        hook = getattr(tab.composition, "on_init", None)
        if hook is not None:
            try:
                result = hook(tab)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.log_exception(f"on_init of {tab.id} failed")
        try:
            view = tab.view_html()
        except Exception:
            self.log_exception(f"view of {tab.id} failed")
            return PlainTextResponse("internal server error\n", status_code=500)
        # The page already shows this render; writes made in on_init are in it.
        tab._dirty_view = False
        tab._dirty_signals.clear()
        tab._writes.clear()
        tab._holding = 0
        self.tabs[tab.id] = tab
        seed = {"via_tab": tab.id, **{k: tab.signals[k] for k in sorted(tab.signals)}}
        body = render_page(
            title=self.options.title,
            seed_json=encode_json(seed),
            tab_id=tab.id,
            view_html=view,
            reconnect_manager=self.options.reconnect_manager,
        )
        response = Response(body, media_type="text/html; charset=utf-8")
        if minted:
            self._set_cookie(response, session)
        return response

    # -- actions (§4) -----------------------------------------------------------------------------

    async def _read_body(self, request: Request, cap: int) -> bytes | None:
        """The body, or None when it is larger than `cap` bytes (checked while reading)."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _action(self, request: Request) -> Response:
        is_multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
        cap = self.options.max_upload if is_multipart else self.options.max_request_body
        try:
            body = await self._read_body(request, cap)
        except ClientDisconnect:
            return PlainTextResponse("bad request\n", status_code=400)
        if body is None:
            return PlainTextResponse("request too large\n", status_code=413)
        payload, files = await self._decode_action(request, body, is_multipart)
        tab_id = payload.get("via_tab") if payload is not None else None
        if not isinstance(tab_id, str) or not tab_id:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        session, minted = self._session_for(request)
        tab = self.tabs.get(tab_id)
        if tab is None:
            if self._recoverable(tab_id) is None:
                return PlainTextResponse(NOT_FOUND, status_code=404)
            return self._reload_response(session if minted else None)
        if session is not tab.session:
            response: Response = PlainTextResponse("session mismatch\n", status_code=403)
            if minted and session is not None:
                self._set_cookie(response, session)
            return response
        name = request.path_params["name"]
        method_name = tab.mount.actions.get(name)
        if method_name is None:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        assert payload is not None
        await self.run_action(tab, method_name, payload, files)
        return Response(b"", status_code=200)

    async def _decode_action(
        self, request: Request, body: bytes, is_multipart: bool
    ) -> tuple[dict[str, Any] | None, dict[str, list[UploadFile]]]:
        files: dict[str, list[UploadFile]] = {}
        if not is_multipart:
            try:
                payload = json.loads(body)
            except ValueError:
                return None, files
            return (payload if isinstance(payload, dict) else None), files

        # Multipart: text fields are string signals (coerced per signal), files bind by name.
        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        form_request = Request(request.scope, replay)
        try:
            form = await form_request.form(max_part_size=self.options.max_upload)
        except Exception:
            return None, files
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.setdefault(key, []).append(value)
            elif key not in fields:
                fields[key] = value
        return fields, files

    def _reload_response(self, minted: Session | None) -> Response:
        """The stale-but-recoverable answer: one SSE event that reloads the page (§4.3)."""
        event = patch_elements(
            script_tag("window.location.reload()"), selector="body", mode="append"
        )
        response = Response(event.encode(), media_type="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        if minted is not None:
            self._set_cookie(response, minted)
        return response

    async def run_action(
        self,
        tab: Ctx,
        method_name: str,
        payload: dict[str, Any],
        files: dict[str, list[UploadFile]] | None = None,
    ) -> None:
        """Inject client signals, run one action under the tab's lock, flush one drain."""
        async with tab.lock:
            for signal in tab.mount.signals:
                if signal.key in payload:
                    ok, value = signal.coerce(payload[signal.key])
                    if ok:
                        tab.signals[signal.key] = value
            tab.files = files or {}
            tab.payload = payload
            tab.hold()
            try:
                result = getattr(tab.composition, method_name)(tab)
                if inspect.isawaitable(result):
                    result = await result
                if isinstance(result, Exception):
                    tab.notify(str(result))
            except Exception as exc:
                self.log_exception(f"action {method_name} on {tab.id} raised")
                message = "Something went wrong"
                if self.options.verbose_errors:
                    message = f"panic: {exc}"
                tab.notify(message)
            finally:
                tab.release()

    # -- close beacon (§4.4) ------------------------------------------------------------------

    async def _close(self, request: Request) -> Response:
        try:
            body = await self._read_body(request, self.options.max_request_body or 4096)
        except ClientDisconnect:
            return PlainTextResponse("bad request\n", status_code=400)
        if body is None:
            return PlainTextResponse("request too large\n", status_code=413)
        session, minted = self._session_for(request)
        tab = self.tabs.get(body.decode("utf-8", "replace").strip())
        if tab is not None and tab.session is session:
            self.dispose(tab, "beacon")
        response = Response(b"", status_code=200)
        if minted and session is not None:
            self._set_cookie(response, session)
        return response

    # -- the stream (§5) --------------------------------------------------------------------------

    async def _sse(self, request: Request) -> Response:
        raw = request.query_params.get("datastar", "")
        try:
            signals = json.loads(raw) if raw else None
        except ValueError:
            signals = None
        tab_id = signals.get("via_tab") if isinstance(signals, dict) else None
        if not isinstance(tab_id, str) or not tab_id:
            return Response(b"", status_code=404)
        session, minted = self._session_for(request)
        tab = self.tabs.get(tab_id)
        if tab is None:
            mount = self._recoverable(tab_id)
            if mount is None:
                return Response(b"", status_code=404)
            return self._reload_response(session if minted else None)
        if session is not tab.session:
            return Response(b"", status_code=403)
        first = not tab.ever_connected
        if first:
            tab.hold()
            hook = getattr(tab.composition, "on_connect", None)
            if hook is not None:
                try:
                    result = hook(tab)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    self.log_exception(f"on_connect of {tab.id} failed")
            tab.release()
        response = StreamResponse(self, tab, resync=not first)
        if minted and session is not None:
            self._set_cookie(response, session)
        return response


class StreamResponse(Response):
    """A tab's long-lived event stream: resync, drain, `: ready`, then drain and heartbeat."""

    def __init__(self, app: App, tab: Ctx, *, resync: bool) -> None:
        super().__init__(status_code=200, headers=HEADERS)
        # A stream has no length: drop the `content-length: 0` Starlette adds for no body.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.app = app
        self.tab = tab
        self.resync = resync

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tab = self.tab
        closed = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            closed.set()
            tab._wake.set()

        watcher = asyncio.create_task(watch_disconnect())
        tab.connected = True
        tab.ever_connected = True
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            opening = b""
            if self.resync:
                opening += self._resync_bytes()
            if not await self._drain(send, closed, prefix=opening):
                return
            await send({"type": "http.response.body", "body": READY, "more_body": True})
            await self._loop(send, closed)
        finally:
            tab.connected = False
            tab.last_seen = time.monotonic()
            watcher.cancel()
            if not closed.is_set():
                # We end the stream (dispose or shutdown): finish the response cleanly.
                try:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except Exception:  # the client went away meanwhile; nothing to finish
                    log.debug("closing %s failed", tab.id)

    def _resync_bytes(self) -> bytes:
        """On reconnect: pushed signals (never via_tab), then a fresh full render (§5.5)."""
        tab = self.tab
        out = ""
        pushed = {**tab.pushed_signals, **tab.queue.signals}
        pushed.pop("via_tab", None)
        if pushed:
            out += patch_signals(pushed)
        try:
            out += patch_elements(tab.view_html())
        except Exception:
            self.app.log_exception(f"view of {tab.id} failed on resync")
        return out.encode()

    async def _drain(self, send: Send, closed: asyncio.Event, prefix: bytes = b"") -> bool:
        """Write the queue; on failure put it back. False when the stream must end."""
        tab = self.tab
        taken, data = tab.drain_bytes()
        data = prefix + data
        if not data:
            return not closed.is_set()
        if closed.is_set():
            tab.queue.restore(taken)
            return False
        try:
            await send({"type": "http.response.body", "body": data, "more_body": True})
        except Exception:
            tab.queue.restore(taken)
            return False
        if closed.is_set():
            # uvicorn drops writes to a closed connection silently: count it as failed.
            tab.queue.restore(taken)
            return False
        tab.last_seen = time.monotonic()
        return True

    async def _loop(self, send: Send, closed: asyncio.Event) -> None:
        tab = self.tab
        interval = self.app.options.heartbeat
        next_beat = time.monotonic() + interval
        heartbeat = patch_signals({}).encode()
        while not closed.is_set() and not tab.disposed:
            woken = await tab.wait_wake(max(0.0, next_beat - time.monotonic()))
            if closed.is_set() or tab.disposed:
                return
            if woken:
                if not await self._drain(send, closed):
                    return
                continue
            next_beat = time.monotonic() + interval
            await send({"type": "http.response.body", "body": heartbeat, "more_body": True})
            if closed.is_set():
                return
            tab.session.touch()
