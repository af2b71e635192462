"""JavaScript values vt reads without running code: JSON with JavaScript's numbers, quoted
string literals, and `undefined`.

Everything that runs (attribute expressions, non-JSON literals) runs in the embedded engine,
`vt.js.engine`. Numbers follow JavaScript: one double type, so integers beyond 2^53 are
rounded (`js_number`).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "NOT_A_LITERAL",
    "UNDEFINED",
    "ExpressionError",
    "js_number",
    "load_json",
    "parse_string",
]


class ExpressionError(ValueError):
    """A Datastar expression that does not compile or throws (as it would in a browser), or
    that vt refuses by name."""


# JavaScript's `undefined` (None is `null`).
UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "undefined"})()

# Returned for text that is not a literal (None is a literal: `null`).
NOT_A_LITERAL: Any = type("NotALiteral", (), {"__repr__": lambda self: "<not a literal>"})()

_MAX_SAFE = 2**53


def js_number(value: int | float) -> int | float:
    """A number as JavaScript holds it: a double. Integral values stay Python ints (exactly
    the double's value), so `2**53 + 1` becomes `2**53`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE <= value <= _MAX_SAFE else int(float(value))
    if value == value and value not in (float("inf"), float("-inf")) and value.is_integer():
        return int(value)
    return value


def load_json(text: str) -> Any:
    """`json.loads` with JavaScript's numbers (`JSON.parse`): big integers rounded."""
    return json.loads(text, parse_int=lambda s: js_number(int(s)))


_STRING = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*""", re.DOTALL)


def parse_string(text: str) -> str | None:
    """The value of one quoted JS string literal (`'a'` or `"a"`), or None if `text` is not
    exactly one."""
    match = _STRING.fullmatch(text)
    if match is None:
        return None
    body = match.group(1)[1:-1]
    escaped = re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in "'\"" else m.group(0), body)
    try:
        value = json.loads('"' + escaped.replace('"', '\\"').replace("\n", "\\n") + '"')
    except ValueError:
        return body
    return value if isinstance(value, str) else body
