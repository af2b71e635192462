"""The cluster conformance app (specs/cluster.md §C8): what the `cluster` level runs against on
every node of a cluster. Each route uses one kind of shared state:

* `/chat/{room}`: an app-wide event log (`StateAppEvents`), every message kept (no window),
  one list per room. A `Send` may carry a message id (`mid`): a second record with an id the
  room already has is not shown again, so a client may retry a send whose answer it never got
  (a node died mid-request) without a duplicate.
* `/counter/{name}`: one app-wide CAS cell holding every named counter; `Inc` adds 1.
* `/session`: a session counter (`StateSess`); `Inc` adds 1.

    python -m reference_impl.examples.cluster --port 3000
    vt serve cluster --nodes 3          # three nodes on one NATS JetStream
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reference_impl import (
    App,
    Composition,
    Ctx,
    SignalStr,
    StateApp,
    StateAppEvents,
    StateSess,
    action,
    h,
    on,
)
from reference_impl.serve import demo_app, main_for

__all__ = ["ChatRoom", "Counter", "Post", "SessionCounter", "create_app", "fold_post", "main"]


@dataclass(frozen=True, slots=True)
class Post:
    """One message of a room; `mid` is the sender's id for it ("" when it gave none)."""

    room: str
    mid: str
    sender: str
    body: str


def fold_post(rooms: dict[str, list[Post]], post: Post) -> dict[str, list[Post]]:
    """The fold: the post joins its room, unless the room has its id already (a retry)."""
    posts = rooms.get(post.room, [])
    if post.mid and any(p.mid == post.mid for p in posts):
        return rooms
    return {**rooms, post.room: [*posts, post]}


class ChatRoom(Composition):
    """`/chat/{room}`: every message of the room, oldest first, and how many."""

    log = StateAppEvents[Post, dict[str, list[Post]]]("cluster_log", dict, fold_post)
    name = SignalStr("name", init="Anon")
    draft = SignalStr("draft")
    mid = SignalStr("mid")

    def view(self, ctx: Ctx) -> h.Node:
        posts = self.log.read(ctx).get(ctx.params["room"], [])
        return h.main(
            h.h1("#" + ctx.params["room"]),
            h.p(h.span(str(len(posts)), id="count"), " messages"),
            h.ol((h.li(f"{p.sender}: {p.body};") for p in posts), id="log"),
            h.input(self.draft.bind(), on.key("Enter", self.send), type="text"),
        )

    @action("Send")
    def send(self, ctx: Ctx) -> None:
        body = self.draft.read(ctx).strip()
        if not body:
            return
        self.draft.write(ctx, "")
        sender = self.name.read(ctx).strip() or "Anon"
        self.log.append(ctx, Post(ctx.params["room"], self.mid.read(ctx), sender, body))


class Counter(Composition):
    """`/counter/{name}`: a named app-wide counter, every name in one CAS cell."""

    counters = StateApp[dict[str, int]]("cluster_counters", dict)

    def view(self, ctx: Ctx) -> h.Node:
        value = self.counters.read(ctx).get(ctx.params["name"], 0)
        return h.main(
            h.h1("Counter " + ctx.params["name"]),
            h.p(h.span(str(value), id="count")),
            h.button("+", on.click(self.inc), id="inc"),
        )

    @action("Inc")
    def inc(self, ctx: Ctx) -> None:
        name = ctx.params["name"]
        self.counters.update(ctx, lambda all_: {**all_, name: all_.get(name, 0) + 1})


class SessionCounter(Composition):
    """`/session`: a counter of the session, shared by its tabs on every node."""

    visits = StateSess[int]("cluster_visits", 0)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Session"),
            h.p(h.span(str(self.visits.read(ctx)), id="visits")),
            h.button("+", on.click(self.inc), id="inc"),
        )

    @action("Inc")
    def inc(self, ctx: Ctx) -> None:
        self.visits.add(ctx, 1)


MOUNTS: dict[str, type[Any]] = {
    "/chat/{room}": ChatRoom,
    "/counter/{name}": Counter,
    "/session": SessionCounter,
}


def create_app(**options: Any) -> App:
    """A cluster app node; `backplane=` (a `reference_impl.backplane.Backplane`) joins it to
    a cluster, without one it is a cluster of one. Other options go to `App`."""
    return demo_app(MOUNTS, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the cluster app on 127.0.0.1 (one node without a backplane)."""
    main_for(lambda _: create_app(), argv, description="the vt cluster app (reference runtime)")


if __name__ == "__main__":
    main()
