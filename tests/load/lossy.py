"""A deliberately lossy reference chat: half the streams lose the patches after `: ready`.

The server still answers every request and keeps every stream open (heartbeats flow); a tab
on a lossy stream simply never sees a message arrive, as behind a proxy that drops frames. A
load test against it must fail at the expect step, naming the tabs that missed the message.
"""

from __future__ import annotations

import random
from typing import Any

from reference_impl.examples.chat import create_app

Scope = dict[str, Any]


def lossy_chat(share: float = 0.5) -> Any:
    """The chat, with each stream losing its patches at random, with probability `share`
    (chosen per stream from a seeded generator: "every other stream" would follow the order
    in which concurrent users open their tabs, and could spare every tab of a scenario)."""
    app = create_app()
    choose = random.Random(21).random

    async def lossy(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/_sse":
            await app(scope, receive, send)
            return
        if choose() >= share:
            await app(scope, receive, send)
            return
        ready = False

        async def losing(message: dict[str, Any]) -> None:
            nonlocal ready
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if ready and b"datastar-patch-elements" in body:
                    message = {**message, "body": b""}  # lost on the way
                ready = ready or b": ready" in body
            await send(message)

        await app(scope, receive, losing)

    return lossy
