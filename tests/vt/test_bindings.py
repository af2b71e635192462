"""Reading Datastar bindings without a browser: expressions, event paths, modifiers."""

from __future__ import annotations

import pytest

from vt import Document
from vt.page.bindings import (
    Assign,
    Confirm,
    ExpressionError,
    Fetch,
    KeyGuard,
    Sequence,
    bind_path,
    dispatch,
    field_value,
    parse_expression,
)


def test_reads_the_expressions_the_runtime_writes() -> None:
    assert parse_expression("@post('/_action/Send')") == [[Fetch("POST", "/_action/Send")]]
    assert parse_expression("evt.key==='Enter'&&@post('/_action/Send')") == [
        [KeyGuard("Enter"), Fetch("POST", "/_action/Send")]
    ]
    assert parse_expression("confirm(\"Sure?\")&&@delete('/items/1')") == [
        [Confirm("Sure?"), Fetch("DELETE", "/items/1")]
    ]
    assert parse_expression("$draft='';$form.n=2;@get('/x', {headers: {'X-A': '1'}})") == [
        [Assign(("draft",), "")],
        [Assign(("form", "n"), 2)],
        [Fetch("GET", "/x", {"headers": {"X-A": "1"}})],
    ]
    assert parse_expression("evt.key !== 'Escape' && (@put(\"/p\"))") == [
        [KeyGuard("Escape", equal=False), Fetch("PUT", "/p")]
    ]


def test_string_literals_may_hold_separators() -> None:
    assert parse_expression("confirm('a;b && c')&&@post('/x?a=1;b')") == [
        [Confirm("a;b && c"), Fetch("POST", "/x?a=1;b")]
    ]


def test_an_assignment_after_and_is_a_javascript_syntax_error() -> None:
    # A browser cannot compile it, so vt must not pretend the click works.
    with pytest.raises(ExpressionError, match="syntax error"):
        parse_expression("evt.key==='Enter'&&$x=1;@post('/_action/Send')")
    assert parse_expression("evt.key==='Enter'&&($x=1)") == [[KeyGuard("Enter"), Assign(("x",), 1)]]


def test_a_comma_sequence_under_a_guard_runs_whole() -> None:
    assert parse_expression("confirm('Sure?')&&($x=1,@post('/a'))") == [
        [Confirm("Sure?"), Sequence((Assign(("x",), 1), Fetch("POST", "/a")))]
    ]
    with pytest.raises(ExpressionError, match="comma sequences of assignments and actions"):
        parse_expression("(confirm('a'),@post('/a'))")


def test_the_runtime_writes_expressions_vt_reads() -> None:
    from reference_impl import on

    attr = on.click("Send", when="evt.key==='Enter'", confirm="Sure?", set_signals={"d": ""})
    assert parse_expression(str(attr.value)) == [
        [
            KeyGuard("Enter"),
            Confirm("Sure?"),
            Sequence((Assign(("d",), ""), Fetch("POST", "/_action/Send"))),
        ]
    ]
    unguarded = on.click("Send", set_signals={"d": "x"})
    assert parse_expression(str(unguarded.value)) == [
        [Assign(("d",), "x")],
        [Fetch("POST", "/_action/Send")],
    ]


@pytest.mark.parametrize(
    ("expression", "part"),
    [
        ("$n = $n + 1", "`$n = $n + 1`: vt assigns literal values only"),
        ("@post('/a');doSomething()", "`doSomething()` is not something vt can perform"),
        ("@post(url)", "`@post(url)`: the URL must be a string literal"),
        ("@post('/a', opts)", "the options must be an object literal"),
        ("a || @post('/a')", "`a || @post('/a')` is not something"),
        ("@post('/a', {credentials: 'omit'})", "vt does not send requests with ['credentials']"),
    ],
)
def test_what_vt_cannot_read_is_an_error_naming_the_part(expression: str, part: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(expression)
    assert part in str(info.value)


PAGE = """
<body data-on:click__window="$clicks=1">
  <div id="outer" data-on:click="@post('/_action/Outer')">
    <button id="b" data-on:click="@post('/_action/Inner')"><span id="s">x</span></button>
    <button id="stop" data-on:click__stop="@post('/_action/Stop')">stop</button>
  </div>
  <div id="menu" data-on:click__outside="$open=false">menu</div>
  <input id="draft" data-bind="draft" data-on:keydown="evt.key==='Enter'&&@post('/_action/Send')">
  <input id="via" data-on:input.debounce.200ms="@post('/_action/Search')">
  <button id="once" data-on:click__once="@post('/_action/Once')">once</button>
  <button id="falsy" data-on:click="evt.key!=='x'&&($n=0)&&@post('/_action/Never')">0</button>
  <button id="seq" data-on:click="($n=0,@post('/_action/Both'))">seq</button>
</body>
"""


def effects(event: str, target: str, key: str | None = None, once: set | None = None) -> list:  # type: ignore[type-arg]
    document = Document.parse(PAGE)
    element = document.select_one(target)
    assert element is not None
    return dispatch(document, element, event, key=key, fired_once=once).effects


def test_a_click_bubbles_then_reaches_outside_and_window_listeners() -> None:
    assert effects("click", "#s") == [
        Fetch("POST", "/_action/Inner"),
        Fetch("POST", "/_action/Outer"),
        Assign(("open",), False),
        Assign(("clicks",), 1),
    ]


def test_a_falsy_assignment_ends_the_and_chain_as_in_javascript() -> None:
    found = effects("click", "#falsy")
    assert Fetch("POST", "/_action/Never") not in found
    assert Assign(("n",), 0) in found


def test_a_comma_sequence_runs_every_part() -> None:
    found = effects("click", "#seq")
    assert found[:2] == [Assign(("n",), 0), Fetch("POST", "/_action/Both")]


def test_stop_ends_propagation_and_outside_skips_its_own_element() -> None:
    assert effects("click", "#stop") == [Fetch("POST", "/_action/Stop")]
    assert effects("click", "#menu") == [Assign(("clicks",), 1)]


def test_key_guards_filter_keys() -> None:
    assert effects("keydown", "#draft", key="Enter") == [Fetch("POST", "/_action/Send")]
    document = Document.parse(PAGE)
    draft = document.select_one("#draft")
    assert draft is not None
    result = dispatch(document, draft, "keydown", key="a")
    assert result.effects == []
    ((binding, reason),) = result.blocked
    assert binding.attr == "data-on:keydown"
    assert "has key 'a'" in reason
    assert "evt.key === 'Enter'" in reason


def test_via_dotted_modifiers_are_reported_as_near_misses() -> None:
    document = Document.parse(PAGE)
    field = document.select_one("#via")
    assert field is not None
    result = dispatch(document, field, "input")
    assert result.fired == []
    assert any("modifiers are written with __" in m for m in result.near_misses)


def test_once_listeners_fire_once() -> None:
    fired: set = set()  # type: ignore[type-arg]
    assert Fetch("POST", "/_action/Once") in effects("click", "#once", once=fired)
    document = Document.parse(PAGE)
    element = document.select_one("#once")
    assert element is not None
    first = dispatch(document, element, "click", fired_once=fired)
    second = dispatch(document, element, "click", fired_once=fired)
    assert Fetch("POST", "/_action/Once") in first.effects
    assert Fetch("POST", "/_action/Once") not in second.effects


def test_bind_paths_and_field_values() -> None:
    document = Document.parse(
        '<input id="a" data-bind="form.email"><input id="b" data-bind:count type="number">'
        '<input id="c" data-bind-legacy><p id="d"></p>'
    )

    def el(selector: str):  # type: ignore[no-untyped-def]
        found = document.select_one(selector)
        assert found is not None
        return found

    assert bind_path(el("#a")) == ("form", "email")
    assert bind_path(el("#b")) == ("count",)
    assert bind_path(el("#c")) == ("legacy",)
    assert bind_path(el("#d")) is None
    assert field_value(el("#b"), "42") == 42
    assert field_value(el("#b"), "4.5") == 4.5
    assert field_value(el("#a"), "42") == "42"
