"""The probe app the conformance tests drive: one composition per behaviour to observe.

Routes: `/` (Probe: tab state, typed signals, pushes, errors), `/shared` (Shared: one key per
server scope), `/other` (reads no shared key), `/u/{name}` (a param route). `Recorder` lets a
test wait, with a deadline, for lifecycle hooks that run on the server's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from reference_impl import (
    ActionError,
    App,
    Composition,
    Ctx,
    SignalInt,
    SignalMap,
    SignalStr,
    StateApp,
    StateAppEvents,
    StateSess,
    StateTab,
    action,
    h,
    on,
)


class Recorder:
    """Lifecycle events seen by the server (hook name, tab id), waitable from a test thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def add(self, hook: str, tab_id: str) -> None:
        with self._cond:
            self.events.append((hook, tab_id))
            self._cond.notify_all()

    def count(self, hook: str, tab_id: str) -> int:
        with self._cond:
            return self.events.count((hook, tab_id))

    def wait_for(self, hook: str, tab_id: str, timeout: float = 5.0) -> bool:
        """True once `hook` ran for `tab_id`; False after `timeout` seconds without it."""
        with self._cond:
            return self._cond.wait_for(lambda: (hook, tab_id) in self.events, timeout)


def recorder(ctx: Ctx) -> Recorder:
    found = ctx.app.state.get("_recorder")
    assert isinstance(found, Recorder)
    return found


class Probe(Composition):
    n = StateTab[int]("n", 0)
    note = StateTab[str]("note", "")
    status = SignalStr("status", "idle")
    step = SignalInt("step", 1)
    form_name = SignalStr("form.name", "")
    prefs = SignalMap("prefs")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.span(str(self.n.read(ctx)), id="n"),
            h.p(self.note.read(ctx), id="note"),
            h.div(id="solo"),  # the target of explicit pushes
            h.button("+", on.click(self.inc), id="inc"),
        )

    def on_init(self, ctx: Ctx) -> None:
        recorder(ctx).add("init", ctx.id)

    def on_connect(self, ctx: Ctx) -> None:
        recorder(ctx).add("connect", ctx.id)

    def on_dispose(self, ctx: Ctx) -> None:
        recorder(ctx).add("dispose", ctx.id)

    @action("Inc")
    def inc(self, ctx: Ctx) -> None:
        self.n.update(ctx, lambda n: n + self.step.read(ctx))

    @action("IncSlow")
    async def inc_slow(self, ctx: Ctx) -> None:
        # Read, yield to the loop, write: without per-tab serialisation updates are lost.
        current = self.n.read(ctx)
        await asyncio.sleep(0)
        self.n.write(ctx, current + 1)

    @action("IncAndPatch")
    def inc_and_patch(self, ctx: Ctx) -> None:
        self.n.update(ctx, lambda n: n + 1)
        ctx.patch_elements(h.div("explicit", id="solo"))

    @action("Explicit")
    def explicit(self, ctx: Ctx) -> None:
        label = str(ctx.payload.get("label", "x"))
        ctx.patch_elements(h.div(label, id=f"x-{label}"))

    @action("SetStatus")
    def set_status(self, ctx: Ctx) -> None:
        self.status.write(ctx, "busy")

    @action("EchoForm")
    def echo_form(self, ctx: Ctx) -> None:
        self.note.write(ctx, f"{self.form_name.read(ctx)}|{self.prefs.read(ctx)}")

    @action("Push")
    def push(self, ctx: Ctx) -> None:
        ctx.patch_signals({"pushed": ctx.payload.get("value")})

    @action("Fail")
    def fail(self, ctx: Ctx) -> None:
        raise ActionError("nope: bad input")

    @action("Panic")
    def panic(self, ctx: Ctx) -> None:
        self.n.update(ctx, lambda n: n + 100)  # still flushed after the panic
        raise RuntimeError("secret internal detail")

    @action("Toast")
    def toast(self, ctx: Ctx) -> None:
        ctx.notify("hello toast")

    @action("Redirect")
    def redirect(self, ctx: Ctx) -> None:
        ctx.redirect(str(ctx.payload.get("url", "/")))

    @action("Silent")
    def silent(self, ctx: Ctx) -> None:
        ctx.sync_off()
        self.n.update(ctx, lambda n: n + 1)
        ctx.patch_elements(h.div("silent push", id="solo"))

    @action("Upload")
    async def upload(self, ctx: Ctx) -> None:
        file = ctx.file("doc")
        if file is None:
            raise ActionError("no file")
        content = (await file.read()).decode()
        self.note.write(ctx, f"{file.filename}:{content}:{self.status.read(ctx)}")

    @action("Tick")
    def tick(self, ctx: Ctx) -> None:
        ctx.stream(0.05, lambda c: self.n.update(c, lambda n: n + 1))

    @action("Broadcast")
    def broadcast(self, ctx: Ctx) -> None:
        count = ctx.app.broadcast("console.log('hi all')")
        ctx.app.broadcast_signals({"all": count})


class Shared(Composition):
    sess = StateSess[int]("s_count", 0)
    appv = StateApp[int]("a_count", 0)
    ev = StateAppEvents[int, int]("e_count", int, lambda total, e: total + e)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.span(str(self.sess.read(ctx)), id="sess"),
            h.span(str(self.appv.read(ctx)), id="app"),
            h.span(str(self.ev.read(ctx)), id="events"),
        )

    @action("BumpSess")
    def bump_sess(self, ctx: Ctx) -> None:
        self.sess.add(ctx, 1)

    @action("BumpApp")
    def bump_app(self, ctx: Ctx) -> None:
        self.appv.add(ctx, 1)

    @action("BumpAppSlow")
    async def bump_app_slow(self, ctx: Ctx) -> None:
        async def add_one(value: int) -> int:
            await asyncio.sleep(0)  # another tab's update runs here unless the key is locked
            return value + 1

        await self.appv.update_async(ctx, add_one)

    @action("BumpEvents")
    def bump_events(self, ctx: Ctx) -> None:
        self.ev.append(ctx, 1)


class Other(Composition):
    def view(self, ctx: Ctx) -> h.Node:
        return h.p("reads nothing shared", id="other")


class User(Composition):
    def view(self, ctx: Ctx) -> h.Node:
        return h.p(f"hello {ctx.params['name']}", id="who")


SCOPE_ACTIONS: dict[str, tuple[str, str]] = {
    "sess": ("BumpSess", "#sess"),
    "app": ("BumpApp", "#app"),
    "events": ("BumpEvents", "#events"),
}


def create_app(**options: Any) -> App:
    """The probe app; `options` go to `App`.

    Cookies are insecure by default (a plain-http test server), so the tests do not depend on
    the client's loopback Secure-cookie policy; `test_10_01_page_document` checks Via's Secure
    default itself.
    """
    options.setdefault("heartbeat", 30.0)
    options.setdefault("insecure_cookies", True)
    app = App(**options)
    app.state["_recorder"] = Recorder()
    app.mount("/", Probe)
    app.mount("/shared", Shared)
    app.mount("/other", Other)
    app.mount("/u/{name}", User)
    return app


def app_recorder(app: App) -> Recorder:
    found = app.state["_recorder"]
    assert isinstance(found, Recorder)
    return found


async def on_server(app: App, fn: Callable[[], Any]) -> Any:
    """Run `fn()` on the server's event loop (it runs in another thread) and return its
    result, without blocking the test's loop."""
    import anyio

    return await anyio.to_thread.run_sync(lambda: app.call_threadsafe(fn))
