"""JavaScript's values for vt's expression reader (`vt.js.expr`): conversions and operators.

`String(x)`, `Number(x)`, truthiness, `===`/`==`, the arithmetic and comparison operators and
the string methods display expressions call, with JavaScript's rules (one double number
type, `undefined` beside `null`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "STRING_METHODS",
    "UNDEFINED",
    "at",
    "binary",
    "js_number",
    "js_string",
    "js_truthy",
    "slice_of",
    "strict_equal",
    "to_number",
    "typeof",
]

# JavaScript's `undefined` (None is `null`).
UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "undefined"})()

_MAX_SAFE = 2**53


def js_number(value: int | float) -> int | float:
    """A number as JavaScript holds it: a double. Integral values stay Python ints (exactly
    the double's value), so `2**53 + 1` becomes `2**53`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE <= value <= _MAX_SAFE else int(float(value))
    if math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def slice_of(length: int, a: list[Any]) -> slice:
    start = int(to_number(a[0])) if a else 0
    end = int(to_number(a[1])) if len(a) > 1 else length
    return slice(start, end)


def at(target: str | list[Any], a: list[Any]) -> Any:
    index = int(to_number(a[0])) if a else 0
    return target[index] if -len(target) <= index < len(target) else UNDEFINED


STRING_METHODS: dict[str, Callable[[str, list[Any]], Any]] = {
    "toUpperCase": lambda s, a: s.upper(),
    "toLowerCase": lambda s, a: s.lower(),
    "trim": lambda s, a: s.strip(),
    "trimStart": lambda s, a: s.lstrip(),
    "trimEnd": lambda s, a: s.rstrip(),
    "includes": lambda s, a: js_string(a[0]) in s if a else False,
    "startsWith": lambda s, a: s.startswith(js_string(a[0])) if a else False,
    "endsWith": lambda s, a: s.endswith(js_string(a[0])) if a else False,
    "indexOf": lambda s, a: s.find(js_string(a[0])) if a else -1,
    "slice": lambda s, a: s[slice_of(len(s), a)],
    "substring": lambda s, a: s[slice_of(len(s), [max(0, int(to_number(x))) for x in a])],
    "charAt": lambda s, a: at(s, a) if at(s, a) is not UNDEFINED else "",
    "at": at,
    "repeat": lambda s, a: s * int(to_number(a[0])) if a else "",
    "padStart": lambda s, a: s.rjust(
        int(to_number(a[0])), js_string(a[1])[:1] if len(a) > 1 else " "
    ),
    "padEnd": lambda s, a: s.ljust(
        int(to_number(a[0])), js_string(a[1])[:1] if len(a) > 1 else " "
    ),
    "split": lambda s, a: s.split(js_string(a[0])) if a and js_string(a[0]) else list(s),
    "replace": lambda s, a: s.replace(js_string(a[0]), js_string(a[1]), 1),
    "replaceAll": lambda s, a: s.replace(js_string(a[0]), js_string(a[1])),
}


# -- JavaScript's conversions and operators ---------------------------------------------------


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness (objects and arrays, even empty, are truthy; NaN is not)."""
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, dict | list):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def js_string(value: Any) -> str:
    """JavaScript's `String(value)`."""
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        text = repr(value)
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def to_number(value: Any) -> float:
    """JavaScript's `Number(value)`."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    if isinstance(value, list):
        return to_number(js_string(value))
    return math.nan


def typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def strict_equal(a: Any, b: Any) -> bool:
    if typeof(a) != typeof(b) or (a is None) != (b is None):
        return False
    if isinstance(a, dict | list):
        return a is b
    return bool(a == b)


def loose_equal(a: Any, b: Any) -> bool:
    nullish = (None, UNDEFINED)
    if a in nullish or b in nullish:
        return a in nullish and b in nullish
    if typeof(a) == typeof(b):
        return strict_equal(a, b)
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return js_string(a) == js_string(b)
    return to_number(a) == to_number(b)


def binary(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        if isinstance(a, str | list | dict) or isinstance(b, str | list | dict):
            return js_string(a) + js_string(b)
        return js_number(to_number(a) + to_number(b))
    if op in ("-", "*", "/", "%"):
        x, y = to_number(a), to_number(b)
        if op == "-":
            return js_number(x - y)
        if op == "*":
            return js_number(x * y)
        if y == 0 or math.isnan(x) or math.isnan(y):
            if op == "%" or x == 0 or math.isnan(x) or math.isnan(y):
                return math.nan
            return math.copysign(math.inf, x) * math.copysign(1, y)
        return js_number(x / y if op == "/" else math.fmod(x, y))
    if op in ("===", "!=="):
        return strict_equal(a, b) is (op == "===")
    if op in ("==", "!="):
        return loose_equal(a, b) is (op == "==")
    if isinstance(a, str) and isinstance(b, str):
        x2, y2 = a, b
        return {"<": x2 < y2, "<=": x2 <= y2, ">": x2 > y2, ">=": x2 >= y2}[op]
    x, y = to_number(a), to_number(b)
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
