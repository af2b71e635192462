"""The persistent chat: messages are stored in SQLite and survive a server restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import vt
from reference_impl.examples import chat_persist
from reference_impl.examples.messages import WINDOW, Message


def test_messages_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"

    with vt.LiveServer(chat_persist.create_app(db)) as first, vt.Client(first.url) as client:
        tab = client.new_session().open("/")
        tab.ready()
        tab.action("Send", name="ada", draft="before the restart")
        tab.action("Send", name="ada", draft="<b>still</b> text")
        tab.expect_text("article", "ada: <b>still</b> text")

    with vt.LiveServer(chat_persist.create_app(db)) as second, vt.Client(second.url) as client:
        reader = client.new_session().open("/")
        assert [p.text for p in reader.select("article p")] == [
            "ada: before the restart",
            "ada: <b>still</b> text",
        ]
        reader.ready()
        reader.action("Send", name="bob", draft="after")
        reader.expect_text("article", "bob: after")

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sender, body FROM messages ORDER BY id").fetchall()
    conn.close()
    assert rows == [("ada", "before the restart"), ("ada", "<b>still</b> text"), ("bob", "after")]


def test_the_page_shows_the_newest_window_of_a_long_history(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    store = chat_persist.MessageStore(db)
    for n in range(WINDOW + 7):
        store.add(Message("old", f"m{n}"))

    with vt.LiveServer(chat_persist.create_app(db)) as server, vt.Client(server.url) as client:
        lines = [p.text for p in client.new_session().open("/", connect=False).select("article p")]

    assert lines == [f"old: m{n}" for n in range(7, WINDOW + 7)]
