"""The cost of a check: the chat's fan-out check over HTTP with vt, and in two real browsers.

The check, both ways, against one reference chat server (its own process): two users open
the room, one sends a message, and both pages must show it. Timed wall clock from nothing
(vt: client and sessions; browser: Chromium launched) to both pages showing it, torn down
after; the median of `runs`.

The browser check is vt's browser driver (`vt.browser.driver.BrowserDriver`) on the Chromium
it launches as every browser test of vt does (`vt.browser.chromium.launch`: `VT_BROWSER_PATH`,
else `chromium` on PATH, with vt's flags), and needs the runtime to serve a Datastar client at
`/_datastar.js`. When Playwright is not importable, Chromium is missing, or the check fails,
the result says "not measured" and why.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import anyio

import vt
from benchmarks.servers import REFERENCE, serve
from vt.browser.chromium import BrowserNotFound, find_browser

BROWSER_TIMEOUT = 20.0  # seconds


async def vt_check(url: str, marker: str) -> None:
    """The fan-out check over HTTP: alice sends, alice and bob show it (§4.1, §5)."""
    async with vt.AsyncClient(url, timeout=20) as client:
        alice = await client.new_session("alice").open("/")
        bob = await client.new_session("bob").open("/")
        await alice.ready()
        await bob.ready()
        await alice.action("Send", name="alice", draft=marker)
        await client.expect_all([alice, bob], "article", marker)


async def browser_check(url: str, marker: str) -> None:
    """The same check in two browser contexts (two users) of one launched Chromium."""
    from vt.browser.driver import BrowserDriver

    async with BrowserDriver(url, timeout=BROWSER_TIMEOUT) as users:  # launches Chromium
        alice = await users.open("/")  # loaded, and its stream open (§5.1)
        bob = await users.open("/")
        await alice.fill('input[placeholder="message…"]', marker)
        await alice.click("button:has-text('Send')")
        await users.expect_all([alice, bob], "article", marker)


def browser_unavailable() -> str | None:
    """Why the browser check cannot run here, or None."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not importable (install vt's browser extra)"
    try:
        find_browser()
    except BrowserNotFound as missing:
        return str(missing)
    return None


async def _timed(check: Any, url: str, runs: int, label: str) -> list[float]:
    times = []
    for n in range(runs):
        started = time.perf_counter()
        with anyio.fail_after(60):
            await check(url, f"{label}-check-{n}-{time.time_ns()}")
        times.append(time.perf_counter() - started)
    return times


async def measure(runs: int) -> dict[str, Any]:
    """Both checks, `runs` times each, against one server; medians and the ratio."""
    result: dict[str, Any] = {"runs": runs}
    with serve(REFERENCE) as served:
        http = await _timed(vt_check, served.url, runs, "http")
        result["http_s"] = [round(t, 4) for t in http]
        result["http_median_s"] = round(statistics.median(http), 4)
        reason = browser_unavailable()
        if reason is None:
            try:
                browser = await _timed(browser_check, served.url, runs, "browser")
            except Exception as error:  # reported, not raised: the HTTP figure still stands
                reason = f"the browser check failed: {type(error).__name__}: {error}"[:300]
            else:
                result["browser_s"] = [round(t, 3) for t in browser]
                result["browser_median_s"] = round(statistics.median(browser), 3)
                result["ratio"] = round(statistics.median(browser) / statistics.median(http), 1)
        result["browser_not_measured"] = reason
    return result


if __name__ == "__main__":
    print(anyio.run(measure, 3))
