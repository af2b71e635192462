"""Harness overhead: vt's decode + parse + apply per event against a bare httpx-sse loop.

Both read the same bytes: a reader tab's recorded stream of a full chat room (each event
the whole 50-message view, as Via re-renders it; `benchmarks.dom_backends.capture`), served
from memory as an `httpx.Response` body, one chunk per event as the network delivers them.

* vt: `vt.SSEDecoder` over the body's bytes, `vt.read_item` on every item, and
  `Replica.apply` of every event to a replica of the tab's page: what each `AsyncTab`
  does per event (specs/protocol.md §5.2, §6);
* vt, decode only: `vt.SSEDecoder` and `vt.read_item` (the event read into its typed form),
  no replica: the part of vt's work that httpx-sse's own work compares with;
* bare: `httpx_sse.EventSource(response).aiter_sse()`, decoding only.

The rest of vt's cost is the replica's DOM, and most of that is libxml2 parsing the payload;
`parse_us_per_event` is lxml's parse alone of each event's elements, timed the same way, so a
reader sees the floor under vt's apply.

Each pair of runs is timed with the process's CPU clock, vt and bare back to back in
alternating order; the figure is the median of the pairs' ratios (the least sensitive to a
busy machine's drift), with the medians of the per-event costs.

    .venv/bin/python -m benchmarks.overhead [--events 50] [--pairs 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
from httpx_sse import EventSource

import vt
from benchmarks.dom_backends import Capture, capture
from vt.replica.tree import parse_fragment


def _chunks(stream: bytes) -> list[bytes]:
    """The stream split after every event, as separate network reads would deliver it."""
    parts = stream.split(b"\n\n")
    return [part + b"\n\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _response(chunks: list[bytes]) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body())


async def vt_pass(captured: Capture, chunks: list[bytes]) -> int:
    """Decode, parse and apply every event; returns how many were applied."""
    replica = vt.Replica.from_html(captured.page)
    decoder = vt.SSEDecoder()
    applied = 0
    async for chunk in _response(chunks).aiter_bytes():
        for item in decoder.feed(chunk):
            read = vt.read_item(item)
            if not isinstance(read, vt.Comment):
                replica.apply(read)
                applied += 1
    return applied


async def vt_decode_pass(chunks: list[bytes]) -> int:
    """Decode every event and read it (§6), with no replica; returns how many were read."""
    decoder = vt.SSEDecoder()
    read = 0
    async for chunk in _response(chunks).aiter_bytes():
        for item in decoder.feed(chunk):
            if not isinstance(vt.read_item(item), vt.Comment):
                read += 1
    return read


def parse_pass(payloads: list[str]) -> int:
    """Parse each event's elements with lxml alone (what any DOM replica must do)."""
    for html in payloads:
        parse_fragment(html)
    return len(payloads)


async def bare_pass(chunks: list[bytes]) -> int:
    """Decode every event with httpx-sse; returns how many were decoded."""
    decoded = 0
    async for _ in EventSource(_response(chunks)).aiter_sse():
        decoded += 1
    return decoded


async def measure(events: int, pairs: int) -> dict[str, Any]:
    """Record `events` chat patches, then time `pairs` paired passes over them."""
    captured = await capture(events)
    chunks = _chunks(captured.stream)
    payloads = _payloads(captured.stream)
    passes = {
        "vt": lambda: vt_pass(captured, chunks),
        "decode": lambda: vt_decode_pass(chunks),
        "parse": lambda: _now(parse_pass(payloads)),
        "bare": lambda: bare_pass(chunks),
    }
    us: dict[str, list[float]] = {kind: [] for kind in passes}
    ratios: list[float] = []
    decode_ratios: list[float] = []
    for n in range(pairs):
        timings: dict[str, float] = {}
        for kind in list(passes) if n % 2 == 0 else list(reversed(passes)):
            started = time.process_time()
            count = await passes[kind]()
            timings[kind] = time.process_time() - started
            if count < events:  # a pass that read less than the recording measures nothing
                raise AssertionError(f"{kind} read {count} of {events} events")
            us[kind].append(timings[kind] / events * 1e6)
        ratios.append(timings["vt"] / timings["bare"])
        decode_ratios.append(timings["decode"] / timings["bare"])
    return {
        "events": events,
        "pairs": pairs,
        "event_bytes": round(len(captured.stream) / events),
        "vt_us_per_event": round(statistics.median(us["vt"]), 1),
        "decode_us_per_event": round(statistics.median(us["decode"]), 1),
        "parse_us_per_event": round(statistics.median(us["parse"]), 1),
        "bare_us_per_event": round(statistics.median(us["bare"]), 1),
        "paired_ratio": round(statistics.median(ratios), 2),
        "decode_ratio": round(statistics.median(decode_ratios), 2),
        "ratios": [round(r, 2) for r in ratios],
    }


async def _now(value: int) -> int:
    return value


def _payloads(stream: bytes) -> list[str]:
    """Each patch event's elements, as `read_item` gives them to the replica."""
    decoder = vt.SSEDecoder()
    events = [vt.read_item(item) for item in decoder.feed(stream) + decoder.close()]
    return [e.elements for e in events if isinstance(e, vt.PatchElements)]


def main() -> None:
    """Print the overhead figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args()
    result = anyio.run(measure, args.events, args.pairs)
    print(
        f"{result['events']} events of {result['event_bytes']} bytes, {result['pairs']} pairs: "
        f"vt {result['vt_us_per_event']} µs/event (decode + read alone "
        f"{result['decode_us_per_event']} µs, lxml's parse alone {result['parse_us_per_event']}"
        f" µs), httpx-sse {result['bare_us_per_event']} µs/event; paired ratio "
        f"{result['paired_ratio']}x (decode + read alone {result['decode_ratio']}x)"
    )


if __name__ == "__main__":
    main()
