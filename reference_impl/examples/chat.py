"""The live chatroom of the seed tutorial (`shared/seed/chatroom-tutorial.txt`), in Python.

One app-scoped list is the whole trick: `Send` appends to it, and every tab whose last render
read it (in every session) re-renders. `name` and `draft` are tab signals bound to inputs.

    python -m reference_impl.examples.chat --port 3000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reference_impl import App, Composition, Ctx, SignalStr, StateApp, action, h, on
from reference_impl.serve import main_for

# Keep a recent window so the room cannot grow forever.
WINDOW = 50


@dataclass(frozen=True, slots=True)
class Message:
    """One chat line."""

    sender: str
    body: str


class Room(Composition):
    """The chatroom page."""

    # App-scoped: ONE log shared by every session and every tab.
    log = StateApp[list[Message]]("log", list)
    # Tab-local client signals, two-way bound to inputs.
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.class_("container"),
            h.h1("Via Chat"),
            h.article(
                (h.p(h.strong(m.sender + ": "), m.body) for m in self.log.read(ctx)),
                style="max-height:60vh;overflow-y:auto",
            ),
            h.form(
                h.input(self.name.bind(), type="text", placeholder="name"),
                h.input(
                    self.draft.bind(),
                    on.key("Enter", self.send),
                    type="text",
                    placeholder="message…",
                ),
                h.button("Send", on.click(self.send), type="button"),
            ),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        body = self.draft.read(ctx).strip()
        if not body:
            return
        name = self.name.read(ctx).strip() or "Anon"
        self.log.append(ctx, Message(name, body))
        self.log.update(ctx, lambda log: log[-WINDOW:])
        self.draft.write(ctx, "")  # clear the input


def create_app(**options: Any) -> App:
    """A fresh chat app (its own log); options go to `App` (e.g. `heartbeat=0.05`)."""
    app = App(insecure_cookies=True, **options)
    app.mount("/", Room)
    return app


def main() -> None:
    """Serve the chat on 127.0.0.1."""
    main_for(create_app(), description="Via chat (reference runtime)")


if __name__ == "__main__":
    main()
