"""Per-room chat channels: one app-scoped map from room name to its newest messages, as the
seed tutorial's "where to go next" suggests (a `StateAppMap[string, []Message]`).

`/` is the lobby (every room and its message count, and a form to open one); `/rooms/{room}`
is a room. Every tab reading the map re-renders on any message (the map is one key), and each
shows only its own room.

    python -m reference_impl.examples.rooms --port 3000
"""

from __future__ import annotations

from typing import Any

from reference_impl import App, Composition, Ctx, SignalStr, StateApp, action, h, on
from reference_impl.serve import demo_app, main_for

from .messages import Message, compose, keep_newest, log_view, message_from

__all__ = ["Lobby", "RoomPage", "create_app", "main"]

ROOMS = StateApp[dict[str, list[Message]]]("rooms", dict)


class Lobby(Composition):
    """Every room with its message count; `Open` goes to a room by name."""

    rooms = ROOMS
    room = SignalStr("room")

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Rooms"),
            h.ul(
                h.li(h.a(name, href=f"/rooms/{name}"), f" ({len(log)})", id=f"room-{name}")
                for name, log in sorted(self.rooms.read(ctx).items())
            ),
            h.input(self.room.bind(), on.key("Enter", self.open), placeholder="room name"),
            h.button("Open", on.click(self.open), type="button"),
        )

    @action("Open")
    def open(self, ctx: Ctx) -> None:
        name = self.room.read(ctx).strip()
        if name and "/" not in name:
            ctx.redirect(f"/rooms/{name}")


class RoomPage(Composition):
    """One room's messages and the send form."""

    rooms = ROOMS
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        room = ctx.params["room"]
        return h.main(
            h.h1(f"#{room}"),
            h.nav(h.a("all rooms", href="/")),
            log_view(self.rooms.read(ctx).get(room, [])),
            compose(self.name, self.draft, self.send),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        message = message_from(ctx, self.name, self.draft)
        if message is None:
            return
        room = ctx.params["room"]
        # One update of the map under its key: concurrent senders never lose a message.
        self.rooms.update(
            ctx, lambda rooms: {**rooms, room: keep_newest(rooms.get(room, []), message)}
        )


def create_app(**options: Any) -> App:
    """A rooms app; options go to `App`."""
    return demo_app({"/": Lobby, "/rooms/{room}": RoomPage}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the rooms on 127.0.0.1."""
    main_for(lambda _: create_app(), argv, description="Via chat rooms (reference runtime)")


if __name__ == "__main__":
    main()
