"""Tabs (Via's `Ctx`): one per page load, each with its own patch queue (specs/protocol.md §5.4).

The queue coalesces like Via's: the newest full render replaces older ones, explicit elements
append, signals merge last-wins, scripts concatenate and a redirect wins over everything. A
drain takes the whole queue and writes render + explicit elements, then signals, then scripts;
if the write fails the taken items go back in front of anything queued meanwhile
(at-least-once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import html as h
from .sse import encode_json, patch_elements, patch_signals, script_tag

if TYPE_CHECKING:
    from .app import App
    from .compositions import Mount
    from .sessions import Session

__all__ = ["Ctx", "PatchQueue"]


@dataclass(slots=True)
class PatchQueue:
    """What a tab's stream still has to send."""

    render: str | None = None
    elements: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
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
        self.render, self.elements, self.signals, self.scripts, self.redirect = (
            None,
            [],
            {},
            [],
            None,
        )
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
            body = f"setTimeout(() => window.location.href = {encode_json(self.redirect)})"
            return _script_event(script_tag(body, nonce)).encode()
        parts: list[str] = []
        payload = "".join(([self.render] if self.render is not None else []) + self.elements)
        if payload:
            parts.append(patch_elements(payload))
        if self.signals:
            parts.append(patch_signals(self.signals))
        if self.scripts:
            joined = "".join(f"try{{{s}}}catch(e){{console.error(e)}};" for s in self.scripts)
            parts.append(_script_event(script_tag(joined, nonce)))
        return "".join(parts).encode()


def _script_event(tag: str) -> str:
    return patch_elements(tag, selector="body", mode="append")


class Ctx:
    """One tab: its composition instance, signals, state, subscriptions and patch queue.

    Actions, views and lifecycle hooks receive the tab's `Ctx`. Pushes (`patch_elements`,
    `patch_signals`, `exec_script`, `notify`, `redirect`, `reload`) go to this tab only.
    """

    def __init__(
        self,
        app: App,
        mount: Mount,
        session: Session,
        tab_id: str,
        params: dict[str, str],
        nonce: str | None = None,
    ) -> None:
        self.app = app
        self.mount = mount
        self.session = session
        self.id = tab_id
        self.params = params
        self.nonce = nonce
        self.composition: Any = mount.composition()
        self.signals: dict[str, Any] = {s.key: s.initial() for s in mount.signals}
        self.state: dict[str, Any] = {}
        self.queue = PatchQueue()
        self.lock = asyncio.Lock()
        self.subscriptions: frozenset[tuple[str, str]] = frozenset()
        self.connected = False  # a stream is open now
        self.ever_connected = False
        self.disposed = False
        self.last_seen = time.monotonic()
        self.pushed_signals: dict[str, Any] = {}  # ad-hoc pushes, re-sent on resync (§5.5)
        self.payload: dict[str, Any] = {}  # the running action's decoded body
        self.files: dict[str, list[Any]] = {}  # the running action's uploaded files, by field
        self._wake = asyncio.Event()
        self._holding = 0
        self._reads: set[tuple[str, str]] | None = None
        self._dirty_view = False
        self._dirty_signals: set[str] = set()
        self._writes: set[tuple[str, str]] = set()
        self._sync_off = False
        self.needs_render = False

    def __repr__(self) -> str:
        return f"<Ctx {self.id}>"

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
        self._dirty_signals.add(key)

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
        self.subscriptions = frozenset(reads)
        return markup

    def queue_render(self) -> None:
        """Render now into the queue's render slot (replacing an older render)."""
        try:
            self.queue.render = self.view_html()
        except Exception:
            # A failing view never overwrites a good queued render (§5.4).
            self.app.log_exception(f"view of {self.id} failed")
        self.needs_render = False

    # -- pushes ---------------------------------------------------------------------------------

    def patch_elements(self, *nodes: h.Node | str) -> None:
        """Push elements (each should carry an id); sent after the view in the same event."""
        for node in nodes:
            self.queue.elements.append(node if isinstance(node, str) else h.render(node))
        self.wake()

    def patch_signals(self, signals: dict[str, Any]) -> None:
        """Push signals (remembered and re-sent when the stream reconnects)."""
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
        """Navigate this tab to `url`; unsafe schemes are dropped (returns False)."""
        if not safe_redirect(url):
            self.app.log(f"redirect to {url!r} dropped: only http(s) and relative URLs")
            return False
        self.queue.redirect = url
        self.wake()
        return True

    def sync_off(self) -> None:
        """Make the running action silent: no re-render, signal patch or fan-out at its end."""
        self._sync_off = True

    # -- the action cycle ---------------------------------------------------------------------

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
            if self._dirty_signals:
                for key in sorted(self._dirty_signals):
                    self.queue.signals[key] = self.signals.get(key)
                self._dirty_signals.clear()
            writes, self._writes = self._writes, set()
            for scope, key in sorted(writes):
                self.app.fan_out(scope, key, origin=self)
        self.wake()

    def wake(self) -> None:
        """Tell the stream there is something to drain (unless an action holds wake-ups)."""
        if not self._holding and (self.queue or self.needs_render):
            self._wake.set()

    async def wait_wake(self, timeout: float) -> bool:
        """Wait until woken or `timeout` seconds pass; True when woken."""
        if self._wake.is_set():
            self._wake.clear()
            return True
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


Hook = Callable[[Ctx], Any]
