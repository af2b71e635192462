"""The chat with its log in SQLite: every message is stored as it is sent, and the room is
rehydrated from the file when the server starts, so it survives a restart.

    python -m reference_impl.examples.chat_persist --port 3000 --db chat.sqlite3

The log is the same event log as `chat`'s (`StateAppEvents`, folded into the newest 50); the
database holds every message ever sent. Writes are synchronous and short (one INSERT), which
also orders them exactly as the in-memory log.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from reference_impl import App, Ctx
from reference_impl.hub import hub_of
from reference_impl.serve import demo_app, main_for

from .chat_events import Room
from .messages import Message

__all__ = ["MessageStore", "PersistentRoom", "create_app", "main"]

LOG = Room.log


class MessageStore:
    """Every message, in order, in one SQLite table."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS messages ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, body TEXT NOT NULL)"
            )

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: nothing to leak, and the file is
        # consistent whenever the server stops.
        with closing(sqlite3.connect(self.path)) as db, db:
            yield db

    def add(self, message: Message) -> None:
        """Store one message (committed before returning)."""
        with self._db() as db:
            db.execute(
                "INSERT INTO messages (sender, body) VALUES (?, ?)",
                (message.sender, message.body),
            )

    def all(self) -> list[Message]:
        """Every stored message, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT sender, body FROM messages ORDER BY id").fetchall()
        return [Message(sender, body) for sender, body in rows]


class PersistentRoom(Room):
    """The event-log chatroom, storing each message on disk before it joins the log."""

    title = "Via Chat (persistent)"

    def record(self, ctx: Ctx, message: Message) -> None:
        store(ctx).add(message)  # on disk first: a crash never shows a lost message


def store(owner: App | Ctx) -> MessageStore:
    """The app's message store (from the app or any of its tabs)."""
    found = hub_of(owner).state["_store"]
    assert isinstance(found, MessageStore)
    return found


def create_app(db: str | Path, **options: Any) -> App:
    """A chat app backed by the SQLite file `db` (created if missing); its log is rehydrated
    from the file when the server starts. Options go to `App`."""
    app = demo_app({"/": PersistentRoom}, **options)
    app.state["_store"] = MessageStore(db)
    app.on_startup(lambda: LOG.load(app, store(app).all()))
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the persistent chat on 127.0.0.1."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", default="chat.sqlite3", help="the SQLite file")

    main_for(
        lambda args: create_app(args.db),
        argv,
        description="Via chat with SQLite persistence (reference runtime)",
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    main()
