"""Presence: who is online and who is typing, app-scoped, beside a chat.

Each tab is one entry of an app-scoped map (tab id -> name and whether it is typing): added
when its stream first opens (`on_connect`), removed when it goes away (`on_dispose`: close
beacon, TTL sweep or shutdown). Typing sends `Typing` (debounced, in Datastar 1.0 modifier
syntax); sending or `Idle` clears it.

    python -m reference_impl.examples.presence --port 3000
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from reference_impl import App, Composition, Ctx, SignalStr, StateApp, StateAppEvents, action, h
from reference_impl import on as on_
from reference_impl.serve import demo_app, main_for

from .messages import Message, keep_newest, log_view, message_from

__all__ = ["Peer", "Presence", "create_app", "main"]


@dataclass(frozen=True, slots=True)
class Peer:
    """One open tab: the name it goes by and whether it is typing."""

    name: str
    typing: bool = False


class Presence(Composition):
    """A chat with a list of who is online and a "... is typing" line."""

    peers = StateApp[dict[str, Peer]]("peers", dict)
    log = StateAppEvents[Message, list[Message]]("presence_log", list, keep_newest)
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        peers = self.peers.read(ctx)
        names = sorted(p.name for p in peers.values())
        typing = sorted(p.name for tab_id, p in peers.items() if p.typing and tab_id != ctx.id)
        return h.main(
            h.h1("Who is here"),
            h.ul((h.li(n) for n in names), id="online"),
            h.p(", ".join(typing) + " typing…" if typing else "", id="typing"),
            log_view(self.log.read(ctx)),
            h.form(
                h.input(
                    self.name.bind(),
                    on_.event("change", self.rename),
                    type="text",
                    placeholder="name",
                ),
                h.input(
                    self.draft.bind(),
                    on_.event("input", self.typing, debounce="200ms"),
                    on_.key("Enter", self.send),
                    on_.event("blur", self.idle),
                    type="text",
                    placeholder="message…",
                ),
                h.button("Send", on_.click(self.send), type="button"),
            ),
        )

    def _set(self, ctx: Ctx, **changes: Any) -> None:
        name = self.name.read(ctx).strip() or "Anon"
        self.peers.update(
            ctx,
            lambda peers: {
                **peers,
                ctx.id: replace(peers.get(ctx.id, Peer(name)), name=name, **changes),
            },
        )

    def on_connect(self, ctx: Ctx) -> None:
        self._set(ctx)

    def on_dispose(self, ctx: Ctx) -> None:
        self.peers.update(ctx, lambda peers: {k: v for k, v in peers.items() if k != ctx.id})

    @action("Rename")
    def rename(self, ctx: Ctx) -> None:
        self._set(ctx)

    @action("Typing")
    def typing(self, ctx: Ctx) -> None:
        self._set(ctx, typing=bool(self.draft.read(ctx).strip()))

    @action("Idle")
    def idle(self, ctx: Ctx) -> None:
        self._set(ctx, typing=False)

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)
        if message is not None:
            self.log.append(ctx, message)
        self._set(ctx, typing=False)


def create_app(**options: Any) -> App:
    """A presence app; options go to `App`."""
    return demo_app({"/": Presence}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the presence demo on 127.0.0.1."""
    main_for(lambda _: create_app(), argv, description="Via presence (reference runtime)")


if __name__ == "__main__":
    main()
