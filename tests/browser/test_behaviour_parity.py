"""vt's gestures against the real Datastar client in Chromium: same pages, same gestures, same
requests, signals and page.

Each case (`tests/browser/behaviour.py`: one hand-written case per row of the README's
coverage table, then generated ones, seed and count from `VT_BEHAVIOUR_SEED` /
`VT_BEHAVIOUR_COUNT`) is served by one app; Chromium (Playwright's click, press, fill, ...)
and vt (`tab.click`, `tab.press`, `tab.fill`, ...) each load it and perform its gestures. The
requests the server saw from each (method, path, query, content type, body), the final
signals and the normalised body must agree. A case the table marks as refused agrees when vt
refuses it with the table's words (raised, or in its console). The full run (300 generated
cases) is in the `slow` level; the default level runs the hand-written rows and 10 generated.

Needs Chromium (`vt.browser.chromium.find_browser`), the `playwright` package and the Datastar
client; without them the test skips saying why, and fails when `VT_BROWSER_REQUIRED=1`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

import vt
from tests.browser.behaviour import HANDWRITTEN, Case, Generator
from tests.browser.parity import normalise_signals
from vt import LiveServer, canonical_html
from vt.browser.chromium import LAUNCH_ARGS, BrowserNotFound, browser_required, find_browser

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("VT_BEHAVIOUR_SEED", "1"))
ACT_TIMEOUT_MS = (
    4000  # Playwright waits this long for an element to be actionable (a loaded machine)
)

HEAD = """<!DOCTYPE html><html><head>
<script>
// Count the page's pending timers (Datastar's delays, debounces, intervals are not counted:
// an interval never ends), so the test knows when the page's own clock has nothing left.
(() => {
  const pending = new Set();
  const set = window.setTimeout, clear = window.clearTimeout;
  window.setTimeout = (fn, ms, ...args) => {
    const id = set(() => { pending.delete(id); fn(...args); }, ms);
    pending.add(id);
    return id;
  };
  window.clearTimeout = (id) => { pending.delete(id); clear(id); };
  window.__vtTimers = () => pending.size;
})();
</script>
<script type="module">
import { filtered } from '/datastar.js';
let inflight = 0;
document.addEventListener('datastar-fetch', (e) => {
  if (e.detail.type === 'started') inflight++;
  if (e.detail.type === 'finished') inflight--;
});
window.__vtIdle = () => inflight === 0 && window.__vtTimers() === 0;
window.__vtSignals = () => JSON.stringify(filtered());
window.__vtReady = true;
</script>
</head>"""


def _client() -> Path | None:
    for candidate in (
        os.environ.get("VT_DATASTAR_JS"),
        str(ROOT / ".venv/share/vt/datastar/datastar-1.0.1.js"),
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"VT_BROWSER_REQUIRED=1 but {reason}")
    pytest.skip(reason)


class Served:
    """The app: case pages, the Datastar client, and `/api/*`, which records each request
    (per client: Chromium or vt) and answers 204 (`/api/slow` after 0.15 s)."""

    def __init__(self, client: Path) -> None:
        self.cases: dict[int, Case] = {}
        self.log: dict[str, list[tuple[str, ...]]] = {"browser": [], "vt": []}

        async def page(request: Request) -> Response:
            case = self.cases[int(request.path_params["n"])]
            return HTMLResponse(HEAD + case.body + "</html>")

        async def datastar(request: Request) -> Response:
            return FileResponse(client, media_type="text/javascript")

        async def api(request: Request) -> Response:
            who = "vt" if "python-httpx" in request.headers.get("user-agent", "") else "browser"
            body = (await request.body()).decode("utf-8", "replace")
            kind = request.headers.get("content-type", "").partition(";")[0].strip()
            if kind == "application/json" and body:
                body = normalise_signals(json.loads(body))
            # JSON's key order is not compared (bodies neither): the order Datastar creates
            # signals in follows its attribute order, which vt does not keep (protocol.md).
            pairs = [unquote_plus(p) for p in request.url.query.split("&") if p]
            pairs = [
                "datastar=" + normalise_signals(json.loads(p[9:]))
                if p.startswith("datastar=")
                else p
                for p in pairs
            ]
            query = "&".join(sorted(pairs))
            extra = request.headers.get("x-test", "") + request.headers.get("x-a", "")
            self.log[who].append((request.method, request.url.path, query, kind, body, extra))
            if request.url.path == "/api/slow":
                await anyio.sleep(0.15)
            return Response(status_code=204)

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(
            routes=[
                Route("/case/{n:int}", page),
                Route("/datastar.js", datastar),
                Route("/api/{rest:path}", api, methods=methods),
            ]
        )


@pytest.fixture(scope="module")
def harness() -> Iterator[tuple[Any, Served, LiveServer]]:
    client = _client()
    if client is None:
        _unavailable("no Datastar client (set VT_DATASTAR_JS or run scripts/setup)")
    try:
        executable = find_browser()
    except BrowserNotFound as exc:
        _unavailable(str(exc))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    assert client is not None
    served = Served(client)
    with LiveServer(served.app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=list(LAUNCH_ARGS)
        )
        try:
            yield browser, served, server
        finally:
            browser.close()


State = tuple[list[tuple[str, ...]], str, str, str | None]


def _browser_run(page: Any, served: Served, url: str, case: Case) -> State:
    from playwright.sync_api import Error as PlaywrightError

    page.goto(url)
    page.wait_for_function("window.__vtReady === true", timeout=10000)
    refused: str | None = None
    for gesture in case.gestures:
        verb, selector, *rest = gesture
        locator = page.locator(selector).first
        try:
            if verb == "click":
                locator.click(timeout=ACT_TIMEOUT_MS, no_wait_after=True)
            elif verb == "fill":
                locator.fill(rest[0], timeout=ACT_TIMEOUT_MS)
            elif verb == "press":
                locator.press(rest[0], timeout=ACT_TIMEOUT_MS)
            elif verb == "type":
                locator.fill("", timeout=ACT_TIMEOUT_MS)
                locator.press_sequentially(rest[0], timeout=ACT_TIMEOUT_MS)
                locator.dispatch_event("change")
            elif verb == "select":
                locator.select_option(rest[0], timeout=ACT_TIMEOUT_MS)
            elif verb == "focus":
                locator.focus(timeout=ACT_TIMEOUT_MS)
            elif verb == "blur":
                locator.blur(timeout=ACT_TIMEOUT_MS)
            elif verb == "hover":
                locator.hover(timeout=ACT_TIMEOUT_MS)
            elif verb == "submit":
                locator.evaluate("f => f.requestSubmit()")
        except PlaywrightError as exc:
            refused = f"{verb} {selector}: {str(exc).splitlines()[0]}"
            break
    if case.wait:
        # The client's clock is part of the case (intervals, delays): let it run.
        page.wait_for_timeout(case.wait * 1000)
    page.wait_for_function("window.__vtIdle()", timeout=10000)
    body = page.evaluate("document.body ? document.body.innerHTML : ''")
    signals = page.evaluate("window.__vtSignals()")
    return (
        list(served.log["browser"]),
        canonical_html(body),
        normalise_signals(json.loads(signals)),
        refused,
    )


def _vt_run(client: vt.Client, served: Served, path: str, case: Case) -> State:
    tab = client.new_session(f"s{time.monotonic_ns()}").open(path)
    refused: str | None = None
    for gesture in case.gestures:
        verb, selector, *rest = gesture
        try:
            if verb == "click":
                tab.click(selector, timeout=1)
            elif verb == "fill":
                tab.fill(selector, rest[0], timeout=1)
            elif verb == "press":
                tab.press(selector, rest[0], timeout=1)
            elif verb == "type":
                tab.type(selector, rest[0], timeout=1)
            elif verb == "select":
                tab.select_option(selector, rest[0], timeout=1)
            elif verb == "focus":
                tab.focus(selector, timeout=1)
            elif verb == "blur":
                tab.blur(selector, timeout=1)
            elif verb == "hover":
                tab.hover(selector, timeout=1)
            elif verb == "submit":
                tab.submit(selector, timeout=1)
        except (vt.ElementNotInteractive, vt.UsageError) as exc:
            refused = f"{verb} {selector}: {exc}"
            if "nothing reacts to it" in str(exc) and not case.refused:
                refused = None  # the browser does nothing either; nothing to refuse
                continue
            break
    if case.wait:
        time.sleep(case.wait)  # the client's clock is part of the case (intervals, delays)
    tab.wait_until(lambda: tab.busy == 0 or None, description="finish its timers", timeout=10)
    if case.refused and refused is None:
        refused = next((line for line in tab.console if case.refused in line), None)
    body = tab.document.select_one("body")
    inner = body.inner_html if body is not None else ""
    tab.drop()
    return (
        list(served.log["vt"]),
        canonical_html(inner),
        normalise_signals(tab.signals.to_dict()),
        refused,
    )


def _cases(count: int) -> list[Case]:
    rng = random.Random(SEED)
    generator = Generator(rng)
    return [*HANDWRITTEN, *(generator.case(i, SEED) for i in range(count))]


def _agree(case: Case, want: State, got: State) -> str | None:
    if case.refused is not None:
        if got[3] is not None and case.refused in got[3]:
            return None
        return f"the table says vt refuses this ({case.refused!r}); vt: {got[3]!r}"
    if got[3] is not None and want[3] is None:
        return f"vt refused what the browser did: {got[3]}"
    for name, index in (("requests", 0), ("body", 1), ("signals", 2)):
        if want[index] != got[index]:
            return f"{name} differ:\n    browser: {want[index]}\n    vt:      {got[index]}"
    return None


def _run(harness: tuple[Any, Served, LiveServer], count: int) -> None:
    browser, served, server = harness
    started = time.monotonic()
    failures: list[str] = []
    retried: list[str] = []
    cases = _cases(count)
    context = browser.new_context()
    page = context.new_page()
    with vt.Client(server.url, timeout=5, profile="datastar") as client:
        for index, case in enumerate(cases):
            served.cases[index] = case
            problem = None
            for attempt in (1, 2):
                served.log = {"browser": [], "vt": []}
                want = _browser_run(page, served, f"{server.url}/case/{index}", case)
                got = _vt_run(client, served, f"/case/{index}", case)
                problem = _agree(case, want, got)
                if problem is None:
                    if attempt == 2:
                        # A browser on a loaded machine can miss its actionability deadline:
                        # a case that agrees when run again is counted, and named.
                        retried.append(case.name)
                    break
            if problem is not None:
                if os.environ.get("VT_BEHAVIOUR_VERBOSE"):
                    print(
                        f"\n{case.name}: {problem}\n  {case.body}\n  {case.gestures}",
                        file=sys.stderr,
                    )
                failures.append(
                    f"{case.name}\n  body: {case.body}\n  gestures: {case.gestures}\n  {problem}"
                )
    context.close()
    agreed = len(cases) - len(failures)
    summary = (
        f"behaviour parity: {agreed}/{len(cases)} cases agree "
        f"({100 * agreed / len(cases):.1f}%), seed {SEED}, {len(HANDWRITTEN)} hand-written, "
        f"{time.monotonic() - started:.1f} s"
        + (f"; agreed when run again: {', '.join(retried)}" if retried else "")
    )
    print("\n" + summary, file=sys.stderr)
    assert not failures, summary + "\n" + "\n".join(failures[:8])


@pytest.mark.timeout(900)
def test_gestures_agree_with_datastar_in_chromium_sample(
    harness: tuple[Any, Served, LiveServer],
) -> None:
    _run(harness, int(os.environ.get("VT_BEHAVIOUR_COUNT", "10")))


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_gestures_agree_with_datastar_in_chromium_full(
    harness: tuple[Any, Served, LiveServer],
) -> None:
    _run(harness, 300)
