"""The live chatroom of the seed tutorial (Via's chatroom tutorial), in Python.

As the tutorial builds it, with the simplest shape that works: the room is ONE app-scoped list.
`Send` appends to it under the key's lock, trims it to the newest 50 and clears the sender's
draft; every tab whose last render read the list, in every session, re-renders. `name` and
`draft` are tab signals bound to inputs. (`chat_events.py` is the same room in the event-log
shape of Via's shipped example.)

    python -m reference_impl.examples.chat --port 3000
"""

from __future__ import annotations

from typing import Any

from reference_impl import App, Composition, Ctx, SignalStr, StateApp, action, h
from reference_impl.serve import demo_app, main_for

from .messages import WINDOW, Message, compose, log_view, message_from

__all__ = ["WINDOW", "Message", "Room", "create_app", "main"]


class Room(Composition):
    """The chatroom page."""

    # App-scoped: ONE log shared by every session and every tab.
    log = StateApp[list[Message]]("log", list)
    # Tab-local client signals, two-way bound to inputs. Name rides along on each message.
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.class_("container"),
            h.h1("Via Chat"),
            log_view(self.log.read(ctx)),  # reading the log subscribes this tab to it
            compose(self.name, self.draft, self.send),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)  # trims, defaults, clears the draft
        if message is None:
            return
        self.log.append(ctx, message)
        # Keep a recent window so the room can't grow forever.
        self.log.update(ctx, lambda log: log[-WINDOW:])


def create_app(**options: Any) -> App:
    """A fresh chat app (its own log); options go to `App` (e.g. `heartbeat=0.05`)."""
    return demo_app({"/": Room}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the chat on 127.0.0.1."""
    main_for(lambda _: create_app(), argv, description="Via chat (reference runtime)")


if __name__ == "__main__":
    main()
