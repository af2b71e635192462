"""Scenarios: named checks that drive a server through vt, for `vt run`.

A scenario is an async function of an `AsyncClient`; it raises (an `AssertionError` or a
`VTError`) to fail. Each names the reference app it is written for, which `vt run` serves
itself when no URL is given. The chat scenarios are the seed tutorial's promises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ._client import AsyncClient

__all__ = ["SCENARIOS", "Scenario"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named check; `app` is the `module:factory` of the reference app it targets."""

    name: str
    app: str
    run: Callable[[AsyncClient], Awaitable[None]]

    @property
    def description(self) -> str:
        """The first line of the scenario function's docstring."""
        return (self.run.__doc__ or self.name).strip().splitlines()[0]


CHAT = "reference_impl.examples.chat:create_app"


async def chat_fan_out(client: AsyncClient) -> None:
    """A message sent in one session shows live in another session's tab."""
    alice = await client.new_session("alice").open("/")
    bob = await client.new_session("bob").open("/")
    await bob.ready()
    await alice.action("Send", name="alice", draft="hello bob")
    await bob.expect_text("article", "alice: hello bob", timeout=2)
    await alice.expect_signal("draft", "")


async def chat_order(client: AsyncClient) -> None:
    """Messages accumulate in send order, for a reader who arrives later."""
    writer = await client.new_session("writer").open("/")
    await writer.ready()
    await writer.action("Send", name="w", draft="first")
    await writer.action("Send", draft="second")
    await writer.expect_text("article", "w: second")
    reader = await client.new_session("reader").open("/", connect=False)
    lines = [p.text for p in reader.select("article p")]
    assert lines[-2:] == ["w: first", "w: second"], f"reader saw {lines}"


async def chat_escaping(client: AsyncClient) -> None:
    """Markup typed into a message reaches other tabs as text, never as markup."""
    mallory = await client.new_session("mallory").open("/")
    bob = await client.new_session("bob").open("/")
    await bob.ready()
    await mallory.action("Send", name="m", draft="<script>alert(1)</script>")
    await bob.expect_text("article", "m: <script>alert(1)</script>", timeout=2)
    assert not bob.select("article script"), "a <script> element reached the page"
    assert not bob.scripts, f"scripts ran: {bob.scripts}"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chat-fan-out", CHAT, chat_fan_out),
    Scenario("chat-order", CHAT, chat_order),
    Scenario("chat-escaping", CHAT, chat_escaping),
)
