"""Generated behaviour cases for the browser-as-oracle test (`test_behaviour_parity.py`).

A case is a page body (signals, display attributes, listeners with modifiers, fields, forms)
and a sequence of gestures. Chromium running Datastar 1.0.1 and vt perform the same case
against the same server; the requests each sent, the final signals and the page must agree.
The pools below hold only what both can express; what vt refuses by name is in the
hand-written cases (`HANDWRITTEN`), marked with the refusal's words.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HANDWRITTEN", "Case", "Generator"]


@dataclass
class Case:
    """A page body and the gestures performed on it. `refused`: words of the error vt raises
    (and the browser does nothing, or cannot act); `wait`: seconds of the client's clock to
    let run after the gestures (timers, intervals)."""

    name: str
    body: str
    gestures: list[tuple[str, ...]] = field(default_factory=list)
    refused: str | None = None
    wait: float = 0.0
    row: str = ""  # the README coverage table row it stands for


SIGNALS = {"a": 1, "b": 2, "s": "hi", "flag": False, "list": [1, 2], "form": {"x": "", "n": 0}}

DISPLAY = [
    "$a + $b",
    "$s + '!' + $a",
    "`${$s}-${$a * 2}`",
    "$flag ? 'on' : 'off'",
    "$list.map(v => v * 2).join(',')",
    "$list.length",
    "($a / 3).toFixed(2)",
    "$form.x || 'empty'",
    "$s.toUpperCase()",
    "Math.max($a, $b)",
    "JSON.stringify($list)",
    "$missing",
    "$a > 2 && $b < 5",
    "[$a, $b].filter(v => v % 2).length",
]
ASSIGN = [
    "$a = $a + 1",
    "$a++",
    "$b = $b * 2",
    "$s += 'x'",
    "$flag = !$flag",
    "$list = [...$list, $a]",
    "$form.n = $form.n + 1",
    "$s = $s.slice(1)",
    "$a = $list.reduce((x, y) => x + y, 0)",
    "$x = 'new'",
    "$_local = 1",
    "$form = {x: 'reset', n: 9}",
    "@setAll(0, {include: /^form\\.n$/})",
    "@toggleAll({include: /^flag$/})",
    "$a = @peek(() => $b)",
]
METHODS = ["get", "post", "put", "patch", "delete"]
OPTIONS = [
    "",
    ", {headers: {'X-Test': 'yes'}}",
    ", {filterSignals: {include: /^(a|s)$/}}",
    ", {filterSignals: {exclude: /list/}}",
    ", {openWhenHidden: true, retryInterval: 10}",
]
MODIFIERS = ["", "", "", "__once", "__prevent", "__stop", "__window"]
KEYS = ["Enter", "a", "Escape", "1"]


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


class Generator:
    """Random cases from one seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def action(self) -> str:
        rng = self.rng
        method = rng.choice(METHODS)
        query = rng.choice(["", "?q=1", "?q=a%20b&r=2"])
        return f"@{method}('/api/{rng.choice(['x', 'y'])}{query}'{rng.choice(OPTIONS)})"

    def expression(self) -> str:
        rng = self.rng
        parts = [rng.choice(ASSIGN) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.6:
            parts.append(self.action())
        if not parts:
            parts.append(rng.choice(ASSIGN))
        guard = rng.random()
        code = "; ".join(parts)
        if guard < 0.15:
            return f"$flag && ({', '.join(parts)})"
        if guard < 0.3:
            return f"if ($a % 2) {{ {code} }} else {{ $b = -1 }}"
        return code

    def case(self, index: int, seed: int) -> Case:
        rng = self.rng
        signals = dict(SIGNALS)
        parts: list[str] = []
        # Display elements go after the controls: a `data-show` that hides one above a button
        # between mousedown and mouseup moves the button from under the pointer in a browser
        # (the click then lands elsewhere); vt has no layout (specs/protocol.md §6.6).
        shown: list[str] = []
        for i in range(rng.randint(1, 4)):
            kind = rng.choice(["text", "show", "attr:title", "class:hot", "style:color"])
            expr = rng.choice(DISPLAY)
            if kind == "style:color":
                expr = f"$flag ? 'red' : ({expr}) ? 'blue' : ''"
            shown.append(f'<p id="d{i}" data-{kind}="{_attr(expr)}">p{i}</p>')
        if rng.random() < 0.3:
            shown.append('<i id="cmp" data-computed:total="$a + $b" data-text="$total"></i>')
        parts.append('<p id="plain">plain text</p>')
        gestures: list[tuple[str, ...]] = []
        buttons = rng.randint(1, 3)
        for i in range(buttons):
            mod = rng.choice(MODIFIERS)
            event = rng.choice(["click", "click", "mousedown", "pointerup"])
            parts.append(
                f'<div id="w{i}" data-on:click="$b = $b + 10">'
                f'<button id="b{i}" data-on:{event}{mod}="{_attr(self.expression())}">b{i}</button>'
                "</div>"
            )
        parts.append(
            '<input id="t" data-bind:form.x '
            f"data-on:keydown=\"evt.key === '{rng.choice(KEYS)}' && {_attr(self.action())}\">"
        )
        parts.append('<input id="n" type="number" data-bind:num>')
        parts.append('<input id="c" type="checkbox" data-bind:flag data-on:change="$a++">')
        parts.append(
            '<select id="sel" data-bind:size data-on:change="$s = $size">'
            '<option value="S">S</option><option value="L">L</option></select>'
        )
        ctype = rng.choice(["form", "json"])
        submit = _attr("@post('/api/form', {contentType: '" + ctype + "'})")
        parts.append(
            f'<form id="f" data-on:submit="{submit}">'
            '<input type="hidden" name="token" value="t0k3n"><input id="ft" name="title">'
            '<input type="checkbox" id="fc" name="agree" value="yes">'
            '<button id="fs" name="go" value="1">go</button></form>'
        )
        parts.extend(shown)
        signals["num"] = 0
        signals["size"] = "S"
        for _ in range(rng.randint(1, 5)):
            pick = rng.random()
            if pick < 0.45:
                gestures.append(("click", f"#b{rng.randrange(buttons)}"))
            elif pick < 0.55:
                gestures.append(("fill", "#t", rng.choice(["abc", "x y", ""])))
            elif pick < 0.65:
                # Printable keys go in with `type`: where `press` puts them in a field focus
                # left depends on the caret Chromium restores.
                gestures.append(("press", "#t", rng.choice(["Enter", "Escape"])))
            elif pick < 0.72:
                gestures.append(("click", "#c"))
            elif pick < 0.78:
                gestures.append(("select", "#sel", rng.choice(["S", "L"])))
            elif pick < 0.84:
                gestures.append(("fill", "#n", rng.choice(["12", "3.5"])))
            elif pick < 0.9:
                gestures.append(("fill", "#ft", "hello"))
                gestures.append(("click", "#fs"))
            elif pick < 0.95:
                gestures.append(("click", "#fc"))
            else:
                gestures.append(("click", "#plain"))
        seed_json = _attr(json.dumps(signals))
        body = f'<body data-signals="{seed_json}">{"".join(parts)}</body>'
        return Case(f"generated #{index} (seed {seed})", body, gestures)


def _case(row: str, body: str, gestures: list[tuple[str, ...]], **kw: Any) -> Case:
    return Case(f"row {row}", f"<body>{body}</body>", gestures, row=row, **kw)


# One hand-written case per row of the README's coverage table.
HANDWRITTEN: list[Case] = [
    _case(
        "data-attr",
        '<div data-signals="{n: 2}"></div><b id="x" data-attr:title="`n=${$n}`" '
        'data-attr="{\'aria-x\': $n > 1, hidden: false}">x</b><button id="go" '
        'data-on:click="$n = 0">go</button>',
        [("click", "#go")],
    ),
    _case(
        "data-bind",
        '<input id="i" data-bind:name><input id="k" type="checkbox" data-bind:ok>'
        '<select id="s" data-bind:pick><option>A</option><option>B</option></select>',
        [("fill", "#i", "ada"), ("click", "#k"), ("select", "#s", "B")],
    ),
    _case(
        "data-class",
        '<p id="p" data-class:hot="$n > 1" data-class="{\'a b\': !$n}" '
        'data-signals:n="0">p</p><button id="b" data-on:click="$n = 3">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-computed",
        '<div data-signals:n="1" data-computed:double="$n * 2">'
        '<p id="t" data-text="$double"></p><button id="b" data-on:click="$n++">+</button>'
        "</div>",
        [("click", "#b")],
    ),
    _case(
        "data-effect",
        '<div data-signals:n="1" data-effect="$m = $n * 10"></div>'
        '<button id="b" data-on:click="$n = 5">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-ignore",
        '<div data-ignore><p id="p" data-text="\'no\'">yes</p></div>'
        '<button id="b" data-on:click="$x = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-ignore-morph",
        '<p id="p" data-ignore-morph>kept</p><button id="b" data-on:click="$x = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-indicator",
        '<span data-indicator:_busy></span><p id="p" '
        "data-text=\"$_busy ? 'busy' : 'idle'\"></p><button id=\"b\" "
        'data-attr:disabled="$_busy" data-on:click="@get(\'/api/slow\')">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-init",
        "<div data-init=\"$started = true; @post('/api/init')\"></div>"
        "<div data-init__delay.10ms=\"@get('/api/later')\"></div>",
        [],
    ),
    _case(
        "data-json-signals",
        '<div data-signals="{a: 1, _h: 2}"></div>'
        '<pre id="j" data-json-signals></pre><pre id="k" data-json-signals__terse>'
        "</pre>",
        [],
    ),
    _case(
        "data-on",
        '<div id="w" data-on:click="$w++"><button id="b" '
        "data-on:click=\"$a = 1; @post('/api/on')\">b</button></div>",
        [("click", "#b")],
    ),
    _case(
        "__once",
        '<button id="b" data-on:click__once="$n++">b</button>',
        [("click", "#b"), ("click", "#b")],
    ),
    _case(
        "__passive", '<button id="b" data-on:click__passive="$n++">b</button>', [("click", "#b")]
    ),
    _case(
        "__capture",
        '<div data-on:click__capture="$log = \'c\'"><button id="b" '
        "data-on:click=\"$log = $log + 't'\">b</button></div>",
        [("click", "#b")],
    ),
    _case(
        "__prevent",
        '<input id="c" type="checkbox" data-on:click__prevent="$n = 1" '
        'data-on:change="$changed = 1">',
        [("click", "#c")],
    ),
    _case(
        "__stop",
        '<div data-on:click="$outer = 1"><button id="b" '
        'data-on:click__stop="$inner = 1">b</button></div>',
        [("click", "#b")],
    ),
    _case(
        "__window",
        '<p data-on:keydown__window="$k = evt.key"></p><input id="i">',
        [("press", "#i", "x")],
    ),
    _case(
        "__outside",
        '<div id="m" data-on:click__outside="$closed = true">m</div>'
        '<button id="b" data-on:click="$x = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "__debounce",
        '<input id="i" data-bind:q data-on:input__debounce.50ms="@get(\'/api/search\')">',
        [("type", "#i", "abc")],
        wait=0.3,
    ),
    _case(
        "__throttle",
        '<input id="i" data-bind:q data-on:input__throttle.1s="$hits++">',
        [("type", "#i", "abc")],
        wait=0.2,
    ),
    _case(
        "__delay",
        '<button id="b" data-on:click__delay.50ms="$n = 1">b</button>',
        [("click", "#b")],
        wait=0.3,
    ),
    _case(
        "__viewtransition",
        '<button id="b" data-on:click__viewtransition="$n = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "key filter",
        "<input id=\"i\" data-on:keydown=\"evt.key === 'Enter' && @post('/api/send')\">",
        [("press", "#i", "a"), ("press", "#i", "Enter")],
    ),
    _case(
        "data-on-interval",
        '<div data-signals:ticks="0" data-on-interval__duration.50ms='
        '"$ticks = Math.min($ticks + 1, 2)"></div>',
        [],
        wait=0.4,
    ),
    _case(
        "data-on-signal-patch",
        '<div data-signals:n="0" data-on-signal-patch='
        '"$seen = ($seen || 0) + 1" data-on-signal-patch-filter="{include: /^n$/}"></div>'
        '<button id="b" data-on:click="$n++">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-on-intersect",
        '<div id="d" data-on-intersect="$seen = true">d</div>',
        [],
        refused="data-on-intersect",
    ),
    _case(
        "data-preserve-attr",
        '<details id="d" open data-preserve-attr="open">x</details>'
        '<button id="b" data-on:click="$x = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-ref",
        '<p id="p" data-ref:para>p</p><button id="b" data-on:click="$id = $para.id">b</button>',
        [("click", "#b")],
        refused="data-ref",
    ),
    _case(
        "data-show",
        '<p id="p" data-show="$n > 0">p</p><button id="b" data-on:click="$n = 1">b</button>',
        [("click", "#b")],
    ),
    _case(
        "data-signals",
        '<div data-signals="{a: {b: 1}}" data-signals:c__ifmissing="2">'
        '</div><div data-signals:a.d="$a.b + 1"></div>',
        [],
    ),
    _case(
        "data-style",
        '<p id="p" style="color: green" data-style:color="$n ? \'red\' : false">'
        'p</p><button id="b" data-on:click="$n = 1">b</button><button id="c" '
        'data-on:click="$n = 0">c</button>',
        [("click", "#b"), ("click", "#c")],
    ),
    _case(
        "data-text",
        '<div data-signals="{list: [1.25, 2]}"><p id="p" '
        "data-text=\"$list.map(v => v.toFixed(1)).join(' ')\"></p></div>",
        [],
    ),
    _case(
        "@get", '<button id="b" data-on:click="@get(\'/api/g?x=1\')">b</button>', [("click", "#b")]
    ),
    _case(
        "@post",
        '<button id="b" data-on:click="@post(\'/api/p\', {headers: '
        "{'X-A': '1'}})\" data-signals=\"{a: 1, _b: 2}\">b</button>",
        [("click", "#b")],
    ),
    _case("@put", '<button id="b" data-on:click="@put(\'/api/p\')">b</button>', [("click", "#b")]),
    _case(
        "@patch", '<button id="b" data-on:click="@patch(\'/api/p\')">b</button>', [("click", "#b")]
    ),
    _case(
        "@delete",
        '<button id="b" data-on:click="@delete(\'/api/d\')">b</button>',
        [("click", "#b")],
    ),
    _case(
        "contentType form",
        '<form id="f" data-on:submit="@post(\'/api/f\', '
        '{contentType: \'form\'})"><input name="token" type="hidden" value="t0k3n">'
        '<input id="t" name="title"><button id="go">go</button></form>',
        [("fill", "#t", "hello"), ("click", "#go")],
    ),
    _case(
        "contentType form GET",
        '<form id="f"><input name="q" value="a b">'
        '<button type="button" id="go" data-on:click="@get(\'/api/f\', {contentType: '
        "'form'})\">go</button></form>",
        [("click", "#go")],
    ),
    _case(
        "selector",
        '<form id="other"><input name="k" value="v"></form>'
        "<button id=\"b\" data-on:click=\"@post('/api/s', {contentType: 'form', "
        "selector: '#other'})\">b</button>",
        [("click", "#b")],
    ),
    _case(
        "filterSignals",
        '<div data-signals="{a: 1, b: {c: 2}, d: 3}"></div><button id="b" '
        "data-on:click=\"@post('/api/fs', {filterSignals: {include: /^b/, exclude: /d/}})\">"
        "b</button>",
        [("click", "#b")],
    ),
    _case(
        "payload",
        '<button id="b" data-on:click="@post(\'/api/pl\', {payload: {z: 1}})">b</button>',
        [("click", "#b")],
    ),
    _case(
        "@peek",
        '<div data-signals="{a: 1, b: 2}"></div><p id="p" '
        'data-text="$a + @peek(() => $b)"></p><button id="b" data-on:click="$b = 5">b'
        "</button>",
        [("click", "#b")],
    ),
    _case(
        "@setAll",
        '<div data-signals="{f: {a: 1, b: 2}, g: 3}"></div><button id="b" '
        'data-on:click="@setAll(true, {include: /^f\\./})">b</button>',
        [("click", "#b")],
    ),
    _case(
        "@toggleAll",
        '<div data-signals="{f: {a: true, b: false}}"></div><button id="b" '
        'data-on:click="@toggleAll({include: /^f\\./})">b</button>',
        [("click", "#b")],
    ),
    _case(
        "focus/blur",
        '<input id="i" data-on:focus="$f = 1" data-on:blur="$bl = 1"><input id="j">',
        [("focus", "#i"), ("blur", "#i")],
    ),
    _case(
        "hover",
        '<p id="p" data-on:mouseenter="$in = 1" data-on:mouseover="$over = 1">p</p>',
        [("hover", "#p")],
    ),
    _case(
        "submit",
        '<form id="f" data-on:submit="$sent = 1"><input name="a"></form>',
        [("submit", "#f")],
    ),
    _case(
        "native submit",
        '<form id="f" action="/api/native"><button id="go">go</button></form>',
        [("click", "#go")],
        refused="submit it natively",
    ),
    _case(
        "second body",
        '<p>x</p><body data-signals="{late: 1}"><p id="p" data-text="$late"></p></body>',
        [],
    ),
]
