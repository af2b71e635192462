"""Golden patch streams: per tab, the normalised events it received, as a readable text file.

`vt record` writes `DIR/<scenario>/<tab>.txt`; `vt check` (and the `vt_golden` pytest fixture)
renders the same text again and compares it tab by tab. The interleaving of events across tabs
is not part of a golden (it depends on scheduling), and neither is the interleaving of one
tab's connections: the server orders the events of one connection (§5.4), but which of two
connections the client reads first (the stream's fan-out, or an action's own SSE answer) is a
race. So a golden keeps each connection's events apart: the stream's first, then one section
per action response that carried events, in the order the actions were sent. Heartbeats and
comments are left out: how many arrive depends on timing, not on the app.

Goldens are taken through `vt.scenario.harness.take_goldens`, once the streams are quiet.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import GoldenMismatch
from ..wire.events import PatchElements, PatchSignals, StreamItem, UnknownEvent
from .normalize import Rule, normalize

__all__ = [
    "GoldenMismatch",
    "GoldenResult",
    "GoldenTab",
    "compare_goldens",
    "connections",
    "render_items",
    "render_tab",
    "render_tabs",
]

# A mismatch shows at most this many diff lines per tab (the file on disk has them all).
MAX_DIFF_LINES = 60
_BETWEEN_TAGS = re.compile(r">\s*<")


class GoldenSession(Protocol):
    """The session of a `GoldenTab`: its name and cookies."""

    @property
    def name(self) -> str:
        """The session's name (`<session:NAME>` in goldens)."""

    @property
    def cookies(self) -> Mapping[str, str]:
        """The session's cookies, name to value."""


class GoldenTab(Protocol):
    """What a golden is made from: an `AsyncTab`, or a browser page's record
    (`vt.browser.driver`). A tab may also have `response_origin` (event index -> the action
    whose response carried it: `AsyncTab` has it); without it, every event is the stream's."""

    @property
    def events(self) -> Sequence[StreamItem]:
        """Every item the tab received (stream and action responses), in order."""

    @property
    def id_or_none(self) -> str | None:
        """The tab's id, once known."""

    @property
    def session(self) -> GoldenSession:
        """The tab's session."""


@dataclass(slots=True)
class GoldenResult:
    """What one comparison did, per tab file: compared (and equal), written, mismatched (with
    their diffs), missing (not written: no update flag) and unused (golden files no tab
    produced)."""

    folder: Path
    compared: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    mismatched: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing mismatched and nothing was missing."""
        return not self.mismatched and not self.missing

    def summary(self, update_hint: str) -> str:
        """One paragraph: counts, the files concerned, and what to run next."""
        lines = [
            f"goldens in {self.folder}: {len(self.compared)} matched, "
            f"{len(self.mismatched)} differ, {len(self.written)} written, "
            f"{len(self.missing)} missing, {len(self.unused)} unused"
        ]
        for label, names in (
            ("differ", list(self.mismatched)),
            ("written", self.written),
            ("missing", self.missing),
            ("unused (no tab of the scenario has this name; delete if stale)", self.unused),
        ):
            if names:
                lines.append(f"  {label}: {', '.join(names)}")
        if self.mismatched or self.missing:
            lines.append(f"  next: review the diff; if the change is intended, {update_hint}")
        return "\n".join(lines)

    def failure(self, update_hint: str) -> GoldenMismatch:
        """The error to raise when not `ok`: the diffs, then the summary."""
        parts = list(self.mismatched.values())
        parts.extend(
            f"{name}: no golden file (not written without the update flag)" for name in self.missing
        )
        return GoldenMismatch("\n".join([*parts, self.summary(update_hint)]))


def render_tab(tab: GoldenTab) -> str:
    """A tab's events as readable text: one block per event, elements one tag per line; the
    stream's events first, then a `# response to ACTION` section per action response that
    carried events (see the module's docstring)."""
    stream, responses = connections(tab)
    text = render_items(stream)
    for action, items in responses:
        block = render_items(items)
        if block:
            text += f"# response to {action}\n{block}"
    return text


def connections(tab: GoldenTab) -> tuple[list[StreamItem], list[tuple[str, list[StreamItem]]]]:
    """A tab's events split by connection: the stream's (every stream connection, in order:
    they never overlap), and per action response that carried events, the action's name and
    its events, in the order the actions were sent."""
    origin: Mapping[int, Any] = getattr(tab, "response_origin", None) or {}
    stream: list[StreamItem] = []
    by_action: dict[Any, list[StreamItem]] = {}
    for index, item in enumerate(tab.events):
        action = origin.get(index)
        if action is None:
            stream.append(item)
        else:
            by_action.setdefault(action, []).append(item)
    ordered = sorted(by_action.items(), key=lambda pair: pair[0].at)
    return stream, [(action.name, items) for action, items in ordered]


def render_items(items: Sequence[StreamItem]) -> str:
    """Events as golden text blocks (heartbeats and comments left out)."""
    blocks: list[str] = []
    for item in items:
        if isinstance(item, PatchElements):
            head = f"patch-elements mode={item.mode.value}"
            if item.selector is not None:
                head += f" selector={item.selector}"
            if item.namespace != "html":
                head += f" namespace={item.namespace}"
            if item.use_view_transition:
                head += " view-transition"
            body = _BETWEEN_TAGS.sub(">\n<", item.elements.strip())
            blocks.append(head + "\n" + _indent(body))
        elif isinstance(item, PatchSignals):
            if item.is_heartbeat:
                continue
            head = "patch-signals" + (" only-if-missing" if item.only_if_missing else "")
            text = json.dumps(item.signals, sort_keys=True, indent=1, ensure_ascii=False)
            blocks.append(head + "\n" + _indent(text))
        elif isinstance(item, UnknownEvent):
            blocks.append(item.describe())
    return "\n".join(blocks) + ("\n" if blocks else "")


def render_tabs(
    tabs: Mapping[str, GoldenTab],
    title: str,
    custom: Sequence[Rule] = (),
    *,
    values: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Per tab name, its normalised stream text. A tab's own id and session cookie are
    replaced by `<tab-id:NAME>` / `<session:SESSION>`, and each of `values` (label -> exact
    value, such as `<run>` -> the run's token) by its label; then the named and `custom`
    rules run."""
    known: dict[str, str] = {label: value for label, value in (values or {}).items() if value}
    for name, tab in tabs.items():
        if tab.id_or_none:
            known[f"<tab-id:{name}>"] = tab.id_or_none
        cookie = tab.session.cookies.get("via_session")
        if cookie:
            known.setdefault(f"<session:{tab.session.name}>", cookie)
    header = f"# vt golden: {title!r}, tab "
    return {
        name: f"{header}{name}\n" + normalize(render_tab(tab), values=known, custom=custom)
        for name, tab in tabs.items()
    }


def compare_goldens(
    folder: str | Path, texts: Mapping[str, str], *, update: bool = False
) -> GoldenResult:
    """Compare each tab's text with `folder/<tab>.txt`. With `update`, missing and differing
    files are (re)written; without it, they are reported and nothing is written."""
    root = Path(folder)
    result = GoldenResult(root)
    for name, text in texts.items():
        path = root / f"{_safe(name)}.txt"
        if not path.exists():
            if update:
                _write(path, text)
                result.written.append(name)
            else:
                result.missing.append(name)
            continue
        old = path.read_text(encoding="utf-8")
        if old == text:
            result.compared.append(name)
        elif update:
            _write(path, text)
            result.written.append(name)
        else:
            result.mismatched[name] = _diff(old, text, str(path))
    if root.is_dir():
        produced = {f"{_safe(n)}.txt" for n in texts}
        result.unused = sorted(p.stem for p in root.glob("*.txt") if p.name not in produced)
    return result


def _diff(old: str, new: str, path: str) -> str:
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"{path} (golden)",
            f"{path} (this run)",
            lineterm="",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        cut = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... {cut} more diff lines"]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
