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

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ._dom import Document, Element
from ._js import NOT_A_LITERAL, parse_literal, parse_string

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
    "describe_effects",
    "dispatch",
    "field_value",
    "parse_expression",
]

ON_PREFIX = "data-on:"
# Fetch options vt honours (headers) or may ignore (they change timing and retries only).
_FETCH_OPTIONS = frozenset(
    {
        "headers",
        "openWhenHidden",
        "requestCancellation",
        "retry",
        "retryInterval",
        "retryMaxCount",
        "retryMaxWait",
        "retryMaxWaitMs",
        "retryScaler",
    }
)
_METHODS = ("get", "post", "put", "patch", "delete")


class ExpressionError(ValueError):
    """A Datastar expression vt cannot read (or that a browser could not compile)."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """`@post('/url')` and its siblings: send the signals to `url` with `method`."""

    method: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """`@post('/_action/Send')`."""
        return f"@{self.method.lower()}({self.url!r})"


@dataclass(frozen=True, slots=True)
class Assign:
    """`$draft=''`: set a signal (a dotted path) to a literal value."""

    path: tuple[str, ...]
    value: Any

    def describe(self) -> str:
        """`$draft = ''`."""
        return f"${'.'.join(self.path)} = {self.value!r}"

    def as_patch(self) -> dict[str, Any]:
        """The assignment as a merge patch (`{"form": {"email": "x"}}`)."""
        patch: dict[str, Any] = {self.path[-1]: self.value}
        for part in reversed(self.path[:-1]):
            patch = {part: patch}
        return patch


@dataclass(frozen=True, slots=True)
class Confirm:
    """`confirm("Sure?")`: the user is asked first; vt answers OK."""

    message: str

    def describe(self) -> str:
        """`confirm('Sure?') -> OK`."""
        return f"confirm({self.message!r}) answered OK"


@dataclass(frozen=True, slots=True)
class KeyGuard:
    """`evt.key==='Enter'` (or `!==`): only some keys pass."""

    key: str
    equal: bool = True

    def passes(self, key: str | None) -> bool:
        """Whether an event with this `key` (None: not a key event) passes the guard."""
        return (key == self.key) is self.equal

    def describe(self) -> str:
        """`evt.key === 'Enter'`."""
        return f"evt.key {'===' if self.equal else '!=='} {self.key!r}"


@dataclass(frozen=True, slots=True)
class Sequence:
    """`($x=1,@post('/url'))`: a parenthesised comma sequence; every part runs, in order."""

    parts: tuple[Fetch | Assign, ...]

    def describe(self) -> str:
        """`($x = 1, @post('/url'))`."""
        return "(" + ", ".join(p.describe() for p in self.parts) + ")"


Effect: TypeAlias = Fetch | Assign | Confirm
Operand: TypeAlias = Fetch | Assign | Confirm | KeyGuard | Sequence


@dataclass(frozen=True, slots=True)
class Binding:
    """One `data-on:*` attribute of one element."""

    element: Element
    attr: str
    event: str
    modifiers: dict[str, tuple[str, ...]]
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
        if not name.startswith(ON_PREFIX):
            continue
        key, *mods = name[len(ON_PREFIX) :].split("__")
        modifiers: dict[str, tuple[str, ...]] = {}
        for mod in mods:
            mod_name, *tags = mod.split(".")
            modifiers[mod_name] = tuple(tags)
        name_of_event = _event_name(key, modifiers.get("case", ("kebab",))[0])
        if event is None or name_of_event == event:
            found.append(Binding(element, name, name_of_event, modifiers, value))
    return found


def _event_name(key: str, case: str) -> str:
    if case == "camel":
        parts = key.split("-")
        return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return key


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
    """The signal a field is bound to with `data-bind` (a dotted path), or None."""
    for name, value in element.attrs.items():
        if name == "data-bind" and value.strip():
            return tuple(value.strip().split("."))
        for prefix in ("data-bind:", "data-bind-"):
            if name.startswith(prefix):
                key = name[len(prefix) :].split("__")[0]
                if key:
                    return tuple(key.split("."))
    return None


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


# -- expressions -------------------------------------------------------------------------------

_KEY_GUARD = re.compile(r"^evt\.key\s*(===|==|!==|!=)\s*(.+)$|^(.+?)\s*(===|==|!==|!=)\s*evt\.key$")
_CONFIRM = re.compile(r"^(?:window\.)?confirm\((.*)\)$", re.DOTALL)
_FETCH = re.compile(r"^@(get|post|put|patch|delete)\((.*)\)$", re.DOTALL)
_ASSIGN = re.compile(r"^\$([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*=(?!=)\s*(.*)$", re.DOTALL)


def parse_expression(text: str) -> list[list[Operand]]:
    """Read an expression: statements (split at `;`), each an `&&` chain of operands.

    Raises:
        ExpressionError: a part is outside the grammar, or is a JavaScript syntax error
            (an unparenthesised assignment after `&&`).
    """
    statements: list[list[Operand]] = []
    for statement in _split(text, ";"):
        if not statement.strip():
            continue
        parts = _split(statement, "&&")
        operands = [_operand(part) for part in parts]
        for index, operand in enumerate(operands):
            if isinstance(operand, Assign) and len(operands) > 1:
                if index > 0 and not _parenthesised(parts[index]):
                    raise ExpressionError(
                        f"`{statement.strip()}` is a JavaScript syntax error: an assignment "
                        "after && needs parentheses (`a&&($x=1)`), so Datastar cannot "
                        "compile it and the browser runs nothing"
                    )
                if index == 0:
                    raise ExpressionError(
                        f"`{statement.strip()}` assigns the value of an && chain; vt reads "
                        "assignments of literals only"
                    )
        statements.append(operands)
    return statements


def _parenthesised(part: str) -> bool:
    part = part.strip()
    return part.startswith("(") and part.endswith(")") and _balanced(part[1:-1])


def _operand(part: str) -> Operand:
    text = part.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
        items = _split(text, ",")
        if len(items) > 1:
            # A comma sequence runs every part (JavaScript's comma operator); the guarded
            # form `cond&&($x=1,@post(...))` assigns and posts only when `cond` holds.
            parts = [_operand(item) for item in items]
            if not all(isinstance(p, Fetch | Assign) for p in parts):
                raise ExpressionError(
                    f"`({text})`: vt reads comma sequences of assignments and actions only"
                )
            return Sequence(tuple(p for p in parts if isinstance(p, Fetch | Assign)))
    if match := _FETCH.match(text):
        args = _split(match.group(2), ",")
        url = parse_string(args[0]) if args else None
        if url is None:
            raise ExpressionError(f"`{text}`: the URL must be a string literal")
        options: dict[str, Any] = {}
        if len(args) > 1:
            parsed = parse_literal(",".join(args[1:]))
            if not isinstance(parsed, dict):
                raise ExpressionError(f"`{text}`: the options must be an object literal")
            unsupported = sorted(set(parsed) - _FETCH_OPTIONS)
            if unsupported:
                raise ExpressionError(
                    f"`{text}`: vt does not send requests with {unsupported} (it sends the "
                    f"signals as Datastar's default does; options it honours or ignores: "
                    f"{sorted(_FETCH_OPTIONS)})"
                )
            options = parsed
        return Fetch(match.group(1).upper(), url, options)
    if match := _CONFIRM.match(text):
        message = parse_string(match.group(1))
        if message is None:
            raise ExpressionError(f"`{text}`: the message must be a string literal")
        return Confirm(message)
    if match := _KEY_GUARD.match(text):
        op = match.group(1) or match.group(4)
        key = parse_string(match.group(2) or match.group(3))
        if key is None:
            raise ExpressionError(f"`{text}`: the key must be a string literal")
        return KeyGuard(key, equal=op in ("===", "=="))
    if match := _ASSIGN.match(text):
        value = parse_literal(match.group(2))
        if value is NOT_A_LITERAL:
            raise ExpressionError(
                f"`{text}`: vt assigns literal values only (strings, numbers, booleans, "
                "null, arrays and objects of those)"
            )
        return Assign(tuple(match.group(1).split(".")), value)
    raise ExpressionError(
        f"`{text}` is not something vt can perform; it reads @get/@post/@put/@patch/@delete "
        "actions, evt.key guards, confirm(...) and $signal=literal assignments"
    )


def _structure(text: str) -> Iterator[tuple[int, int]]:
    """(index, depth) of every character outside string literals, depth counting the open
    brackets after that character; a last `(len(text), -1)` if a string literal is left open."""
    depth = 0
    quote = ""
    escaped = False
    for index, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "'\"`":
            quote = ch
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        yield index, depth
    if quote:
        yield len(text), -1


def _split(text: str, separator: str) -> list[str]:
    """Split at `separator` outside strings, parentheses, brackets and braces."""
    parts: list[str] = []
    start = 0
    for index, depth in _structure(text):
        if index >= start and depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            start = index + len(separator)
    parts.append(text[start:])
    return parts


def _balanced(text: str) -> bool:
    """True when every bracket closes after it opens and no string literal is left open."""
    depth = 0
    for _, depth in _structure(text):
        if depth < 0:
            return False
    return depth == 0


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
                if isinstance(operand, Assign) and not last and not _truthy(operand.value):
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


def _truthy(value: Any) -> bool:
    """JavaScript truthiness of a literal (objects and arrays, even empty, are truthy)."""
    if isinstance(value, dict | list):
        return True
    return bool(value)


def describe_effects(effects: Iterable[Effect]) -> str:
    """`$draft = ''; @post('/_action/Send')`."""
    return "; ".join(e.describe() for e in effects)
