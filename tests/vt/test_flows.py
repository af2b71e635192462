"""Gesture rules with no server and no event loop: the flows of `vt.page.flows`, driven by
`vt.page.flows.run` against a replica built from HTML."""

from __future__ import annotations

from typing import Any

import pytest

from vt import ElementNotInteractive, Replica
from vt.page.bindings import Assign, Fetch
from vt.page.flows import Fired, Flow, click, press, run, type_text
from vt.page.requests import ActionResult


def replica(body: str, **signals: Any) -> Replica:
    return Replica.from_html(f"<html><body>{body}</body></html>", signals)


def sent(steps: list[Any]) -> list[str]:
    """The requests a flow sent, as `METHOD url`."""
    return [f"{s.method} {s.url}" for s in steps if isinstance(s, Fetch)]


def fired(steps: list[Any]) -> list[str]:
    """The bindings that ran, as `event attribute`."""
    return [f"{s.event} {s.binding.attr}" for s in steps if isinstance(s, Fired)]


def drive(flow: Flow, page: Replica) -> tuple[list[ActionResult], list[Any]]:
    def answer(fetch: Fetch) -> ActionResult:
        return ActionResult(f"{fetch.method} {fetch.url}", 200, {}, b"")

    return run(flow, page, answer)


def element(page: Replica, selector: str) -> Any:
    found = page.document.select_one(selector)
    assert found is not None, selector
    return found


def test_a_bound_checkbox_click_toggles_its_signal_and_fires_change() -> None:
    page = replica(
        '<input type="checkbox" id="c" data-bind="agree" '
        "data-on:change=\"@post('/_action/Changed')\">",
        agree=False,
    )
    box = element(page, "#c")
    results, steps = drive(click(page, box, label="t"), page)
    assert page.signals["agree"] is True
    assert Assign(("agree",), True) in steps
    assert sent(steps) == ["POST /_action/Changed"]
    assert [r.name for r in results] == ["POST /_action/Changed"]

    drive(click(page, box, label="t"), page)
    assert page.signals["agree"] is False


def test_a_checkbox_with_a_value_sets_the_value_or_empty() -> None:
    page = replica('<input type="checkbox" id="c" data-bind="pick" value="yes">', pick="")
    box = element(page, "#c")
    drive(click(page, box, label="t"), page)
    assert page.signals["pick"] == "yes"
    drive(click(page, box, label="t"), page)
    assert page.signals["pick"] == ""


def test_a_radio_click_picks_its_value() -> None:
    page = replica(
        '<input type="radio" name="s" id="a" data-bind="size" value="S">'
        '<input type="radio" name="s" id="b" data-bind="size" value="L">',
        size="S",
    )
    drive(click(page, element(page, "#b"), label="t"), page)
    assert page.signals["size"] == "L"


def test_change_without_data_bind_fires_on_a_checkbox_click() -> None:
    page = replica('<input type="checkbox" id="c" data-on:change="@post(\'/_action/Toggle\')">')
    _, steps = drive(click(page, element(page, "#c"), label="t"), page)
    assert fired(steps) == ["change data-on:change"]
    assert sent(steps) == ["POST /_action/Toggle"]


def test_a_submit_button_submits_its_form() -> None:
    page = replica(
        '<form data-on:submit="@post(\'/_action/Save\')"><button id="b">Save</button></form>'
    )
    _, steps = drive(click(page, element(page, "#b"), label="t"), page)
    assert fired(steps) == ["submit data-on:submit"]
    assert sent(steps) == ["POST /_action/Save"]


def test_enter_in_a_lone_field_submits_its_form_implicitly() -> None:
    page = replica(
        '<form data-on:submit="@post(\'/_action/Search\')"><input id="q" data-bind="q"></form>'
    )
    _, steps = drive(press(page, element(page, "#q"), "Enter", label="t"), page)
    assert sent(steps) == ["POST /_action/Search"]


def test_enter_in_a_field_clicks_the_forms_submit_button() -> None:
    page = replica(
        '<form><input id="a"><input id="b">'
        '<button id="go" data-on:click="@post(\'/_action/Go\')">Go</button></form>'
    )
    _, steps = drive(press(page, element(page, "#a"), "Enter", label="t"), page)
    assert fired(steps) == ["click data-on:click"]
    assert sent(steps) == ["POST /_action/Go"]


def test_enter_in_a_form_of_two_fields_and_no_button_does_nothing() -> None:
    page = replica(
        '<form data-on:submit="@post(\'/_action/S\')"><input id="a"><input id="b"></form>'
    )
    with pytest.raises(ElementNotInteractive, match="nothing reacts to it"):
        drive(press(page, element(page, "#a"), "Enter", label="t"), page)


def test_key_filters_pick_the_bindings_that_run() -> None:
    page = replica("<input id=\"d\" data-on:keydown=\"evt.key==='Enter'&&@post('/_action/Send')\">")
    field = element(page, "#d")
    _, steps = drive(press(page, field, "Enter", label="t"), page)
    assert sent(steps) == ["POST /_action/Send"]

    with pytest.raises(ElementNotInteractive) as info:
        drive(press(page, field, "a", label="t"), page)
    assert "did not run" in str(info.value)
    assert "evt.key === 'Enter'" in str(info.value)


def test_typing_sets_the_bound_signal_per_character_and_numbers_for_number_fields() -> None:
    page = replica(
        '<input id="d" data-bind="draft"><input id="n" type="number" data-bind="qty">',
        draft="",
        qty=0,
    )
    _, steps = drive(type_text(page, element(page, "#d"), "hi", label="t"), page)
    assert [s.value for s in steps if isinstance(s, Assign)] == ["h", "hi"]
    drive(type_text(page, element(page, "#n"), "12", label="t"), page)
    assert page.signals["qty"] == 12


def test_debounce_is_refused_per_character_and_an_input_one_fires_once_at_the_end() -> None:
    page = replica(
        '<input id="q" data-bind="q" '
        "data-on:input__debounce.200ms=\"@post('/_action/Search')\" "
        "data-on:keydown__debounce.200ms=\"@post('/_action/Key')\">",
        q="",
    )
    _, steps = drive(type_text(page, element(page, "#q"), "abc", label="t"), page)
    assert sent(steps) == ["POST /_action/Search"]  # once, never the debounced keydown
    assert page.signals["q"] == "abc"


def test_throttle_fires_on_the_first_character_only() -> None:
    page = replica(
        '<input id="q" data-bind="q" data-on:input__throttle.1s="@post(\'/_action/T\')">',
        q="",
    )
    _, steps = drive(type_text(page, element(page, "#q"), "abc", label="t"), page)
    assert sent(steps) == ["POST /_action/T"]


def test_a_disabled_button_refuses_the_click() -> None:
    page = replica('<button id="b" disabled data-on:click="@post(\'/_action/X\')">x</button>')
    with pytest.raises(ElementNotInteractive, match="is disabled"):
        drive(click(page, element(page, "#b"), label="t"), page)


def test_a_click_bubbles_and_once_fires_once() -> None:
    page = replica(
        '<div data-on:click__once="@post(\'/_action/Once\')"><span id="s">x</span></div>'
    )
    once: set[Any] = set()
    _, first = drive(click(page, element(page, "#s"), label="t", fired_once=once), page)
    assert sent(first) == ["POST /_action/Once"]
    with pytest.raises(ElementNotInteractive):
        drive(click(page, element(page, "#s"), label="t", fired_once=once), page)


def test_assignments_in_a_binding_are_yielded_before_its_request() -> None:
    page = replica("<button id=\"r\" data-on:click=\"$draft='reset';@post('/_action/Send')\">")
    _, steps = drive(click(page, element(page, "#r"), label="t"), page)
    kinds = [type(s).__name__ for s in steps]
    assert kinds == ["Fired", "Assign", "Fetch"]
    assert page.signals["draft"] == "reset"


def test_typing_into_a_plain_paragraph_is_refused() -> None:
    page = replica('<p id="p">text</p>')
    with pytest.raises(ElementNotInteractive, match="cannot type into"):
        drive(type_text(page, element(page, "#p"), "x", label="t"), page)
