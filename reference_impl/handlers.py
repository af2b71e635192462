"""The wire handlers: page (specs/protocol.md §2), action (§4), close beacon (§4.4), stream
(§5) and its recovery (§5.5.3).

Each handler takes the request and its session (resolved by the app's route wrapper, §3) and
answers; it creates, registers, runs and disposes tabs, which talk down to the hub. Status
codes and their order follow §4.2 and §5.1.2.
"""

from __future__ import annotations

import inspect
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from . import csp
from .compositions import Mount
from .compress import Compressor, accepts_brotli
from .decode import TooLarge, decode_action, is_multipart, read_capped
from .hub import Hub
from .jsonenc import MISSING, encode_json, lookup
from .page import beacon_script, render_page
from .scripts import script_event
from .sessions import Session, is_hex64
from .sse import patch_elements, patch_signals
from .stream import StreamResponse
from .tabs import Ctx

__all__ = [
    "AT_CAPACITY",
    "NOT_FOUND",
    "Handler",
    "Handlers",
    "inject_signals",
    "resync_bytes",
    "stream_tab_id",
]

NOT_FOUND = "404 page not found\n"
AT_CAPACITY = "server is at capacity\n"

Handler = Callable[[Request, Session], Awaitable[Response]]


class Handlers:
    """The handlers of one app: its hub, its mounts (shared, so later mounts are seen) and
    the key deriving page nonces under CSP."""

    def __init__(self, hub: Hub[Ctx], mounts: Sequence[Mount], csp_secret: bytes) -> None:
        self.hub = hub
        self.options = hub.options
        self.mounts = mounts
        self.csp_secret = csp_secret

    # -- tabs -------------------------------------------------------------------------------------

    def page_nonce(self, tab_id: str) -> str | None:
        """The CSP nonce of the page whose first tab is `tab_id` (None without CSP)."""
        return csp.page_nonce(self.csp_secret, tab_id) if self.options.csp else None

    def recoverable(self, tab_id: str) -> Mount | None:
        """The mount a well-formed but unknown tab id belongs to (§4.3.1), or None.

        Recoverable: the part after the last `_` is 64 lowercase hex and the part before it
        is a mounted route pattern.
        """
        route, sep, suffix = tab_id.rpartition("_")
        if not sep or not is_hex64(suffix):
            return None
        return next((m for m in self.mounts if m.route == route), None)

    def owns(self, session: Session, tab: Ctx) -> bool:
        """True when `tab` belongs to `session`: other sessions' tab ids are refused (§4.2,
        §5.1.2)."""
        return session is tab.session or self.hub.faulty("foreign-tab-accepted")

    async def new_tab(
        self,
        mount: Mount,
        session: Session,
        params: dict[str, str],
        query: dict[str, str],
        document_of: str | None = None,
    ) -> tuple[Ctx, str] | None:
        """A new tab and its first render (`<div id=TAB>`), after `on_init`; None if the view
        raised. `document_of` is the stale tab whose document it takes over (§5.5.3)."""
        tab_id = f"{mount.route}_{secrets.token_hex(32)}"
        nonce = self.page_nonce(document_of or tab_id)
        tab = Ctx(self.hub, mount, session, tab_id, params, query, nonce)
        tab.hold()
        hook = getattr(tab.composition, "on_init", None)
        if hook is not None:
            try:
                result = hook(tab)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # An on_init failure is only logged; the page still renders (§2).
                self.hub.log_exception(f"on_init of {tab.id} failed")
        try:
            view = tab.view_html()
        except Exception:
            self.hub.log_exception(f"view of {tab.id} failed")
            return None
        tab.settle()
        return tab, view

    # -- page (§2) ------------------------------------------------------------------------------

    def page_for(self, mount: Mount) -> Handler:
        """The page handler of one mount."""

        async def page(request: Request, session: Session) -> Response:
            return await self.page(request, session, mount)

        return page

    async def page(self, request: Request, session: Session, mount: Mount) -> Response:
        """`GET <route>`: a new tab, registered, and its whole document (§2)."""
        if self.hub.at_tab_capacity():
            return PlainTextResponse(AT_CAPACITY, status_code=503)
        params = {k: v for k, v in request.path_params.items() if k != "_rest"}
        made = await self.new_tab(mount, session, params, dict(request.query_params))
        if made is None:
            return PlainTextResponse("internal server error\n", status_code=500)
        tab, view = made
        tab.register()
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

    async def action(self, request: Request, session: Session) -> Response:
        """`POST /_action/{name}`: status codes in the order of §4.2 (413, 404, 200 reload,
        403, 404, 200)."""
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
        if payload is None and self.hub.faulty("bad-json-500"):
            return PlainTextResponse("internal server error\n", status_code=500)
        tab_id = payload.get("via_tab") if payload is not None else None
        if payload is None or not isinstance(tab_id, str) or not tab_id:
            return PlainTextResponse(NOT_FOUND, status_code=404)
        tab = self.hub.tabs.get(tab_id)
        if tab is None:
            if self.recoverable(tab_id) is None:
                return PlainTextResponse(NOT_FOUND, status_code=404)
            return self.reload_response(request, tab_id)
        if not self.owns(session, tab):
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

    def reload_response(self, request: Request, stale_id: str) -> Response:
        """The stale-but-recoverable answer: one SSE event that reloads the page (§4.3.2).

        Its script carries the stale document's page nonce under CSP (Via uses the request's,
        which that document's policy does not allow: a recorded deviation).
        """
        nonce = self.page_nonce(stale_id)
        data = script_event("window.location.reload()", nonce).encode()
        headers = {"Cache-Control": "no-cache"}
        if self.options.compression and accepts_brotli(request.headers.get("accept-encoding", "")):
            data = Compressor.whole(data)
            headers["Content-Encoding"] = "br"
        return Response(data, media_type="text/event-stream", headers=headers)

    # -- close beacon (§4.4) ------------------------------------------------------------------

    async def beacon(self, request: Request, session: Session) -> Response:
        """`POST /_sse/close`: dispose the named tab of this session; 200 in every case."""
        try:
            body = await read_capped(request, self.options.max_request_body or 4096)
        except TooLarge:
            return PlainTextResponse("request too large\n", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("bad request\n", status_code=400)
        # Unknown ids and other sessions' tabs are ignored, silently: always 200 (§4.4.1).
        tab = self.hub.tabs.get(body.decode("utf-8", "replace").strip())
        if tab is not None and self.owns(session, tab):
            await tab.dispose("beacon")
        return Response(b"", status_code=200)

    # -- the stream (§5) --------------------------------------------------------------------------

    async def stream(self, request: Request, session: Session) -> Response:
        """`GET /_sse`: the tab's stream; first connect, reconnect or re-bootstrap (§5.5)."""
        tab_id = stream_tab_id(request.query_params.get("datastar", ""))
        if tab_id is None:
            return Response(b"", status_code=404)
        compress = self.options.compression and accepts_brotli(
            request.headers.get("accept-encoding", "")
        )
        tab = self.hub.tabs.get(tab_id)
        if tab is None:
            mount = self.recoverable(tab_id)
            if mount is None:
                return Response(b"", status_code=404)
            return await self._recover_stream(request, session, mount, tab_id, compress)
        if not self.owns(session, tab):
            return Response(b"", status_code=403)
        resync = tab.ever_connected and not self.hub.faulty("skip-resync")
        if not tab.connect_hook_ran:
            tab.connect_hook_ran = True
            hook = getattr(tab.composition, "on_connect", None)
            if hook is not None:
                # Before the headers; its pushes are drained before `: ready` (§5.5.1).
                await tab.run(hook, "on_connect", hook=True)
        opening = (lambda: resync_bytes(tab)) if resync else None
        return StreamResponse(tab, self.options, opening=opening, compress=compress)

    async def _recover_stream(
        self, request: Request, session: Session, mount: Mount, stale_id: str, compress: bool
    ) -> Response:
        """An unknown but recoverable tab id on `/_sse` (§5.5.3): re-bootstrap a fresh tab into
        the stale page when its URL is known (Referer, or a route without params), else
        answer with a reload."""
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            path, query = parts.path or "/", dict(parse_qsl(parts.query))
        elif not mount.params:
            path, query = mount.route, {}
        else:
            return self.reload_response(request, stale_id)
        params = mount.match(path)
        if params is None or self.hub.at_tab_capacity():
            return self.reload_response(request, stale_id)
        made = await self.new_tab(mount, session, params, query, document_of=stale_id)
        if made is None:
            return self.reload_response(request, stale_id)
        tab, view = made
        tab.register()
        tab.connect_hook_ran = True
        tab.exec_script(beacon_script(tab.id))
        hook = getattr(tab.composition, "on_connect", None)
        if hook is not None:
            await tab.run(hook, "on_connect", hook=True)

        def opening() -> bytes:
            # The full seed (the new via_tab first of all), then the view replacing the stale
            # container, found by an attribute selector since ids contain `/` (§2.2, §5.5.3).
            selector = '[id="' + stale_id.replace("\\", "\\\\").replace('"', '\\"') + '"]'
            return (
                patch_signals(tab.seed()) + patch_elements(view, selector=selector, mode="replace")
            ).encode()

        return StreamResponse(tab, self.options, opening=opening, compress=compress)


def resync_bytes(tab: Ctx) -> bytes:
    """A reconnect's opening (§5.5.2): the server-pushed signals (latest values, never
    `via_tab`), then a fresh full render."""
    out = ""
    pushed = {**tab.pushed_signals, **tab.queue.signals}
    pushed.pop("via_tab", None)
    if pushed:
        out += patch_signals(pushed)
    try:
        out += patch_elements(tab.view_html())
    except Exception:
        tab.hub.log_exception(f"view of {tab.id} failed on resync")
    return out.encode()


def inject_signals(tab: Ctx, payload: dict[str, Any]) -> None:
    """Decode the client's values into the tab's typed signals, best effort (§4.1.4): a value
    that cannot be coerced is ignored; injected values are not echoed back."""
    for signal in tab.mount.signals:
        raw = lookup(payload, signal.key)
        if raw is MISSING:
            continue
        ok, value = signal.coerce(raw)
        if ok:
            tab.signals[signal.key] = value


def stream_tab_id(raw: str) -> str | None:
    """`via_tab` from the stream's `datastar` query parameter (URL-decoded JSON), or None
    (§5.1.1)."""
    if not raw:
        return None
    try:
        signals = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    tab_id = signals.get("via_tab") if isinstance(signals, dict) else None
    return tab_id if isinstance(tab_id, str) and tab_id else None
