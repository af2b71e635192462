"""The replica against the real Datastar client in Chromium: same streams, same page and signals.

Every case of `specs/cases/` a browser can show, and generated streams (40 in the browser
level; in the slow level 400, or `VT_PARITY_COUNT`; seed `VT_PARITY_SEED`), are fed in
sequence to one page in one browser and to `vt.Replica`; the normalised body and signals
must agree. Streams where Datastar itself is timing-dependent are left out by rule
(specs/protocol.md §7.5), and counted.

Runs in the worker's one Chromium (the `vt_browser` fixture: found and launched as every
browser test of vt is) and needs the Datastar client the reference runtime serves
(`reference_impl.assets.default_datastar_js`); without them the test skips saying why, and
fails when `VT_BROWSER_REQUIRED=1`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from reference_impl.assets import default_datastar_js
from tests.browser.parity import (
    Generator,
    State,
    browser_state,
    excluded,
    minimise,
    replica_state,
    split_events,
)
from vt import LiveServer
from vt.browser import Chromium
from vt.conformance.cases import load_cases
from vt.pytest.browser_plugin import no_browser

READ_GAP = 0.05  # seconds after a patch that may add attributes, so it is read alone
SEED = int(os.environ.get("VT_PARITY_SEED", "1"))
COUNT = int(os.environ.get("VT_PARITY_COUNT", "400"))  # the slow level's generated streams
QUICK_COUNT = 40  # the browser level's
PAGE = """<!DOCTYPE html><html><head>
<script type="module">
import { filtered, mergePatch, root } from '/datastar.js';
let finish = null;
document.addEventListener('datastar-fetch', (e) => {
  if (e.detail.type === 'finished' && finish) finish(true);
});
// Datastar applies attributes from mutation observers (microtasks): one task lets them run.
const tick = () => new Promise((r) => setTimeout(r, 0));
// One stream: reset the page and the signals, let Datastar scan the new body, then start
// the stream with a fresh `data-init` and wait until the fetch finishes and effects settle.
window.__vtRun = async (before, n) => {
  mergePatch(Object.fromEntries(Object.keys(root).map((k) => [k, null])));
  document.body.innerHTML = before;
  await tick();
  const finished = new Promise((r) => { finish = r; setTimeout(() => r(false), 5000); });
  const trigger = document.createElement('meta');
  trigger.setAttribute('data-init', `@get('/sse?n=${n}')`);
  document.head.append(trigger);
  const done = await finished;
  finish = null;
  trigger.remove();
  await tick();
  await tick();
  return [done, document.body ? document.body.innerHTML : '', JSON.stringify(filtered())];
};
window.__vtReady = true;
</script>
</head><body></body></html>"""


class Feeder:
    """One page in one browser, fed one (page, stream) pair after another."""

    def __init__(self, page: Any, server: LiveServer, current: dict[str, Any]) -> None:
        self.page = page
        self.server = server
        self.current = current
        self.runs = 0
        page.goto(server.url + "/")
        page.wait_for_function("window.__vtReady === true", timeout=10000)

    def state(self, before: str, stream: bytes) -> State:
        self.current["stream"] = stream
        self.runs += 1
        done, body, signals = self.page.evaluate(
            "([before, n]) => window.__vtRun(before, n)", [before, self.runs]
        )
        assert done, f"the stream did not finish within 5 s in the browser: {stream!r}"
        return browser_state(body, signals)


def _app(client: Path, current: dict[str, Any]) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def sse(request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            # One event per network read: Datastar applies attributes a patch adds after the
            # other events of the same read; the replica applies them at once (§7.5).
            for event in split_events(current["stream"]):
                yield event
                if b"datastar-patch-elements" in event and b"data-" in event:
                    await anyio.sleep(READ_GAP)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def datastar(request: Request) -> Response:
        return FileResponse(client, media_type="text/javascript")

    return Starlette(
        routes=[
            Route("/", page),
            Route("/sse", sse),
            Route("/datastar.js", datastar),
        ]
    )


def _streams(count: int) -> list[tuple[str, str, bytes]]:
    """(name, page, stream): the codec cases, then `count` generated streams."""
    out: list[tuple[str, str, bytes]] = []
    for case in load_cases():
        stream = case.stream
        if case.before_signals:
            seed = json.dumps(case.before_signals)
            # The case's extra signals, as the first event (the page's own come first).
            stream = f"event: datastar-patch-signals\ndata: signals {seed}\n\n".encode() + stream
        out.append((f"case {case.name}", case.before_html, stream))
    rng = random.Random(SEED)
    generator = Generator(rng)
    for index in range(count):
        out.append((f"generated #{index} (seed {SEED})", generator.page(), generator.stream()))
    return out


@pytest.mark.parametrize(
    "count",
    [
        pytest.param(QUICK_COUNT, id="40-streams"),
        pytest.param(COUNT, id="full", marks=pytest.mark.slow),
    ],
)
def test_the_replica_agrees_with_datastar_in_chromium(
    capsys: pytest.CaptureFixture[str], vt_browser: Chromium, count: int
) -> None:
    client = default_datastar_js()
    if client is None:
        no_browser("no Datastar client (run `vt install-browser-client` or scripts/setup)")
    assert client is not None
    current: dict[str, Any] = {"stream": b""}
    started = time.monotonic()
    compared = 0
    left_out: Counter[str] = Counter()
    disagreements: list[str] = []
    with LiveServer(_app(client, current)) as server:
        browser_page = vt_browser.new_page()  # Playwright's page, through its sync twin
        try:
            feeder = Feeder(browser_page, server, current)

            def disagrees(page: str, stream: bytes) -> bool:
                return feeder.state(page, stream) != replica_state(page, stream)

            for name, page, stream in _streams(count):
                rule = excluded(page, stream)
                if rule is not None:
                    left_out[rule] += 1
                    continue
                compared += 1
                want = feeder.state(page, stream)
                got = replica_state(page, stream)
                if want == got:
                    continue
                small = minimise(page, stream, disagrees)
                want, got = feeder.state(page, small), replica_state(page, small)
                disagreements.append(
                    f"{name}\n  page:    {page}\n  stream:  {small.decode(errors='replace')!r}\n"
                    f"  browser: {want}\n  replica: {got}"
                )
        finally:
            browser_page.close()
    agreed = compared - len(disagreements)
    lines = [
        f"replica parity: {agreed}/{compared} streams agree "
        f"({100 * agreed / max(compared, 1):.1f}%), seed {SEED}, "
        f"{time.monotonic() - started:.1f} s",
        *(f"  left out by rule ({n}): {rule}" for rule, n in sorted(left_out.items())),
    ]
    with capsys.disabled():  # the figure is the point of the run: shown even when it passes
        print("\n" + "\n".join(lines), file=sys.stderr)
    assert not disagreements, "\n".join(lines + disagreements[:10])
