"""When a page navigates, and where to: the rules a tab follows to leave its page (sans-IO).

A browser leaves a page when a script sets `window.location` (Via's redirect, §6.4.2), when a
script reloads it (`location.reload()`), and when a page load is answered by a redirect status
(`303 See Other` to an action, or a redirect of the page GET itself). The tab performs the new
page load; this module only decides whether there is one and which URL it loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..errors import ProtocolError
from ..replica.scripts import ScriptKind

__all__ = [
    "REDIRECT_STATUSES",
    "Navigation",
    "UrlPattern",
    "describe_pattern",
    "from_response",
    "from_script",
    "path_of",
    "url_matches",
]

UrlPattern = str | re.Pattern[str] | Callable[[str], bool]
"""What `wait_for_url` waits for, as Playwright's `wait_for_url` takes it: a glob string (a
path such as ``/items/*`` is resolved against the server under test), a compiled regex, or a
predicate of the absolute URL."""

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
"""Statuses whose `Location` a browser follows (a page GET or a `fetch`)."""

MAX_REDIRECTS = 20
"""Redirects in a row a page load follows before it gives up (as browsers do)."""


@dataclass(frozen=True, slots=True)
class Navigation:
    """A new page load the page asked for: `url` is absolute, or None for a reload; `cause`
    says what asked (for the timeline)."""

    url: str | None
    cause: str

    def describe(self) -> str:
        """One line for timelines."""
        return (
            f"navigate: reload ({self.cause})"
            if self.url is None
            else (f"navigate to {self.url} ({self.cause})")
        )


def from_script(kind: ScriptKind, page_url: str) -> Navigation | ProtocolError | None:
    """The navigation a classified script asks for, if any (relative URLs resolved against
    `page_url`); a redirect to a scheme a browser must not follow is a `ProtocolError` (§6.4.3)
    to report instead."""
    if kind.kind == "reload":
        return Navigation(None, "reload script")
    if kind.kind != "redirect" or kind.value is None:
        return None
    target = kind.value.strip()
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("", "http", "https"):
        return ProtocolError(
            f"a redirect script goes to a {scheme}: URL; only http:, https: and relative "
            "URLs may be followed, so vt did not follow it",
            section="6.4.3",
            raw=kind.script.text,
        )
    return Navigation(urljoin(page_url, target), "redirect script")


def from_response(status: int, headers: Mapping[str, str], url: str) -> Navigation | None:
    """The page load a redirect answer to a request for `url` asks for (headers with
    lower-case names), or None when it is not a redirect with a `Location`."""
    location = headers.get("location")
    if status not in REDIRECT_STATUSES or not location:
        return None
    return Navigation(urljoin(url, location), f"{status} answer")


def path_of(base_url: str, url: str) -> str:
    """`url` as the tab's path: relative to the server under test (`base_url`) when on it,
    absolute otherwise."""
    if url == base_url or url.startswith(base_url + "/"):
        return url[len(base_url) :] or "/"
    return url


def url_matches(pattern: UrlPattern, url: str, base_url: str) -> bool:
    """Whether the absolute page `url` matches `pattern` (see `UrlPattern`).

    A string is a glob over the whole URL, as Playwright reads it: `**` matches anything, `*`
    anything but `/`, every other character itself (`?` too); a string starting with `/` is
    first resolved against `base_url`. A regex is searched in the whole URL; a predicate is
    called with it.
    """
    if isinstance(pattern, re.Pattern):
        return pattern.search(url) is not None
    if callable(pattern):
        return bool(pattern(url))
    glob = urljoin(base_url + "/", pattern) if pattern.startswith("/") else pattern
    parts = (
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*|\*)", glob)
    )
    return re.fullmatch("".join(parts), url) is not None


def describe_pattern(pattern: UrlPattern) -> str:
    """The pattern as a failure message names it."""
    if isinstance(pattern, re.Pattern):
        return f"/{pattern.pattern}/"
    if callable(pattern):
        return f"the predicate {getattr(pattern, '__qualname__', repr(pattern))}"
    return repr(pattern)
