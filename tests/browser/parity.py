"""The browser as oracle for the replica: streams, the rules that leave some out, minimising.

`generate(rng)` makes one (page, stream) pair from a seeded generator; `excluded(page,
stream)` names the rule of specs/protocol.md §7.5 that leaves a stream out of the comparison
(Datastar itself is timing-dependent there), or None; `replica_state()` is what vt's replica
shows; `minimise()` shrinks a disagreeing stream to the fewest events that still disagree.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from vt import Replica, canonical_html
from vt.wire.sse import SSEDecoder

State = tuple[str, str]  # (canonical body, signals as sorted JSON)

IDS = ["a", "b", "c", "d"]
CLASSES = ["x", "y"]
INLINE = ["b", "i", "em", "span"]
BLOCK = ["div", "section", "p", "ul"]
EXPRESSIONS = [
    "$n + 1",
    "'Hello, ' + $s",
    "`n=${$n}`",
    "$n > 1 ? 'big' : 'small'",
    "$s.toUpperCase()",
    "$s.length",
    "$o.x",
    "!$flag",
    "$flag && $s",
    "$missing || 'none'",
    "$n * 2 - 1",
]


def normalise_signals(signals: Any) -> str:
    """Signals as sorted JSON with JavaScript's numbers (2.0 and 2 are one number)."""

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            # Datastar's `filtered()` lists leaves only: an empty object does not show.
            fixed = {k: fix(v) for k, v in value.items()}
            return {k: v for k, v in fixed.items() if v != {}}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return json.dumps(fix(signals), sort_keys=True)


def replica_of(page: str, stream: bytes) -> Replica:
    """vt's replica after reading `stream` into `page`."""
    replica = Replica.from_html(page)
    decoder = SSEDecoder()
    for item in decoder.feed(stream) + decoder.close():
        replica.receive(item)
    return replica


def replica_state(page: str, stream: bytes) -> State:
    """What vt's replica shows after reading `stream` into `page`."""
    replica = replica_of(page, stream)
    # Both sides go through the same serialise-and-parse, so the parser's fix-ups of odd
    # nesting (a `<p>` inside an `<i>`, which the DOM allows) apply to both.
    body = replica.document.select_one("body")
    inner = body.inner_html if body is not None else ""
    return canonical_html(inner), normalise_signals(replica.signals.to_dict())


def browser_state(body_html: str, signals_json: str) -> State:
    """The browser's body and signals in the same normal form."""
    return canonical_html(body_html), normalise_signals(json.loads(signals_json))


# -- rules that leave a stream out (specs/protocol.md §7.5) ------------------------------------

_DELETED = re.compile(r'"(\w+)": null')
_READ_NAMES = re.compile(r"[$.](\w+)")
_DISPLAY = re.compile(r'data-(?:text|show|class|attr|computed)[^=\s>]*="([^"]*)"')


def _display_expressions(markup: str) -> str:
    return " ".join(_DISPLAY.findall(markup))


def split_events(stream: bytes) -> list[bytes]:
    """A stream's events and comments, each as its exact bytes (terminator included); the
    whole stream as one piece when blank lines between items would be lost."""
    decoder = SSEDecoder()
    pieces = [item.raw for item in decoder.feed(stream) + decoder.close()]
    return pieces if b"".join(pieces) == stream else [stream]


def excluded(page: str, stream: bytes) -> str | None:
    """The rule that leaves this stream out of the comparison, or None to compare it."""
    lowered = stream.lower()
    if b"<script" in lowered or b"data-effect" in lowered:
        return "scripts: the browser runs them, the replica reports them (§7.4)"
    if re.search(rb"data:\s*useviewtransition\s+true", lowered):
        return "view transition: the browser applies the patch later (§7.5)"
    deleted = {m.group(1) for m in _DELETED.finditer(stream.decode("utf-8", "replace"))}
    read = set(_READ_NAMES.findall(_display_expressions(page + stream.decode("utf-8", "replace"))))
    if deleted & read:
        return "a signal deleted while a display expression reads it (§7.5)"
    if re.search(r"<(html|head|body)[\s>]", page, re.IGNORECASE):
        return "a whole-document page (the harness owns the head)"
    if any(m.startswith("Error: the patch failed") for m in replica_of(page, stream).console):
        return "a patch that throws: the browser may leave it half-applied (§7.1.4)"
    return None


# -- the generator ------------------------------------------------------------------------------


class Generator:
    """Seeded pages and streams: every mode, by id and by selector, keyed and unkeyed
    children, nested ids, ignore-morph, preserve-attr, text nodes, signal patches with
    nesting, nulls and onlyIfMissing, display attributes with expressions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def attrs(self, display: bool = True, leaf: bool = False) -> str:
        """Random attributes; `data-text` only on a leaf (text replaces the children)."""
        rng = self.rng
        out = ""
        if rng.random() < 0.3:
            out += f' class="{rng.choice(CLASSES)}"'
        if rng.random() < 0.1:
            out += " data-ignore-morph"
        if rng.random() < 0.1:
            out += ' data-preserve-attr="class"'
        if display and rng.random() < 0.2:
            kinds = ["data-show", "data-class:on", "data-attr:title"] + (
                ["data-text"] if leaf else []
            )
            kind = rng.choice(kinds)
            out += f' {kind}="{rng.choice(EXPRESSIONS)}"'
        return out

    def node(self, depth: int, used: set[str], display: bool = True) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(["t", "some text", " ", "x y"])
        tag = rng.choice(INLINE if depth <= 0 else BLOCK + INLINE)
        element_id = ""
        free = [i for i in IDS if i not in used]
        if free and rng.random() < 0.5:
            element_id = rng.choice(free)
            used.add(element_id)
        id_attr = f' id="{element_id}"' if element_id else ""
        if tag == "ul":
            items = "".join(
                f"<li{self.attrs(display)}>{self.inline(used, display)}</li>"
                for _ in range(rng.randint(0, 3))
            )
            return f"<ul{id_attr}{self.attrs(display)}>{items}</ul>"
        if tag == "p" or tag in INLINE:
            return f"<{tag}{id_attr}{self.attrs(display)}>{self.inline(used, display)}</{tag}>"
        inner = "".join(self.node(depth - 1, used, display) for _ in range(rng.randint(0, 3)))
        return f"<{tag}{id_attr}{self.attrs(display)}>{inner}</{tag}>"

    def inline(self, used: set[str], display: bool) -> str:
        rng = self.rng
        parts = []
        for _ in range(rng.randint(0, 2)):
            if rng.random() < 0.5:
                parts.append(rng.choice(["a", "b c", "t"]))
            else:
                tag = rng.choice(INLINE)
                free = [i for i in IDS if i not in used]
                id_attr = ""
                if free and rng.random() < 0.3:
                    chosen = rng.choice(free)
                    used.add(chosen)
                    id_attr = f' id="{chosen}"'
                parts.append(
                    f"<{tag}{id_attr}{self.attrs(display)}>{rng.choice(['u', 'v'])}</{tag}>"
                )
        return "".join(parts)

    def page(self) -> str:
        rng = self.rng
        seed = {"n": rng.randint(0, 3), "s": rng.choice(["Ada", "bob"]), "o": {"x": 1}}
        if rng.random() < 0.5:
            seed["flag"] = rng.random() < 0.5
        used: set[str] = set()
        content = "".join(self.node(2, used) for _ in range(rng.randint(1, 4)))
        signals = json.dumps(seed).replace('"', "&quot;")
        return f'<div data-signals="{signals}"></div>{content}'

    def event(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.25:
            return self.signals_event()
        mode = rng.choice(
            ["outer", "inner", "replace", "prepend", "append", "before", "after", "remove"]
        )
        by_id = mode in ("outer", "replace") and rng.random() < 0.5
        lines = ["event: datastar-patch-elements"]
        if by_id:
            count = rng.randint(1, 2)
            ids = rng.sample(IDS, count)
            payload = ""
            for element_id in ids:
                used = {element_id}
                tag = rng.choice(["div", "p", "span"])
                inner = self.inline(used, True) if tag != "div" else self.node(1, used)
                payload += f'<{tag} id="{element_id}"{self.attrs()}>{inner}</{tag}>'
                if rng.random() < 0.3:
                    payload += " between "
        else:
            selector = rng.choice(
                [f"#{rng.choice(IDS)}", rng.choice(BLOCK + INLINE), f".{rng.choice(CLASSES)}", "li"]
            )
            lines.append(f"data: selector {selector}")
            payload = "".join(
                self.node(1, set(IDS) - {rng.choice(IDS)}) for _ in range(rng.randint(1, 3))
            )
        if mode != "outer":
            lines.append(f"data: mode {mode}")
        if mode != "remove":
            lines.append(f"data: elements {payload}")
        return ("\n".join(lines) + "\n\n").encode()

    def signals_event(self) -> bytes:
        rng = self.rng
        patch: dict[str, Any] = {}
        # Each signal keeps its type (a number stays a number...), as an app's signals do;
        # `extra` takes anything.
        choices: dict[str, list[Any]] = {
            "n": [None, rng.randint(0, 5)],
            "s": [None, rng.choice(["Ada", "zed", ""])],
            "flag": [None, rng.random() < 0.5],
            "o": [None, {"x": rng.choice([None, 2, 3]), "y": {"z": 1}}],
            "extra": [None, 1, "e", [1, 2], {"k": [3]}, {"k": {"j": None}}],
        }
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(sorted(choices))
            patch[key] = rng.choice(choices[key])
        only = "data: onlyIfMissing true\n" if rng.random() < 0.2 else ""
        return (
            f"event: datastar-patch-signals\n{only}data: signals {json.dumps(patch)}\n\n".encode()
        )

    def stream(self) -> bytes:
        return b"".join(self.event() for _ in range(self.rng.randint(1, 4)))


def minimise(page: str, stream: bytes, disagrees: Callable[[str, bytes], bool]) -> bytes:
    """The shortest sub-sequence of the stream's events (greedy, one at a time) that still
    disagrees."""
    events = split_events(stream)
    changed = True
    while changed and len(events) > 1:
        changed = False
        for index in range(len(events)):
            trial = events[:index] + events[index + 1 :]
            if disagrees(page, b"".join(trial)):
                events = trial
                changed = True
                break
    return b"".join(events)
