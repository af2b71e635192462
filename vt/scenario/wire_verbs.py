"""The scenario verbs and options that check what a server's options promise on the wire
(specs/scenario-format.md): heartbeats at their interval (§5.3.3), Content-Security-Policy
nonces (§2.4), a stream the server ends cleanly (§5.5.4); a session's `Accept-Encoding`
(brotli streams, §5.6), chunked request bodies (the caps of §4.2) and header patterns.

A base of the runner's per-run state, as `ClusterVerbs` is, so the runner module keeps the
verbs every scenario uses. They read only what a client sees: response headers, the
stream's events with their arrival times (the tab's timeline), the scripts a patch ran.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ..client.tab import AsyncTab
from ..client.timeline import Entry
from ..errors import ScenarioFailed, UsageError
from .format import Step

__all__ = ["NONCE", "WireVerbs", "page_nonce"]

# A CSP nonce source: at least 128 bits, base64 or base64url (22 characters or more, §2.4.1).
NONCE = re.compile(r"'nonce-([A-Za-z0-9+/_-]{22,}={0,2})'")
_CHUNK = 16 * 1024  # bytes per chunk of a `chunked` request body


def page_nonce(headers: Mapping[str, str]) -> str | None:
    """The nonce the `script-src` directive of a response's Content-Security-Policy allows
    (§2.4.1), or None."""
    policy = headers.get("content-security-policy", "")
    for directive in policy.split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name.lower() == "script-src":
            found = NONCE.search(sources)
            return found.group(1) if found else None
    return None


async def chunks(body: bytes) -> AsyncIterator[bytes]:
    """`body` as a request body of unknown length: sent chunked, with no Content-Length."""
    for start in range(0, max(len(body), 1), _CHUNK):
        yield body[start : start + _CHUNK]


class WireVerbs:
    """`expect_heartbeat`, `expect_nonces`, `expect_end`, and the `header_matches` check."""

    many: Callable[..., list[Any]]
    fail: Callable[[Step, str], ScenarioFailed]
    wait: Callable[[Step], float | None]

    def check_patterns(self, step: Step, headers: Mapping[str, str], sent: str) -> None:
        """`header_matches`: each header is present and the regular expression is found in
        its value (case-sensitive: a session id or a nonce is)."""
        for name, pattern in dict(step.options.get("header_matches", {})).items():
            value = headers.get(str(name).lower())
            if value is None or re.search(str(pattern), value) is None:
                raise self.fail(step, f"{sent}: header {name} is {value!r}, wanted /{pattern}/")

    async def v_expect_heartbeat(self, step: Step) -> None:
        """Wait for `count` heartbeats (§5.3.3) on each tab's current stream; with `gap =
        [min, max]`, the stream's `: ready` (or its 200, when compressed) to the first one and
        each one to the next are min to max seconds apart, as the client received them."""
        count = int(step.options.get("count", 1))
        gap = step.options.get("gap")
        if gap is not None and (
            len(gap) != 2 or not all(isinstance(g, int | float) for g in gap) or gap[0] > gap[1]
        ):
            raise UsageError(f"{step.describe()}: gap must be [min, max] seconds, got {gap!r}")
        for tab in self.many(step):
            _need_http(step, tab)
            await tab.wait_until(
                lambda tab=tab: len(_beats(tab)[1]) >= count,
                description=f"receive {count} heartbeat(s) on its current stream",
                timeout=self.wait(step),
                closest=lambda tab=tab: f"{len(_beats(tab)[1])} heartbeat(s) so far",
            )
            if gap is None:
                continue
            start, beats = _beats(tab)
            times = [start, *(b.at for b in beats)]
            gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
            low, high = float(gap[0]), float(gap[1])
            bad = [g for g in gaps if not low <= g <= high]
            if bad:
                shown = ", ".join(f"{g:.3f}" for g in gaps)
                raise self.fail(
                    step,
                    f"{tab.label}: heartbeats {low:g} to {high:g} s apart (§5.3.3) were "
                    f"expected; from ready, the gaps were {shown} s",
                )

    async def v_expect_nonces(self, step: Step) -> None:
        """The Content-Security-Policy of each tab (§2.4): its page allows one nonce of at
        least 128 bits; every script a patch ran in it carries that nonce (at least one did);
        every other response of the tab has a policy with a nonce of its own."""
        for tab in self.many(step):
            _need_http(step, tab)
            page = tab.page
            if page is None:
                raise self.fail(step, f"{tab.label} has loaded no page")
            nonce = page_nonce(page.headers)
            if nonce is None:
                policy = page.headers.get("content-security-policy")
                raise self.fail(
                    step,
                    f"{tab.label}: the page's Content-Security-Policy {policy!r} allows no "
                    "script nonce of 128 bits or more (§2.4.1)",
                )
            scripts = list(tab.scripts)
            if not scripts:
                raise self.fail(step, f"{tab.label} ran no script: nothing to check (§2.4.3)")
            for script in scripts:
                if script.attrs.get("nonce") != nonce:
                    raise self.fail(
                        step,
                        f"{tab.label}: a script carries nonce {script.attrs.get('nonce')!r}, "
                        f"not its page's {nonce!r} (§2.4.3): {script.text[:120]!r}",
                    )
            for info in tab.responses:
                if info is page:
                    continue
                if page_nonce(info.headers) is None:
                    policy = info.headers.get("content-security-policy")
                    raise self.fail(
                        step,
                        f"{tab.label}: {info.method} {info.url} ({info.status}) has the policy "
                        f"{policy!r}: no script nonce of 128 bits or more (§2.4.2)",
                    )

    async def v_expect_end(self, step: Step) -> None:
        """Wait until each tab's current stream ends, and check that the server ended it
        cleanly (the whole response read, §5.5.4): not the client, not a broken body."""
        for tab in self.many(step):
            _need_http(step, tab)
            number = tab.recording.connections
            await tab.wait_until(
                lambda tab=tab, number=number: _end(tab, number) is not None,
                description=f"see stream #{number} end",
                timeout=self.wait(step),
            )
            ended = _end(tab, number)
            if ended is not None and not ended.text.endswith("server ended the stream"):
                raise self.fail(step, f"{tab.label}: {ended.text}; a clean end was expected")


def _need_http(step: Step, tab: Any) -> None:
    if not isinstance(tab, AsyncTab):
        raise UsageError(f"{step.describe()} reads the wire: it runs on vt's HTTP client only")


def _beats(tab: AsyncTab) -> tuple[float, list[Entry]]:
    """When the tab's current stream became ready (its `: ready`, or its 200 when it has
    none), and the heartbeats it received since."""
    entries = tab.timeline.entries
    opened = [i for i, e in enumerate(entries) if e.kind == "connect" and "open (200)" in e.text]
    if not opened:
        return 0.0, []
    first = opened[-1]
    start = entries[first].at
    ready = [e for e in entries[first:] if e.kind == "ready"]
    if ready:
        start = ready[0].at
    return start, [e for e in entries[first:] if e.kind == "heartbeat" and e.at >= start]


def _end(tab: AsyncTab, number: int) -> Entry | None:
    prefix = f"stream #{number} ended: "
    return next((e for e in tab.timeline.of_kind("end") if e.text.startswith(prefix)), None)
