"""Datastar's `data-on` listeners without a browser: their order, and what running one does
(in the JavaScript engine, as Datastar compiles it)."""

from __future__ import annotations

from typing import Any

from vt import Document
from vt.js.engine import engine
from vt.page.bindings import (
    bind_path,
    field_value,
    listeners,
    near_misses,
    run_listener,
)
from vt.replica.fields import Fields

PAGE = """
<body data-on:click__window="$clicks=1">
  <div id="outer" data-on:click="@post('/_action/Outer')" data-on:click__capture="$cap=1">
    <button id="b" data-on:click="@post('/_action/Inner')"><span id="s">x</span></button>
    <button id="stop" data-on:click__stop="@post('/_action/Stop')">stop</button>
  </div>
  <div id="menu" data-on:click__outside="$open=false">menu</div>
  <input id="draft" data-bind="draft" data-on:keydown="evt.key==='Enter'&&@post('/_action/Send')">
  <input id="via" data-on:input.debounce.200ms="@post('/_action/Search')">
  <p id="f" data-on:focus="$f=1" data-on:focus__capture="$fc=1"></p>
</body>
"""


def order(event: str, target: str) -> list[str]:
    document = Document.parse(PAGE)
    element = document.select_one(target)
    assert element is not None
    return [
        f"{b.element.id or b.element.tag}:{b.attr}" for b in listeners(document, element, event)
    ]


def test_capture_then_target_then_bubbling_then_document_then_window() -> None:
    assert order("click", "#s") == [
        "outer:data-on:click__capture",
        "b:data-on:click",
        "outer:data-on:click",
        "menu:data-on:click__outside",
        "body:data-on:click__window",
    ]


def test_outside_listeners_skip_events_inside_their_element() -> None:
    assert "menu:data-on:click__outside" not in order("click", "#menu")


def test_events_that_do_not_bubble_reach_the_target_and_capture_listeners_only() -> None:
    assert order("focus", "#f") == ["f:data-on:focus__capture", "f:data-on:focus"]
    assert order("focus", "#s") == []


def test_dotted_modifiers_are_reported_as_near_misses() -> None:
    document = Document.parse(PAGE)
    field = document.select_one("#via")
    assert field is not None
    assert any("modifiers are written with __" in m for m in near_misses(field, "input"))


def run(target: str, event: str, key: str | None = None, **signals: Any) -> Any:
    document = Document.parse(PAGE)
    element = document.select_one(target)
    assert element is not None
    (binding,) = [b for b in listeners(document, element, event) if b.element == element]
    return run_listener(binding, element, signals, Fields(), key=key)


def test_a_listener_runs_its_expression_in_the_engine() -> None:
    ran = run("#draft", "keydown", key="Enter", draft="hi", _local=1)
    assert ran.error is None
    assert [(r["method"], r["url"]) for r in ran.requests] == [("POST", "/_action/Send")]
    # The signals go as they are when the action is called, local ones left out.
    assert ran.requests[0]["signals"] == '{"draft":"hi"}'
    assert run("#draft", "keydown", key="a", draft="hi").requests == []


def test_stop_modifier_stops_propagation() -> None:
    assert run("#stop", "click").stopped


def test_the_rewrite_is_datastars() -> None:
    body = engine().rewrite("$a.b = `${$c}`; @post('/x')", returns_value=True)
    assert body == "$['a']['b'] = `${$['c']}`;\nreturn (__action(\"post\",evt,'/x'));"


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
