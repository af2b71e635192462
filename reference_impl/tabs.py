"""Tabs (Via's `Ctx`): one per page load, each with its own patch queue (specs/protocol.md §5.4).

A tab lives under the app's `Hub` (registry, subscriptions, fan-out, app state) and talks only
down to it; the wire handlers above create, register, run and dispose tabs.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import html as h
from .hub import Hub, Subscription
from .jsonenc import nest
from .queue import PatchQueue
from .scripts import safe_redirect, toast_script
from .ticker import Ticker

if TYPE_CHECKING:
    from starlette.datastructures import UploadFile

    from .compositions import Mount
    from .sessions import Session

__all__ = ["ActionError", "Ctx", "PatchQueue", "Ticker", "safe_redirect"]

log = logging.getLogger("reference_impl")


class ActionError(Exception):
    """Raise (or return) it from an action: its message is shown to the user as a toast.

    It is Via's "action returned an error" (§4.2); any other exception is a panic, shown as
    `Something went wrong` unless verbose errors are on.
    """


class Ctx:
    """One tab: its composition instance, signals, state, subscriptions and patch queue.

    Actions, views and lifecycle hooks receive the tab's `Ctx`. Pushes (`patch_elements`,
    `patch_signals`, `exec_script`, `notify`, `redirect`, `reload`) go to this tab only and
    may be called from any task on the app's event loop.
    """

    def __init__(
        self,
        hub: Hub[Ctx],
        mount: Mount,
        session: Session,
        tab_id: str,
        params: dict[str, str],
        query: dict[str, str] | None = None,
        nonce: str | None = None,
    ) -> None:
        self.hub = hub
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
        self.commits: list[asyncio.Task[None]] = []  # backplane writes of the running action
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

    @property
    def app(self) -> Hub[Ctx]:
        """The app's shared side (its `Hub`): `state`, `broadcast`, `broadcast_notify`,
        `broadcast_signals`. Named as Via's `ctx.App`; the same object as `hub`."""
        return self.hub

    def seed(self) -> dict[str, Any]:
        """The page's signal seed: `via_tab` and every typed signal, nested by dots (§2.3)."""
        return nest({"via_tab": self.id, **self.signals})

    # -- the registry -------------------------------------------------------------------------

    def register(self) -> None:
        """Make this tab live: reachable by id and subscribed to what its render read."""
        self.registered = True
        self.hub.register(self, self.subscriptions)

    async def dispose(self, reason: str) -> None:
        """Forget this tab: end its stream and tickers, then run `on_dispose` (after any
        running action: hooks are serialised with actions)."""
        if self.disposed:
            return
        self.disposed = True
        self.registered = False
        self.hub.unregister(self, self.subscriptions)
        for ticker in self.tickers:
            ticker.stop()
        self.interrupt()
        hook = getattr(self.composition, "on_dispose", None)
        if hook is not None:
            await self.run(hook, "on_dispose", hook=True)
        log.debug("disposed %s (%s)", self.id, reason)

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

    def stage(self, commit: asyncio.Task[None]) -> None:
        """A backplane write of the running action (a cluster node): `run` awaits it before
        the render and the response, so an answered action is on the backplane."""
        self.commits.append(commit)

    async def await_commits(self) -> None:
        """Wait for the staged backplane writes (their errors are logged, not raised)."""
        while self.commits:
            commits, self.commits = self.commits, []
            for result in await asyncio.gather(*commits, return_exceptions=True):
                if isinstance(result, BaseException):
                    self.hub.log_exception(f"backplane write of {self.id} failed: {result!r}")

    def mark_stale(self) -> None:
        """A fan-out reached this tab: re-render it when its stream next drains (§8)."""
        self.needs_render = True
        self.wake()

    def view_html(self) -> str:
        """Render the whole view inside `<div id="TAB">` and update the subscriptions.

        A view that raises leaves the subscriptions and the queue as they were.
        """
        self._reads = set()
        try:
            node = self.composition.view(self)
            escape_text = not self.hub.faulty("unescaped-markup")
            markup = h.render(h.div(node, id=self.id), escape_text=escape_text)
        finally:
            reads, self._reads = self._reads, None
        new = frozenset(reads)
        if new != self.subscriptions:
            old, self.subscriptions = self.subscriptions, new
            if self.registered:
                self.hub.reindex(self, old, new)
        return markup

    def queue_render(self) -> None:
        """Render now into the queue's render slot (replacing an older render)."""
        self.needs_render = False
        try:
            self.queue.render = self.view_html()
        except Exception:
            # A failing view never overwrites a good queued render (§5.4).
            self.hub.log_exception(f"view of {self.id} failed")

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
        """Navigate this tab to `url`; unsafe schemes are dropped (returns False, §6.4.3)."""
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
        ticker = Ticker(interval, lambda: self.run(fn, "stream tick"))
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
                if not isinstance(exc, ActionError) or hook:
                    # An ActionError is the app's answer to the user (a toast), not a fault.
                    self.hub.log_exception(f"{what} on {self.id} raised")
                if hook:
                    pass
                elif isinstance(exc, ActionError):
                    self.notify(str(exc))
                elif self.hub.options.verbose_errors:
                    self.notify(f"panic: {exc}")
                else:
                    self.notify("Something went wrong")
            finally:
                if self.commits:  # a cluster node: the writes reach the backplane first
                    await self.await_commits()
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
            self._fan_out_writes()
        self.wake()

    def settle(self) -> None:
        """End the page GET's hold: its render shows what on_init wrote, so nothing is queued
        for this tab, but writes to shared state still reach the other tabs."""
        self._holding = 0
        self._dirty_view = False
        self._dirty_signals.clear()
        self._fan_out_writes()

    def _fan_out_writes(self) -> None:
        """Hand the shared keys this run wrote to the hub's fan-out (§8), once each."""
        writes, self._writes = self._writes, set()
        if writes:
            self.hub.fan_out(writes, origin=self)

    def file(self, name: str) -> UploadFile | None:
        """The first file uploaded in field `name` by the running action, or None."""
        found = self.files.get(name)
        return found[0] if found else None

    # -- waking the stream ----------------------------------------------------------------------

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

    def forget_render(self) -> None:
        """Drop the queued and pending render: the `forget-queued-render` fault (§5.3)."""
        self.queue.render = None
        self.needs_render = False

    def drain_bytes(self) -> tuple[PatchQueue, bytes]:
        """Take the queue (rendering first if a fan-out asked for it) and encode it."""
        if self.needs_render:
            self.queue_render()
        taken = self.queue.take()
        return taken, taken.encode(self.nonce) if taken else b""
