"""Failure reports: one folder per failed test or scenario, and one self-contained HTML page.

The folder holds, per tab, its raw stream transcript(s) (`<tab>.sse`), its timeline
(`<tab>.timeline.txt`) and the final page (`<tab>.html`), plus `report.html`: sessions and
tabs as lanes on one time axis with every action, response and event (and the wait that
failed), the reason first (a traceback folded below it), the diff of a failed golden and the
server's captured errors. The HTML has its CSS and JS
inline and loads nothing, so it opens from a CI artifact with no network.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..client.timeline import Timeline
    from ..replica.dom import Document
    from .runner import StepTime


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class ReportTab(Protocol):
    """What a report reads of a tab: `vt.AsyncTab` and the sync `vt.Tab` both have it."""

    @property
    def session(self) -> _Named: ...

    @property
    def timeline(self) -> Timeline: ...

    @property
    def document(self) -> Document: ...

    @property
    def transcript(self) -> bytes: ...


__all__ = ["ReportTab", "render_html", "split_reason", "write_report"]

# Lanes show at most this many entries per tab (the timeline file has them all).
MAX_MARKS = 400
# A report covers at most this many tabs (a load test's thousand tabs would take minutes).
MAX_TABS = 24
_KIND_CLASS = {
    "action": "act",
    "gesture": "act",
    "response": "resp",
    "event": "evt",
    "page": "page",
    "connect": "page",
    "ready": "page",
    "end": "page",
    "error": "err",
    "failed": "err",
    "console": "err",
    "script": "evt",
}

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#7a1f1f;color:#fff;padding:12px 20px}
header h1{margin:0;font-size:18px} main{padding:12px 20px}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;max-height:24em;font-size:12px}
.axis,.lane{display:flex;align-items:center;margin:2px 0}
.name{width:170px;flex:none;font:12px monospace;overflow:hidden;text-overflow:ellipsis}
.track{position:relative;flex:1;height:22px;background:#fff;border:1px solid #e3e3e3}
.session{margin-top:10px;font-weight:600;font-size:13px;color:#555}
.m{position:absolute;top:3px;width:6px;height:14px;margin-left:-3px;border-radius:2px;
  cursor:pointer;background:#999}
.m.act{background:#2962ff}.m.resp{background:#00a152}.m.evt{background:#ff9100}
.m.page{background:#8e24aa}.m.err{background:#d50000}.m.step{background:#455a64}
.m.bad{background:#d50000;width:8px}
.m:hover,.m.on{outline:2px solid #000;z-index:2}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;font:12px monospace;width:100%}
td{border-bottom:1px solid #eee;padding:1px 6px;vertical-align:top;white-space:pre-wrap}
tr.on{background:#fff59d} .diff-add{color:#00701a}.diff-del{color:#b00020}
#detail{position:sticky;top:0;background:#fffde7;border:1px solid #e0d780;padding:6px;
  font:12px monospace;min-height:1.4em;white-space:pre-wrap}
"""

_JS = """
document.querySelectorAll('.m').forEach(function(m){m.addEventListener('click',function(){
 document.querySelectorAll('.on').forEach(function(e){e.classList.remove('on')});
 m.classList.add('on');document.getElementById('detail').textContent=m.title;
 var row=document.getElementById(m.dataset.row);
 if(row){row.classList.add('on');row.scrollIntoView({block:'nearest'})}});});
"""


def write_report(
    folder: str | Path,
    tabs: Mapping[str, ReportTab],
    *,
    title: str,
    message: str,
    steps: Sequence[StepTime] = (),
    golden_diff: str = "",
    server_errors: Sequence[str] = (),
) -> Path:
    """Write a report of `tabs` (name -> tab) into `folder`; return `report.html`.

    Callers empty the folder when the test starts (old reports of the same test go; the
    transcripts its failed waits save there during the test stay).

    Raises `OSError` when the folder cannot be written; callers turn that into a one-line
    warning, never into a different test failure.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    if len(tabs) > MAX_TABS:
        names = list(tabs)
        message += f"\n(vt: the report shows the first {MAX_TABS} of {len(names)} tabs)"
        tabs = {name: tabs[name] for name in names[:MAX_TABS]}
    for name, tab in tabs.items():
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        with (root / f"{stem}.sse").open("wb") as out:
            # Every stream connection of an async tab; the last one of a sync tab's snapshot.
            transcripts = getattr(tab, "transcripts", None) or [tab.transcript]
            for number, transcript in enumerate(transcripts, start=1):
                out.write(f": vt stream #{number}\n".encode())
                out.write(bytes(transcript))
        (root / f"{stem}.timeline.txt").write_text(
            tab.timeline.render(limit=10**9) + "\n", encoding="utf-8"
        )
        (root / f"{stem}.html").write_text(tab.document.html(), encoding="utf-8")
    if server_errors:
        (root / "server-errors.txt").write_text("\n".join(server_errors), encoding="utf-8")
    page = root / "report.html"
    page.write_text(
        render_html(
            tabs,
            title=title,
            message=message,
            steps=steps,
            golden_diff=golden_diff,
            server_errors=server_errors,
        ),
        encoding="utf-8",
    )
    return page


def render_html(
    tabs: Mapping[str, ReportTab],
    *,
    title: str,
    message: str,
    steps: Sequence[StepTime] = (),
    golden_diff: str = "",
    server_errors: Sequence[str] = (),
) -> str:
    """The report page as one HTML string (see `write_report`)."""
    esc = html.escape
    timelines = {name: tab.timeline.entries for name, tab in tabs.items()}
    times = [e.at for entries in timelines.values() for e in entries]
    times += [s.started for s in steps] + [s.ended for s in steps]
    start = min(times, default=0.0)
    span = max(max(times, default=0.0) - start, 1e-3)

    def left(at: float) -> str:
        return f"{(at - start) / span * 100:.3f}%"

    lanes: list[str] = []
    rows: list[tuple[float, str]] = []
    if steps:
        marks = []
        for i, s in enumerate(steps):
            cls = "step" if s.ok else "bad"
            tip = f"+{s.started - start:.3f}s {s.step.describe()}" + ("" if s.ok else " FAILED")
            width = max((s.ended - s.started) / span * 100, 0.4)
            marks.append(
                f'<div class="m {cls}" style="left:{left(s.started)};width:{width:.3f}%;'
                f'margin-left:0" title="{esc(tip)}" data-row="s{i}"></div>'
            )
            rows.append(
                (
                    s.started,
                    f'<tr id="s{i}"><td>+{s.started - start:.3f}s</td><td>scenario</td>'
                    f"<td>{'ok' if s.ok else 'FAILED'}</td><td>{esc(s.step.describe())}</td></tr>",
                )
            )
        lanes.append(_lane("scenario steps", "".join(marks)))
    sessions: dict[str, list[str]] = {}
    for name, tab in tabs.items():
        sessions.setdefault(tab.session.name, []).append(name)
    for session, names in sessions.items():
        lanes.append(f'<div class="session">session {esc(session)}</div>')
        for name in names:
            marks = []
            for j, entry in enumerate(timelines[name][-MAX_MARKS:]):
                cls = _KIND_CLASS.get(entry.kind, "")
                tip = f"{name} +{entry.at - start:.3f}s {entry.kind}: {entry.text}"
                row = f"{_slug(name)}-{j}"
                marks.append(
                    f'<div class="m {cls}" style="left:{left(entry.at)}" title="{esc(tip)}" '
                    f'data-row="{row}"></div>'
                )
                rows.append(
                    (
                        entry.at,
                        f'<tr id="{row}"><td>+{entry.at - start:.3f}s</td><td>{esc(name)}</td>'
                        f"<td>{esc(entry.kind)}</td><td>{esc(entry.text)}</td></tr>",
                    )
                )
            lanes.append(_lane(name, "".join(marks)))
    rows.sort(key=lambda row: row[0])
    legend = "".join(
        f'<span><i class="m {c}" style="position:static;display:inline-block"></i>{label}</span>'
        for c, label in (
            ("act", "action / gesture"),
            ("resp", "response"),
            ("evt", "event"),
            ("page", "page / stream"),
            ("err", "error / console"),
            ("step", "scenario step"),
            ("bad", "failed step"),
        )
    )
    reason, traceback = split_reason(message)
    sections = [f"<h2>What failed</h2><pre>{esc(reason)}</pre>"]
    if traceback:
        sections.append(
            f"<details><summary>Traceback</summary><pre>{esc(traceback)}</pre></details>"
        )
    sections += [
        f'<h2>Timeline ({span:.3f}s)</h2><div class="legend">{legend}</div>',
        '<div id="detail">click a mark to see it</div>',
        _axis(span),
        *lanes,
    ]
    if golden_diff:
        sections.append(f"<h2>Golden diff</h2><pre>{_diff_html(golden_diff)}</pre>")
    errors = "\n".join(server_errors) if server_errors else "(none captured)"
    sections.append(f"<h2>Server errors</h2><pre>{esc(errors)}</pre>")
    files = ", ".join(f"{_slug(n)}.sse / .timeline.txt / .html" for n in tabs) or "(no tabs)"
    sections.append(
        f"<h2>Every entry</h2><p>Files: {esc(files)}</p>"
        f"<table>{''.join(r for _, r in rows)}</table>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>vt failure report: {esc(title)}</h1></header><main>"
        + "".join(sections)
        + f"</main><script>{_JS}</script></body></html>"
    )


_TRACEBACK = "Traceback (most recent call last):"


def split_reason(message: str) -> tuple[str, str]:
    """`(reason, traceback)` of a failure message: the reason a reader wants first, and the
    whole message when it holds a traceback to fold below it ("" when it holds none).

    pytest's report of a failed test gives the reason in its `E` lines; a Python traceback
    (a scenario step that hit a bug) gives it after the last frame.
    """
    lines = message.splitlines()
    marked = [line for line in lines if line == "E" or line.startswith("E ")]
    if marked:
        reason = [line[1:] for line in marked]
        indent = min((len(r) - len(r.lstrip()) for r in reason if r.strip()), default=0)
        return "\n".join(r[indent:] for r in reason).strip("\n"), message
    if _TRACEBACK in lines:
        start = lines.index(_TRACEBACK)
        end = start + 1
        for index in range(start + 1, len(lines)):
            if lines[index].startswith(" "):
                end = index + 1
        return "\n".join(lines[:start] + lines[end:]).strip("\n"), message
    return message, ""


def _axis(span: float) -> str:
    ticks = "".join(
        f'<span style="position:absolute;left:{q * 25}%;font-size:11px;color:#666">'
        f"|{span * q / 4:.2f}s</span>"
        for q in range(4)
    )
    return (
        '<div class="axis"><div class="name"></div>'
        f'<div class="track" style="border:none;background:none;height:16px">{ticks}</div></div>'
    )


def _lane(name: str, marks: str) -> str:
    return (
        f'<div class="lane"><div class="name" title="{html.escape(name)}">{html.escape(name)}'
        f'</div><div class="track">{marks}</div></div>'
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        text = html.escape(line)
        if line.startswith("+") and not line.startswith("+++"):
            text = f'<span class="diff-add">{text}</span>'
        elif line.startswith("-") and not line.startswith("---"):
            text = f'<span class="diff-del">{text}</span>'
        out.append(text)
    return "\n".join(out)
