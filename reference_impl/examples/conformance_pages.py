"""The conformance app's routes for markup, failing app code, drains and expiry
(`specs/conformance-app.md` §19-§22), mounted by `reference_impl.examples.conformance`.

`/markup` renders every kind of node and attribute the `h` builder offers and the signal
helpers, so a broken builder shows as a broken page; `/broken` is app code that fails (hooks,
an action, a view); `/drain` holds a drain across an await and renders from outside an
action; `/expiry` counts the tabs its dispose hook saw, for the TTLs of the strict variant.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reference_impl import (
    ActionError,
    Composition,
    Ctx,
    SignalBool,
    SignalFloat,
    SignalInt,
    SignalList,
    SignalMap,
    SignalStr,
    StateApp,
    StateSess,
    StateTab,
    action,
    data,
    h,
    on,
)
from reference_impl.jsonenc import encode_json

__all__ = ["HOLD_SECONDS", "Broken", "Drain", "Expiry", "Markup", "count_text"]

HOLD_SECONDS = 0.05  # how long `Hold` and `Later` wait (the action's own work)
PANIC = "internal detail: /srv/secret 7f3a"  # as the app's Panic: never sent to a client


def count_text(value: float) -> str:
    """A number as the views show it: whole numbers without a fraction (`3`, `2.5`)."""
    return str(int(value)) if float(value).is_integer() else str(value)


class Markup(Composition):
    """`/markup`: the `h` builder's nodes and attributes, the signal helpers, the state
    operations (§19)."""

    text = SignalStr("text")
    number = SignalInt("number")
    fraction = SignalFloat("fraction")
    on = SignalBool("on")
    items = SignalList("items")
    pairs = SignalMap("pairs")
    marks = StateTab[dict[str, int]]("marks", dict)
    flag = StateTab[bool]("flag", False)
    words = StateTab[list[str]]("words", list)
    total = StateTab[float]("total", 0)
    shared = StateApp[int]("shared_total", 0)

    def view(self, ctx: Ctx) -> h.Node:
        marks = self.marks.read(ctx)
        return h.main(
            h.h1("Markup"),
            h.section(
                h.class_("nodes"),
                h.p(h.b(1), h.i(2.5), h.span(0), id="numbers"),
                h.p(None, "a", False, h.em("b"), True, ["c", (h.u("d"), None)], id="skipped"),
                h.p((word for word in ("e", "f")), h.text(7), id="generated"),
                h.p(h.raw("<s>raw</s>"), "<s>text</s> & \"'", id="escaped"),
                h.p("x", title='say "hi" & <bye>', id="quoted"),
                h.input(
                    type="checkbox", checked=True, disabled=False, value="", title=None, id="flags"
                ),
                h.img(src="/none.png", alt="", id="picture"),
                h.div("line", h.br(), "break", h.hr(), id="voids"),
                h.label("caption", for_="flags", data_role="caption", id="caption"),
                h.el(
                    "vt-widget",
                    h.attr("data-flag"),
                    h.attr("data-off", False),
                    h.attr("data-empty", ""),
                    "custom",
                    id="custom",
                ),
                h.div(data.ignore_morph(), id="kept"),
            ),
            h.section(
                h.class_("signals"),
                h.input(self.text.bind(), id="text-input"),
                h.span(self.text.text(), id="text-shown"),
                h.p("on", self.on.show(), id="when-on"),
                h.p("off", self.on.show(negate=True), id="when-off"),
                h.a("link", self.text.attr("title"), href="/markup", id="titled"),
                h.p("classy", self.on.class_("active"), id="classy"),
                h.p("styled", self.fraction.style("opacity"), id="styled"),
                h.p(data.computed("double", f"{self.number.ref()} * 2"), id="computed"),
                h.p(encode_json(self._signals(ctx)), id="server-signals"),
            ),
            h.section(
                h.class_("state"),
                h.p(" ".join(f"{k}={v}" for k, v in sorted(marks.items())), id="marks"),
                h.p("flag on" if self.flag.read(ctx) else "flag off", id="flag"),
                h.p(",".join(self.words.read(ctx)), id="words"),
                h.p(count_text(self.total.read(ctx)), id="total"),
                h.p(str(self.shared.read(ctx)), id="shared"),
            ),
            h.button("Mark", on.click(self.mark), id="mark"),
            h.button("Unmark", on.click(self.unmark), id="unmark"),
            h.button("Flip", on.click(self.flip), id="flip"),
            h.button("Append", on.click(self.append), id="append"),
            h.button("Add", on.click(self.add), id="add"),
            h.button("Share", on.click(self.share), id="share"),
        )

    def _signals(self, ctx: Ctx) -> dict[str, Any]:
        handles = (self.fraction, self.items, self.number, self.on, self.pairs, self.text)
        return {handle.key: handle.read(ctx) for handle in handles}

    @action("Mark")
    def mark(self, ctx: Ctx) -> None:
        self.marks.put(ctx, self.text.read(ctx), self.number.read(ctx))

    @action("Unmark")
    def unmark(self, ctx: Ctx) -> None:
        self.marks.delete(ctx, self.text.read(ctx))

    @action("Flip")
    def flip(self, ctx: Ctx) -> None:
        self.flag.toggle(ctx)

    @action("Append")
    def append(self, ctx: Ctx) -> None:
        self.words.append(ctx, self.text.read(ctx))

    @action("Add")
    def add(self, ctx: Ctx) -> None:
        self.total.add(ctx, self.fraction.read(ctx))

    @action("Share")
    async def share(self, ctx: Ctx) -> None:
        async def later(value: int) -> int:
            await asyncio.sleep(0.01)  # an update that awaits: others wait for its key's lock
            return value + 1

        await self.shared.update_async(ctx, later)


class Broken:  # not a Composition: its init hook is async, which the base does not declare
    """`/broken`: app code that fails: the init and connect hooks raise after writing, an
    action raises after writing, one returns its error, the view fails while the session is
    `broken` (§20)."""

    init = StateTab[str]("init", "not run")
    connects = StateTab[int]("broken_connects", 0)
    crashes = StateTab[int]("crashes", 0)
    mends = StateTab[int]("mends", 0)
    broken = StateSess[bool]("broken", False)

    async def on_init(self, ctx: Ctx) -> None:
        await asyncio.sleep(0)  # an awaiting hook: the page waits for it
        self.init.write(ctx, "ran")
        raise RuntimeError(PANIC)

    def on_connect(self, ctx: Ctx) -> None:
        self.connects.add(ctx, 1)
        raise RuntimeError(PANIC)

    def view(self, ctx: Ctx) -> h.Node:
        if self.broken.read(ctx):
            raise RuntimeError(PANIC)
        return h.main(
            h.h1("Broken"),
            h.p(f"init {self.init.read(ctx)}", id="init"),
            h.p(f"connected {self.connects.read(ctx)} time(s)", id="connects"),
            h.p(f"crashed {self.crashes.read(ctx)} time(s)", id="crashes"),
            h.p(f"mended {self.mends.read(ctx)} time(s)", id="mends"),
            h.button("Crash", on.click(self.crash), id="crash"),
            h.button("Refuse", on.click(self.refuse), id="refuse"),
            h.button("Break", on.click(self.break_view), id="break"),
            h.button("Mend", on.click(self.mend), id="mend"),
        )

    @action("Crash")
    def crash(self, ctx: Ctx) -> None:
        self.crashes.add(ctx, 1)
        raise RuntimeError(PANIC)

    @action("Refuse")
    def refuse(self, ctx: Ctx) -> ActionError:
        return ActionError(f"refused after {self.crashes.read(ctx)} crash(es)")

    @action("BreakView")
    def break_view(self, ctx: Ctx) -> None:
        self.broken.write(ctx, True)

    @action("Mend")
    def mend(self, ctx: Ctx) -> None:
        self.broken.write(ctx, False)
        self.mends.add(ctx, 1)


class Drain(Composition):
    """`/drain`: one drain per action across an await, a silent action, and a render from
    outside any action (§21)."""

    held = StateTab[int]("held", 0)
    quiet = StateTab[int]("quiet", 0)

    def __init__(self) -> None:
        self.pushes = 0  # this tab's pushes
        self.synced = 0  # plain data, not state: only `sync_now` shows a change of it
        self.tasks: set[asyncio.Task[None]] = set()

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Drain"),
            h.p("no push yet", id="pushed"),
            h.p(f"held {self.held.read(ctx)}", id="held"),
            h.p(f"quiet {self.quiet.read(ctx)}", id="quiet"),
            h.p(f"synced {self.synced}", id="synced"),
            h.button("Hold", on.click(self.hold), id="hold"),
            h.button("Quiet", on.click(self.silent), id="silent"),
            h.button("Later", on.click(self.later), id="later"),
        )

    @action("Hold")
    async def hold(self, ctx: Ctx) -> None:
        self.pushes += 1
        ctx.patch_elements(h.p(f"push {self.pushes}", id="pushed"))
        await asyncio.sleep(HOLD_SECONDS)  # the action's own work: the push waits for its end
        self.held.add(ctx, 1)

    @action("Quiet")
    def silent(self, ctx: Ctx) -> None:
        self.quiet.add(ctx, 1)
        ctx.sync_off()

    @action("Later")
    def later(self, ctx: Ctx) -> None:
        async def sync() -> None:
            await asyncio.sleep(HOLD_SECONDS)  # outside the action, as Via's background work
            self.synced += 1
            ctx.sync_now()

        task = asyncio.get_running_loop().create_task(sync())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Expiry(Composition):
    """`/expiry`: the dispose hook counts the app's disposed tabs; `Visit` counts in the
    session (§22: with the strict variant's TTLs, idle tabs and sessions expire)."""

    expired = StateApp[int]("expired", 0)
    visits = StateSess[int]("visits", 0)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Expiry"),
            h.p(f"expired {self.expired.read(ctx)} tab(s)", id="expired"),
            h.p(f"visits {self.visits.read(ctx)}", id="visits"),
            h.button("Visit", on.click(self.visit), id="visit"),
        )

    def on_dispose(self, ctx: Ctx) -> None:
        self.expired.add(ctx, 1)

    @action("Visit")
    def visit(self, ctx: Ctx) -> None:
        self.visits.add(ctx, 1)
