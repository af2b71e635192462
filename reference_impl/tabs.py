"""Tabs (Via's `Ctx`): one per page load, each with its own patch queue (specs/protocol.md §5.4).

The queue coalesces like Via's: the newest full render replaces older ones, explicit elements
append, signals merge last-wins, scripts concatenate and a redirect wins over everything. A
drain takes the whole queue and writes render + explicit elements, then signals, then scripts;
if the write fails the taken items go back in front of anything queued meanwhile
(at-least-once).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import html as h
from .jsonenc import encode_json, nest
from .sse import patch_elements, patch_signals, script_tag

if TYPE_CHECKING:
    from starlette.datastructures import UploadFile

    from .app import App
    from .compositions import Mount
    from .sessions import Session

__all__ = ["ActionError", "Ctx", "PatchQueue", "Ticker"]

log = logging.getLogger("reference_impl")

Subscription = tuple[str, str]  # (scope, wire key)


class ActionError(Exception):
    """Raise (or return) it from an action: its message is shown to the user as a toast.

    It is Via's "action returned an error" (§4.2); any other exception is a panic, shown as
    `Something went wrong` unless verbose errors are on.
    """


@dataclass(slots=True)
class PatchQueue:
    """What a tab's stream still has to send."""

    render: str | None = None
    elements: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)  # flat keys, nested when encoded
    scripts: list[str] = field(default_factory=list)
    redirect: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.render is not None
            or self.elements
            or self.signals
            or self.scripts
            or self.redirect is not None
        )

    def take(self) -> PatchQueue:
        """Empty this queue into a new one and return that."""
        taken = PatchQueue(self.render, self.elements, self.signals, self.scripts, self.redirect)
        self.render, self.redirect = None, None
        self.elements, self.signals, self.scripts = [], {}, []
        return taken

    def restore(self, taken: PatchQueue) -> None:
        """Put back items a failed write took; anything queued since then stays newer."""
        if self.render is None:
            self.render = taken.render
        self.elements = taken.elements + self.elements
        self.signals = {**taken.signals, **self.signals}
        self.scripts = taken.scripts + self.scripts
        if self.redirect is None:
            self.redirect = taken.redirect

    def encode(self, nonce: str | None) -> bytes:
        """The SSE bytes of one drain: elements, signals, scripts; or the redirect alone."""
        if self.redirect is not None:
            # A redirect discards everything else in the snapshot (§5.4).
            body = f"setTimeout(() => window.location.href = {encode_json(self.redirect)})"
            return script_event(body, nonce).encode()
        parts: list[str] = []
        payload = "".join(([self.render] if self.render is not None else []) + self.elements)
        if payload:
            parts.append(patch_elements(payload))
        if self.signals:
            parts.append(patch_signals(nest(self.signals)))
        if self.scripts:
            joined = "".join(f"try{{{s}}}catch(e){{console.error(e)}};" for s in self.scripts)
            parts.append(script_event(joined, nonce))
        return "".join(parts).encode()


def script_event(body: str, nonce: str | None) -> str:
    """A script as Via sends it: a self-removing `<script>` appended to `body` (§6.4)."""
    return patch_elements(script_tag(body, nonce), selector="body", mode="append")


class Ctx:
    """One tab: its composition instance, signals, state, subscriptions and patch queue.

    Actions, views and lifecycle hooks receive the tab's `Ctx`. Pushes (`patch_elements`,
    `patch_signals`, `exec_script`, `notify`, `redirect`, `reload`) go to this tab only and
    may be called from any task on the app's event loop.
    """

    def __init__(
        self,
        app: App,
        mount: Mount,
        session: Session,
        tab_id: str,
        params: dict[str, str],
        query: dict[str, str] | None = None,
        nonce: str | None = None,
    ) -> None:
        self.app = app
        self.mount = mount
        self.session = session
        self.id = tab_id
        self.params = params  # path parameters of the page URL
        self.query = query or {}  # query parameters of the page URL
        self.nonce = nonce  # the page's CSP nonce: every pushed script carries it
        self.composition: Any = mount.composition()
        self.signals: dict[str, Any] = {s.key: s.initial() for s in mount.signals}
        self.state: dict[str, Any] = {}
        self.queue = PatchQueue()
        self.lock = asyncio.Lock()
        self.subscriptions: frozenset[Subscription] = frozenset()
        self.registered = False
        self.connected = False  # a stream is open now
        self.ever_connected = False
        self.connect_hook_ran = False  # on_connect runs once per tab, on its first stream
        self.stream_serial = 0  # the newest stream's number; older streams end
        self.disposed = False
        self.last_seen = time.monotonic()
        self.pushed_signals: dict[str, Any] = {}  # ad-hoc pushes, re-sent on resync (§5.5)
        self.payload: dict[str, Any] = {}  # the running action's decoded body
        self.files: dict[str, list[UploadFile]] = {}  # the running action's files, by field
        self.tickers: list[Ticker] = []
        self.needs_render = False
        self._wake = asyncio.Event()
        self._holding = 0
        self._reads: set[Subscription] | None = None
        self._dirty_view = False
        self._dirty_signals: dict[str, None] = {}  # ordered set
        self._writes: set[Subscription] = set()
        self._sync_off = False

    def __repr__(self) -> str:
        return f"<Ctx {self.id}>"

    def seed(self) -> dict[str, Any]:
        """The page's signal seed: `via_tab` and every typed signal, nested by dots (§2.3)."""
        return nest({"via_tab": self.id, **self.signals})

    # -- rendering and subscriptions ----------------------------------------------------------

    def note_read(self, scope: str, key: str) -> None:
        """Record that the render in progress read this state key (it subscribes the tab)."""
        if self._reads is not None:
            self._reads.add((scope, key))

    def note_write(self, scope: str, key: str) -> None:
        """Record a state write: the view is dirty and shared scopes fan out after the action."""
        self._dirty_view = True
        if scope != "tab":
            self._writes.add((scope, key))

    def mark_signal(self, key: str) -> None:
        """Record a signal write: it is sent to this tab at the end of the action."""
        self._dirty_signals[key] = None

    def view_html(self) -> str:
        """Render the whole view inside `<div id="TAB">` and update the subscriptions.

        A view that raises leaves the subscriptions and the queue as they were.
        """
        self._reads = set()
        try:
            node = self.composition.view(self)
            markup = h.render(h.div(node, id=self.id))
        finally:
            reads, self._reads = self._reads, None
        new = frozenset(reads)
        if new != self.subscriptions:
            old, self.subscriptions = self.subscriptions, new
            if self.registered:
                self.app.reindex(self, old, new)
        return markup

    def queue_render(self) -> None:
        """Render now into the queue's render slot (replacing an older render)."""
        self.needs_render = False
        try:
            self.queue.render = self.view_html()
        except Exception:
            # A failing view never overwrites a good queued render (§5.4).
            self.app.log_exception(f"view of {self.id} failed")

    # -- pushes ---------------------------------------------------------------------------------

    def patch_elements(self, *nodes: h.Node | str) -> None:
        """Push elements (each should carry an id); sent after the view in the same event."""
        for node in nodes:
            self.queue.elements.append(node if isinstance(node, str) else h.render(node))
        self.wake()

    def patch_signals(self, signals: dict[str, Any]) -> None:
        """Push signals (remembered and re-sent when the stream reconnects, §5.5)."""
        if not signals:
            return
        self.queue.signals.update(signals)
        self.pushed_signals.update(signals)
        self.wake()

    def exec_script(self, js: str) -> None:
        """Run JavaScript in this tab (appended to `body` as a self-removing script)."""
        if js:
            self.queue.scripts.append(js)
            self.wake()

    def notify(self, message: str) -> None:
        """Show a toast with `message` (as text) in this tab."""
        self.exec_script(toast_script(message))

    def reload(self) -> None:
        """Reload the page in this tab."""
        self.exec_script("location.reload()")

    def redirect(self, url: str) -> bool:
        """Navigate this tab to `url`; unsafe schemes are dropped (returns False, §4.3)."""
        if not safe_redirect(url):
            log.warning("redirect to %r dropped: only http(s) and relative URLs", url)
            return False
        self.queue.redirect = url
        self.wake()
        return True

    def sync_off(self) -> None:
        """Make the running action silent: no re-render, signal patch or fan-out at its end."""
        self._sync_off = True

    def sync_now(self) -> None:
        """Re-render and flush now, from outside an action (Via's `SyncNow`)."""
        self.hold()
        self._dirty_view = True
        self.release()

    def stream(self, interval: float, fn: Callable[[Ctx], Any]) -> Ticker:
        """Run `fn(ctx)` every `interval` seconds like an action (Via's `via.Stream`).

        Ticks are serialised with actions and flushed at their end; the ticker stops when
        the tab is disposed.
        """
        ticker = Ticker(self, interval, fn)
        self.tickers.append(ticker)
        return ticker

    # -- the action cycle ---------------------------------------------------------------------

    async def run(self, fn: Callable[[Ctx], Any], what: str, *, hook: bool = False) -> None:
        """Run an action or tick under the tab's lock; one run gives one drain (§4.2).

        An `ActionError` raised or returned becomes a toast with its message; any other
        exception (a panic) a toast saying `Something went wrong`, or its text when verbose
        errors are on. State changed before a failure is still flushed. A `hook` (on_connect,
        on_dispose) runs even on a disposed tab, and its errors are only logged.
        """
        async with self.lock:
            if self.disposed and not hook:
                return
            self.hold()
            try:
                result = fn(self)
                if inspect.isawaitable(result):
                    result = await result
                if isinstance(result, Exception):
                    raise result
            except Exception as exc:
                self.app.log_exception(f"{what} on {self.id} raised")
                if hook:
                    pass
                elif isinstance(exc, ActionError):
                    self.notify(str(exc))
                elif self.app.options.verbose_errors:
                    self.notify(f"panic: {exc}")
                else:
                    self.notify("Something went wrong")
            finally:
                self.release()

    def hold(self) -> None:
        """Hold wake-ups until `release()`: one action gives one drain."""
        self._holding += 1

    def release(self) -> None:
        """Flush what the action changed into the queue, fan out, and wake the stream."""
        self._holding -= 1
        if self._holding:
            return
        if self._sync_off:
            self._sync_off = False
        else:
            if self._dirty_view:
                self._dirty_view = False
                self.queue_render()
            for key in self._dirty_signals:
                self.queue.signals[key] = self.signals.get(key)
            self._dirty_signals.clear()
            writes, self._writes = self._writes, set()
            for scope, key in sorted(writes):
                self.app.fan_out(scope, key, origin=self)
        self.wake()

    def settle(self) -> None:
        """End the page GET's hold: its render shows what on_init wrote, so nothing is queued
        for this tab, but writes to shared state still reach the other tabs."""
        self._holding = 0
        self._dirty_view = False
        self._dirty_signals.clear()
        writes, self._writes = self._writes, set()
        for scope, key in sorted(writes):
            self.app.fan_out(scope, key, origin=self)

    def file(self, name: str) -> UploadFile | None:
        """The first file uploaded in field `name` by the running action, or None."""
        found = self.files.get(name)
        return found[0] if found else None

    def wake(self) -> None:
        """Tell the stream there is something to drain (unless an action holds wake-ups)."""
        if not self._holding and (self.queue or self.needs_render):
            self._wake.set()

    def interrupt(self) -> None:
        """Wake the stream so it re-checks whether it should end."""
        self._wake.set()

    async def wait_wake(self, timeout: float) -> bool:
        """Wait until woken or `timeout` seconds pass; True when woken."""
        if not self._wake.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                return False
        self._wake.clear()
        return True

    def drain_bytes(self) -> tuple[PatchQueue, bytes]:
        """Take the queue (rendering first if a fan-out asked for it) and encode it."""
        if self.needs_render:
            self.queue_render()
        taken = self.queue.take()
        return taken, taken.encode(self.nonce) if taken else b""


class Ticker:
    """A periodic tick on a tab (made by `Ctx.stream`): pause, resume, stop, set_interval."""

    def __init__(self, tab: Ctx, interval: float, fn: Callable[[Ctx], Any]) -> None:
        if interval <= 0:
            raise ValueError("a stream's interval must be positive")
        self.tab = tab
        self.interval = interval
        self.fn = fn
        self.paused = False
        self.stopped = False
        self.ticks = 0
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def pause(self) -> None:
        """Stop ticking until `resume()`."""
        self.paused = True
        self._changed.set()

    def resume(self) -> None:
        """Tick again, one interval from now."""
        self.paused = False
        self._changed.set()

    def set_interval(self, interval: float) -> None:
        """Change the interval; the next tick is one new interval from now."""
        if interval <= 0:
            raise ValueError("a stream's interval must be positive")
        self.interval = interval
        self._changed.set()

    def stop(self) -> None:
        """Stop for good."""
        self.stopped = True
        self._task.cancel()

    async def _loop(self) -> None:
        while not self.stopped and not self.tab.disposed:
            self._changed.clear()
            try:
                # A timer, not synchronisation: the tick is due when the interval passes
                # with no pause or interval change in between.
                timeout = None if self.paused else self.interval
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
                continue  # paused, resumed or re-timed: start the wait again
            except TimeoutError:
                pass
            self.ticks += 1
            await self.tab.run(self.fn, "stream tick")


def safe_redirect(url: str) -> bool:
    """Via's rule: only http, https and relative URLs; never `//host`, `\\\\host` or blank."""
    stripped = "".join(ch for ch in url if ord(ch) > 0x20).lower()
    if not stripped or stripped.startswith(("//", "\\\\", "/\\", "\\/")):
        return False
    scheme, colon, _ = stripped.partition(":")
    if colon and scheme.isalnum() and "/" not in scheme and "?" not in scheme:
        return scheme in ("http", "https")
    return True


def toast_script(message: str) -> str:
    """Via's toast: `#via-toast-root` (role=status, aria-live=polite) with the text set safely."""
    msg = encode_json(message)
    return (
        "(()=>{let r=document.getElementById('via-toast-root');"
        "if(!document.getElementById('via-toast-css')){let s=document.createElement('style');"
        "s.id='via-toast-css';s.textContent='#via-toast-root{position:fixed;bottom:1rem;"
        "right:1rem;z-index:9999}.via-toast{background:#333;color:#fff;padding:.5rem 1rem;"
        "margin-top:.5rem;border-radius:.25rem}';document.head.appendChild(s)}"
        "if(!r){r=document.createElement('div');r.id='via-toast-root';"
        "r.setAttribute('role','status');r.setAttribute('aria-live','polite');"
        "document.body.appendChild(r)}"
        "let t=document.createElement('div');t.className='via-toast';"
        f"t.textContent={msg};r.appendChild(t);setTimeout(()=>t.remove(),4000)}})()"
    )
