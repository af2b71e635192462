"""vt's JavaScript reader: the expressions Datastar attributes carry, read without a JS engine.

One tokenizer and one precedence parser serve every reader of Datastar values:

* literals (`data-signals="{_open: false}"`, `$draft=''`, fetch options): JSON plus
  single-quoted strings, unquoted keys and trailing commas (`parse_literal`);
* display expressions (`data-text="'Hello, ' + $name"`, `data-show="$n > 0 && !$hidden"`),
  evaluated against the signals with JavaScript's rules (`evaluate`): signal references
  (`$a.b`), literals, template literals, `+ - * / %`, comparisons, `! && || ??`, ternaries,
  `.length` and common string and array methods;
* the action grammar of `vt.js.actions` splits statements with `split_top_level`.

Anything outside this subset raises `ExpressionError` naming the part: vt reports it, it never
shows an unreadable expression as empty (specs/protocol.md §6.5). Numbers follow JavaScript:
one double type, so integers beyond 2^53 are rounded (`js_number`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from .values import (
    STRING_METHODS,
    UNDEFINED,
    at,
    binary,
    js_number,
    js_string,
    js_truthy,
    slice_of,
    strict_equal,
    to_number,
    typeof,
)

__all__ = [
    "NOT_A_LITERAL",
    "UNDEFINED",
    "ExpressionError",
    "evaluate",
    "js_number",
    "js_string",
    "js_truthy",
    "load_json",
    "parse_literal",
    "parse_string",
    "split_top_level",
]


class ExpressionError(ValueError):
    """A Datastar expression vt cannot read (or that a browser could not compile)."""


# Returned by `parse_literal` for text that is not a literal (None is a literal: `null`).
NOT_A_LITERAL: Any = type("NotALiteral", (), {"__repr__": lambda self: "<not a literal>"})()


def load_json(text: str) -> Any:
    """`json.loads` with JavaScript's numbers (`JSON.parse`): big integers rounded."""
    return json.loads(text, parse_int=lambda s: js_number(int(s)))


# -- tokens ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<tpl>`)
    | (?P<name>[A-Za-z_$][\w$]*)
    | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||\?\?|\?\.|=>|[-+*/%<>!?:.,()\[\]{}=;@])
    )""",
    re.VERBOSE | re.DOTALL,
)


def _string_value(literal: str) -> str:
    body = literal[1:-1]
    escaped = re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in "'\"" else m.group(0), body)
    try:
        value = json.loads('"' + escaped.replace('"', '\\"').replace("\n", "\\n") + '"')
    except ValueError:
        return body
    return value if isinstance(value, str) else body


class _Parser:
    """A precedence-climbing parser that evaluates as it goes (no tree: each expression is
    read once per evaluation, which is what the replica needs)."""

    def __init__(
        self,
        text: str,
        signals: Mapping[str, Any] | None,
        start: int = 0,
        created: dict[str, Any] | None = None,
    ) -> None:
        self.text = text
        self.created = created if created is not None else {}
        self.pos = start
        self.signals = signals
        self.kind = ""
        self.value = ""
        self._next()

    # tokens
    def _next(self) -> None:
        if self.pos >= len(self.text) or not self.text[self.pos :].strip():
            self.kind, self.value = "end", ""
            self.pos = len(self.text)
            return
        match = _TOKEN.match(self.text, self.pos)
        if match is None or match.lastgroup is None:
            rest = self.text[self.pos :].strip()
            raise ExpressionError(f"`{self.text.strip()}`: cannot read `{rest[:20]}`")
        self.kind, self.value = match.lastgroup, match.group(match.lastgroup)
        self.pos = match.end()

    def _is(self, op: str) -> bool:
        return self.kind == "op" and self.value == op

    def _expect(self, op: str) -> None:
        if not self._is(op):
            raise self._error(f"expected `{op}`")
        self._next()

    def _error(self, what: str) -> ExpressionError:
        near = self.value or "the end"
        return ExpressionError(f"`{self.text.strip()}`: {what} near `{near}`")

    # grammar
    def program(self) -> Any:
        value = UNDEFINED
        while self.kind != "end":
            if self._is(";"):
                self._next()
                continue
            value = self.expression()
            if self.kind != "end" and not self._is(";"):
                raise self._error("vt does not evaluate this")
        return value

    def expression(self) -> Any:
        value = self.conditional()
        while self._is(","):
            self._next()
            value = self.conditional()
        return value

    def conditional(self) -> Any:
        test = self.binary(0)
        if not self._is("?"):
            if self._is("=") or self._is("=>"):
                raise self._error("vt does not evaluate assignments or functions here")
            return test
        self._next()
        yes = self._skip_or(lambda: self.conditional(), js_truthy(test))
        self._expect(":")
        no = self._skip_or(lambda: self.conditional(), not js_truthy(test))
        return yes if js_truthy(test) else no

    def _skip_or(self, read: Callable[[], Any], wanted: bool) -> Any:
        """Read a branch; errors of evaluation in a branch JavaScript skips do not count."""
        if wanted:
            return read()
        saved = self.signals
        self.signals = _Skip()
        try:
            return read()
        finally:
            self.signals = saved

    def binary(self, level: int) -> Any:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.kind == "op" and self.value in _LEVELS[level]:
            op = self.value
            self._next()
            if op in ("&&", "||", "??"):
                short = (
                    (op == "&&" and not js_truthy(left))
                    or (op == "||" and js_truthy(left))
                    or (op == "??" and left is not None and left is not UNDEFINED)
                )
                right = self._skip_or(partial(self.binary, level + 1), not short)
                left = left if short else right
            else:
                left = binary(op, left, self.binary(level + 1))
        return left

    def unary(self) -> Any:
        if self.kind == "op" and self.value in ("!", "-", "+"):
            op = self.value
            self._next()
            operand = self.unary()
            if op == "!":
                return not js_truthy(operand)
            number = to_number(operand)
            return js_number(-number if op == "-" else number)
        if self.kind == "name" and self.value == "typeof":
            self._next()
            return typeof(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            if self._is(".") or self._is("?."):
                optional = self.value == "?."
                self._next()
                if self.kind != "name":
                    raise self._error("expected a property name")
                name = self.value
                self._next()
                if optional and (value is None or value is UNDEFINED):
                    value = UNDEFINED
                    continue
                value = _Member(value, name)
            elif self._is("["):
                self._next()
                key = self.expression()
                self._expect("]")
                value = _Member(value, js_string(key))
            elif self._is("("):
                self._next()
                args = self._list(")")
                value = self._call(value, args)
                continue
            else:
                break
            if not self._is("("):
                value = value.get(self)
        return value

    def _call(self, callee: Any, args: list[Any]) -> Any:
        if isinstance(callee, _Member):
            return _method(callee.target, callee.name, args, self)
        if isinstance(callee, _Global):
            return callee.call(args)
        raise self._error("vt calls string, array and number methods only")

    def _list(self, close: str) -> list[Any]:
        items: list[Any] = []
        while not self._is(close):
            items.append(self.conditional())
            if not self._is(close):
                self._expect(",")
        self._next()
        return items

    def primary(self) -> Any:
        kind, value = self.kind, self.value
        if kind == "end":
            raise self._error("an expression is missing")
        if kind == "tpl":
            return self._template()
        self._next()
        if kind == "num":
            return js_number(float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "str":
            return _string_value(value)
        if kind == "name":
            return self._name(value)
        if value == "(":
            inner = self.expression()
            self._expect(")")
            return inner
        if value == "[":
            return self._list("]")
        if value == "{":
            return self._object()
        raise ExpressionError(f"`{self.text.strip()}`: vt does not evaluate `{value}` here")

    def _name(self, name: str) -> Any:
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name.startswith("$") and len(name) > 1:
            if isinstance(self.signals, _Skip):
                return UNDEFINED
            if self.signals is None:
                raise ExpressionError(f"`{self.text.strip()}` reads the signal `{name}`")
            key = name[1:]
            if key in self.created:
                return self.created[key]
            value = self.signals.get(key, UNDEFINED)
            if value is UNDEFINED:
                # Datastar creates a signal the first time an expression reads it, empty.
                value = self.created[key] = ""
            return value
        if name in _GLOBALS:
            return _Global(name)
        raise ExpressionError(
            f"`{self.text.strip()}` uses `{name}`, which vt does not evaluate (it reads "
            "signals, literals, operators and string methods)"
        )

    def _object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while not self._is("}"):
            if self.kind == "name":
                key = self.value
            elif self.kind == "num":
                key = js_string(js_number(float(self.value)))
            elif self.kind == "str":
                key = _string_value(self.value)
            else:
                raise self._error("expected a property name")
            self._next()
            if self._is(":"):
                self._next()
                out[key] = self.conditional()
            else:
                out[key] = self._name(key)
            if not self._is("}"):
                self._expect(",")
        self._next()
        return out

    def _template(self) -> str:
        """A template literal; the tokenizer stopped right after its opening backquote."""
        parts: list[str] = []
        text, i = self.text, self.pos
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                parts.append(_string_value('"' + text[i : i + 2] + '"'))
                i += 2
            elif ch == "`":
                self.pos = i + 1
                self._next()
                return "".join(parts)
            elif text.startswith("${", i):
                sub = _Parser(text, self.signals, start=i + 2, created=self.created)
                parts.append(js_string(sub.expression()))
                if not sub._is("}"):
                    raise sub._error("expected `}`")
                i = sub.pos
            else:
                parts.append(ch)
                i += 1
        raise ExpressionError(f"`{text.strip()}`: a template literal is not closed")


_LEVELS: list[tuple[str, ...]] = [
    ("||", "??"),
    ("&&",),
    ("===", "!==", "==", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "/", "%"),
]
_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "undefined": UNDEFINED,
    "NaN": math.nan,
    "Infinity": math.inf,
}
_GLOBALS = frozenset({"String", "Number", "Boolean", "Math", "JSON"})


class _Skip(dict[str, Any]):
    """The signals while reading a branch JavaScript would not run."""


class _Member:
    """`target.name` not yet read: a call turns it into a method call."""

    __slots__ = ("name", "target")

    def __init__(self, target: Any, name: str) -> None:
        self.target, self.name = target, name

    def get(self, parser: _Parser) -> Any:
        target, name = self.target, self.name
        if isinstance(target, _Global):
            return _Global(f"{target.name}.{name}")
        if target is None or target is UNDEFINED:
            if isinstance(parser.signals, _Skip):
                return UNDEFINED
            raise ExpressionError(
                f"`{parser.text.strip()}`: cannot read `{name}` of {js_string(target)} "
                "(a browser throws a TypeError)"
            )
        if name == "length" and isinstance(target, str | list):
            return len(target)
        if isinstance(target, dict):
            return target.get(name, UNDEFINED)
        if isinstance(target, list) and name.isdigit():
            index = int(name)
            return target[index] if index < len(target) else UNDEFINED
        return UNDEFINED


class _Global:
    """`String`, `Number`, `Math.max`…: the few globals display expressions call."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def call(self, args: list[Any]) -> Any:
        first = args[0] if args else UNDEFINED
        numbers = [to_number(a) for a in args]
        table: dict[str, Callable[[], Any]] = {
            "String": lambda: js_string(first) if args else "",
            "Number": lambda: js_number(to_number(first)) if args else 0,
            "Boolean": lambda: js_truthy(first),
            "Math.max": lambda: js_number(max(numbers, default=-math.inf)),
            "Math.min": lambda: js_number(min(numbers, default=math.inf)),
            "Math.round": lambda: js_number(math.floor(numbers[0] + 0.5)),
            "Math.floor": lambda: js_number(math.floor(numbers[0])),
            "Math.ceil": lambda: js_number(math.ceil(numbers[0])),
            "Math.abs": lambda: js_number(abs(numbers[0])),
            "JSON.stringify": lambda: json.dumps(first, separators=(",", ":")),
        }
        if self.name not in table:
            raise ExpressionError(f"vt does not evaluate `{self.name}(…)`")
        return table[self.name]()


def _method(target: Any, name: str, args: list[Any], parser: _Parser) -> Any:
    if isinstance(target, _Global):
        return _Global(f"{target.name}.{name}").call(args)
    if isinstance(parser.signals, _Skip):
        return UNDEFINED
    a = [js_string(x) if not isinstance(x, int | float) else x for x in args]
    if isinstance(target, str):
        handler = STRING_METHODS.get(name)
        if handler is not None:
            return handler(target, a)
    if isinstance(target, list) and name in ("join", "includes", "indexOf", "at", "slice"):
        if name == "join":
            sep = a[0] if a else ","
            return str(sep).join("" if v is None else js_string(v) for v in target)
        if name == "includes":
            return any(strict_equal(v, args[0]) for v in target) if args else False
        if name == "indexOf":
            return next((i for i, v in enumerate(target) if strict_equal(v, args[0])), -1)
        if name == "slice":
            return target[slice_of(len(target), a)]
        return at(target, a)
    if isinstance(target, int | float) and not isinstance(target, bool) and name == "toFixed":
        digits = int(to_number(args[0])) if args else 0
        return f"{target:.{digits}f}"
    if name == "toString":
        return js_string(target)
    raise ExpressionError(f"`{parser.text.strip()}`: vt does not evaluate the method `{name}`")


# -- entry points ----------------------------------------------------------------------------


def evaluate(
    text: str, signals: Mapping[str, Any] | None, created: dict[str, Any] | None = None
) -> Any:
    """The value of a Datastar expression over `signals`, as JavaScript computes it.

    With `signals=None` a signal reference is an error (a literal is wanted). A signal that
    does not exist reads as `""` and is added to `created`, as Datastar creates it on first
    read. Returns `UNDEFINED` for an empty expression.

    Raises:
        ExpressionError: the expression is outside vt's subset, names something vt does not
            evaluate, or would throw in a browser.
    """
    try:
        return _Parser(text, signals, created=created).program()
    except RecursionError:
        raise ExpressionError(f"`{text[:60]}`: nested too deeply") from None


def parse_literal(text: str) -> Any:
    """The value of a JSON or simple JS literal (no signal references), or `NOT_A_LITERAL`."""
    try:
        return load_json(text)
    except ValueError:
        pass
    try:
        value = evaluate(text, None)
    except ExpressionError:
        return NOT_A_LITERAL
    return NOT_A_LITERAL if value is UNDEFINED else value


def parse_string(text: str) -> str | None:
    """The value of one quoted JS string literal (`'a'` or `"a"`), or None if `text` is not
    exactly one."""
    match = _TOKEN.fullmatch(text.strip())
    if match is None or match.lastgroup != "str":
        return None
    return _string_value(match.group("str"))


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


def split_top_level(text: str, separator: str) -> list[str]:
    """Split at `separator` outside strings, parentheses, brackets and braces."""
    parts: list[str] = []
    start = 0
    for index, depth in _structure(text):
        if index >= start and depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            start = index + len(separator)
    parts.append(text[start:])
    return parts


def balanced(text: str) -> bool:
    """True when every bracket closes after it opens and no string literal is left open."""
    depth = 0
    for _, depth in _structure(text):
        if depth < 0:
            return False
    return depth == 0
