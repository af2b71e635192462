"""What arrives on a tab, applied and recorded: stream items, response events, scripts.

`AsyncTab` inherits this (its network side feeds it): each event is read as the browser reads
it (`vt.wire.feed`: the event applied, what Datastar logs, the §6 rules broken), applied to the
replica, recorded on the timeline, and every change wakes the waiters. Redirect and reload
scripts become the navigation the tab follows next (`vt.page.navigation`).
"""

from __future__ import annotations

import anyio

from ..errors import ProtocolError, hide_frames
from ..page.navigation import Navigation, from_script
from ..page.requests import ResponseInfo
from ..replica.scripts import classify_script
from ..wire.events import (
    Event,
    EventLog,
    PatchElements,
    PatchSignals,
    Reading,
    StreamItem,
    UnknownEvent,
    is_ready,
)
from ..wire.feed import Fed
from ..wire.sse import Comment
from . import http as _http
from .expect import TabView
from .recording import Recording
from .timeline import ActionRef, Timeline

__all__ = ["Arrivals", "short_id"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


class Arrivals(TabView):
    """The receiving side of a tab (the base of `AsyncTab`, which sets these attributes)."""

    timeline: Timeline
    events: EventLog
    recording: Recording
    version: int
    responses: list[ResponseInfo]
    # Which events came in an action's response (index in `events` -> the action), so a
    # golden keeps each connection's events apart (vt.scenario.golden.connections).
    response_origin: dict[int, ActionRef]
    follow_redirects: bool
    profile: str  # vt.page.profile: "via", or "datastar" for a plain page
    _signalled: set[int]  # connections that sent the client's ready_signal (plain pages)
    _pending: Navigation | None
    _unfollowed: set[ActionRef]
    # Loop time of the last patch a stream brought (or of the last stream opened): a plain
    # page's `ready()` waits until this is the quiet window ago.
    _quiet_since: float = 0.0

    def _record_response(self, method: str, response: _http.HTTPResponse) -> ResponseInfo:
        info = ResponseInfo(
            method,
            str(response.request.url),
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
        )
        self.responses.append(info)
        return info

    def _receive(self, fed: list[Fed], connection: int) -> None:
        after = self.hub.last_action
        rule = self.hub.settings.ready_signal if self.profile == "datastar" else None
        for raw, item in fed:
            if rule is not None and rule.matches(raw):
                self._signalled.add(connection)  # the app's own "subscribed" signal (plain)
            if isinstance(item, Reading):
                self._read(item, after, "", raw.raw)
                event = item.event
                if event is not None and not (
                    isinstance(event, PatchSignals) and event.is_heartbeat
                ):
                    self._quiet_since = anyio.current_time()
            elif isinstance(item, Comment):
                self.events.append(item)
                if is_ready(item):
                    self.recording.ready_on = max(self.recording.ready_on, connection)
                    self.timeline.add("ready", ": ready", item, after)
                else:
                    self.timeline.add("comment", f": {item.text}", item, after)

    def _read(self, reading: Reading, after: ActionRef | None, note: str, raw: bytes) -> None:
        """Apply an event as the browser reads it; each §6 rule it breaks is a protocol error
        (raised by the next wait in strict mode), and what Datastar logs goes to the console."""
        self.replica.violations.extend(reading.violations)
        for violation in reading.violations:
            self._protocol_error(violation.error())
        for message in reading.console:
            self.replica.console.append(message)
            self.timeline.add("console", message, None, after)
        if reading.event is not None:
            self._apply(reading.event, after, note, raw)

    def apply(self, event: Event, *, after: ActionRef | None = None, note: str = "") -> None:
        """Apply one event to the replica, as the browser would, and record it."""
        self._apply(event, after, note)
        self._changed()

    def _apply(
        self, event: Event, after: ActionRef | None, note: str, raw: bytes | None = None
    ) -> None:
        # A stream event is kept as its bytes: no object per event (see `EventLog`).
        kept: Event | bytes = event if raw is None else raw
        if raw is None:
            self.events.append(event)
        else:
            self.events.append_raw(raw)
        before = self.id_or_none
        result = self.replica.apply(event)
        if isinstance(event, PatchSignals) and event.is_heartbeat:
            self.timeline.add("heartbeat", "patch-signals {}" + note, kept, after)
        elif isinstance(event, PatchSignals | PatchElements | UnknownEvent):
            self.timeline.add("event", event.describe() + note if note else None, kept, after)
        if before is not None and self.id_or_none != before:
            new = self.id_or_none
            self.timeline.add(
                "event", f"tab id changed {short_id(before)} -> {short_id(new)}", None, after
            )
        for message in result.errors:
            self.timeline.add("console", message, None, after)
        for script in result.scripts:
            kind = classify_script(script)
            self.timeline.add("script", kind.describe(), script, after)
            found = from_script(kind, self.page_url)
            if isinstance(found, ProtocolError):
                self._protocol_error(found)
            elif found is not None:
                self._navigate_later(found, after)

    def _navigate_later(self, found: Navigation, after: ActionRef | None) -> None:
        if self.follow_redirects and after not in self._unfollowed:
            self._pending = found
        else:
            self.timeline.add("navigate", f"not followed: {found.describe()}", None, after)

    def _protocol_error(self, error: ProtocolError) -> None:
        self.recording.protocol_errors.append(error)
        self.timeline.add("error", str(error).splitlines()[0], error)

    def _changed(self) -> None:
        self.version += 1
        self.hub.notify(self)

    def _take_response_items(self, fed: list[Fed], ref: ActionRef) -> list[StreamItem]:
        items: list[StreamItem] = []
        for raw, item in fed:
            if isinstance(item, Comment):
                items.append(item)
                continue
            if item.event is not None:
                self.response_origin[len(self.events)] = ref  # the event `_read` appends
            self._read(item, ref, " (in the response)", raw.raw)
            if item.event is not None:
                items.append(item.event)
        return items


def short_id(tab_id: str | None) -> str:
    """A tab id shortened for timelines (`/_abcdef…`)."""
    if tab_id is None:
        return "None"
    route, _, suffix = tab_id.rpartition("_")
    return f"{route}_{suffix[:6]}…" if len(suffix) > 8 else tab_id
