"""Reading a page GET: what a tab starts from (specs/protocol.md §2).

The tab id and the signal seed come from `<meta data-signals>`, read with an HTML parser (entities
decoded, then JSON), never with a regular expression over the raw bytes. The stream URL comes
from the `@get('…')` in a `data-init` attribute, as the browser would find it.

A plain Datastar page (no `via_tab`; `vt.page.profile`) has no tab id: its signals come from every
`data-signals`, and what it opens is what its `data-init` attributes run (`inits`, read with
Datastar's attribute grammar: `data-init__delay.10ms` beside `data-init` are two; their
expressions run in the JavaScript engine when the tab connects, so a `@post` opens a stream as a
`@get` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import PageBootstrapError, hide_frames
from ..js.attrs import parse_data_attr
from ..js.engine import Batch
from ..js.expr import ExpressionError, parse_string
from ..replica.dom import Document, Element
from ..replica.signals import merge_patch
from .profile import TAB_KEY, resolve_profile
from .timing import duration

__all__ = ["Init", "PageInfo", "read_page"]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

DEFAULT_STREAM_URL = "/_sse"
DEFAULT_CLOSE_URL = "/_sse/close"

_GET_CALL = re.compile(r"@get\(\s*(['\"`])(.+?)\1")
_BEACON_CALL = re.compile(r"sendBeacon\(\s*(['\"`])(.+?)\1")
# The beacon's body when the page's script gives it as one string literal (Via's, Go Via's).
_BEACON_BODY = re.compile(r"\s*,\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\s*\)")


@dataclass(frozen=True, slots=True)
class Init:
    """One `data-init` attribute: its element, expression and `__delay` (seconds)."""

    element: Element
    expression: str
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What the page tells a tab: its id, its signal seed and where its stream(s) live.

    `profile` is ``via`` or ``datastar``; a plain page has no `tab_id` and may open any number
    of `stream_urls` (none, when nothing in it runs `@get` at load).
    """

    tab_id: str | None
    seed: dict[str, Any]
    stream_url: str
    close_url: str
    profile: str = "via"
    stream_urls: tuple[str, ...] = ()
    inits: tuple[Init, ...] = ()
    close_body: str | None = None  # what the page's close beacon sends, as its script says


def read_page(document: Document, raw: str, profile: str = "via") -> PageInfo:
    """Extract the tab's bootstrap data from a parsed page, read as `profile` says
    (``via``, ``datastar`` or ``auto``: Via's exactly when the page carries `via_tab`).

    Raises:
        PageBootstrapError: read as Via's, the page has no `meta[data-signals]` with a string
            `via_tab` (§2.3).
    """
    seed: dict[str, Any] = {}
    for decl in document.page_signals:
        try:
            patch, store = decl.patch(seed)
            if store is not None:
                seed = store
            merge_patch(seed, patch, only_if_missing=decl.only_if_missing)
        except ExpressionError:
            continue  # an expression the replica reports when it merges the page's signals
    if resolve_profile(profile, seed) == "datastar":
        inits = _inits(document)
        streams = _urls(inits, seed)
        first = streams[0] if streams else DEFAULT_STREAM_URL
        return PageInfo(None, seed, first, DEFAULT_CLOSE_URL, "datastar", streams, inits)
    tab_id = seed.get(TAB_KEY)
    if not isinstance(tab_id, str) or not tab_id:
        metas = [m.html for m in document.select("meta[data-signals]")]
        raise PageBootstrapError(
            f"the page has no {TAB_KEY!r} string in a data-signals attribute "
            f"(found: {metas or 'no meta[data-signals]'})",
            section="2.3",
            raw=raw[:2000],
        )
    stream_url: str | None = None
    close_url: str | None = None
    close_body: str | None = None
    for el in document.select("[data-init]"):
        code = el.get("data-init") or ""
        if stream_url is None and (match := _GET_CALL.search(code)):
            stream_url = match.group(2)
        if close_url is None and (match := _BEACON_CALL.search(code)):
            close_url = match.group(2)
            if body := _BEACON_BODY.match(code, match.end()):
                close_body = parse_string(body.group(1))
    return PageInfo(
        tab_id=tab_id,
        seed=seed,
        stream_url=stream_url or DEFAULT_STREAM_URL,
        close_url=close_url or DEFAULT_CLOSE_URL,
        stream_urls=(stream_url or DEFAULT_STREAM_URL,),
        close_body=close_body,
    )


def _inits(document: Document) -> tuple[Init, ...]:
    """The page's `data-init` attributes in document order (those with a delay after the
    others, by their delay), outside `data-ignore`."""
    found: list[Init] = []
    for el in document.with_attribute_prefix("data-init"):
        if el.closest("[data-ignore]") is not None:
            continue
        for name, value in el.attrs.items():
            attr = parse_data_attr(name, value)
            if attr is not None and attr.plugin == "init" and value.strip():
                found.append(Init(el, value, duration(attr.modifiers.get("delay", ()))))
    return tuple(sorted(found, key=lambda init: init.delay))


def _urls(inits: tuple[Init, ...], seed: dict[str, Any]) -> tuple[str, ...]:
    """The URLs the inits' actions would request (read by running them on a copy)."""
    batch = Batch(seed)
    for init in inits:
        batch.run(init.expression)
    return tuple(str(request["url"]) for request in batch.take().requests)
