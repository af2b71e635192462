"""Gestures as the browser performs them, sans-IO: click, press, type, fill, check, select,
submit, focus, blur, hover.

A gesture is a generator (the shape of httpx's `Auth.auth_flow`): it dispatches the events a
browser fires, in the browser's order, runs the listeners they reach (`vt.page.bindings`, in
the JavaScript engine), and yields what the caller must do: `Fired` (a listener ran, for the
timeline), `SetSignals` (the signal store an expression left), `Send` (a request an action
sends; the caller answers with its `ActionResult` once the response headers are in, or
None), `Later` (a timing modifier's timer: call `GestureState.fire` after the delay). The
rules (event order, default actions, `__once`, propagation, timing) need no server:

    flow = click(replica, replica.document.select_one("#agree"), label="t", state=state)
    results, steps = run(flow, replica)

The generator returns the answers to its requests, in order. It raises
`ElementNotInteractive` when the element is disabled, or when nothing reacts to the gesture,
with what vt found instead.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from ..errors import ElementNotInteractive, hide_frames
from ..replica.display import Effects
from ..replica.dom import Document, Element
from ..replica.fields import Fields, as_number, form_data
from ..replica.signals import Signals
from .bindings import Binding, Ran, bind_path, listeners, near_misses, run_listener
from .requests import ActionResult
from .timing import Call, Timer, Wait, stages

__all__ = [
    "Fired",
    "Flow",
    "GestureState",
    "Gesture",
    "Later",
    "Log",
    "Page",
    "Send",
    "SetSignals",
    "Step",
    "bound_value",
    "describe_element",
    "gesture",
    "get_path",
    "is_disabled",
    "is_hidden",
    "is_submit_button",
    "set_path",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

TEXT_FIELDS = frozenset(
    {"", "text", "search", "email", "url", "tel", "password", "number", "date", "time"}
)
_DISABLEABLE = frozenset({"button", "input", "select", "textarea", "fieldset", "option"})


@dataclass(frozen=True, slots=True)
class Fired:
    """A listener ran for `event`: what it did (`ran`)."""

    event: str
    binding: Binding
    ran: Ran


@dataclass(frozen=True, slots=True)
class SetSignals:
    """Take `store` as the tab's signals (an expression or a bound field changed them)."""

    store: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Send:
    """A request an action sends (an engine request dict: method, url, contentType,
    signals, headers...), from `element`; `form` holds the fields for `contentType: 'form'`."""

    request: dict[str, Any]
    element: Element
    form: list[tuple[str, str]] | None = None
    multipart: bool = False

    @property
    def method(self) -> str:
        """GET, POST, PUT, PATCH or DELETE."""
        return str(self.request["method"])

    @property
    def url(self) -> str:
        """The URL as the expression wrote it."""
        return str(self.request["url"])


@dataclass(frozen=True, slots=True)
class Log:
    """A line the browser's console shows (an expression threw, a request was not sent)."""

    text: str


@dataclass(frozen=True, slots=True)
class Later:
    """A timer: after `delay` seconds, run `GestureState.fire(key, stage, token)` as a flow."""

    delay: float
    key: tuple[Any, ...]
    stage: int
    token: int


Step: TypeAlias = Fired | SetSignals | Send | Later | Log
"""What a gesture yields."""

Flow: TypeAlias = Generator[Step, ActionResult | None, list[ActionResult]]
"""A gesture: yields steps, is sent each `Send`'s answer, returns the answers."""


class Page(Protocol):
    """What a gesture reads: the page, its signals and fields as the browser holds them."""

    @property
    def document(self) -> Document: ...
    @property
    def signals(self) -> Signals: ...
    @property
    def fields(self) -> Fields: ...
    @property
    def effects(self) -> Effects: ...


@dataclass(slots=True)
class GestureState:
    """What a page remembers between gestures: `__once` listeners that ran, timing
    modifiers' timers, the focused and hovered elements, fields changed since `change`."""

    once: set[tuple[Any, str]] = field(default_factory=set)
    timers: dict[tuple[Any, ...], list[Timer]] = field(default_factory=dict)
    focused: Element | None = None
    hovered: Element | None = None
    dirty: set[Any] = field(default_factory=set)


class Gesture:
    """One gesture's bookkeeping: its dispatches, default actions, errors and answers;
    `vt.page.gestures` builds the gestures on it."""

    def __init__(self, page: Page, state: GestureState, name: str, label: str) -> None:
        self.page, self.state, self.name, self.label = page, state, name, label
        self.ran = 0
        self.effective = 0  # listeners that changed signals, sent requests or prevented
        self.idle: list[str] = []  # listeners that ran and did nothing
        self.errors: list[str] = []
        self.misses: list[str] = []
        self.defaults: list[str] = []
        self.results: list[ActionResult] = []
        self.submitter: Element | None = None  # the button of the submit in progress

    def dispatch(
        self, target: Element, event: str, *, key: str | None = None, **extra: Any
    ) -> Generator[Step, ActionResult | None, bool]:
        """Dispatch `event` at `target`; return whether a listener prevented its default."""
        prevented = False
        stopped: object = None
        for element in (target, *target.ancestors):
            self.misses.extend(near_misses(element, event))
        for binding in listeners(self.page.document, target, event):
            node = binding.where if binding.where != "element" else binding.element
            if stopped is not None and node is not stopped:
                break
            if binding.where == "document" and "outside" in binding.modifiers and _hidden(binding):
                continue
            token = (binding.element.node, binding.attr)
            if "once" in binding.modifiers:
                if token in self.state.once:
                    continue
                self.state.once.add(token)
            timers = stages(binding.modifiers)
            if "prevent" in binding.modifiers and "passive" not in binding.modifiers:
                prevented = True
            if binding.element.tag == "form" and event == "submit":
                prevented = True
            if "stop" in binding.modifiers:
                stopped = node
            if timers:
                key_of = (*token, event)
                self.state.timers.setdefault(key_of, timers)
                args = (binding, target, key, extra)
                yield from self.timed(key_of, 0, Call(0, args))
                self.ran += 1
                self.effective += 1  # its run is on the clock
                continue
            ran = yield from self.perform(binding, target, key, extra)
            prevented |= ran.prevented
            if ran.stopped:
                stopped = node
        return prevented

    def timed(
        self, key: tuple[Any, ...], stage: int, step: Wait | Call
    ) -> Generator[Step, Any, None]:
        timers = self.state.timers[key]
        todo: list[Wait | Call] = [step]
        while todo:
            item = todo.pop(0)
            if isinstance(item, Wait):
                yield Later(item.delay, key, item.stage, item.token)
            elif item.stage >= len(timers):
                binding, target, k, extra = item.args
                yield from self.perform(binding, target, k, extra)
            else:
                todo[:0] = timers[item.stage].call(item.stage, item.args)

    def perform(
        self, binding: Binding, target: Element, key: str | None, extra: Mapping[str, Any]
    ) -> Generator[Step, ActionResult | None, Ran]:
        page = self.page
        ran = run_listener(
            binding,
            target,
            page.signals,
            page.fields,
            key=key,
            extra=extra,
            computed=page.effects.computed,
        )
        self.ran += 1
        if ran.signals is not None or ran.requests or ran.prevented:
            self.effective += 1
        elif ran.error is None:
            seen = f"key {key!r}" if key is not None else "no key"
            self.idle.append(
                f"{binding.describe()} ran for {binding.event} ({seen}) and did nothing"
            )
        yield Fired(binding.event, binding, ran)
        yield from self.effects(ran, binding.element, binding.describe())
        return ran

    def effects(self, ran: Ran, element: Element, what: str) -> Generator[Step, Any, None]:
        if ran.error is not None:
            self.errors.append(f"{what}: {ran.error}")
            yield Log(f"{ran.error} ({what})")
        for line in ran.console:
            yield Log(line)
        if ran.signals is not None:
            yield SetSignals(ran.signals)
        for request in ran.requests:
            send = _prepare(self, request, element)
            if send is None:
                yield Log(self.errors[-1])
            else:
                answer = yield send
                if answer is not None:
                    self.results.append(answer)

    def set_field(self, target: Element, value: str) -> Generator[Step, Any, None]:
        """The user changed a field's value: the property, and its bound signal."""
        self.page.fields.set_value(target.node, value)
        self.state.dirty.add(target.node)
        self.defaults.append(f"{describe_element(target)} value = {value!r}")
        path = bind_path(target)
        if path is not None:
            current = get_path(self.page.signals, path)
            store = self.page.signals.to_dict()
            set_path(store, path, bound_value(target, value, current))
            yield SetSignals(store)

    def finish(self, target: Element, events: tuple[str, ...]) -> list[ActionResult]:
        """The answers, or `ElementNotInteractive` if nothing reacted to the gesture."""
        if self.effective or self.defaults:
            return self.results
        lines = [
            f"{self.label}: {self.name}: nothing reacts to it; a browser would do nothing.",
            f"  element: {describe_element(target)}",
        ]
        lines.extend(
            f"  {error} (the browser logs it and does nothing else)" for error in self.errors
        )
        lines.extend(f"  {line}" for line in self.idle)
        lines.extend(f"  look-alike attribute: {m}" for m in sorted(set(self.misses)))
        if len(lines) == 2:
            found = sorted(
                {name for el in (target, *target.ancestors) for name in el.attrs if "data-" in name}
            )
            lines.append(
                f"  no data-on:{'/'.join(events)} on the element or its ancestors"
                + (f"; data-* attributes there: {', '.join(found)}" if found else "")
            )
        raise ElementNotInteractive("\n".join(lines))


def _hidden(binding: Binding) -> bool:
    """An `__outside` listener's element hidden with `display: none` does not run."""
    style = (binding.element.get("style") or "").replace(" ", "")
    return "display:none" in style


def _prepare(gesture: Gesture, request: dict[str, Any], element: Element) -> Send | None:
    """A request as the browser builds it when the action is called; None if the browser
    would not send it (no form, or a form that fails validation)."""
    if request.get("contentType") != "form":
        return Send(request, element)
    document = gesture.page.document
    selector = request.get("selector")
    form = document.select_one(selector) if selector else element.closest("form")
    if form is None:
        gesture.errors.append(f"FetchFormNotFound: no form for @{request['method'].lower()}")
        return None
    fields = gesture.page.fields
    signals = gesture.page.signals
    for el in form.select("input[required], select[required], textarea[required]"):
        if el.get("disabled") is None and not fields.value(el.node, signals):
            gesture.errors.append(
                f"the form is invalid ({describe_element(el)} is required and empty): the "
                "browser reports it and sends nothing"
            )
            return None
    submitter = element if is_submit_button(element) else gesture.submitter
    pairs = form_data(form.node, fields, signals, submitter.node if submitter else None)
    multipart = (form.get("enctype") or "") == "multipart/form-data"
    return Send(request, element, pairs, multipart)


def bound_value(target: Element, text: str, current: Any) -> Any:
    """What Datastar's bind adapter reads from a text-like field: numbers for number and
    range inputs, and for a text field bound to a number; the text otherwise."""
    kind = (target.get("type") or "text").lower() if target.tag == "input" else target.tag
    numeric = kind in ("number", "range") or (
        kind != "textarea" and not isinstance(current, str) and current is not None
    )
    return as_number(text) if numeric and kind != "textarea" else text


def set_path(store: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set (or, for None, delete) the signal at `path` in a plain signal store."""
    node = store
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


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


def is_submit_button(el: Element) -> bool:
    """A button that submits its form when clicked."""
    kind = (el.get("type") or "").lower()
    if el.tag == "button":
        return kind in ("", "submit")
    return el.tag == "input" and kind in ("submit", "image")


def is_hidden(el: Element) -> bool:
    """Not visible: `display: none` in its style (as `data-show` sets it) or the `hidden`
    attribute, on it or an ancestor; a person cannot point at it."""
    for node in (el, *el.ancestors):
        if node.get("hidden") is not None:
            return True
        if "display:none" in (node.get("style") or "").replace(" ", "").lower():
            return True
    return False


def is_disabled(el: Element) -> bool:
    """Disabled as the browser sees it: the attribute, or a disabled fieldset around it."""
    if el.tag in _DISABLEABLE and el.get("disabled") is not None:
        return True
    return el.tag in _DISABLEABLE and any(
        a.tag == "fieldset" and a.get("disabled") is not None for a in el.ancestors
    )


def gesture(page: Page, state: GestureState, name: str, label: str) -> Gesture:
    """A gesture's bookkeeping (for `vt.page.gestures`)."""
    return Gesture(page, state, name, label)
