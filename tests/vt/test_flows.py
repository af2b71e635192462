"""Gesture rules with no server and no event loop: the flows of `vt.page.gestures`, driven by
`vt.page.gestures.run` against a replica built from HTML (timers on a simulated clock)."""

from __future__ import annotations

from typing import Any

import pytest

from vt import ElementNotInteractive, Replica
from vt.page.flows import Fired, Flow, GestureState, Later, Send, SetSignals
from vt.page.gestures import blur, check, click, fill, focus, press, run, select_option, type_text
from vt.page.requests import ActionResult


def replica(body: str, **signals: Any) -> Replica:
    return Replica.from_html(f"<html><body>{body}</body></html>", signals)


def sent(steps: list[Any]) -> list[str]:
    """The requests a flow sent, as `METHOD url`."""
    return [f"{s.method} {s.url}" for s in steps if isinstance(s, Send)]


def fired(steps: list[Any]) -> list[str]:
    """The listeners that ran, as `event attribute`."""
    return [f"{s.event} {s.binding.attr}" for s in steps if isinstance(s, Fired)]


def drive(
    flow: Flow, page: Replica, state: GestureState | None = None
) -> tuple[list[ActionResult], list[Any]]:
    def answer(send: Send) -> ActionResult:
        return ActionResult(f"{send.method} {send.url}", 200, {}, b"")

    return run(flow, page, answer, state=state, clock=state is not None)


def element(page: Replica, selector: str) -> Any:
    found = page.document.select_one(selector)
    assert found is not None, selector
    return found


S = GestureState


def test_expressions_run_as_javascript_runs_them() -> None:
    page = replica(
        '<button id="n" data-on:click="$page=$page+1">next</button>'
        '<button id="c" data-on:click="$clicks++">+</button>',
        page=1,
    )
    drive(click(page, element(page, "#n"), label="t", state=S()), page)
    drive(click(page, element(page, "#c"), label="t", state=S()), page)
    assert page.signals.to_dict() == {"page": 2, "clicks": 1}


def test_a_bound_checkbox_click_toggles_its_signal_and_fires_change() -> None:
    page = replica(
        '<input type="checkbox" id="c" data-bind="agree" '
        "data-on:change=\"@post('/_action/Changed')\">",
        agree=False,
    )
    state = S()
    box = element(page, "#c")
    results, steps = drive(click(page, box, label="t", state=state), page)
    assert page.signals["agree"] is True
    assert any(isinstance(s, SetSignals) for s in steps)
    assert sent(steps) == ["POST /_action/Changed"]
    assert [r.name for r in results] == ["POST /_action/Changed"]
    drive(click(page, box, label="t", state=state), page)
    assert page.signals["agree"] is False


def test_a_checkbox_with_a_value_sets_the_value_or_empty() -> None:
    page = replica('<input type="checkbox" id="c" data-bind="pick" value="yes">', pick="")
    box = element(page, "#c")
    drive(click(page, box, label="t", state=S()), page)
    assert page.signals["pick"] == "yes"
    drive(click(page, box, label="t", state=S()), page)
    assert page.signals["pick"] == ""


def test_a_radio_click_picks_its_value() -> None:
    page = replica(
        '<input type="radio" name="s" id="a" data-bind="size" value="S">'
        '<input type="radio" name="s" id="b" data-bind="size" value="L">',
        size="S",
    )
    drive(click(page, element(page, "#b"), label="t", state=S()), page)
    assert page.signals["size"] == "L"


def test_a_click_fires_the_pointer_events_in_chromiums_order() -> None:
    events = ["mouseover", "pointerdown", "mousedown", "focus", "pointerup", "mouseup", "click"]
    attrs = " ".join(f"data-on:{e}=\"$log=$log+'{e[:3]} '\"" for e in events)
    page = replica(f'<button id="b" {attrs}>b</button>', log="")
    drive(click(page, element(page, "#b"), label="t", state=S()), page)
    assert page.signals["log"] == "mou poi mou foc poi mou cli "


def test_change_without_data_bind_fires_on_a_checkbox_click() -> None:
    page = replica('<input type="checkbox" id="c" data-on:change="@post(\'/_action/Toggle\')">')
    _, steps = drive(click(page, element(page, "#c"), label="t", state=S()), page)
    assert fired(steps) == ["change data-on:change"]
    assert sent(steps) == ["POST /_action/Toggle"]


def test_a_submit_button_submits_its_form() -> None:
    page = replica(
        '<form data-on:submit="@post(\'/_action/Save\')"><button id="b">Save</button></form>'
    )
    _, steps = drive(click(page, element(page, "#b"), label="t", state=S()), page)
    assert fired(steps) == ["submit data-on:submit"]
    assert sent(steps) == ["POST /_action/Save"]


def test_a_form_nothing_prevents_is_refused_by_name() -> None:
    page = replica('<form><button id="b" data-on:click="$x=1">Save</button></form>')
    with pytest.raises(ElementNotInteractive, match="submit it natively"):
        drive(click(page, element(page, "#b"), label="t", state=S()), page)


def test_content_type_form_sends_the_closest_forms_fields() -> None:
    page = replica(
        "<form id=\"f\" data-on:submit=\"@post('/save', {contentType: 'form'})\">"
        '<input type="hidden" name="token" value="t0k3n"><input id="t" name="title">'
        '<input type="checkbox" name="no" value="x"><button id="go" name="go" value="1">Go'
        "</button></form>"
    )
    state = S()
    drive(fill(page, element(page, "#t"), "hello", label="t", state=state), page)
    _, steps = drive(click(page, element(page, "#go"), label="t", state=state), page)
    (send,) = [s for s in steps if isinstance(s, Send)]
    assert send.form == [("token", "t0k3n"), ("title", "hello"), ("go", "1")]


def test_enter_in_a_lone_field_submits_its_form_implicitly() -> None:
    page = replica(
        '<form data-on:submit="@post(\'/_action/Search\')"><input id="q" data-bind="q"></form>'
    )
    _, steps = drive(press(page, element(page, "#q"), "Enter", label="t", state=S()), page)
    assert sent(steps) == ["POST /_action/Search"]


def test_enter_in_a_field_clicks_the_forms_submit_button() -> None:
    page = replica(
        '<form data-on:submit="$s=1"><input id="a"><input id="b">'
        '<button id="go" data-on:click="@post(\'/_action/Go\')">Go</button></form>'
    )
    _, steps = drive(press(page, element(page, "#a"), "Enter", label="t", state=S()), page)
    assert fired(steps) == ["click data-on:click", "submit data-on:submit"]
    assert sent(steps) == ["POST /_action/Go"]


def test_key_filters_are_the_expressions_own() -> None:
    page = replica("<input id=\"d\" data-on:keydown=\"evt.key==='Enter'&&@post('/_action/Send')\">")
    field = element(page, "#d")
    _, steps = drive(press(page, field, "Enter", label="t", state=S()), page)
    assert sent(steps) == ["POST /_action/Send"]
    _, steps = drive(press(page, field, "a", label="t", state=S()), page)
    assert sent(steps) == []  # the character went into the field; nothing was sent


def test_a_key_that_does_nothing_is_refused_saying_what_ran() -> None:
    page = replica("<button id=\"d\" data-on:keydown=\"evt.key==='Enter'&&@post('/x')\">b</button>")
    with pytest.raises(ElementNotInteractive) as info:
        drive(press(page, element(page, "#d"), "a", label="t", state=S()), page)
    assert "ran for keydown (key 'a') and did nothing" in str(info.value)


def test_typing_sets_the_bound_signal_per_character_and_numbers_for_number_fields() -> None:
    page = replica(
        '<input id="d" data-bind="draft"><input id="n" type="number" data-bind="qty">',
        draft="",
        qty=0,
    )
    _, steps = drive(type_text(page, element(page, "#d"), "hi", label="t", state=S()), page)
    assert [s.store["draft"] for s in steps if isinstance(s, SetSignals)] == ["", "h", "hi"]
    drive(type_text(page, element(page, "#n"), "12", label="t", state=S()), page)
    assert page.signals["qty"] == 12


def test_debounce_runs_once_after_the_last_key_on_the_clock() -> None:
    page = replica(
        '<input id="q" data-bind="q" '
        "data-on:input__debounce.200ms=\"@post('/_action/Search')\" "
        "data-on:keydown__debounce.200ms=\"@post('/_action/Key')\">",
        q="",
    )
    state = S()
    _, steps = drive(
        type_text(page, element(page, "#q"), "abc", label="t", state=state), page, state
    )
    assert sorted(sent(steps)) == ["POST /_action/Key", "POST /_action/Search"]
    assert len([s for s in steps if isinstance(s, Later)]) == 6
    assert page.signals["q"] == "abc"


def test_throttle_runs_on_the_first_key_only() -> None:
    page = replica(
        '<input id="q" data-bind="q" data-on:input__throttle.1s="@post(\'/_action/T\')">', q=""
    )
    state = S()
    _, steps = drive(
        type_text(page, element(page, "#q"), "abc", label="t", state=state), page, state
    )
    assert sent(steps) == ["POST /_action/T"]


def test_a_disabled_button_refuses_the_click() -> None:
    page = replica('<button id="b" disabled data-on:click="@post(\'/_action/X\')">x</button>')
    with pytest.raises(ElementNotInteractive, match="is disabled"):
        drive(click(page, element(page, "#b"), label="t", state=S()), page)


def test_a_click_bubbles_and_once_fires_once() -> None:
    page = replica(
        '<div data-on:click__once="@post(\'/_action/Once\')"><span id="s">x</span></div>'
    )
    state = S()
    _, first = drive(click(page, element(page, "#s"), label="t", state=state), page)
    assert sent(first) == ["POST /_action/Once"]
    with pytest.raises(ElementNotInteractive):
        drive(click(page, element(page, "#s"), label="t", state=state), page)


def test_signals_an_expression_writes_come_before_its_requests() -> None:
    page = replica("<button id=\"r\" data-on:click=\"$draft='reset';@post('/_action/Send')\">")
    _, steps = drive(click(page, element(page, "#r"), label="t", state=S()), page)
    assert [type(s).__name__ for s in steps] == ["Fired", "SetSignals", "Send"]
    assert page.signals["draft"] == "reset"
    assert steps[-1].request["signals"] == '{"draft":"reset"}'


def test_typing_into_a_plain_paragraph_is_refused() -> None:
    page = replica('<p id="p">text</p>')
    with pytest.raises(ElementNotInteractive, match="cannot type into"):
        drive(type_text(page, element(page, "#p"), "x", label="t", state=S()), page)


def test_focus_blur_and_select_fire_their_events() -> None:
    page = replica(
        '<input id="a" data-on:focus="$log=$log+\'F\'" data-on:blur="$log=$log+\'B\'" '
        "data-on:change=\"$log=$log+'C'\">"
        '<select id="s" data-bind="size" data-on:change="$log=$log+$size">'
        '<option value="S">S</option><option value="L">L</option></select>'
        '<input type="checkbox" id="c" data-bind="ok">',
        log="",
        ok=False,
    )
    state = S()
    drive(focus(page, element(page, "#a"), label="t", state=state), page)
    drive(fill(page, element(page, "#a"), "x", label="t", state=state), page)
    drive(blur(page, element(page, "#a"), label="t", state=state), page)
    drive(select_option(page, element(page, "#s"), "L", label="t", state=state), page)
    assert page.signals["log"] == "FCBL"
    drive(check(page, element(page, "#c"), True, label="t", state=state), page)
    drive(check(page, element(page, "#c"), True, label="t", state=state), page)
    assert page.signals["ok"] is True
