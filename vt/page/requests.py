"""The requests a Datastar page sends, and how it reads their responses (sans-IO).

Building: a backend action sends the tab's signals (local `_` ones left out) in the
`datastar` query parameter for GET and DELETE and as a JSON body otherwise, with Datastar's
headers (§4.1); a stream connect sends them in the query (§5.1); an upload sends them as
multipart text fields. Every request from the page sends the page's URL as `Referer`, as a
browser's same-origin requests do (Via rebuilds a stale tab's page from it, §5.5.3).

Reading: a 200 `text/event-stream` response is fed chunk by chunk (its events are applied as
they arrive, as the browser does); a 200 `text/html` or `application/json` response becomes
one patch event built from Datastar's response headers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

from ..wire.events import Event, PatchElements, PatchMode, PatchSignals, StreamItem
from ..wire.feed import Fed, ItemFeed

__all__ = [
    "DATASTAR_ACCEPT",
    "ActionResult",
    "Outgoing",
    "ResponseInfo",
    "ResponseReader",
    "action_request",
    "stream_request",
    "gesture_request",
    "upload_request",
    "urlencoded",
    "with_query",
    "with_signals",
]

DATASTAR_ACCEPT = "text/event-stream, text/html, application/json"


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """Status and headers of one request a tab made (kept for every request, in order)."""

    method: str
    url: str
    status: int
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def content_type(self) -> str:
        """The media type, without parameters, lower case."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    @property
    def is_stream(self) -> bool:
        """200 `text/event-stream`: an event stream (§5.1), read as it arrives."""
        return self.status == 200 and self.content_type == "text/event-stream"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a request fired from a tab returned.

    Via answers an action 200 with an empty body; its patches arrive on the tab's stream, not
    here. `events` holds the events the response itself carried (a Datastar server may answer
    with SSE, HTML or JSON; Via does with SSE for a stale tab), already applied to the tab.
    """

    name: str
    status: int
    headers: dict[str, str]
    body: bytes
    events: tuple[StreamItem, ...] = ()

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request as the browser would send it (the HTTP layer sends it)."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None


def with_signals(url: str, signals: Mapping[str, Any]) -> str:
    """`url` with the signals as its `datastar` query parameter."""
    return with_query(url, [("datastar", json.dumps(signals, separators=(",", ":")))])


def _form_encode(text: str) -> str:
    # URLSearchParams' serialiser: alphanumerics and *-._ kept, space as +, the rest %XX.
    return quote_plus(text, safe="*").replace("~", "%7E")


def urlencoded(pairs: list[tuple[str, str]]) -> str:
    """Pairs as `URLSearchParams.toString()` writes them."""
    return "&".join(f"{_form_encode(k)}={_form_encode(v)}" for k, v in pairs)


def with_query(url: str, pairs: list[tuple[str, str]], *, replace: bool = True) -> str:
    """`url` with `pairs` set (`replace`: `URLSearchParams.set`) or appended, the whole query
    written again by `URLSearchParams`, as Datastar builds a request URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if replace:
        names = {name for name, _ in pairs}
        kept = [(k, v) for k, v in query if k not in names]
        first = next((i for i, (k, _) in enumerate(query) if k in names), len(kept))
        query = kept[:first] + pairs + kept[first:]
    else:
        query = query + pairs
    return urlunsplit(parts._replace(query=urlencoded(query)))


def gesture_request(
    request: Mapping[str, Any],
    url: str,
    *,
    referer: str,
    form: list[tuple[str, str]] | None = None,
    multipart: bool = False,
) -> Outgoing:
    """The request a fetch action (`@get`… recorded by `vt.js.engine`) sends to absolute
    `url`: the signals it captured when called (`contentType: 'json'`) or the form's fields
    (`'form'`), with Datastar's headers and the action's `headers` option."""
    method = str(request["method"]).upper()
    body_method = method not in ("GET", "DELETE")
    headers = {"Referer": referer, "Accept": DATASTAR_ACCEPT, "Datastar-Request": "true"}
    if request.get("contentType", "json") == "json":
        if body_method:
            headers["Content-Type"] = "application/json"
        headers.update(request.get("headers") or {})
        text = str(request.get("signals", "{}"))
        if body_method:
            return Outgoing(method, with_query(url, []), headers, content=text.encode())
        return Outgoing(method, with_query(url, [("datastar", text)]), headers)
    pairs = form or []
    if not multipart:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.update(request.get("headers") or {})
    if not body_method:
        return Outgoing(method, with_query(url, pairs, replace=False), headers)
    if multipart:
        return Outgoing(method, with_query(url, []), headers, data=dict(pairs), files={})
    return Outgoing(method, with_query(url, []), headers, content=urlencoded(pairs).encode())


def action_request(
    method: str,
    url: str,
    wire: Mapping[str, Any],
    *,
    referer: str,
    headers: Mapping[str, str] | None = None,
) -> Outgoing:
    """A backend action (`@get`, `@post`, ...) to absolute `url` with the wire signals."""
    method = method.upper()
    sent = {
        "Referer": referer,
        "Datastar-Request": "true",
        "Accept": DATASTAR_ACCEPT,
        **(headers or {}),
    }
    if method in ("GET", "DELETE"):
        return Outgoing(method, with_signals(url, wire), sent)
    sent["Content-Type"] = "application/json"
    return Outgoing(method, url, sent, content=json.dumps(wire, separators=(",", ":")).encode())


def upload_request(
    url: str, wire: Mapping[str, Any], files: Mapping[str, Any], *, referer: str
) -> Outgoing:
    """An action as a multipart form: the signals as text fields (strings as is, booleans as
    ``true``/``false``, anything else as JSON), plus `files`."""
    data = {
        key: value
        if isinstance(value, str)
        else ("true" if value is True else "false" if value is False else json.dumps(value))
        for key, value in wire.items()
    }
    headers = {"Referer": referer, "Datastar-Request": "true", "Accept": DATASTAR_ACCEPT}
    return Outgoing("POST", url, headers, data=data, files=dict(files))


def stream_request(url: str, wire: Mapping[str, Any], *, referer: str) -> Outgoing:
    """The page's event stream (`GET /_sse?datastar=…`, §5.1)."""
    headers = {
        "Accept": "text/event-stream",
        "Cache-Control": "no-store",
        "Datastar-Request": "true",
        "Referer": referer,
    }
    return Outgoing("GET", with_signals(url, wire), headers)


class ResponseReader:
    """Reads one action response as the browser does, fed its body chunk by chunk."""

    __slots__ = ("_feed", "body", "info")

    def __init__(self, info: ResponseInfo) -> None:
        self.info = info
        self.body = bytearray()
        self._feed = ItemFeed() if info.is_stream else None

    def feed(self, chunk: bytes) -> list[Fed]:
        """Keep `chunk`; return the stream items it completed (none for a non-SSE body)."""
        self.body.extend(chunk)
        return self._feed.feed(chunk) if self._feed is not None else []

    def close(self) -> list[Fed]:
        """The end of the body: the stream items still held."""
        return self._feed.close() if self._feed is not None else []

    def final_event(self) -> Event | None:
        """A 200 `text/html` or `application/json` body as the event the browser makes of it
        (the `datastar-selector`, `datastar-mode`, `datastar-only-if-missing` headers)."""
        info = self.info
        if info.status != 200:
            return None
        if info.content_type == "text/html":
            try:
                mode = PatchMode(info.headers.get("datastar-mode", "outer"))
            except ValueError:
                return None
            return PatchElements(
                elements=self.body.decode("utf-8", "replace"),
                selector=info.headers.get("datastar-selector") or None,
                mode=mode,
                use_view_transition=info.headers.get("datastar-use-view-transition") == "true",
            )
        if info.content_type != "application/json":
            return None
        try:
            signals = json.loads(bytes(self.body))
        except ValueError:
            return None
        if not isinstance(signals, dict):
            return None
        return PatchSignals(
            signals, only_if_missing=info.headers.get("datastar-only-if-missing") == "true"
        )
