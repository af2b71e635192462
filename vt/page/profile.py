"""Which client a page needs: Via's or plain Datastar's (sans-IO).

vt reads a page as Via's when its signals carry Via's seed (`via_tab`, §2.3) and as a plain
Datastar page otherwise: signals from every `data-signals`, one stream per `@get(...)` that
`data-init` runs, no tab id, no close beacon, no `: ready` comment (§5.3 is Via's). A client,
a session or the pytest plugin (`--vt-profile`) can force either reading.

This module holds the rules that differ between the two readings; the tab asks it, so the
profile logic lives in one place:

* `resolve_profile`: ``auto`` becomes ``via`` or ``datastar`` from the page's seed;
* `ReadySignal`: what a plain app declares as "subscribed" (a comment, an event type, or a
  predicate over the tab), since plain Datastar has no `: ready`;
* `via_only`: the `UsageError` a Via-only call raises on a plain page, naming what to use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import UsageError, hide_frames
from ..wire.sse import Comment, ServerSentEvent

__all__ = [
    "PROFILES",
    "Profile",
    "ReadySignal",
    "check_profile",
    "resolve_profile",
    "via_only",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

Profile = Literal["auto", "via", "datastar"]
"""How to read a page: ``auto`` (Via's when the page carries `via_tab`), ``via`` or
``datastar`` (plain Datastar)."""

PROFILES: tuple[Profile, ...] = ("auto", "via", "datastar")

TAB_KEY = "via_tab"


def check_profile(profile: str) -> str:
    """`profile`, checked to be one of `PROFILES`.

    Raises:
        UsageError: it is not.
    """
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    return profile


def resolve_profile(requested: str, seed: Mapping[str, Any]) -> Literal["via", "datastar"]:
    """The profile a page is read with: `requested`, or for ``auto`` Via's exactly when the
    page's signals carry a `via_tab` string (§2.3).

    Raises:
        UsageError: `requested` is not one of `PROFILES`.
    """
    if check_profile(requested) == "via" or requested == "datastar":
        return "via" if requested == "via" else "datastar"
    tab_id = seed.get(TAB_KEY)
    return "via" if isinstance(tab_id, str) and tab_id else "datastar"


@dataclass(frozen=True, slots=True)
class ReadySignal:
    """What a plain Datastar app sends once a stream is subscribed (Via's is `: ready`, §5.3).

    Make one with `ReadySignal.on_comment("subscribed")`, `ReadySignal.on_event("ready")` or
    `ReadySignal.when(lambda tab: ...)`. A comment or event must arrive on every stream the
    tab opened; a predicate is asked of the tab (its signals, its document) after each change.
    Without one, a plain tab is ready once every stream answered 200 `text/event-stream`.
    """

    comment: str | None = None
    event: str | None = None
    predicate: Callable[[Any], object] | None = None

    @classmethod
    def on_comment(cls, text: str) -> ReadySignal:
        """Ready when a `: text` comment arrives (compared without surrounding spaces)."""
        return cls(comment=text.strip())

    @classmethod
    def on_event(cls, event_type: str) -> ReadySignal:
        """Ready when an event whose `event:` field is `event_type` arrives."""
        return cls(event=event_type)

    @classmethod
    def when(cls, predicate: Callable[[Any], object]) -> ReadySignal:
        """Ready when `predicate(tab)` is truthy (it runs on the client's event loop)."""
        return cls(predicate=predicate)

    def matches(self, item: ServerSentEvent | Comment) -> bool:
        """Whether one wire item is this signal (never, for a predicate)."""
        if isinstance(item, Comment):
            return self.comment is not None and item.text.strip() == self.comment
        return self.event is not None and item.event == self.event

    def describe(self) -> str:
        """What a wait for it says it waited for."""
        if self.comment is not None:
            return f"the comment `: {self.comment}` on every stream"
        if self.event is not None:
            return f"an `event: {self.event}` on every stream"
        return "the app's ready predicate to hold"


_INSTEAD = {
    "action": "call `tab.post(url, **signals)` (or get/put/patch/delete) with the app's own "
    "route, as its `@post(...)` bindings do",
    "close": "call `tab.drop()`: a plain Datastar page has no close beacon, closing it only "
    "ends its streams",
    "reload": "call `tab.reload(beacon=False)`: a plain Datastar page has no close beacon",
    "upload": "send the form with `tab.post(url, ...)` or the page's own gestures",
}


def via_only(call: str, label: str) -> UsageError:
    """The error for Via-only `call` (``action``, ``close``, ``reload``, ``upload``) on the
    plain tab `label`, saying what to use instead."""
    return UsageError(
        f"tab {label} is a plain Datastar page (no `via_tab`, §2.3), so `{call}` (Via's, "
        f"§4) does not apply: {_INSTEAD[call]}. Force Via's reading with profile='via'."
    )
