"""The conformance app (`specs/conformance-app.md`): the app every Via implementation mounts to
be tested by the conformance suite. One route per feature, and an index at `/`.

    python -m reference_impl.examples.conformance --port 3000
    python -m reference_impl.examples.conformance --port 3000 --fault drop-ready   # mutant
    python -m reference_impl.examples.conformance --port 3001 --variant strict     # §23

`--fault NAME` (repeatable) switches on a deliberately broken variant of the runtime
(`reference_impl.options.FAULTS`), for the suite's mutation check; never use it otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
from typing import Any

from reference_impl import (
    ActionError,
    App,
    Composition,
    Ctx,
    SignalBool,
    SignalFloat,
    SignalInt,
    SignalList,
    SignalMap,
    SignalStr,
    StateApp,
    StateAppEvents,
    StateSess,
    StateTab,
    Ticker,
    action,
    h,
    on,
)
from reference_impl.jsonenc import encode_json
from reference_impl.options import FAULTS
from reference_impl.serve import main_for

from . import chat, chat_events, rooms
from .conformance_pages import Broken, Drain, Expiry, Markup
from .counter import Counter
from .messages import WINDOW, Message, keep_newest, message_from
from .scopes import Scopes

__all__ = [
    "FEATURES",
    "MAX_SESSIONS",
    "MAX_TABS",
    "MAX_UPLOAD",
    "PANIC_TEXT",
    "SLOW_SECONDS",
    "STRICT_HEARTBEAT",
    "STRICT_TTL",
    "VARIANTS",
    "TICK_SECONDS",
    "Broadcast",
    "Chat",
    "Errors",
    "EventsChat",
    "Hooks",
    "Index",
    "Push",
    "Redirect",
    "RoomChat",
    "Slow",
    "TickerPage",
    "Types",
    "Upload",
    "Watch",
    "create_app",
    "create_app_capped",
    "create_app_strict",
    "main",
]

# The app's upload cap (2 MiB): a 413 is cheap to provoke (§4.2), and it differs from the
# request-body cap of JSON actions (Via's 1 MiB), so a body shows which cap it met.
MAX_UPLOAD = 2 << 20
SLOW_SECONDS = 0.3  # how long the Slow action takes
TICK_SECONDS = 0.1  # the ticker's interval
PANIC_TEXT = "internal detail: /srv/secret 7f3a"  # must never reach a client (§4.2.2)

# (route as linked from the index, link text), in index order.
FEATURES: list[tuple[str, str]] = [
    ("/counter", "counter"),
    ("/scopes", "scopes"),
    ("/chat", "chat"),
    ("/rooms/lobby", "rooms"),
    ("/errors", "errors"),
    ("/upload", "upload"),
    ("/push", "push"),
    ("/broadcast", "broadcast"),
    ("/redirect", "redirect"),
    ("/slow", "slow"),
    ("/ticker", "ticker"),
    ("/types", "types"),
    ("/hooks", "hooks"),
    ("/watch", "watch"),
    ("/events", "events"),
    ("/markup", "markup"),
    ("/broken", "broken"),
    ("/drain", "drain"),
    ("/expiry", "expiry"),
]

# The strict variant (§23): Via's options a client can observe, set short enough for the suite.
STRICT_HEARTBEAT = 0.6  # seconds between heartbeats
STRICT_TTL = 1.0  # seconds: the context and the session TTL
# The capped variant (§24).
MAX_SESSIONS = 2
MAX_TABS = 3


class Index(Composition):
    """`/`: a link to each feature. `/` also answers every unmatched GET path (§2)."""

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Via conformance app"),
            h.ul((h.li(h.a(label, href=path)) for path, label in FEATURES), id="features"),
            # The catch-all `/` has no path parameter, whatever path it answers (§2.1.5).
            h.p(encode_json(ctx.params), id="params"),
        )


def add_message(ctx: Ctx, log: list[Message], message: Message) -> list[Message]:
    """A chat log with `message` added: appended and trimmed to the newest `WINDOW`, or
    first when the `reorder-chat` fault is on (a deliberately broken chat)."""
    if ctx.hub.faulty("reorder-chat"):
        return [message, *log][:WINDOW]
    return [*log, message][-WINDOW:]


class Chat(chat.Room):
    """`/chat`: the seed tutorial's chatroom (`examples/chat.py`), one app-wide log."""

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)
        if message is None:
            return
        # One update under the key's lock: concurrent senders never lose a message (§8.2).
        self.log.update(ctx, lambda log: add_message(ctx, log, message))


class RoomChat(rooms.RoomPage):
    """`/rooms/{room}`: one room of the per-room chat (`examples/rooms.py`)."""

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)
        if message is None:
            return
        room = ctx.params["room"]
        self.rooms.update(
            ctx,
            lambda all_rooms: {
                **all_rooms,
                room: add_message(ctx, all_rooms.get(room, []), message),
            },
        )


class Errors(Composition):
    """`/errors`: an action returning an error, and one raising (a panic)."""

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Errors"),
            h.button("Fail", on.click(self.fail), id="fail"),
            h.button("Panic", on.click(self.panic), id="panic"),
        )

    @action("Fail")
    def fail(self, ctx: Ctx) -> None:
        raise ActionError("that did not work")

    @action("Panic")
    def panic(self, ctx: Ctx) -> None:
        raise RuntimeError(PANIC_TEXT)


class Upload(Composition):
    """`/upload`: a multipart action with a text field and a file (§4.1.3)."""

    label = SignalStr("label", init="doc")
    result = StateTab[str]("upload_result", "nothing uploaded")

    def view(self, ctx: Ctx) -> h.Node:
        # A browser posts the form itself, as multipart: signals are its text fields (§4.1.3).
        submit = f"@post('{on.action_url(self.upload)}', {{contentType: 'form'}})"
        return h.main(
            h.h1("Upload"),
            h.form(
                h.input(type="hidden", name="via_tab", value=ctx.id),
                h.input(self.label.bind(), type="text", name="label"),
                h.input(type="file", name="file", id="file"),
                h.button("Upload", type="submit", id="upload"),
                h.attr("data-on:submit__prevent", submit),
                id="upload-form",
                enctype="multipart/form-data",
            ),
            h.p(self.result.read(ctx), id="upload-result"),
        )

    @action("Upload")
    async def upload(self, ctx: Ctx) -> None:
        file = ctx.file("file")
        if file is None:
            raise ActionError("no file")
        content = await file.read()
        label = self.label.read(ctx)
        self.result.write(ctx, f"{label}: {file.filename} ({len(content)} bytes)")


# What `/push`'s Flood pushes (conformance app §9): more than loopback's socket buffers hold
# (Linux: up to 4 MiB sent, 6 MiB received).
FLOOD_BYTES = 16 * 1024 * 1024


class Push(Composition):
    """`/push`: explicit pushes of elements and signals from an action (§5.4)."""

    pushes = SignalInt("pushes", init=0)
    note = SignalStr("note", init="")  # text a push carries: markup in it stays text

    def __init__(self) -> None:
        self.count = 0  # one instance per tab: this tab's pushes

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Push"),
            h.p("no push yet", id="pushed"),
            h.button("Push", on.click(self.push), id="push"),
            h.button("Flood", on.click(self.flood), id="flood"),
        )

    @action("Push")
    def push(self, ctx: Ctx) -> None:
        self.count += 1
        note = self.note.read(ctx)
        text = f"push {self.count}: {note}" if note else f"push {self.count}"
        ctx.patch_elements(h.p(text, id="pushed"))
        ctx.patch_signals({"pushes": self.count})
        if note:  # a pushed script too: one drain carries elements, signals and a script
            ctx.exec_script(f"console.log({encode_json(note)})")

    @action("Flood")
    def flood(self, ctx: Ctx) -> None:
        # More than any socket buffers hold: with a client that stopped reading, the write
        # that follows this one waits, and a drop then fails it (§5.4.3).
        ctx.patch_elements(h.pre("x" * FLOOD_BYTES, id="flood"))


class Broadcast(Composition):
    """`/broadcast`: signals pushed to every registered tab of the app (§8.3)."""

    message = SignalStr("message", init="hello everyone")
    broadcast = SignalStr("broadcast", init="")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Broadcast"),
            h.input(self.message.bind(), type="text"),
            h.button("Broadcast", on.click(self.send), id="broadcast"),
            h.button("Announce", on.click(self.announce), id="announce"),
            h.button("Script", on.click(self.script), id="script"),
            h.p(self.broadcast.text(), id="received"),
        )

    @action("Broadcast")
    def send(self, ctx: Ctx) -> None:
        ctx.app.broadcast_signals({"broadcast": self.message.read(ctx)})

    @action("Announce")
    def announce(self, ctx: Ctx) -> None:
        ctx.app.broadcast_notify(self.message.read(ctx))  # a broadcast script (§8.3)

    @action("Script")
    def script(self, ctx: Ctx) -> None:
        # A raw broadcast script: every tab runs `console.log(MESSAGE)` (§8.3).
        ctx.app.broadcast(f"console.log({encode_json(self.message.read(ctx))})")


class Redirect(Composition):
    """`/redirect`: navigation to the `to` signal's URL; unsafe schemes are dropped
    (§6.4.3). Each attempt counts, so a dropped redirect shows as a render, and so does each
    drop (`ctx.redirect` says whether it queued the redirect)."""

    to = SignalStr("to", init="/counter")
    attempts = StateTab[int]("attempts", 0)
    dropped = StateSess[int]("dropped", 0)  # the session's other tabs show it after a redirect

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Redirect"),
            h.input(self.to.bind(), type="text"),
            h.button("Go", on.click(self.go), id="go"),
            h.button("Leave", on.click(self.leave), id="leave"),
            h.p(h.span(str(self.attempts.read(ctx)), id="attempts"), " attempts"),
            h.p(h.span(str(self.dropped.read(ctx)), id="dropped"), " dropped"),
        )

    @action("Go")
    def go(self, ctx: Ctx) -> None:
        self.attempts.add(ctx, 1)
        # When queued, only the redirect is sent (§5.4.2).
        if not ctx.redirect(self.to.read(ctx)):
            self.dropped.add(ctx, 1)

    @action("Leave")
    def leave(self, ctx: Ctx) -> None:
        ctx.redirect(self.to.read(ctx))  # a redirect alone in the queue: still sent (§5.4.2)


class Slow(Composition):
    """`/slow`: an action that takes `SLOW_SECONDS`; actions on one tab are serialised
    (§4.2.3)."""

    done = StateTab[int]("slow_done", 0)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Slow"),
            h.p(h.span(str(self.done.read(ctx)), id="slow-done"), " done"),
            h.button("Slow", on.click(self.slow), id="slow"),
        )

    @action("Slow")
    async def slow(self, ctx: Ctx) -> None:
        await asyncio.sleep(SLOW_SECONDS)  # the action's own work, not synchronisation
        self.done.add(ctx, 1)


class TickerPage(Composition):
    """`/ticker`: a periodic tick (Via's `via.Stream`) incrementing a tab counter."""

    ticks = StateTab[int]("ticks", 0)
    status = StateTab[str]("ticker_status", "stopped")

    def __init__(self) -> None:
        self.ticker: Ticker | None = None

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Ticker"),
            h.p(h.span(str(self.ticks.read(ctx)), id="ticks"), " ticks"),
            h.p(self.status.read(ctx), id="ticker-status"),
            h.button("Start", on.click(self.start), id="start"),
            h.button("Stop", on.click(self.stop), id="stop"),
        )

    @action("Start")
    def start(self, ctx: Ctx) -> None:
        if self.ticker is None or self.ticker.done:
            self.ticker = ctx.stream(TICK_SECONDS, lambda tab: self.ticks.add(tab, 1))
        self.status.write(ctx, "running")

    @action("Stop")
    def stop(self, ctx: Ctx) -> None:
        # Ticks run under the tab's lock like actions, so none is running now, and this
        # action's render follows every tick's (§4.2.3).
        if self.ticker is not None:
            self.ticker.stop()
        self.status.write(ctx, "stopped")


class Types(Composition):
    """`/types`: a signal of each JSON type, decoded best effort (§4.1.4), shown as the server
    holds them; `Reset` writes signals only (§8.2: a patch-signals, no re-render)."""

    flag = SignalBool("flag", init=False)
    count = SignalInt("count", init=0)
    ratio = SignalFloat("ratio", init=0.5)
    tags = SignalList("tags")
    meta = SignalMap("meta")
    shown = StateTab[int]("shown", 0)

    def view(self, ctx: Ctx) -> h.Node:
        decoded = {
            handle.key: handle.read(ctx)
            for handle in (self.count, self.flag, self.meta, self.ratio, self.tags)
        }
        return h.main(
            h.h1("Types"),
            h.p(encode_json(decoded), id="decoded"),
            h.p(h.span(str(self.shown.read(ctx)), id="shown"), " shown"),
            h.button("Show", on.click(self.show), id="show"),
            h.button("Reset", on.click(self.reset), id="reset"),
        )

    @action("Show")
    def show(self, ctx: Ctx) -> None:
        self.shown.add(ctx, 1)

    @action("Reset")
    def reset(self, ctx: Ctx) -> None:
        self.count.write(ctx, 0)
        self.flag.write(ctx, False)


class Hooks(Composition):
    """`/hooks`: the connect hook counts (once per tab, §5.5.1); the dispose hook counts in the
    session, so the session's other tabs show it (§4.4.1, §5.5.5)."""

    connects = StateTab[int]("connects", 0)
    disposed = StateSess[int]("disposed", 0)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Hooks"),
            h.p(f"connected {self.connects.read(ctx)} time(s)", id="connects"),
            h.p(f"disposed {self.disposed.read(ctx)} tab(s)", id="disposed"),
        )

    def on_connect(self, ctx: Ctx) -> None:
        self.connects.add(ctx, 1)

    def on_dispose(self, ctx: Ctx) -> None:
        self.disposed.add(ctx, 1)


class Watch(Composition):
    """`/watch`: a view that reads an app key only while the tab watches it (§8.1: a tab is
    subscribed to what its most recent render read)."""

    watching = StateTab[bool]("watching", True)
    watched = StateApp[int]("watched", 0)

    def view(self, ctx: Ctx) -> h.Node:
        shown = f"watched {self.watched.read(ctx)}" if self.watching.read(ctx) else "not watching"
        return h.main(
            h.h1("Watch"),
            h.p(shown, id="watched"),
            h.button("Watch", on.click(self.watch), id="watch"),
            h.button("Unwatch", on.click(self.unwatch), id="unwatch"),
            h.button("Bump", on.click(self.bump), id="bump"),
        )

    @action("Watch")
    def watch(self, ctx: Ctx) -> None:
        self.watching.write(ctx, True)

    @action("Unwatch")
    def unwatch(self, ctx: Ctx) -> None:
        self.watching.write(ctx, False)

    @action("Bump")
    def bump(self, ctx: Ctx) -> None:
        self.watched.add(ctx, 1)


class EventsChat(chat_events.Room):
    """`/events`: the chat with its log kept as an app event log (`StateAppEvents`): after
    the asynchronous fold every reader re-renders, the sender included (§8.2)."""

    title = "Events"
    log = StateAppEvents[Message, list[Message]]("events", list, keep_newest)


MOUNTS: dict[str, type[Any]] = {
    "/": Index,
    "/counter": Counter,
    # The counter again, under a route whose tab ids a JavaScript string must escape (§2.1.3).
    "/counter's": Counter,
    "/scopes": Scopes,
    "/chat": Chat,
    "/rooms/{room}": RoomChat,
    "/errors": Errors,
    "/upload": Upload,
    "/push": Push,
    "/broadcast": Broadcast,
    "/redirect": Redirect,
    "/slow": Slow,
    "/ticker": TickerPage,
    "/types": Types,
    "/hooks": Hooks,
    "/watch": Watch,
    "/events": EventsChat,
    "/markup": Markup,
    "/broken": Broken,
    "/drain": Drain,
    "/expiry": Expiry,
}


def create_app(faults: Iterable[str] = (), **options: Any) -> App:
    """The conformance app, with Via's default options except the upload cap (`MAX_UPLOAD`).

    `faults` are test-only broken variants (`reference_impl.options.FAULTS`); other options
    go to `App` (e.g. `heartbeat=0.05`).
    """
    options.setdefault("max_upload", MAX_UPLOAD)
    app = App(faults=frozenset(faults), **options)
    for route, composition in MOUNTS.items():
        app.mount(route, composition)
    return app


def create_app_strict(faults: Iterable[str] = (), **options: Any) -> App:
    """The strict variant (`specs/conformance-app.md` §23): the conformance app with a
    Content-Security-Policy nonce on every response, a heartbeat every `STRICT_HEARTBEAT`
    seconds and context and session TTLs of `STRICT_TTL` seconds (brotli, on by default,
    stays on)."""
    options = {"csp": True, "heartbeat": STRICT_HEARTBEAT, **options}
    options.setdefault("context_ttl", STRICT_TTL)
    options.setdefault("session_ttl", STRICT_TTL)
    return create_app(faults, **options)


def create_app_capped(faults: Iterable[str] = (), **options: Any) -> App:
    """The capped variant (`specs/conformance-app.md` §24): at most `MAX_SESSIONS` sessions
    and `MAX_TABS` live tabs."""
    options = {"max_sessions": MAX_SESSIONS, "max_contexts": MAX_TABS, **options}
    return create_app(faults, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the conformance app on 127.0.0.1."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            choices=sorted(FAULTS),
            help="test-only: switch on one deliberately broken variant (repeatable)",
        )

        parser.add_argument(
            "--variant",
            default="default",
            choices=sorted(VARIANTS),
            help="the app's options: Via's defaults, or the strict or capped variant (§23, §24)",
        )

    main_for(
        lambda args: VARIANTS[args.variant](args.fault),
        argv,
        description="the Via conformance app (reference runtime)",
        add_arguments=add_arguments,
    )


VARIANTS = {"default": create_app, "strict": create_app_strict, "capped": create_app_capped}

if __name__ == "__main__":
    main()
