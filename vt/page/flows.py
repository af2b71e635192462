"""Gestures as the browser performs them, sans-IO: click, press a key, type.

A gesture is a generator (the shape of httpx's `Auth.auth_flow`): it reads the page, yields
each thing the browser would do — a binding firing (`Fired`), a signal write (`Assign`), a
request (`Fetch`) — and is sent back the response of each request before it goes on. The
caller (`AsyncTab`, or `run` in a test) applies the writes and sends the requests; the
gesture's rules (bubbling, key filters, `__once`, timing modifiers, HTML's default actions)
live here and need no server and no event loop:

    flow = click(replica, replica.document.select_one("#agree"), label="t")
    results, steps = run(flow, replica)

The generator's return value is the responses of the requests it sent, in order. It raises
`ElementNotInteractive` when the element is disabled or nothing reacts to the gesture, with
what vt found instead (the bindings a guard stopped, look-alike attributes).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from ..errors import ElementNotInteractive, hide_frames
from ..replica.dom import Document, Element
from ..replica.signals import Signals
from .bindings import (
    Assign,
    Binding,
    Dispatch,
    Effect,
    ExpressionError,
    Fetch,
    bind_path,
    dispatch,
    field_value,
)
from .requests import ActionResult

__all__ = [
    "Fired",
    "Flow",
    "Page",
    "Step",
    "click",
    "describe_element",
    "fetch_headers",
    "get_path",
    "press",
    "run",
    "type_text",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

TEXT_FIELDS = frozenset(
    {"", "text", "search", "email", "url", "tel", "password", "number", "date", "time"}
)
_DISABLEABLE = frozenset({"button", "input", "select", "textarea", "fieldset", "option"})


@dataclass(frozen=True, slots=True)
class Fired:
    """A binding ran for `event` with these effects (its `Assign`s and `Fetch`es follow)."""

    event: str
    binding: Binding
    effects: tuple[Effect, ...]


Step: TypeAlias = Fired | Assign | Fetch
"""What a gesture yields: a binding fired, a signal to write, a request to send."""

Flow: TypeAlias = Generator[Step, ActionResult | None, list[ActionResult]]
"""A gesture: yields steps, is sent each `Fetch`'s response, returns the responses."""


class Page(Protocol):
    """What a gesture reads: the page and its signals as the browser holds them now."""

    @property
    def document(self) -> Document: ...
    @property
    def signals(self) -> Signals: ...


class _Gesture:
    """One gesture's state: its dispatches, default actions and responses."""

    def __init__(self, page: Page, name: str, label: str, fired_once: set[tuple[Element, str]]):
        self.page = page
        self.name = name
        self.label = label
        self.fired_once = fired_once
        self.dispatches: list[Dispatch] = []
        self.defaults: list[str] = []
        self.results: list[ActionResult] = []

    def dispatch(
        self,
        target: Element,
        event: str,
        *,
        key: str | None = None,
        only: Callable[[Binding], bool] | None = None,
    ) -> Generator[Step, ActionResult | None, Dispatch]:
        try:
            result = dispatch(
                self.page.document,
                target,
                event,
                key=key,
                fired_once=self.fired_once,
                only=only,
            )
        except ExpressionError as exc:
            raise ElementNotInteractive(f"{self.label}: {exc}") from None
        self.dispatches.append(result)
        for binding, effects in result.fired:
            yield Fired(event, binding, tuple(effects))
            for effect in effects:
                if isinstance(effect, Assign):
                    yield effect
                elif isinstance(effect, Fetch):
                    answer = yield effect
                    if answer is not None:
                        self.results.append(answer)
                # A `Confirm` is answered OK: nothing to do.
        return result

    def set_signal(self, path: tuple[str, ...], value: Any) -> Assign:
        self.defaults.append(f"${'.'.join(path)} = {value!r}")
        return Assign(path, value)

    def finish(self, target: Element, events: tuple[str, ...]) -> list[ActionResult]:
        """The gesture's responses, or `ElementNotInteractive` if nothing reacted to it."""
        if any(d.fired for d in self.dispatches) or self.defaults:
            return self.results
        lines = [
            f"{self.label}: {self.name}: nothing reacts to it; a browser would do nothing.",
            f"  element: {describe_element(target)}",
        ]
        for d in self.dispatches:
            for binding, reason in d.blocked:
                lines.append(f"  {binding.describe()} did not run: {reason}")
        misses = sorted({m for d in self.dispatches for m in d.near_misses})
        lines.extend(f"  look-alike attribute: {m}" for m in misses)
        if len(lines) == 2:
            found = sorted(
                {name for el in (target, *target.ancestors) for name in el.attrs if "data-" in name}
            )
            lines.append(
                f"  no data-on:{'/'.join(events)} on the element or its ancestors"
                + (f"; data-* attributes there: {', '.join(found)}" if found else "")
            )
        raise ElementNotInteractive("\n".join(lines))


def click(
    page: Page,
    target: Element,
    *,
    label: str,
    name: str | None = None,
    fired_once: set[tuple[Element, str]] | None = None,
) -> Flow:
    """A click on `target`: `click` bubbles from it, then the browser's default action — a
    checkbox toggles (its bound signal follows) and fires `input` and `change`, a radio is
    picked, a submit button submits its form (firing `data-on:submit`)."""
    gesture = _Gesture(page, name or "click", label, set() if fired_once is None else fired_once)
    yield from _click(gesture, target)
    return gesture.finish(target, ("click", "input", "change", "submit"))


def press(
    page: Page,
    target: Element,
    key: str,
    *,
    label: str,
    name: str | None = None,
    fired_once: set[tuple[Element, str]] | None = None,
) -> Flow:
    """One key (`KeyboardEvent.key`) on `target`: `keydown`, then Enter's default action (a
    focused button is clicked; a form field submits its form: HTML's implicit submission),
    then `keyup`. Key filters (`evt.key==='Enter'&&…`) decide which bindings run."""
    gesture = _Gesture(
        page, name or f"press {key!r}", label, set() if fired_once is None else fired_once
    )
    down = yield from gesture.dispatch(target, "keydown", key=key)
    if key == "Enter" and not down.prevented:
        if target.tag in ("button", "a") or _is_submit_button(target):
            gesture.defaults.append(f"Enter clicks {describe_element(target)}")
            yield from _click(gesture, target)
        elif target.tag == "input" and (target.get("type") or "").lower() in TEXT_FIELDS:
            form = target.closest("form")
            if form is not None:
                yield from _implicit_submit(gesture, form)
    yield from gesture.dispatch(target, "keyup", key=key)
    return gesture.finish(target, ("keydown", "keyup", "click", "submit"))


def type_text(
    page: Page,
    target: Element,
    text: str,
    *,
    label: str,
    append: bool = False,
    name: str | None = None,
    fired_once: set[tuple[Element, str]] | None = None,
) -> Flow:
    """Typing `text` into a field: per character `keydown`, the bound signal set (numbers for
    number inputs), `input`, `keyup`; then `change`, as when the field loses focus.

    Timing modifiers read as a user typing faster than their interval: `__debounce`
    bindings are refused on every character and an `input` one fires once, after the last;
    `__throttle` ones fire on the first character only.
    """
    path = bind_path(target)
    editable = target.tag in ("input", "textarea", "select") or target.get(
        "contenteditable"
    ) not in (None, "false")
    if not editable and path is None:
        raise ElementNotInteractive(
            f"{label}: cannot type into {describe_element(target)}: it is not a "
            "form field and has no data-bind"
        )
    gesture = _Gesture(
        page, name or f"type {text!r}", label, set() if fired_once is None else fired_once
    )
    value = ""
    if append:
        current = get_path(page.signals, path) if path else None
        value = str(current) if current is not None else (target.get("value") or "")
    for index, char in enumerate(text):

        def per_char(binding: Binding, first: bool = index == 0) -> bool:
            if "debounce" in binding.modifiers:
                return False
            return first or "throttle" not in binding.modifiers

        keydown = yield from gesture.dispatch(target, "keydown", key=char, only=per_char)
        if keydown.prevented:
            continue
        value += char
        if path is not None:
            yield gesture.set_signal(path, field_value(target, value))
        yield from gesture.dispatch(target, "input", only=per_char)
        yield from gesture.dispatch(target, "keyup", key=char, only=per_char)
    yield from gesture.dispatch(
        target, "input", only=lambda binding: "debounce" in binding.modifiers
    )
    yield from gesture.dispatch(target, "change")
    if path is None:
        return gesture.finish(target, ("keydown", "input", "keyup", "change"))
    return gesture.results


def _click(gesture: _Gesture, target: Element) -> Generator[Step, ActionResult | None, None]:
    if target.get("disabled") is not None and target.tag in _DISABLEABLE:
        raise ElementNotInteractive(
            f"{gesture.label}: {describe_element(target)} is disabled; a browser does not "
            "dispatch clicks to it"
        )
    clicked = yield from gesture.dispatch(target, "click")
    if clicked.prevented:
        return
    kind = (target.get("type") or "").lower()
    if target.tag == "input" and kind in ("checkbox", "radio"):
        path = bind_path(target)
        if path is not None:
            if kind == "radio":
                value: Any = target.get("value") or "on"
            else:
                current = get_path(gesture.page.signals, path)
                checked = not (current if isinstance(current, bool) else bool(current))
                value = checked if target.get("value") is None else (target.get("value") or "")
                if not checked and target.get("value") is not None:
                    value = ""
            yield gesture.set_signal(path, value)
        # Bound or not, the box changed state: the browser fires `input` then `change`.
        yield from gesture.dispatch(target, "input")
        yield from gesture.dispatch(target, "change")
        return
    form = target.closest("form")
    if form is not None and _is_submit_button(target):
        gesture.defaults.append(f"submit {describe_element(form)}")
        yield from gesture.dispatch(form, "submit")


def _implicit_submit(
    gesture: _Gesture, form: Element
) -> Generator[Step, ActionResult | None, None]:
    """HTML's implicit submission: Enter in a field clicks the form's default button, or
    submits a form that has one field and no button."""
    buttons = [el for el in form.select("button, input") if _is_submit_button(el)]
    if buttons:
        gesture.defaults.append(f"Enter clicks {describe_element(buttons[0])}")
        yield from _click(gesture, buttons[0])
        return
    fields = [el for el in form.select("input") if (el.get("type") or "").lower() in TEXT_FIELDS]
    if len(fields) == 1:
        gesture.defaults.append(f"Enter submits {describe_element(form)}")
        yield from gesture.dispatch(form, "submit")


def run(
    flow: Flow,
    page: Page,
    answer: Callable[[Fetch], ActionResult | None] = lambda fetch: None,
) -> tuple[list[ActionResult], list[Step]]:
    """Drive a gesture with no I/O: apply its signal writes to `page`, answer each request
    with `answer(fetch)`; return the gesture's result and every step it yielded."""
    steps: list[Step] = []
    reply: ActionResult | None = None
    try:
        step = next(flow)
        while True:
            steps.append(step)
            reply = None
            if isinstance(step, Assign):
                page.signals.patch(step.as_patch())
            elif isinstance(step, Fetch):
                reply = answer(step)
            step = flow.send(reply)
    except StopIteration as stop:
        results: list[ActionResult] = stop.value
        return results, steps


def fetch_headers(effect: Fetch) -> dict[str, str] | None:
    """The `headers` option of `@post(url, {headers: {...}})`, as strings."""
    headers = effect.options.get("headers")
    if isinstance(headers, dict):
        return {str(k): str(v) for k, v in headers.items()}
    return None


def describe_element(el: Element) -> str:
    """The element's start tag, cut to 160 characters, for messages."""
    html = el.html
    start = html[: html.find(">") + 1] if ">" in html else html
    return start if len(start) <= 160 else start[:159] + "…"


def get_path(signals: Mapping[str, Any], path: tuple[str, ...] | None, default: Any = None) -> Any:
    """The value at a dotted signal path (`("form", "email")`), or `default`."""
    value: Any = signals
    for part in path or ():
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _is_submit_button(el: Element) -> bool:
    kind = (el.get("type") or "").lower()
    if el.tag == "button":
        return kind in ("", "submit")
    return el.tag == "input" and kind in ("submit", "image")
