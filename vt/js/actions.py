"""Datastar's action expressions: what a `data-on:*` attribute does, read (sans-IO).

Via writes `@post('/_action/Send')`, guarded by `evt.key==='Enter'&&` or `confirm("…")&&`,
after assignments such as `$draft='';`. `parse_expression` reads such an expression into
statements of `&&` chains of operands (`Fetch`, `Assign`, `Confirm`, `KeyGuard`, `Sequence`),
with `vt.js.expr`'s reader for every literal and value (specs/protocol.md §6.5). Anything else
raises `ExpressionError` naming the part that could not be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .attrs import nest
from .expr import (
    NOT_A_LITERAL,
    ExpressionError,
    balanced,
    parse_literal,
    parse_string,
    split_top_level,
)

__all__ = [
    "Assign",
    "Confirm",
    "Effect",
    "ExpressionError",
    "Fetch",
    "KeyGuard",
    "Operand",
    "Sequence",
    "parse_expression",
]

# Fetch options vt honours (headers, contentType, selector) or may ignore (they change timing
# and retries only).
_FETCH_OPTIONS = frozenset(
    {
        "contentType",
        "selector",
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


@dataclass(frozen=True, slots=True)
class Fetch:
    """`@post('/url')` and its siblings: send the signals to `url` with `method`."""

    method: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """`json` (Datastar's default: the signals as JSON) or `form` (the closest form's
        fields, or those of the form `selector` names; §6.5)."""
        return str(self.options.get("contentType", "json"))

    @property
    def form_selector(self) -> str | None:
        """With `contentType: 'form'`, the `selector` option naming the form, if any (else
        the form closest to the element)."""
        value = self.options.get("selector")
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        """`@post('/_action/Send')`."""
        extra = ", {contentType: 'form'}" if self.content_type == "form" else ""
        return f"@{self.method.lower()}({self.url!r}{extra})"


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
        return nest(self.path, self.value)


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
    for statement in split_top_level(text, ";"):
        if not statement.strip():
            continue
        parts = split_top_level(statement, "&&")
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
    return part.startswith("(") and part.endswith(")") and balanced(part[1:-1])


def _operand(part: str) -> Operand:
    text = part.strip()
    while text.startswith("(") and text.endswith(")") and balanced(text[1:-1]):
        text = text[1:-1].strip()
        items = split_top_level(text, ",")
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
        args = split_top_level(match.group(2), ",")
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
            kind = parsed.get("contentType", "json")
            if kind not in ("json", "form"):
                raise ExpressionError(
                    f"`{text}`: contentType must be 'json' or 'form' (Datastar 1.0), got {kind!r}"
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
