"""Reading the JavaScript literals that Datastar attributes carry, without running JavaScript.

`data-signals="{_open: false}"`, `$draft='';` and `confirm("Sure?")` hold JS literals: JSON
plus single-quoted strings, unquoted object keys and trailing commas. The replica reads those
and nothing more; anything else (an expression) is not a literal.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["NOT_A_LITERAL", "parse_literal", "parse_string"]

# Returned by `parse_literal` for text that is not a literal (None is a literal: `null`).
NOT_A_LITERAL: Any = type("NotALiteral", (), {"__repr__": lambda self: "<not a literal>"})()

_KEY = re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)(\s*:)")
_SINGLE = re.compile(r"'((?:[^'\\]|\\.)*)'")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_STRING = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*$""", re.DOTALL)


def parse_literal(text: str) -> Any:
    """The value of a JSON or simple JS literal, or `NOT_A_LITERAL`."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    converted = _SINGLE.sub(lambda m: json.dumps(_unescape_single(m.group(1))), text)
    converted = _KEY.sub(lambda m: f'{m.group(1)}"{m.group(2)}"{m.group(3)}', converted)
    converted = _TRAILING_COMMA.sub(r"\1", converted)
    try:
        return json.loads(converted)
    except ValueError:
        return NOT_A_LITERAL


def parse_string(text: str) -> str | None:
    """The value of one quoted JS string literal (`'a'` or `"a"`), or None if `text` is not
    exactly one."""
    match = _STRING.match(text)
    if match is None:
        return None
    literal = match.group(1)
    if literal.startswith("'"):
        return _unescape_single(literal[1:-1])
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _unescape_single(body: str) -> str:
    """The value of a single-quoted JS string's body (`\\'` and the JSON escapes)."""
    escaped = re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in "'\"" else m.group(0), body)
    try:
        value = json.loads('"' + escaped.replace('"', '\\"') + '"')
    except ValueError:
        return body
    return value if isinstance(value, str) else body
