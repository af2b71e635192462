"""Events-only tabs: a load user that reads the patches but keeps no page replica.

A full tab (`vt.AsyncTab`) parses every patch and morphs it into its page (`vt.Replica`):
about 0.8 ms of CPU per patch of the chat's 50-message view, and its document in memory. A
load user that only needs to know that a text arrived can skip both. `EventsTab` is an
`AsyncTab` whose replica applies signals (the tab id, the signals an action sends) but no
element patch; its `expect_text` passes when a patch received since the client's last action
shows the text (`patch_text`: the patch's markup removed, as a page shows it). The
steps that need the page (`click`, `type`, `press`, `expect_selector`, `converge`,
`expect_console`, `expect_script`) are refused before a run starts (`events_refusal`).

A navigation (a redirect script, a `reload` step) loads a full replica again: events-only is
for the streams of a load test, not for pages that move.
"""

from __future__ import annotations

import html
import re

from ..client.client import AsyncSession
from ..client.tab import AsyncTab
from ..client.waits import wait_for
from ..errors import hide_frames
from ..replica.dom import Document, Element
from ..replica.patch import ApplyResult
from ..replica.replica import Replica
from ..scenario.format import Scenario
from ..wire.events import Event, PatchElements

__all__ = [
    "EVENTS_REFUSED",
    "EventsReplica",
    "EventsTab",
    "events_refusal",
    "open_events_tab",
    "patch_text",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

EVENTS_REFUSED = frozenset(
    {"click", "type", "press", "expect_selector", "converge", "expect_console", "expect_script"}
)
"""Verbs that read the page replica, which an events-only user does not keep."""


def events_refusal(scenario: Scenario) -> str | None:
    """Why `scenario` cannot run events-only (its first step that reads the page), or None."""
    for step in scenario.steps:
        if step.verb in EVENTS_REFUSED:
            return f"{step.describe()} reads the page, which an events-only user does not keep"
    return None


class EventsReplica(Replica):
    """A replica that keeps the signals and an empty page: element patches are not applied
    (no parse, no morph), so they cost only their decoding."""

    __slots__ = ()

    @classmethod
    def lean(cls, full: Replica) -> EventsReplica:
        """An events-only replica with `full`'s signals (the page itself is dropped)."""
        return cls(Document.parse(""), full.signals.to_dict())

    def apply(self, event: Event) -> ApplyResult:
        """Signals as a browser applies them; an element patch changes nothing."""
        if isinstance(event, PatchElements):
            return ApplyResult()
        return super().apply(event)


_ELEMENTS_LINE = re.compile(rb"^data: ?elements ?(.*?)\r?$", re.MULTILINE)
_EVENT_END = re.compile(rb"\r?\n\r?\n")
_TAG = re.compile(r"<[^>]*>")


def patch_text(events: bytes) -> str:
    """The text of the element patches in `events` (whole SSE events, as bytes): their
    `elements` lines with the markup removed, entities decoded and whitespace collapsed, as
    a page would show it (`<b>alice</b>: hi` reads `alice: hi`)."""
    markup = b"\n".join(_ELEMENTS_LINE.findall(events)).decode("utf-8", "replace")
    return " ".join(html.unescape(_TAG.sub("", markup)).split())


class EventsTab(AsyncTab):
    """A tab that keeps no page (see the module docstring); made by `open_events_tab`."""

    async def expect_text(
        self,
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> Element:
        """Wait until the text of a patch received since the client's last action contains
        `text` (`patch_text`: markup removed, whitespace collapsed); `selector` and `exact`
        need the page and are not checked. Returns the empty page's root."""
        wanted = " ".join(text.split())
        count, offset = self.recording.position_at(self.hub.last_action)
        read = [offset if count else 0, max(count, 1)]  # [offset, connection] read up to

        def arrived() -> bool:
            # Only whole events, each read once: a wake-up costs the bytes that came since.
            while read[1] <= len(self.transcripts):
                transcript = self.transcripts[read[1] - 1]
                ends = [m.end() for m in _EVENT_END.finditer(transcript, read[0])]
                if ends:
                    found = wanted in patch_text(bytes(transcript[read[0] : ends[-1]]))
                    read[0] = ends[-1]
                    if found:
                        return True
                if read[1] == len(self.transcripts):
                    return False
                read[:] = [0, read[1] + 1]
            return False

        await wait_for(
            [self],
            arrived,
            description=f"receive a patch showing {wanted!r} (events-only)",
            timeout=timeout,
            closest=lambda: f"{sum(map(len, self.transcripts))} stream bytes in all",
            own=True,
        )
        return Element(self.document.root)


async def open_events_tab(session: AsyncSession, path: str, *, connect: bool = True) -> EventsTab:
    """Load `path` in a new events-only tab of `session` and, with `connect`, open its
    stream: the page is read in full once (tab id, stream URL, signals), then only the
    signals are kept."""
    tab = EventsTab(session, session.hub, path, len(session.tabs) + 1)
    session.tabs.append(tab)
    await tab.goto(path, beacon=False, connect=False)
    tab.replica = EventsReplica.lean(tab.replica)
    if connect:
        await tab.connect()
    return tab
