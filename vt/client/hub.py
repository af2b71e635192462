"""What a client shares with its sessions and tabs, handed down so that nothing calls back up.

The client makes one `Hub` and gives it to every session and tab. Tabs start their stream
readers in its task group, wake waiters through its change event and stamp actions with it;
waits listen to it; failure reports ask it where transcripts go. The client itself is never
called from below.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import anyio
import anyio.abc

from ..defaults import HTTP_TIMEOUT, WAIT_TIMEOUT
from ..errors import UsageError, hide_frames
from ..page.profile import ReadySignal
from .timeline import ActionRef

__all__ = ["Hub", "Settings", "node_name"]


def node_name(url: str, nodes: tuple[str, ...]) -> str:
    """A cluster node's name in reports: `n1`, `n2`... by its place in the client's list (its
    URL when it is not in the list)."""
    return f"n{nodes.index(url) + 1}" if url in nodes else url


# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames


@dataclass(frozen=True, slots=True)
class Settings:
    """A client's options, as every tab reads them."""

    base_url: str
    wait_timeout: float = WAIT_TIMEOUT
    http_timeout: float = HTTP_TIMEOUT
    artifacts_dir: Path | None = None
    strict: bool = True
    accept_encoding: str = "identity"
    follow_redirects: bool = True
    profile: str = "auto"  # vt.page.profile: how pages are read
    ready_signal: ReadySignal | None = None  # a plain Datastar app's own "subscribed" signal
    nodes: tuple[str, ...] = ()  # a cluster's node URLs (vt.client.cluster); base_url is the first


class Hub:
    """The client's shared state: task group, change event, last action, and the TLS context
    every session's connection pool uses (None until the client is entered)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.last_action: ActionRef | None = None
        self.tls: ssl.SSLContext | None = None
        self.task_group: anyio.abc.TaskGroup | None = None
        self._change: anyio.Event | None = None
        self._changes_of: dict[object, anyio.Event] = {}  # waits on one tab's changes only

    def url(self, path: str, base: str | None = None) -> str:
        """An absolute URL for a path on the server (on node `base`, in a cluster)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin((base or self.settings.base_url) + "/", path.lstrip("/"))

    def notify(self, source: object = None) -> None:
        """Wake the waiters of any change, and those of `source`'s changes: something
        changed on `source` (a tab)."""
        # Streams notify on every chunk; an event is only made when a waiter asks for one.
        event, self._change = self._change, None
        if event is not None:
            event.set()
        if self._changes_of and (mine := self._changes_of.pop(source, None)) is not None:
            mine.set()

    def changed(self, source: object = None) -> anyio.Event:
        """The event the next change sets (take it before checking a condition, so that no
        change between the check and the wait is missed); with `source`, the next change of
        `source` only (so that a thousand tabs waiting on their own streams are not all woken
        by each one's bytes)."""
        if source is not None:
            event = self._changes_of.get(source)
            if event is None:
                event = self._changes_of[source] = anyio.Event()
            return event
        if self._change is None:
            self._change = anyio.Event()
        return self._change

    def start(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `fn` in the client's task group (a stream reader), until the client closes."""
        if self.task_group is None:
            raise UsageError("the client is not open")
        self.task_group.start_soon(fn)

    def record_action(self, tab: str, name: str) -> ActionRef:
        """Stamp an action fired by tab `tab` as the client's last one; return the stamp."""
        ref = ActionRef(tab, name, time.monotonic())
        self.last_action = ref
        return ref
