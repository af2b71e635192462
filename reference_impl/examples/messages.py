"""What the chat examples share: a message, the newest-window fold, and the view parts.

`chat`, `chat_events`, `rooms` and `chat_persist` differ in where the log lives (one app-wide
list, one event log, a map of rooms, an event log backed by SQLite); the message, the window and
the markup are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reference_impl import Ctx, Signal, h, on

__all__ = ["WINDOW", "Message", "compose", "keep_newest", "log_view", "message_from"]

# Keep a recent window so a room cannot grow forever (the tutorial's 50).
WINDOW = 50


@dataclass(frozen=True, slots=True)
class Message:
    """One chat line."""

    sender: str
    body: str


def keep_newest(log: list[Message], message: Message) -> list[Message]:
    """The fold: append, then keep the newest `WINDOW` messages."""
    return [*log, message][-WINDOW:]


def message_from(ctx: Ctx, name: Signal[str], draft: Signal[str]) -> Message | None:
    """The message a Send carries (the draft, trimmed, from the trimmed name or `Anon`), or
    None for a blank draft; clears the sender's draft."""
    body = draft.read(ctx).strip()
    if not body:
        return None
    draft.write(ctx, "")  # clear the input
    return Message(name.read(ctx).strip() or "Anon", body)


def log_view(messages: Iterable[Message]) -> h.Element:
    """The scrolling list of messages (text is escaped by the builder)."""
    return h.article(
        (h.p(h.strong(m.sender + ": "), m.body) for m in messages),
        style="max-height:60vh;overflow-y:auto",
    )


def compose(name: Signal[str], draft: Signal[str], send: Callable[..., Any]) -> h.Element:
    """The name and message inputs, sending on Enter or on the button."""
    return h.form(
        h.input(name.bind(), type="text", placeholder="name"),
        h.input(draft.bind(), on.key("Enter", send), type="text", placeholder="message…"),
        h.button("Send", on.click(send), type="button"),
    )
