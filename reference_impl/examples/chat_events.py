"""The chatroom in the shape of Via's shipped chat example (`internal/examples/chat`).

The tutorial's room (`chat.py`) is one app-scoped list; this one is one app-scoped event log
(`StateAppEvents`), folded into the newest 50 messages, the better fit for a high-churn feed.
`Send` appends; after the fold, every tab whose last render read the room (in every session,
the sender's too) re-renders. `name` and `draft` are tab signals bound to inputs.

    python -m reference_impl.examples.chat_events --port 3000
"""

from __future__ import annotations

from typing import Any

from reference_impl import App, Composition, Ctx, SignalStr, StateAppEvents, action, h
from reference_impl.serve import demo_app, main_for

from .messages import WINDOW, Message, compose, keep_newest, log_view, message_from

__all__ = ["WINDOW", "Message", "Room", "create_app", "main"]


class Room(Composition):
    """The chatroom page."""

    title = "Via Chat"

    # App-scoped: ONE log shared by every session and every tab; the value is the window.
    log = StateAppEvents[Message, list[Message]]("log", list, keep_newest)
    # Tab-local client signals, two-way bound to inputs.
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.class_("container"),
            h.h1(self.title),
            log_view(self.log.read(ctx)),
            compose(self.name, self.draft, self.send),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)
        if message is not None:
            self.record(ctx, message)
            self.log.append(ctx, message)

    def record(self, ctx: Ctx, message: Message) -> None:
        """Keep a message somewhere before it joins the log (nowhere here; see chat_persist)."""


def create_app(**options: Any) -> App:
    """A fresh chat app (its own log); options go to `App` (e.g. `heartbeat=0.05`)."""
    return demo_app({"/": Room}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the chat on 127.0.0.1."""
    main_for(
        lambda _: create_app(), argv, description="Via chat, event-log shape (reference runtime)"
    )


if __name__ == "__main__":
    main()
