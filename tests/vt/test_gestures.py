"""click, press and type: vt reads the page's bindings and does what the browser would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import vt
from tests.vt.apps import Form, Scripted, app_for, page

pytestmark = pytest.mark.anyio


@pytest.fixture
async def form_tab(serve: Callable[[Any], str]) -> Any:
    async with vt.AsyncClient(serve(app_for(Form)), timeout=3) as client:
        tab = await client.new_session("user").open("/")
        await tab.ready()
        yield tab


async def log_lines(tab: vt.AsyncTab, count: int) -> list[str]:
    await tab.wait_until(
        lambda: len(tab.select("#log li")) >= count or None,
        description=f"show {count} log lines",
    )
    return [li.text for li in tab.select("#log li")]


async def test_type_then_press_enter_sends_what_was_typed(form_tab: vt.AsyncTab) -> None:
    await form_tab.type("#draft", "hello")
    assert form_tab.signals["draft"] == "hello"

    (result,) = await form_tab.press("#draft", "Enter")

    assert result.status == 200
    assert await log_lines(form_tab, 1) == ["send 'hello' qty=0 agree=False"]
    await form_tab.expect_signal("draft", "")  # the server cleared it


async def test_typing_into_a_number_field_sets_a_number(form_tab: vt.AsyncTab) -> None:
    await form_tab.type("#qty", "12")
    assert form_tab.signals["qty"] == 12
    await form_tab.click("#send")
    assert await log_lines(form_tab, 1) == ["send '' qty=12 agree=False"]


async def test_clicking_a_bound_checkbox_toggles_its_signal(form_tab: vt.AsyncTab) -> None:
    await form_tab.click("#agree")
    assert form_tab.signals["agree"] is True
    await form_tab.click("#agree")
    assert form_tab.signals["agree"] is False


async def test_a_click_bubbles_from_a_child_to_the_bound_button(form_tab: vt.AsyncTab) -> None:
    results = await form_tab.click("#icon")
    assert [r.name for r in results] == ["POST /_action/Send"]
    assert await log_lines(form_tab, 1) == ["send '' qty=0 agree=False"]


async def test_assignments_run_before_the_post(form_tab: vt.AsyncTab) -> None:
    await form_tab.click("#reset")
    assert await log_lines(form_tab, 1) == ["send 'reset' qty=0 agree=False"]


async def test_confirm_is_answered_ok_and_noted(form_tab: vt.AsyncTab) -> None:
    await form_tab.click("#delete")
    assert await log_lines(form_tab, 1) == ["delete"]
    gestures = [e.text for e in form_tab.timeline.of_kind("gesture")]
    assert any("confirm('Sure?') answered OK" in text for text in gestures)


async def test_a_debounced_input_binding_fires_once_after_typing(form_tab: vt.AsyncTab) -> None:
    results = await form_tab.type("#query", "cats")
    assert results == []  # the debounced post goes on the client's clock, after the last key
    assert await log_lines(form_tab, 1) == ["search 'cats'"]
    await form_tab.expect_quiet(0.2)
    assert len(form_tab.select("#log li")) == 1


async def test_enter_in_a_single_field_form_submits_it(form_tab: vt.AsyncTab) -> None:
    await form_tab.type("#only-field", "dogs")
    await form_tab.press("#only-field", "Enter")
    assert await log_lines(form_tab, 1) == ["search 'dogs'"]


async def test_a_key_the_filter_rejects_types_the_character_and_sends_nothing(
    form_tab: vt.AsyncTab,
) -> None:
    assert await form_tab.press("#draft", "a") == []
    assert form_tab.signals["draft"] == "a"
    assert form_tab.select("#log li") == []


async def test_clicking_an_element_without_bindings_is_an_error(form_tab: vt.AsyncTab) -> None:
    with pytest.raises(vt.ElementNotInteractive, match="no data-on:click"):
        await form_tab.click("#plain")
    with pytest.raises(vt.ElementNotInteractive, match="disabled"):
        await form_tab.click("#off")
    with pytest.raises(vt.ElementNotInteractive, match="not a form field and has no data-bind"):
        await form_tab.type("#plain", "x")
    assert form_tab.select("#log li") == []


async def test_an_expression_a_browser_cannot_compile_is_refused(form_tab: vt.AsyncTab) -> None:
    # `confirm('Sure?')&&$x=1;@post(...)` is a JavaScript syntax error (an assignment cannot
    # follow &&), so the button is dead in a browser: vt must not pretend the click works.
    with pytest.raises(vt.ElementNotInteractive, match="GenerateExpression") as info:
        await form_tab.click("#broken")
    assert "the browser logs it and does nothing else" in str(info.value)


async def test_guarded_assignments_run_with_the_action(form_tab: vt.AsyncTab) -> None:
    # on.click(..., confirm=..., set_signals=...) writes `confirm("Sure?")&&($draft="guarded",
    # @post('/_action/Send'))`: the assignment and the post both sit under the guard.
    await form_tab.click("#guarded")
    await form_tab.expect_text("#log", "send 'guarded'")


async def test_a_click_waits_for_its_element(form_tab: vt.AsyncTab) -> None:
    with pytest.raises(vt.WaitTimeout, match="show an element matching '#later' to click"):
        await form_tab.click("#later", timeout=0.2)


async def test_append_types_after_the_current_value(form_tab: vt.AsyncTab) -> None:
    await form_tab.type("#draft", "ab")
    await form_tab.type("#draft", "cd", append=True)
    assert form_tab.signals["draft"] == "abcd"


async def test_local_signals_are_never_sent(serve: Callable[[Any], str]) -> None:
    scripted = Scripted(
        page_html=page(
            body='<div data-signals="{_open: true, shown: 1}"></div>'
            '<button id="go" data-on:click="$_open=false;@post(\'/_action/Go\')">go</button>',
            signals={"name": "ada"},
        )
    )
    async with vt.AsyncClient(serve(scripted.app()), timeout=3) as client:
        tab = await client.new_session().open("/")
        assert tab.signals["_open"] is True
        await tab.click("#go")
        with pytest.raises(vt.UsageError, match="are local"):
            await tab.action("Go", _open=True)

    ((name, body),) = scripted.actions
    assert name == "Go"
    assert body == {"via_tab": tab.id, "name": "ada", "shown": 1}
    assert tab.signals["_open"] is False  # set locally by the click, never sent


def test_gestures_sync(vt_client_for_form: vt.Client) -> None:
    tab = vt_client_for_form.new_session().open("/")
    tab.ready()
    tab.type("#draft", "sync")
    tab.press("#draft", "Enter")
    tab.expect_text("#log", "send 'sync'")
    with pytest.raises(vt.ElementNotInteractive):
        tab.click("#plain")


@pytest.fixture
def vt_client_for_form(serve: Callable[[Any], str]) -> Any:
    with vt.Client(serve(app_for(Form)), timeout=3) as client:
        yield client
