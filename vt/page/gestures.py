"""The gestures a person performs, as Chromium dispatches their events (sans-IO flows).

Each function returns a `vt.page.flows.Flow`. The events and their order are Chromium's
under Playwright's actions (`locator.click`, `press`, `fill`, `check`, `select_option`,
`focus`, `blur`, `hover`):

* click: the pointer moves onto the element (`pointerover`, `pointerenter`, `mouseover`,
  `mouseenter`, `pointermove`, `mousemove`), `pointerdown`, `mousedown`, focus moves (`blur`,
  `focusout` on the old element, `change` first if it was edited; `focus`, `focusin`),
  `pointerup`, `mouseup`, `click`; then the default action: a checkbox or radio toggles (before
  `click`'s listeners run, undone if one prevents it) and fires `input` and `change`, a submit
  button submits its form (`submit`);
* press: focus, `keydown`, `keypress` (printable keys and Enter), the default action (a
  character goes into a text field with `beforeinput`/`input`; Enter submits a field's form
  or clicks a focused button; Space clicks a button), `keyup`;
* type: per character as press does, from an empty field (or appending), then `change`;
* fill: focus, the value set, one `input` (no keys); check/uncheck: a click when the box is
  not already so; select: the option picked, `input` and `change`; submit: `submit` on the
  form; focus, blur, hover: the focus and pointer events alone.

A form a browser would submit natively (no listener prevented `submit`) is refused by name:
that is a new page load, which vt does not perform from a gesture.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any

from ..errors import ElementNotInteractive
from ..replica.dom import Element
from ..replica.fields import ElementHost
from .bindings import bind_path, run_expression
from .flows import (
    TEXT_FIELDS,
    Flow,
    Gesture,
    GestureState,
    Later,
    Page,
    Send,
    SetSignals,
    Step,
    describe_element,
    gesture,
    get_path,
    is_disabled,
    is_hidden,
    is_submit_button,
    set_path,
)
from .requests import ActionResult

__all__ = [
    "blur",
    "check",
    "click",
    "fill",
    "fire_timer",
    "focus",
    "hover",
    "perform",
    "press",
    "run",
    "select_option",
    "submit",
    "type_text",
]

_Sub = Generator[Step, Any, None]
_FOCUSABLE = frozenset({"button", "input", "select", "textarea", "summary"})


def _focusable(el: Element) -> bool:
    if el.tag in _FOCUSABLE:
        return not is_disabled(el)
    return (
        (el.tag == "a" and el.get("href") is not None)
        or el.get("tabindex") is not None
        or el.get("contenteditable") not in (None, "false")
    )


def _editable(el: Element) -> bool:
    if el.tag == "textarea":
        return True
    return el.tag == "input" and (el.get("type") or "").lower() in TEXT_FIELDS


def _refuse_disabled(g: Gesture, target: Element, what: str) -> None:
    if is_hidden(target):
        raise ElementNotInteractive(
            f"{g.label}: {describe_element(target)} is not visible (display: none or hidden, "
            f"on it or an ancestor); a person cannot direct {what} at it"
        )
    if is_disabled(target):
        raise ElementNotInteractive(
            f"{g.label}: {describe_element(target)} is disabled; a browser does not "
            f"dispatch {what} to it"
        )


def _move_focus(g: Gesture, target: Element | None) -> _Sub:
    old = g.state.focused
    if old == target:
        return
    if old is not None:
        if old.node in g.state.dirty:
            g.state.dirty.discard(old.node)
            yield from g.dispatch(old, "change")
        yield from g.dispatch(old, "blur")
        yield from g.dispatch(old, "focusout")
    g.state.focused = target
    if target is not None:
        yield from g.dispatch(target, "focus")
        yield from g.dispatch(target, "focusin")


def _hover(g: Gesture, target: Element) -> _Sub:
    old = g.state.hovered
    if old == target:
        return
    if old is not None:
        for event in ("pointerout", "pointerleave", "mouseout", "mouseleave"):
            yield from g.dispatch(old, event)
    g.state.hovered = target
    for event in ("pointerover", "pointerenter", "mouseover", "mouseenter", "pointermove"):
        yield from g.dispatch(target, event)
    yield from g.dispatch(target, "mousemove")


def _click(g: Gesture, target: Element) -> _Sub:
    _refuse_disabled(g, target, "clicks")
    yield from _hover(g, target)
    yield from g.dispatch(target, "pointerdown")
    down_prevented = yield from g.dispatch(target, "mousedown")
    if not down_prevented and _focusable(target):
        yield from _move_focus(g, target)
    yield from g.dispatch(target, "pointerup")
    yield from g.dispatch(target, "mouseup")
    yield from _activate(g, target)


def _activate(g: Gesture, target: Element) -> _Sub:
    """The `click` event and its default action."""
    kind = (target.get("type") or "").lower() if target.tag == "input" else ""
    fields, signals = g.page.fields, g.page.signals
    if kind in ("checkbox", "radio"):
        before = fields.is_checked(target.node, signals)
        after = True if kind == "radio" else not before
        fields.set_checked(target.node, after)
        prevented = yield from g.dispatch(target, "click")
        if prevented:
            fields.set_checked(target.node, before)
            return
        if after != before:
            g.defaults.append(f"{'tick' if after else 'untick'} {describe_element(target)}")
            yield from _bind_checked(g, target)
            yield from g.dispatch(target, "input")
            yield from g.dispatch(target, "change")
        return
    prevented = yield from g.dispatch(target, "click")
    if prevented:
        return
    form = target.closest("form")
    if form is not None and is_submit_button(target):
        g.submitter = target
        yield from _submit(g, form, target)


def _bind_checked(g: Gesture, target: Element) -> _Sub:
    """A bound checkbox or radio's signal, as Datastar's bind adapter reads it."""
    path = bind_path(target)
    if path is None:
        return
    checked = g.page.fields.is_checked(target.node)
    current = get_path(g.page.signals, path)
    value_attr = target.get("value")
    kind = (target.get("type") or "").lower()
    if kind == "radio":
        if not checked:
            return
        raw = value_attr if value_attr is not None else "on"
        value: Any = raw
        if isinstance(current, int | float) and not isinstance(current, bool):
            try:
                value = float(raw) if "." in raw else int(raw)
            except ValueError:
                value = None
    elif value_attr is not None and value_attr != "on":
        value = checked if isinstance(current, bool) else (value_attr if checked else "")
    else:
        value = (value_attr or "on") if checked and isinstance(current, str) else checked
        if isinstance(current, str) and not checked:
            value = ""
    store = g.page.signals.to_dict()
    set_path(store, path, value)
    g.page.fields.checked.pop(target.node, None)  # the signal holds it now
    yield SetSignals(store)


def _submit(g: Gesture, form: Element, submitter: Element | None) -> _Sub:
    prevented = yield from g.dispatch(form, "submit")
    if not prevented:
        raise ElementNotInteractive(
            f"{g.label}: {g.name}: nothing prevents the submit of {describe_element(form)}, so "
            "a browser would submit it natively (a new page load); vt does not perform native "
            "submissions from a gesture: give the form data-on:submit (Datastar prevents it), "
            "or make the button type=button"
        )
    g.defaults.append(f"submit {describe_element(form)}")


def click(
    page: Page, target: Element, *, label: str, state: GestureState, name: str | None = None
) -> Flow:
    """A click on `target` (see the module docstring for the events)."""
    g = gesture(page, state, name or "click", label)
    yield from _click(g, target)
    return g.finish(target, ("click", "input", "change", "submit"))


def _key(g: Gesture, target: Element, key: str) -> Generator[Step, Any, None]:
    down = yield from g.dispatch(target, "keydown", key=key)
    printable = len(key) == 1
    if not down and (printable or key == "Enter"):
        down = yield from g.dispatch(target, "keypress", key=key)
    if not down:
        if printable and _editable(target):
            value = g.page.fields.value(target.node, g.page.signals)
            yield from g.dispatch(target, "beforeinput", inputType="insertText", data=key)
            yield from g.set_field(target, value + key)
            yield from g.dispatch(target, "input", inputType="insertText", data=key)
        elif key == "Enter":
            if target.tag in ("button", "a") or is_submit_button(target):
                g.defaults.append(f"Enter clicks {describe_element(target)}")
                yield from _activate(g, target)
            elif target.tag == "input" and _editable(target):
                form = target.closest("form")
                if form is not None:
                    yield from _implicit_submit(g, form)
    yield from g.dispatch(target, "keyup", key=key)
    if not down and key == " " and (target.tag == "button" or is_submit_button(target)):
        g.defaults.append(f"Space clicks {describe_element(target)}")
        yield from _activate(g, target)


def _implicit_submit(g: Gesture, form: Element) -> _Sub:
    """HTML's implicit submission: Enter in a field clicks the form's default button, or
    submits a form that has no button."""
    buttons = [el for el in form.select("button, input") if is_submit_button(el)]
    if buttons:
        g.defaults.append(f"Enter clicks {describe_element(buttons[0])}")
        if not is_disabled(buttons[0]):
            yield from _activate(g, buttons[0])
        return
    fields = [el for el in form.select("input") if _editable(el)]
    if len(fields) == 1:
        yield from _submit(g, form, None)


def press(
    page: Page,
    target: Element,
    key: str,
    *,
    label: str,
    state: GestureState,
    name: str | None = None,
) -> Flow:
    """One key (a `KeyboardEvent.key`: ``"Enter"``, ``"a"``) on `target`, focused first."""
    g = gesture(page, state, name or f"press {key!r}", label)
    _refuse_disabled(g, target, "keys")
    yield from _move_focus(g, target if _focusable(target) else None)
    yield from _key(g, target, key)
    return g.finish(target, ("keydown", "keypress", "input", "keyup", "click", "submit"))


def type_text(
    page: Page,
    target: Element,
    text: str,
    *,
    label: str,
    state: GestureState,
    append: bool = False,
    name: str | None = None,
) -> Flow:
    """Typing `text` into a field (emptied first unless `append`), key by key, then
    `change`, as when the field is left (focus stays)."""
    g = gesture(page, state, name or f"type {text!r}", label)
    _refuse_disabled(g, target, "keys")
    plain = not (_editable(target) or target.tag == "select" or target.get("contenteditable"))
    if plain and bind_path(target) is None:
        raise ElementNotInteractive(
            f"{label}: cannot type into {describe_element(target)}: it is not a "
            "form field and has no data-bind"
        )
    yield from _move_focus(g, target)
    if not append:
        g.page.fields.set_value(target.node, "")
        yield from g.set_field(target, "")
    for char in text:
        yield from _key(g, target, char)
    if target.node in g.state.dirty:
        g.state.dirty.discard(target.node)
        yield from g.dispatch(target, "change")
    return g.finish(target, ("keydown", "input", "keyup", "change"))


def fill(page: Page, target: Element, text: str, *, label: str, state: GestureState) -> Flow:
    """Playwright's `fill`: focus, the whole value replaced, one `input` event."""
    g = gesture(page, state, f"fill {text!r}", label)
    _refuse_disabled(g, target, "input")
    yield from _move_focus(g, target)
    yield from g.set_field(target, text)
    yield from g.dispatch(target, "input", inputType="insertText", data=text)
    return g.finish(target, ("input",))


def check(page: Page, target: Element, checked: bool, *, label: str, state: GestureState) -> Flow:
    """Tick (or untick) a checkbox or radio: a click, unless it already is so."""
    g = gesture(page, state, "check" if checked else "uncheck", label)
    if page.fields.is_checked(target.node, page.signals) == checked:
        g.defaults.append("already so")
        return g.finish(target, ())
    yield from _click(g, target)
    return g.finish(target, ("click", "input", "change"))


def select_option(
    page: Page, target: Element, value: str, *, label: str, state: GestureState
) -> Flow:
    """Pick the option whose value (or text) is `value` in a `<select>`: `input`, `change`."""
    g = gesture(page, state, f"select {value!r}", label)
    _refuse_disabled(g, target, "input")
    options = target.select("option")
    chosen = next((o for o in options if (o.get("value") or o.text) == value), None)
    if target.tag != "select" or chosen is None:
        raise ElementNotInteractive(
            f"{label}: {describe_element(target)} has no option {value!r} "
            f"(options: {[o.get('value') or o.text for o in options]})"
        )
    yield from _move_focus(g, target)
    page.fields.set_value(target.node, chosen.get("value") or chosen.text)
    yield from g.set_field(target, chosen.get("value") or chosen.text)
    g.state.dirty.discard(target.node)
    yield from g.dispatch(target, "input")
    yield from g.dispatch(target, "change")
    return g.finish(target, ("input", "change"))


def submit(page: Page, target: Element, *, label: str, state: GestureState) -> Flow:
    """`form.requestSubmit()` on `target`'s form (or `target`, a form): `submit`."""
    g = gesture(page, state, "submit", label)
    form = target if target.tag == "form" else target.closest("form")
    if form is None:
        raise ElementNotInteractive(f"{label}: {describe_element(target)} is in no form")
    yield from _submit(g, form, None)
    return g.finish(form, ("submit",))


def focus(page: Page, target: Element, *, label: str, state: GestureState) -> Flow:
    """Move focus to `target`: `blur`/`focusout` on the old element, `focus`/`focusin`."""
    g = gesture(page, state, "focus", label)
    g.defaults.append("focus")
    yield from _move_focus(g, target)
    return g.finish(target, ("focus", "focusin"))


def blur(page: Page, target: Element, *, label: str, state: GestureState) -> Flow:
    """Take focus from `target` (if it has it): `change` if it was edited, `blur`,
    `focusout`."""
    g = gesture(page, state, "blur", label)
    g.defaults.append("blur")
    if state.focused == target:
        yield from _move_focus(g, None)
    return g.finish(target, ("blur", "focusout"))


def hover(page: Page, target: Element, *, label: str, state: GestureState) -> Flow:
    """Move the pointer onto `target`."""
    g = gesture(page, state, "hover", label)
    if is_hidden(target):
        _refuse_disabled(g, target, "the pointer")
    g.defaults.append("hover")
    yield from _hover(g, target)
    return g.finish(target, ("mouseover", "mouseenter"))


def fire_timer(
    page: Page, state: GestureState, key: tuple[Any, ...], stage: int, token: int, *, label: str
) -> Flow:
    """A timing modifier's timer is due (a `Later` step): run what it releases."""
    g = gesture(page, state, "timer", label)
    timers = state.timers.get(key)
    if timers is not None and stage < len(timers):
        for item in timers[stage].fire(stage, token):
            yield from g.timed(key, item.stage, item)
    return g.results


def perform(
    page: Page, state: GestureState, element: Element, expression: str, *, label: str, what: str
) -> Flow:
    """Run an expression the page runs by itself (`data-init`, `data-on-interval`) for
    `element`: its signal writes and requests, as a flow."""
    g = gesture(page, state, what, label)
    host = ElementHost(page.fields, page.signals)
    ran = run_expression(
        expression,
        page.signals,
        host,
        host.handle(element.node),
        computed=page.effects.computed,
    )
    yield from g.effects(ran, element, what)
    return g.results


def run(
    flow: Flow,
    page: Page,
    answer: Callable[[Send], ActionResult | None] = lambda send: None,
    *,
    state: GestureState | None = None,
    clock: bool = False,
) -> tuple[list[ActionResult], list[Step]]:
    """Drive a gesture with no I/O: apply its signal stores to `page`, answer each request
    with `answer(send)`; return the gesture's result and every step. With `clock` (and the
    gesture's `state`), timers then run on a simulated clock, each when due, until none is
    left (their steps are added)."""
    steps: list[Step] = []
    timers: list[tuple[float, int, Later]] = []
    now = 0.0

    def drive(current: Flow) -> list[ActionResult]:
        try:
            step = next(current)
            while True:
                steps.append(step)
                reply: ActionResult | None = None
                if isinstance(step, SetSignals):
                    page.signals.replace(step.store)
                elif isinstance(step, Send):
                    reply = answer(step)
                elif isinstance(step, Later):
                    heapq.heappush(timers, (now + step.delay, len(steps), step))
                step = current.send(reply)
        except StopIteration as stop:
            done: list[ActionResult] = stop.value
            return done

    results = drive(flow)
    while clock and state is not None and timers:
        now, _, due = heapq.heappop(timers)
        results += drive(fire_timer(page, state, due.key, due.stage, due.token, label="clock"))
    return results, steps
