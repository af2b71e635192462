"""The SDK level of the conformance suite: Datastar SDKs' `/test` endpoint, checked as data.

Every official Datastar SDK can serve `/test`, which reads the `events` array from the request's
signals and sends each event with the SDK (`specs/sdk-cases/README.md` §S1–§S3; every §S number
below is a section of that file). The cases are JSON files in `specs/sdk-cases/`: the signals
to send and the events expected back, as decoded Datastar events (type, id, retry, data lines
grouped by key).

Two halves:

* sans-IO: `load_sdk_cases()`, `decode_wire_events()` and `compare_events()` turn a response body
  into decoded events and list every difference from the case, in words (§S4 says which
  differences are equivalent and do not count);
* I/O: `run_sdk_cases()` sends the cases with httpx and returns one `SDKCaseResult` each;
  `python -m vt.conformance.sdk URL` prints them as a table (`format_results`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..defaults import HTTP_TIMEOUT
from ..errors import ProtocolError, UsageError
from ..replica.canonical import canonical_html
from ..specfiles import specs_dir
from ..wire.events import read_item
from ..wire.sse import ServerSentEvent, SSEDecoder

__all__ = [
    "SDK_CASES_DIR",
    "ExpectedEvent",
    "SDKCase",
    "SDKCaseResult",
    "WireEvent",
    "compare_events",
    "decode_wire_events",
    "format_results",
    "load_sdk_cases",
    "main",
    "run_sdk_cases",
]

# specs/sdk-cases of a source checkout (vt is installed in editable mode for development).
SDK_CASES_DIR = specs_dir() / "sdk-cases"

# The ADR's field order within one event: `event`, then `id`, then `retry`, then the data lines.
_FIELD_RANK = {"event": 0, "id": 1, "retry": 2, "data": 3}
_HEADERS_RULE = "specs/sdk-cases/README.md §S3.0"
_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ExpectedEvent:
    """One event a case expects: its type, `id:` and `retry:` fields, and data lines by key.

    `id` and `retry` are None when the event must not carry that field. `data` maps each data
    key (`selector`, `elements`, `signals`…) to its values in wire order.
    """

    event: str
    data: dict[str, list[str]]
    id: str | None = None
    retry: int | None = None


@dataclass(frozen=True, slots=True)
class SDKCase:
    """One SDK case: send `signals` to `/test` with `method`, expect `expect` back, in order.

    `headers` are sent on top of (or instead of) the runner's own request headers.
    """

    name: str
    method: str
    signals: dict[str, Any]
    expect: tuple[ExpectedEvent, ...]
    about: str = ""
    section: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One event as an SDK sent it, decoded: the fields `ExpectedEvent` has, plus the names of
    the fields in the order they were written and the raw bytes (for the diff)."""

    event: str
    data: dict[str, list[str]]
    id: str | None
    retry: int | None
    fields: tuple[str, ...]
    raw: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class SDKCaseResult:
    """The outcome of one case against one server: `problems` is empty when it passed.

    `body` is the response body as received (empty when the request failed).
    """

    case: str
    method: str
    problems: tuple[str, ...]
    status: int | None = None
    body: bytes = field(default=b"", repr=False)

    @property
    def passed(self) -> bool:
        """True when the response matched the case (§S4's equivalences allowed)."""
        return not self.problems


def load_sdk_cases(root: Path | str | None = None) -> list[SDKCase]:
    """Every `*.json` case under `root` (default `specs/sdk-cases`), sorted by name.

    Raises:
        UsageError: the folder has no cases, or a case file is not of the documented form.
    """
    folder = Path(root) if root is not None else SDK_CASES_DIR
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not paths:
        raise UsageError(f"no SDK cases at {folder}: pass the path of a specs/sdk-cases folder")
    return [_load_case(path) for path in paths]


def _load_case(path: Path) -> SDKCase:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        method = spec["method"].upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be GET or POST, not {method!r}")
        expect = tuple(
            ExpectedEvent(
                event=item["event"],
                data={key: list(values) for key, values in item["data"].items()},
                id=item.get("id"),
                retry=item.get("retry"),
            )
            for item in spec["expect"]
        )
        return SDKCase(
            name=path.stem,
            method=method,
            signals=spec["signals"],
            expect=expect,
            about=spec.get("about", ""),
            section=spec.get("section", ""),
            headers={str(k): str(v) for k, v in spec.get("headers", {}).items()},
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: not an SDK case ({exc}); see specs/sdk-cases/README.md") from exc


def decode_wire_events(body: bytes) -> list[WireEvent]:
    """The events of a complete response body, decoded; comments and blank blocks are skipped.

    Raises:
        ProtocolError: the body ends inside an event (§5.2.2).
        MalformedEvent: an event breaks the Datastar grammar (§6).
    """
    decoder = SSEDecoder()
    out: list[WireEvent] = []
    for item in decoder.feed(body) + decoder.close():
        if not isinstance(item, ServerSentEvent):
            continue
        read_item(item)  # the Datastar grammar of §6; raises on a cut-off or malformed event
        out.append(_wire_event(item))
    return out


def _wire_event(sse: ServerSentEvent) -> WireEvent:
    # The decoder keeps the last `id:` across events (WHATWG), so this event's own fields are
    # read from its raw lines; the values were already validated by the decoder.
    fields: list[str] = []
    own_id: str | None = None
    # Split at SSE line ends only (§5.2.1): str.splitlines() would also split at U+2028.
    for raw_line in _LINE_END.split(sse.raw):
        line = raw_line.decode("utf-8", "replace")
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.append(name)
        if name == "id":
            own_id = value[1:] if value.startswith(" ") else value
    data: dict[str, list[str]] = {}
    for line in sse.data_lines:
        key, _, value = line.partition(" ")
        data.setdefault(key, []).append(value)
    return WireEvent(sse.event, data, own_id, sse.retry, tuple(fields), sse.raw)


def compare_events(expected: Sequence[ExpectedEvent], actual: Sequence[WireEvent]) -> list[str]:
    """Every difference between the expected and the received events, one sentence each.

    Equivalent forms do not count (specs/sdk-cases/README.md §S4): the order of data lines of
    different keys, attribute order and quoting in `elements`, and JSON formatting of a
    one-line `signals` value. Everything else does, including data lines stating a default.
    """
    problems: list[str] = []
    for index in range(max(len(expected), len(actual))):
        label = f"event {index + 1}"
        if index >= len(actual):
            problems.append(f"{label}: missing; expected {_describe(expected[index])}")
            continue
        if index >= len(expected):
            problems.append(f"{label}: unexpected {_describe(actual[index])}")
            continue
        problems.extend(f"{label}: {p}" for p in _compare_one(expected[index], actual[index]))
    return problems


def _compare_one(want: ExpectedEvent, got: WireEvent) -> list[str]:
    problems: list[str] = []
    if got.event != want.event:
        problems.append(f"type is {got.event!r}, expected {want.event!r}")
    if got.id != want.id:
        problems.append(f"id is {got.id!r}, expected {want.id!r}")
    if got.retry != want.retry:
        # §S3.0: `retry:` is written only when it differs from the default of 1000 ms.
        problems.append(f"retry is {got.retry!r}, expected {want.retry!r}")
    unknown = sorted({name for name in got.fields if name not in _FIELD_RANK})
    if unknown:
        problems.append(f"unexpected field(s) {unknown}; §S3.0 writes only event, id, retry, data")
    ranks = [_FIELD_RANK.get(name, -1) for name in got.fields]
    if ranks != sorted(ranks):
        problems.append(
            f"fields written in the order {list(got.fields)}; §S3.0 requires event, id, "
            "retry, then data"
        )
    for key in sorted(set(want.data) | set(got.data)):
        wanted, found = want.data.get(key), got.data.get(key)
        if found is None:
            problems.append(f"no {key!r} data line; expected {_lines(key, wanted or [])}")
        elif wanted is None:
            problems.append(f"unexpected data line(s) {_lines(key, found)}")
        elif not _same_values(key, wanted, found):
            problems.append(
                f"{key!r} lines differ:\n  expected {_lines(key, wanted)}\n"
                f"  received {_lines(key, found)}"
            )
    return problems


def _same_values(key: str, wanted: list[str], found: list[str]) -> bool:
    if wanted == found:
        return True
    if len(wanted) != len(found):
        return False  # the line split is the wire format (§6.1.1, §6.3.1), not formatting
    if key == "elements":
        # §S4: attribute order and quoting do not count; the browser builds the same tree.
        return all(
            canonical_html(a) == canonical_html(b) for a, b in zip(wanted, found, strict=True)
        )
    if key == "signals":
        # §S4: the same JSON value in another formatting (spacing, key order, escapes).
        try:
            return bool(json.loads("\n".join(wanted)) == json.loads("\n".join(found)))
        except ValueError:
            return False
    return False


def _describe(event: ExpectedEvent | WireEvent) -> str:
    parts = [event.event]
    if event.id is not None:
        parts.append(f"id={event.id!r}")
    if event.retry is not None:
        parts.append(f"retry={event.retry}")
    lines = [f"{key} {value}" for key, values in event.data.items() for value in values]
    return " ".join(parts) + f" with data {lines!r}"


def _lines(key: str, values: Iterable[str]) -> str:
    return repr([f"{key} {value}" for value in values])


async def run_sdk_cases(
    base_url: str,
    *,
    cases: Sequence[SDKCase] | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> list[SDKCaseResult]:
    """Send every case to `base_url` + `/test` and compare what comes back, in case order.

    GET cases carry the signals as the `datastar` query parameter, POST cases as a JSON body;
    both send `Datastar-Request: true`, as Datastar's client does. A request that fails is a
    failed case (its problem says why), not an exception.
    """
    chosen = list(cases) if cases is not None else load_sdk_cases()
    url = base_url.rstrip("/") + "/test"
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        return [await _run_one(client, url, case) for case in chosen]


async def _run_one(client: httpx.AsyncClient, url: str, case: SDKCase) -> SDKCaseResult:
    payload = json.dumps(case.signals, ensure_ascii=False)
    headers = {"Datastar-Request": "true", "Accept": "text/event-stream"}
    try:
        if case.method == "GET":
            headers.update(case.headers)
            response = await client.get(url, params={"datastar": payload}, headers=headers)
        else:
            headers["Content-Type"] = "application/json"
            headers.update(case.headers)
            response = await client.post(url, content=payload.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return SDKCaseResult(case.name, case.method, (f"request failed: {exc!r}",))
    body = response.content
    problems: list[str] = []
    if response.status_code != 200:
        problems.append(f"status {response.status_code}, expected 200 ({_HEADERS_RULE})")
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        problems.append(
            f"Content-Type {content_type!r}, expected text/event-stream ({_HEADERS_RULE})"
        )
    if "no-cache" not in response.headers.get("cache-control", ""):
        problems.append(
            f"Cache-Control {response.headers.get('cache-control')!r}, expected no-cache "
            f"({_HEADERS_RULE})"
        )
    try:
        actual = decode_wire_events(body)
    except ProtocolError as exc:  # MalformedEvent is a ProtocolError too
        problems.append(f"unreadable stream: {exc}")
    else:
        problems.extend(compare_events(case.expect, actual))
    return SDKCaseResult(case.name, case.method, tuple(problems), response.status_code, body)


def format_results(results: Sequence[SDKCaseResult], *, url: str = "") -> str:
    """A plain-text table of results (one row per case), each failure's problems under it,
    and a closing `N passed, N failed` line."""
    width = max((len(r.case) for r in results), default=4)
    lines = [f"SDK level{' against ' + url if url else ''}", ""]
    for result in results:
        verdict = "pass" if result.passed else "FAIL"
        lines.append(f"  {result.case:<{width}}  {result.method:<4}  {verdict}")
        for problem in result.problems:
            for n, text in enumerate(problem.splitlines()):
                lines.append(f"  {'':<{width}}    {'- ' if n == 0 else '  '}{text}")
    passed = sum(r.passed for r in results)
    lines += ["", f"{passed} passed, {len(results) - passed} failed"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m vt.conformance.sdk URL [--case NAME ...]`: run the SDK level, print the table.

    Exits 0 when every case passed, 1 when one failed, 2 on a usage error.
    """
    parser = argparse.ArgumentParser(
        prog="python -m vt.conformance.sdk",
        description="Run the SDK conformance level against URL/test.",
    )
    parser.add_argument("url", help="base URL of a server whose /test endpoint follows §S1")
    parser.add_argument("--case", action="append", default=[], help="run only this case")
    parser.add_argument("--cases-dir", type=Path, default=None, help="folder of case files")
    args = parser.parse_args(argv)
    try:
        cases = load_sdk_cases(args.cases_dir)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.case:
        unknown = sorted(set(args.case) - {c.name for c in cases})
        if unknown:
            print(f"no such SDK case: {', '.join(unknown)}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.name in args.case]
    results = asyncio.run(run_sdk_cases(args.url, cases=cases))
    print(format_results(results, url=args.url))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
