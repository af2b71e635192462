"""What a page received and said, as the init script (`init.js`) recorded it, and the files a
failed test leaves: the read side of `vt.browser.tab.BrowserTab`.

The init script runs in every page before the page's own scripts: it records each request and
each event-stream frame the page receives (Playwright's traces do not show stream frames),
knows when the page is settled (no request in flight, an event stream open, §5.1), and calls
back into vt (`__vtChanged`) whenever the page may look different, so waits re-check then.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from playwright.async_api import ConsoleMessage, Page
from playwright.async_api import Error as PlaywrightError

from ..client.report import slug
from ..wire.events import StreamItem, read_item
from ..wire.sse import ServerSentEvent

__all__ = [
    "CHANGED_BINDING",
    "Answer",
    "PageMessage",
    "PageRecord",
    "answer_name",
    "describe_errors",
    "init_script",
]

CHANGED_BINDING = "__vtChanged"
"""The Playwright binding the init script calls when the page may have changed."""


def init_script() -> str:
    """The JavaScript vt adds to every page it opens (recorder, settle state, change calls)."""
    return resources.files("vt.browser").joinpath("init.js").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class PageMessage:
    """A console message or an uncaught page error, as a browser user saw it."""

    user: str
    kind: Literal["console", "pageerror"]
    level: str  # console type ("error", "warning", ...) or "error" for a page error
    text: str
    location: str = ""

    def __str__(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"[{self.user}] {self.kind} {self.level}: {self.text}{where}"


def describe_errors(errors: Iterable[PageMessage]) -> str:
    """The failure message for unexpected console and page errors, one per line."""
    lines = [str(m) for m in errors]
    return (
        f"{len(lines)} console or page error(s) in the browser (allow expected ones with "
        "@pytest.mark.vt_browser_allow(REGEX, ...)):\n  " + "\n  ".join(lines)
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """An action's event-stream answer in a page's record: `name` as vt's HTTP client names
    the request (`answer_name`), `at` when it was sent (epoch ms). What a golden's
    `# response to NAME` section is named and ordered by (`vt.scenario.golden.connections`)."""

    name: str
    at: float


def answer_name(method: str, url: str) -> str:
    """A request's name as vt's HTTP client gives it: Via's action route `POST /_action/NAME`
    is `NAME` (the `action` verb; in a browser it is the click that posts it), anything else
    `METHOD path`, without Datastar's own `datastar` query parameter (§4.1)."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "datastar"])
    path = parts.path + (f"?{query}" if query else "")
    if method.upper() == "POST" and parts.path.startswith("/_action/"):
        return parts.path.removeprefix("/_action/")
    return f"{method.upper()} {path}"


def _item(frame: Mapping[str, Any]) -> StreamItem:
    return read_item(ServerSentEvent(frame["event"], frame["data"], frame.get("id")))


class PageRecord:
    """One page's record: its console and page errors (`messages`), main-frame navigations,
    and what the init script saw (requests, frames, settle state)."""

    def __init__(self, name: str, page: Page) -> None:
        self.name = name
        self.page = page
        self.messages: list[PageMessage] = []
        self.navigations = 0
        """Main-frame navigations of the page (a reload counts one)."""
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("framenavigated", self._on_navigated)

    def changed(self) -> None:
        """Something on the page may have changed (overridden: wake the waits)."""

    def _on_console(self, message: ConsoleMessage) -> None:
        where = message.location
        location = f"{where.get('url', '')}:{where.get('lineNumber', '')}" if where else ""
        self.messages.append(
            PageMessage(self.name, "console", message.type, message.text, location)
        )
        self.changed()

    def _on_page_error(self, error: PlaywrightError) -> None:
        self.messages.append(PageMessage(self.name, "pageerror", "error", str(error)))
        self.changed()

    def _on_navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1
        self.changed()

    async def state(self) -> dict[str, Any]:
        """The init script's view: requests in flight, streams open, stream connects so far,
        the last requests."""
        state: dict[str, Any] = await self.page.evaluate(
            "() => window.__vt ? window.__vt.state() : {missing: 'vt init script not loaded'}"
        )
        return state

    async def record(self) -> dict[str, Any]:
        """Everything the init script recorded: each request (with every frame of its event
        stream, comments included), Datastar's `datastar-fetch` events, the page's state."""
        record: dict[str, Any] | None = await self.page.evaluate(
            "() => window.__vt ? {pageId: window.__vt.pageId, requests: window.__vt.requests,"
            " fetchEvents: window.__vt.fetchEvents, state: window.__vt.state()} : null"
        )
        return record or {}

    async def sse_events(self) -> list[dict[str, Any]]:
        """Every SSE event (not comments) the page received on its streams, in arrival
        order: dicts with `event`, `data`, `id` and `t` (epoch milliseconds)."""
        requests = (await self.record()).get("requests", [])
        frames = [e for r in requests if r.get("stream") for e in r["events"] if "event" in e]
        return sorted(frames, key=lambda e: e["t"])  # stable: equal times keep request order

    async def stream_items(self) -> list[StreamItem]:
        """`sse_events()` read as vt reads a stream (§6)."""
        return [_item(f) for f in await self.sse_events()]

    async def frame_count(self) -> int:
        """How many SSE events (not comments) the page has received so far, on its streams
        and in action answers: what settling watches."""
        count: int = await self.page.evaluate(
            "() => window.__vt ? window.__vt.requests.reduce("
            "(n, r) => n + r.events.filter((e) => 'event' in e).length, 0) : 0"
        )
        return count

    async def received(self) -> tuple[list[StreamItem], dict[int, Answer]]:
        """The input of a golden: every SSE event the page received, read as vt reads a
        stream (§6): its streams' events in arrival order, then each action answer's (an
        event-stream response to any request but a stream GET, §4.3), the answers in the
        order they were sent; and, per index of an answer's event, its `Answer` (as an HTTP
        tab's `response_origin`)."""
        requests = (await self.record()).get("requests", [])
        items = [_item(f) for f in await self.sse_events()]
        origin: dict[int, Answer] = {}
        for request in sorted(requests, key=lambda r: r["t"]):
            frames = [e for e in request["events"] if "event" in e]
            if request.get("stream") or not frames:
                continue
            answer = Answer(answer_name(request["method"], request["url"]), request["t"])
            for frame in frames:
                origin[len(items)] = answer
                items.append(_item(frame))
        return items, origin

    def errors(self, allowed: Sequence[str] = ()) -> list[PageMessage]:
        """Console errors and page errors not matching any of the `allowed` regexes."""
        patterns = [re.compile(p) for p in allowed]
        return [
            m
            for m in self.messages
            if m.level == "error" and not any(p.search(m.text) for p in patterns)
        ]

    async def save_artifacts(self, folder: Path, label: str | None = None) -> list[Path]:
        """Write this page's screenshot (`screenshot-<label>.png`), the requests and SSE
        frames it received (`sse-<label>.json`) and its console messages
        (`console-<label>.txt`) into `folder` (`label`: default the page's name); return the
        files written. Best effort: a closed or crashed page still gets its console file."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = slug(label or self.name)
        written: list[Path] = []
        shot = folder / f"screenshot-{stem}.png"
        with contextlib.suppress(PlaywrightError):
            await self.page.screenshot(path=shot)
            written.append(shot)
        with contextlib.suppress(PlaywrightError):
            body = {"user": self.name, "url": self.page.url, **await self.record()}
            sse = folder / f"sse-{stem}.json"
            sse.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
            written.append(sse)
        console = folder / f"console-{stem}.txt"
        console.write_text("".join(f"{m}\n" for m in self.messages), encoding="utf-8")
        written.append(console)
        return written
