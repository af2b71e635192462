"""Failure reports: what a failed wait says about the tabs it watched, and the saved files.

A report names the tabs, what was seen (what the page shows now, the closest earlier) and, for
each tab (at most `MAX_EXPLAINED_TABS`), its stream state and its timeline since the last
action. When the client has an artifacts folder, each tab's raw stream transcripts and current
page are written there and the report gives the path; without one nothing is written (no stray
temporary folders) and the report says how to get the files."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from ..replica.dom import Document
from .recording import Recording
from .timeline import ActionRef, Timeline

__all__ = ["MAX_EXPLAINED_TABS", "NOT_SAVED", "Reported", "explain", "explain_tab", "save"]

# A timeout message shows the timelines of at most this many tabs (the rest are counted).
MAX_EXPLAINED_TABS = 3

NOT_SAVED = (
    "not saved (no artifacts folder: pass artifacts_dir= to the client, "
    "or --vt-output DIR to pytest)"
)

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


class Reported(Protocol):
    """What a report reads from a tab."""

    @property
    def label(self) -> str: ...
    @property
    def id_or_none(self) -> str | None: ...
    @property
    def connected(self) -> bool: ...
    @property
    def console(self) -> list[str]: ...
    @property
    def timeline(self) -> Timeline: ...
    @property
    def document(self) -> Document: ...
    @property
    def recording(self) -> Recording: ...


def slug(text: str) -> str:
    """A file-name-safe form of a label or test id."""
    return _SLUG.sub("-", text)


def save(tab: Reported, folder: Path) -> Path:
    """Write the tab's raw stream transcript(s) and current page into `folder`; return the
    `.sse` path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = slug(tab.label)
    path = folder / f"{stem}.sse"
    with path.open("wb") as out:
        for number, transcript in enumerate(tab.recording.transcripts, start=1):
            out.write(f": vt stream #{number}\n".encode())
            out.write(bytes(transcript))
    (folder / f"{stem}.html").write_text(tab.document.html(), encoding="utf-8")
    return path


def explain_tab(tab: Reported, last: ActionRef | None, folder: Path | None) -> str:
    """The part of a failure message that says what one tab saw."""
    connections = tab.recording.connections
    if tab.connected:
        state = f"stream #{connections} open"
    elif connections:
        state = f"no stream open (stream #{connections} ended)"
    else:
        state = "no stream open (never connected: call connect() or ready())"
    lines = [f"  tab {tab.label} id={tab.id_or_none!r}, {state}"]
    if tab.console:
        lines.append(f"  console: {tab.console[-3:]}")
    if last is not None:
        lines.append(f"  timeline since the last action ({last.describe()}), times relative to it:")
        lines.append(tab.timeline.render(since=last.at - 0.5, origin=last.at))
    else:
        lines.append("  timeline:")
        lines.append(tab.timeline.render())
    saved = save(tab, folder) if folder is not None else NOT_SAVED
    lines.append(f"  transcript: {saved}")
    return "\n".join(lines)


def explain(
    tabs: Sequence[Reported],
    headline: str,
    *,
    last: ActionRef | None,
    folder: Path | None,
    seen: Callable[[], str] | None = None,
) -> str:
    """A failure message: `<tabs> <headline>`, what was seen (`seen()`: indented lines, such
    as what the page shows now and the closest text seen earlier), each tab's story."""
    who = ", ".join(t.label for t in tabs[:MAX_EXPLAINED_TABS])
    if len(tabs) > MAX_EXPLAINED_TABS:
        who += f" and {len(tabs) - MAX_EXPLAINED_TABS} more tabs"
    lines = [f"{who} {headline}"]
    if seen is not None:
        lines.append(f"  {seen()}")
    lines.extend(explain_tab(tab, last, folder) for tab in tabs[:MAX_EXPLAINED_TABS])
    return "\n".join(lines)
