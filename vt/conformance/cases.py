"""Codec cases: the protocol's decode-and-apply rules as data, in `specs/cases/<name>/`.

Each folder is one case:

```
case.toml     section = "7.2", title = "...", and what the browser must log, run or reject:
              console = ["PatchElementsNoTargetsFound"]   (substrings, one per message, in order)
              scripts = ["alert(1)"]                      (texts of the scripts that run)
              [[errors]] kind = "MalformedEvent", section = "6.2", contains = "needs a selector"
                                                          (rules broken; the page is still what
                                                          the browser shows, §6.1.4)
before.html   the page before (its <body> content, or a whole document)
before.json   signals on top of the page's own data-signals (optional)
stream.txt    the exact bytes on the wire
after.html    the page after (optional: unchanged when absent)
after.json    every signal after (optional: unchanged when absent)
```

Nothing listed means nothing expected: no console message, no script, no error. HTML is
compared in `canonical_html` form (attribute order and whitespace runs do not count). The same
cases drive vt's own tests and can drive a conformance command against other decoders.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProtocolError, UsageError
from ..replica.canonical import canonical_html
from ..replica.replica import Replica
from ..specfiles import specs_dir
from ..wire.events import StreamItem
from ..wire.feed import Fed, ItemFeed
from ..wire.sse import Comment

__all__ = [
    "CASES_DIR",
    "CaseRun",
    "CodecCase",
    "ExpectedError",
    "decode_case",
    "load_cases",
    "replay_case",
    "run_case",
]

# specs/cases of a source checkout (vt is installed in editable mode for development).
CASES_DIR = specs_dir() / "cases"


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """A protocol error a case's stream must raise: its class name, spec section and a part
    of its message."""

    kind: str
    section: str
    contains: str = ""


@dataclass(frozen=True, slots=True)
class CodecCase:
    """One case folder, loaded (see the module docstring for the layout)."""

    name: str
    path: Path
    section: str
    title: str
    stream: bytes
    before_html: str
    before_signals: dict[str, Any] | None = None
    after_html: str | None = None
    after_signals: dict[str, Any] | None = None
    console: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    errors: tuple[ExpectedError, ...] = ()

    def check(self) -> list[str]:
        """Run the case; return what differs from the expectation (empty when it passes)."""
        return run_case(self).problems(self)


@dataclass(slots=True)
class CaseRun:
    """What replaying a case's stream into its page did."""

    replica: Replica
    items: list[StreamItem] = field(default_factory=list)
    errors: list[ProtocolError] = field(default_factory=list)

    def problems(self, case: CodecCase) -> list[str]:
        """Differences between this run and the case's expectation, one sentence each."""
        out: list[str] = []
        want_html = canonical_html(case.after_html or case.before_html)
        got_html = self.replica.document.canonical("body")
        if got_html != want_html:
            out.append(f"page differs:\n  expected {want_html}\n  got      {got_html}")
        want_signals = case.after_signals
        if want_signals is None:
            before = Replica.from_html(case.before_html, case.before_signals)
            want_signals = before.signals.to_dict()
        got_signals = self.replica.signals.to_dict()
        if got_signals != want_signals:
            out.append(
                f"signals differ:\n  expected {json.dumps(want_signals, sort_keys=True)}\n"
                f"  got      {json.dumps(got_signals, sort_keys=True)}"
            )
        console = self.replica.console
        if len(console) != len(case.console) or any(
            want not in got for want, got in zip(case.console, console, strict=False)
        ):
            out.append(f"console differs: expected {list(case.console)}, got {console}")
        scripts = [s.text for s in self.replica.scripts]
        if scripts != list(case.scripts):
            out.append(f"scripts differ: expected {list(case.scripts)}, got {scripts}")
        got_errors = [(type(e).__name__, e.section, str(e)) for e in self.errors]
        if len(got_errors) != len(case.errors) or any(
            (kind, section) != (want.kind, want.section) or want.contains not in text
            for want, (kind, section, text) in zip(case.errors, got_errors, strict=False)
        ):
            shown = [
                f"{kind} §{section}: {text.splitlines()[0]}" for kind, section, text in got_errors
            ]
            out.append(f"errors differ: expected {list(case.errors)}, got {shown}")
        return out


def run_case(case: CodecCase, chunks: list[int] | None = None) -> CaseRun:
    """Replay a case's stream into a replica of its page, as a tab would.

    `chunks` are byte offsets at which to split the stream (the decoder must not care).
    Events are read as a browser reads them (`Replica.receive`): protocol violations are
    collected as errors, not raised; what the browser applies is applied, and the events after
    them still apply.
    """
    return replay_case(case, decode_case(case, chunks))


def decode_case(case: CodecCase, chunks: list[int] | None = None) -> list[Fed]:
    """The events and comments of a case's stream, decoded from chunks split at the byte
    offsets `chunks`: the only step of `run_case` the chunks reach."""
    feed = ItemFeed()
    fed: list[Fed] = []
    start = 0
    for cut in [*(chunks or []), len(case.stream)]:
        fed.extend(feed.feed(case.stream[start:cut]))
        start = cut
    fed.extend(feed.close())
    return fed


def replay_case(case: CodecCase, fed: list[Fed]) -> CaseRun:
    """Apply decoded items (`decode_case`) to a replica of the case's page: a function of
    the wire events and comments in `fed` alone, whatever chunks they were decoded from."""
    run = CaseRun(Replica.from_html(case.before_html, case.before_signals))
    for raw, _strict in fed:  # read again as a browser reads it, below
        seen = len(run.replica.violations)
        event = run.replica.receive(raw)
        for violation in run.replica.violations[seen:]:
            run.errors.append(
                violation.error()
                if violation.section != "5.2"
                else ProtocolError(violation.message, section="5.2", raw=violation.raw)
            )
        if isinstance(raw, Comment):
            run.items.append(raw)
        elif event is not None:
            run.items.append(event)
    return run


def load_cases(root: Path | str | None = None) -> list[CodecCase]:
    """Every case folder under `root` (default `specs/cases`), sorted by name."""
    folder = Path(root) if root is not None else CASES_DIR
    if not folder.is_dir():
        raise UsageError(f"no codec cases at {folder}: pass the path of a specs/cases folder")
    return [_load(path) for path in sorted(folder.iterdir()) if (path / "case.toml").is_file()]


def _load(path: Path) -> CodecCase:
    meta = tomllib.loads((path / "case.toml").read_text(encoding="utf-8"))
    missing = [key for key in ("section", "title") if key not in meta]
    if missing or not (path / "stream.txt").is_file() or not (path / "before.html").is_file():
        raise UsageError(
            f"codec case {path.name}: needs case.toml with section and title, before.html and "
            f"stream.txt (missing: {missing or 'a file'})"
        )
    return CodecCase(
        name=path.name,
        path=path,
        section=str(meta["section"]),
        title=str(meta["title"]),
        stream=(path / "stream.txt").read_bytes(),
        before_html=(path / "before.html").read_text(encoding="utf-8"),
        before_signals=_json(path / "before.json"),
        after_html=_text(path / "after.html"),
        after_signals=_json(path / "after.json"),
        console=tuple(meta.get("console", ())),
        scripts=tuple(meta.get("scripts", ())),
        errors=tuple(
            ExpectedError(str(e["kind"]), str(e["section"]), str(e.get("contains", "")))
            for e in meta.get("errors", ())
        ),
    )


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise UsageError(f"{path}: signals must be a JSON object")
    return value
