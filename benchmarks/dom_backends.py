"""The replica's HTML backend: lxml (libxml2) against selectolax (lexbor), on a chat page.

    .venv/bin/python -m benchmarks.dom_backends [--repeat 7] [--number 300]

The reference chat is served in-process with 50 messages; from it come the page a tab loads
and the patch every tab then receives (the whole view re-rendered with a 51st message, as
Via sends it). Each backend then does, on the same bytes:

* `parse`: the page into a tree;
* `patch`: parse the patch's elements, find the target by id, put the new element in its
  place (the result of an outer morph, the cheapest correct form);
* `select`: `article p` and the text of every match, as a wait's check reads it.

Medians of `--repeat` timings of `--number` runs each, interleaved in one process, are
printed as a table with the ratio, and written to `benchmarks/results/dom_backends.json`.
The JSON also lists what the replica needs from its backend and whether each has it.
`capture()` is also the recorded stream of `benchmarks.overhead`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from lxml import etree
from selectolax.lexbor import LexborHTMLParser

import vt
from benchmarks.servers import ROOT
from reference_impl.examples import chat
from vt.replica.tree import parse_document, parse_fragment

RESULTS = ROOT / "benchmarks" / "results" / "dom_backends.json"
MESSAGES = 50


def message(n: int) -> str:
    """The text of the `n`th message that fills a room's window, here and in the fan-out."""
    return f"message number {n} with a few words in it"


@dataclass(frozen=True)
class Capture:
    """What a reader tab of a full chat room got: its page, the patch of the 51st message
    (`elements`, targeting `tab_id`), and the raw bytes of its stream after `: ready` with
    `events` such patches (one per message sent after it subscribed)."""

    page: str
    elements: str
    tab_id: str
    stream: bytes
    events: int


async def capture(events: int = 1) -> Capture:
    """Serve the chat in-process, fill its window (50 messages), open a reader, send `events`
    more messages and record what the reader received."""
    with vt.LiveServer(chat.create_app()) as server:
        async with vt.AsyncClient(server.url, timeout=30) as client:
            writer = await client.new_session("writer").open("/")
            await writer.ready()
            for n in range(MESSAGES):
                await writer.action("Send", draft=message(n))
            await writer.expect_text("article", f"message number {MESSAGES - 1}")
            reader = await client.new_session("reader").open("/")
            await reader.ready()
            opening = len(reader.transcript)
            for n in range(events):
                await writer.action("Send", draft=f"the fifty-first message, take {n}")
                await reader.expect_text("article", f"the fifty-first message, take {n}")
            patch = next(
                e
                for e in reversed(reader.events)
                if isinstance(e, vt.PatchElements) and "fifty-first" in e.elements
            )
            assert isinstance(patch, vt.PatchElements)
            return Capture(
                reader.page_html, patch.elements, reader.id, reader.transcript[opening:], events
            )


def lxml_ops(page: str, elements: str, tab_id: str) -> dict[str, Callable[[], Any]]:
    by_id = etree.XPath("descendant::*[@id=$id][1]")
    select = etree.XPath("//article//p")  # what cssselect compiles `article p` to
    root = parse_document(page)

    def patch() -> None:
        new = parse_fragment(elements)[0]
        (target,) = by_id(root, id=tab_id)
        new.tail = target.tail
        target.getparent().replace(target, new)

    def read() -> list[str]:
        return [" ".join("".join(p.itertext()).split()) for p in select(root)]

    return {"parse": lambda: parse_document(page), "patch": patch, "select": read}


def selectolax_ops(page: str, elements: str, tab_id: str) -> dict[str, Callable[[], Any]]:
    tree = LexborHTMLParser(page)
    selector = f'[id="{tab_id}"]'

    def patch() -> None:
        new = LexborHTMLParser(elements).body
        assert new is not None
        node = new.child
        target = tree.css_first(selector)
        assert target is not None
        assert node is not None
        target.replace_with(node)

    def read() -> list[str]:
        return [" ".join(p.text(deep=True).split()) for p in tree.css("article p")]

    return {"parse": lambda: LexborHTMLParser(page), "patch": patch, "select": read}


def vt_ops(page: str, elements: str, tab_id: str) -> dict[str, Callable[[], Any]]:
    """vt's own replica (lxml, with its bookkeeping), for reference."""
    replica = vt.Replica(vt.Document.parse(page))
    document = replica.document
    event = vt.PatchElements(elements)
    return {
        "parse": lambda: vt.Document.parse(page),
        "patch": lambda: replica.apply(event),
        "select": lambda: [p.text for p in document.select("article p")],
    }


# What the replica relies on its backend for, checked (or stated) per backend.
NEEDS = {
    "CSS selectors (cssselect / lexbor)": ("yes", "yes"),
    "XPath (ids, attribute-name prefixes such as data-on:click__*)": ("yes", "no"),
    "move a node within the tree (morph keeps matched nodes)": (
        "yes",
        "no: insert_before/after copy the node",
    ),
    "text as separate nodes (morph matches text nodes)": ("no (.text/.tail)", "yes"),
    "mutable attributes incl. names with ':' (data-on:click)": ("yes", "yes"),
    "HTML serialisation": ("yes", "yes"),
    "typed stubs for mypy strict": ("lxml-stubs", "inline"),
}


def measure(ops: dict[str, dict[str, Callable[[], Any]]], repeat: int, number: int) -> Any:
    timings: dict[str, dict[str, list[float]]] = {b: {o: [] for o in ops[b]} for b in ops}
    for _ in range(repeat):
        for op in ("parse", "patch", "select"):
            for backend in ops:  # interleaved, so drift on a noisy machine hits both alike
                seconds = timeit.timeit(ops[backend][op], number=number)
                timings[backend][op].append(seconds / number * 1e6)
    return timings


def run(repeat: int, number: int, show: bool = True) -> dict[str, Any]:
    """Measure the three backends on a captured chat page; print the table when `show`."""
    captured = anyio.run(capture)
    page, elements, tab_id = captured.page, captured.elements, captured.tab_id
    ops = {
        "lxml": lxml_ops(page, elements, tab_id),
        "selectolax": selectolax_ops(page, elements, tab_id),
        "vt (lxml)": vt_ops(page, elements, tab_id),
    }
    for backend in ("lxml", "selectolax"):  # both must read the same page
        texts = ops[backend]["select"]()
        assert len(texts) == MESSAGES + 1 or len(texts) == MESSAGES, (backend, len(texts))
    started = time.perf_counter()
    timings = measure(ops, repeat, number)
    medians = {b: {o: statistics.median(v) for o, v in t.items()} for b, t in timings.items()}
    result = {
        "page_bytes": len(page),
        "patch_bytes": len(elements),
        "messages": MESSAGES,
        "repeat": repeat,
        "number": number,
        "seconds": round(time.perf_counter() - started, 1),
        "median_us": {b: {o: round(v, 1) for o, v in m.items()} for b, m in medians.items()},
        "runs_us": {
            b: {o: [round(x, 1) for x in v] for o, v in t.items()} for b, t in timings.items()
        },
        "needs": {need: {"lxml": lx, "selectolax": sx} for need, (lx, sx) in NEEDS.items()},
    }
    if show:
        report(result)
    return result


def report(result: dict[str, Any]) -> None:
    """Print the backends' table."""
    medians = result["median_us"]
    print(
        f"dom_backends: a {result['page_bytes']}-byte chat page with {MESSAGES} messages, "
        f"a {result['patch_bytes']}-byte patch; medians of {result['repeat']}x"
        f"{result['number']} runs (µs)\n"
    )
    header = ("operation", "lxml", "selectolax", "lxml/selectolax", "vt (lxml)")
    print(f"{header[0]:<10} {header[1]:>9} {header[2]:>11} {header[3]:>16} {header[4]:>10}")
    for op in ("parse", "patch", "select"):
        lx, sx, v = medians["lxml"][op], medians["selectolax"][op], medians["vt (lxml)"][op]
        print(f"{op:<10} {lx:>9.1f} {sx:>11.1f} {lx / sx:>15.2f}x {v:>10.1f}")
    print("\nwhat the replica needs           lxml / selectolax")
    for need, (lx_has, sx_has) in NEEDS.items():
        print(f"  {need}: {lx_has} / {sx_has}")


def main() -> None:
    """`python -m benchmarks.dom_backends`: the table, and the JSON in benchmarks/results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args.repeat, args.number)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
