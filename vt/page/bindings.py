"""What a page does when a user clicks, presses a key or types: Datastar bindings, read (sans-IO).

A Datastar page wires gestures with attributes (specs/protocol.md §6.5):

* `data-on:<event>[__modifier[.tag]...]="<expression>"` runs the expression when the event
  reaches the element; Via writes `@post('/_action/Send')`, guarded by
  `evt.key==='Enter'&&` or `confirm("…")&&`, after assignments such as `$draft='';`;
* `data-bind="<signal>"` (or `data-bind:<signal>`) keeps a signal equal to a field's value.

This module reads those attributes and the expressions in them without running JavaScript,
and works out what a browser would do for one event: which bindings fire along the event's
path (the target, its ancestors, then `__outside` and `__window` listeners, unless one
`__stop`s it), in what order, and which effects they have (`Fetch`, `Assign`, `Confirm`). The
tab performs the effects. Expressions outside this small grammar raise `ExpressionError`
naming the part that could not be read; a tab turns that into `ElementNotInteractive`.

Timing modifiers (`__debounce`, `__throttle`, `__delay`) do not delay anything here; see
`AsyncTab.type` for how typing treats them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..js.actions import (
    Assign,
    Confirm,
    Effect,
    ExpressionError,
    Fetch,
    KeyGuard,
    Sequence,
    parse_expression,
)
from ..js.attrs import Modifiers, parse_data_attr
from ..js.expr import js_truthy
from ..replica.dom import Document, Element

__all__ = [
    "Assign",
    "Binding",
    "Confirm",
    "Dispatch",
    "Effect",
    "ExpressionError",
    "Fetch",
    "KeyGuard",
    "Sequence",
    "bind_path",
    "bindings_of",
    "click_events",
    "describe_effects",
    "dispatch",
    "field_value",
    "missing_binding",
    "parse_expression",
]

ON_PREFIX = "data-on:"


@dataclass(frozen=True, slots=True)
class Binding:
    """One `data-on:*` attribute of one element."""

    element: Element
    attr: str
    event: str
    modifiers: Modifiers
    expression: str

    def describe(self) -> str:
        """`data-on:keydown="evt.key==='Enter'&&@post('/_action/Send')"` on `<input#draft>`."""
        where = f"<{self.element.tag}{'#' + self.element.id if self.element.id else ''}>"
        return f'{self.attr}="{self.expression}" on {where}'


@dataclass(slots=True)
class Dispatch:
    """What one event did: the bindings that fired (with their effects, in order), those a
    guard stopped (with the reason), look-alike attributes that are not bindings for this
    event, and whether a fired binding prevented the default action."""

    event: str
    fired: list[tuple[Binding, list[Effect]]] = field(default_factory=list)
    blocked: list[tuple[Binding, str]] = field(default_factory=list)
    near_misses: list[str] = field(default_factory=list)
    prevented: bool = False

    @property
    def effects(self) -> list[Effect]:
        """Every effect of every fired binding, in order."""
        return [effect for _, effects in self.fired for effect in effects]


# -- reading attributes ----------------------------------------------------------------------


def bindings_of(element: Element, event: str | None = None) -> list[Binding]:
    """The element's `data-on:*` bindings (for one event, or all), in attribute order."""
    found: list[Binding] = []
    for name, value in element.attrs.items():
        attr = parse_data_attr(name, value)
        if attr is None or attr.plugin != "on" or not attr.key:
            continue
        name_of_event = attr.cased_key
        if event is None or name_of_event == event:
            found.append(Binding(element, name, name_of_event, attr.modifiers, value))
    return found


def _near_misses(element: Element, event: str) -> list[str]:
    """Attributes that look like a binding for `event` but that Datastar 1.0 does not read."""
    misses = []
    for name in element.attrs:
        if name.startswith(f"{ON_PREFIX}{event}."):
            misses.append(
                f"{name} (Datastar 1.0 reads this as an event named "
                f"{name[len(ON_PREFIX) :]!r}; modifiers are written with __)"
            )
        elif name.startswith(f"data-on-{event}"):
            misses.append(f"{name} (Datastar 1.0 reads data-on:{event}; data-on-* is pre-1.0)")
    return misses


def bind_path(element: Element) -> tuple[str, ...] | None:
    """The signal a field is bound to with `data-bind` (a dotted path), or None.

    `data-bind="form.email"` names the path as written; `data-bind:my-draft` is camel-cased
    to `myDraft`, as Datastar does with keys (unless `__case` says otherwise)."""
    for name, value in element.attrs.items():
        attr = parse_data_attr(name, value)
        if attr is None or attr.plugin != "bind":
            continue
        if attr.key:
            return attr.path
        if value.strip():
            return tuple(value.strip().split("."))
    return None


# What a click on a checkbox or radio does besides `click`: the browser toggles it, then fires
# `input` and `change` (bound or not).
_TOGGLES = frozenset({"checkbox", "radio"})


def click_events(element: Element) -> tuple[str, ...]:
    """The events one click dispatches to `element`, in order: `click`, then `input` and
    `change` for a checkbox or radio (which the browser toggles, whether or not it has a
    `data-bind`)."""
    if element.tag == "input" and (element.get("type") or "").lower() in _TOGGLES:
        return ("click", "input", "change")
    return ("click",)


def missing_binding(target: Element, events: tuple[str, ...]) -> str:
    """Why a gesture found nothing to run: the events it dispatched and the `data-on:*`
    bindings there are on the element and its ancestors (none of them for these events)."""
    present = sorted({b.attr for el in (target, *target.ancestors) for b in bindings_of(el)})
    text = f"no data-on:{'/'.join(events)} on the element or its ancestors"
    if present:
        text += f"; the bindings there are for other events: {', '.join(present)}"
    return text


def field_value(element: Element, text: str) -> Any:
    """A typed text as the bound signal's value: numbers for number and range inputs (as
    Datastar coerces them), the text itself otherwise."""
    if element.tag == "input" and (element.get("type") or "").lower() in ("number", "range"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


# -- dispatching one event ---------------------------------------------------------------------


def dispatch(
    document: Document,
    target: Element,
    event: str,
    *,
    key: str | None = None,
    fired_once: set[tuple[Element, str]] | None = None,
    only: Callable[[Binding], bool] | None = None,
) -> Dispatch:
    """The bindings one event fires, as the browser would run them.

    The event starts at `target` and bubbles through its ancestors; then `__outside`
    listeners of elements that do not contain the target, then `__window` listeners, unless a
    fired binding had `__stop`. `key` is the `evt.key` of a keyboard event. `fired_once`
    remembers `__once` listeners that already ran (it is updated). `only` picks which
    bindings take part (the others are as if absent).

    Raises:
        ExpressionError: a binding that would fire has an expression vt cannot read.
    """
    result = Dispatch(event)
    once = fired_once if fired_once is not None else set()

    def listeners(element: Element) -> list[Binding]:
        return [b for b in bindings_of(element, event) if only is None or only(b)]

    stopped = False
    for element in [target, *target.ancestors]:
        result.near_misses.extend(_near_misses(element, event))
        for binding in listeners(element):
            if "window" not in binding.modifiers and "outside" not in binding.modifiers:
                stopped |= _fire(binding, key, once, result)
        if stopped:
            return result
    elsewhere = document.with_attribute_prefix(f"{ON_PREFIX}{event}")
    for element in elsewhere:
        if not element.contains(target):
            for binding in listeners(element):
                if "outside" in binding.modifiers and "window" not in binding.modifiers:
                    stopped |= _fire(binding, key, once, result)
    if stopped:
        return result
    for element in elsewhere:
        for binding in listeners(element):
            if "window" in binding.modifiers:
                _fire(binding, key, once, result)
    return result


def _fire(binding: Binding, key: str | None, once: set[tuple[Element, str]], out: Dispatch) -> bool:
    """Run one listener into `out`; return True if it stops propagation."""
    token = (binding.element, binding.attr)
    if "once" in binding.modifiers and token in once:
        return False
    try:
        statements = parse_expression(binding.expression)
    except ExpressionError as exc:
        raise ExpressionError(f"{binding.describe()}: {exc}") from None
    if "once" in binding.modifiers:
        once.add(token)
    if "prevent" in binding.modifiers:
        out.prevented = True
    effects: list[Effect] = []
    reasons: list[str] = []
    for operands in statements:
        for index, operand in enumerate(operands):
            if isinstance(operand, KeyGuard):
                if not operand.passes(key):
                    seen = "has no key" if key is None else f"has key {key!r}"
                    reasons.append(f"the event {seen}; the expression needs {operand.describe()}")
                    break
            elif isinstance(operand, Sequence):
                effects.extend(operand.parts)
            else:
                effects.append(operand)
                last = index == len(operands) - 1
                if isinstance(operand, Assign) and not last and not js_truthy(operand.value):
                    # `a&&($x='')&&@post(...)`: the assignment's value is falsy, so
                    # JavaScript's && stops there and the rest never runs.
                    reasons.append(
                        f"{operand.describe()} has a falsy value, which ends the && chain"
                    )
                    break
    if effects:
        out.fired.append((binding, effects))
    if reasons:
        out.blocked.append((binding, "; ".join(reasons)))
    return "stop" in binding.modifiers


def describe_effects(effects: Iterable[Effect]) -> str:
    """`$draft = ''; @post('/_action/Send')`."""
    return "; ".join(e.describe() for e in effects)
