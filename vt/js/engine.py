"""The embedded JavaScript engine that runs Datastar expressions (QuickJS, through `quickjs-ng`).

The only module of vt that imports a JavaScript engine. `runtime.js` (beside this file) is
loaded into each engine: Datastar 1.0.1's expression rewrite and compile, a signal store that
behaves as Datastar's, its actions and what its display plugins make of a value. Python talks
to it in batches: `Batch(signals, host)` loads a tab's signals, `run`/`display` call compiled
expressions (each compiled once per engine, by its text), and `take()` returns the signals if
an expression changed them, the requests the fetch actions would send and console lines.

One engine per thread (`engine()`), made on first use (about 0.3 ms): a QuickJS context is not
thread-safe, and state does not outlive a batch, so tabs share it. Why QuickJS and not V8
(`mini-racer`): `benchmarks/js_engines.py` measures both; a call to a small compiled function
costs about 1 us in QuickJS against about 200 us in V8 through mini-racer, and the wheel is a
tenth the size.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import quickjs

from .expr import NOT_A_LITERAL, UNDEFINED, ExpressionError, load_json

__all__ = [
    "Batch",
    "Engine",
    "ExpressionError",
    "Host",
    "Outcome",
    "Taken",
    "engine",
    "parse_literal",
]

_RUNTIME = (Path(__file__).with_name("runtime.js")).read_text(encoding="utf-8")
# An expression that loops for ever must not hang a test: QuickJS interrupts it.
_TIME_LIMIT_S = 2
_MEMORY_LIMIT = 64 * 1024 * 1024


class Host(Protocol):
    """What an expression's `el` asks of the page: `what` about element `handle` (`id`,
    `tagName`, `value`, `checked`, `textContent`, `dataset` (JSON), `attr`, `closest`,
    `query`, `parent` (handles), `setValue`, `setChecked`, `setAttr`, `remove`)."""

    def ask(self, handle: int, what: str, arg: Any) -> Any: ...


class _NoHost:
    def ask(self, handle: int, what: str, arg: Any) -> Any:
        return None


@dataclass(slots=True)
class Outcome:
    """One call: its value (`UNDEFINED` for undefined), or the error it threw (`error`);
    the signal paths it read (when recorded), and whether it called `evt.preventDefault()` /
    `evt.stopPropagation()`."""

    value: Any = UNDEFINED
    error: str | None = None
    reads: list[str] = field(default_factory=list)
    prevented: bool = False
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class Taken:
    """What a batch left: the whole signal store if an expression changed it (else None),
    the requests fetch actions recorded (dicts: method, url, contentType, signals (JSON text),
    selector, headers, el (handle), options), and console lines."""

    signals: dict[str, Any] | None
    requests: list[dict[str, Any]]
    console: list[str]


class Engine:
    """One QuickJS context with vt's runtime loaded, and its compiled expressions."""

    def __init__(self) -> None:
        self._ctx = quickjs.Context()
        self._ctx.set_memory_limit(_MEMORY_LIMIT)
        self._host: Host = _NoHost()
        self._ctx.add_callable("__host", self._ask)
        self._ctx.eval(_RUNTIME)
        self._compiled: dict[tuple[str, bool, str], int | str] = {}
        get = self._ctx.get
        self._load: Callable[..., Any] = get("__load")
        self._compile: Callable[..., Any] = get("__compile")
        self._run: Callable[..., Any] = get("__run")
        self._display: Callable[..., Any] = get("__display")
        self._reads_text: Callable[..., Any] = get("__readsText")
        self._take: Callable[..., Any] = get("__take")
        self._json_signals: Callable[..., Any] = get("__jsonSignals")
        self._computed: Callable[..., Any] = get("__computed")
        self._signal_patch: Callable[..., Any] = get("__signalPatch")
        self._define_computed: Callable[..., Any] = get("__defineComputed")
        self._literal: Callable[..., Any] = self._ctx.eval(
            "(function (text) { try { var v = Function('return (' + text + ')')();"
            " return typeof v === 'function' || v === undefined ? '{}' : __encode({v: v}); }"
            " catch (e) { return '{}'; } })"
        )
        self._set_path: Callable[..., Any] = self._ctx.eval(
            "(function (path, json, m) { __setPath(path, JSON.parse(json), m); })"
        )
        self._ctx.set_time_limit(_TIME_LIMIT_S)

    def _ask(self, handle: Any, what: Any, arg: Any) -> Any:
        if not isinstance(handle, int):
            return None
        answer = self._host.ask(handle, str(what), arg)
        return json.dumps(answer) if what == "dataset" else answer

    def compiled(self, source: str, *, returns_value: bool, arg_names: str = "") -> int | str:
        """The id of `source` compiled as Datastar compiles an attribute value, or the
        `GenerateExpression` error text (a browser cannot compile it either)."""
        key = (source, returns_value, arg_names)
        found = self._compiled.get(key)
        if found is None:
            try:
                found = int(self._compile(source, returns_value, arg_names))
            except quickjs.JSException as exc:
                found = str(exc).split("\n", 1)[0].removeprefix("Error: ")
            self._compiled[key] = found
        return found

    def rewrite(self, source: str, *, returns_value: bool) -> str:
        """The function body Datastar makes of `source` (for messages and tests)."""
        return str(self._ctx.get("__rewrite")(source, returns_value))


_local = threading.local()


def engine() -> Engine:
    """This thread's engine, made on first use."""
    found: Engine | None = getattr(_local, "engine", None)
    if found is None:
        found = _local.engine = Engine()
    return found


class Batch:
    """A tab's signals loaded into the engine for a few calls; `take()` ends it.

    Not reentrant: one batch per engine at a time (everything here is synchronous).
    """

    __slots__ = ("_engine", "_host")

    def __init__(self, signals: Mapping[str, Any], host: Host | None = None) -> None:
        self._engine = engine()
        self._host = host or _NoHost()
        self._engine._host = self._host
        data = signals if isinstance(signals, dict) else dict(signals)
        self._engine._load(json.dumps(data, separators=(",", ":"), default=_unknown))

    def run(
        self,
        source: str,
        *,
        returns_value: bool = False,
        arg_names: str = "",
        el: int | None = None,
        evt: Mapping[str, Any] | None = None,
        args: Iterable[Any] | None = None,
        record: bool = False,
    ) -> Outcome:
        """Call `source` as Datastar calls an attribute's expression (`el`: an element
        handle the host answers for; `evt`: the event, given to the `evt` argument)."""
        fn = self._engine.compiled(source, returns_value=returns_value, arg_names=arg_names)
        if isinstance(fn, str):
            return Outcome(error=fn)
        self._engine._host = self._host
        raw = self._call(
            self._engine._run,
            fn,
            el,
            None if evt is None else json.dumps(evt),
            None if args is None else json.dumps(list(args)),
            record,
        )
        return _outcome(raw)

    def display(
        self, kind: str, source: str, el: int | None, *, record: bool = False, keyed: bool = False
    ) -> Outcome:
        """Call a display attribute's expression (`kind`: text, show, attr, class, style,
        value) and make of its value what the plugin makes: text as a string, show as a
        boolean, attr/class/style as `[(name, value), ...]` (`keyed`, `data-attr:title`: one
        pair named ""; value None to remove; class values True or False)."""
        fn = self._engine.compiled(source, returns_value=True)
        if isinstance(fn, str):
            return Outcome(error=fn)
        self._engine._host = self._host
        try:
            raw = str(self._engine._display(kind, fn, el, record, keyed))
        except quickjs.JSException as exc:
            raw = f"EInternalError: {exc}"
        reads = str(self._engine._reads_text()).split("\n") if record else []
        reads = [r for r in reads if r]
        tag, body = raw[:1], raw[1:]
        if tag == "E":
            return Outcome(error=body, reads=reads)
        if tag == "T":
            return Outcome(value=body, reads=reads)
        if tag == "S":
            return Outcome(value=body == "1", reads=reads)
        if tag == "P":
            pairs: list[tuple[str, Any]] = []
            for item in body.split("\x1e"):
                name, _, value = item.partition("\x1f")
                pairs.append((name, _pair_value(kind, value)))
            return Outcome(value=pairs, reads=reads)
        return Outcome(value=load_json(body), reads=reads)

    def computed(self, source: str, el: int | None, path: str) -> str | None:
        """`data-computed`: set the signal at `path` (or, with no path, each key of the
        object of functions the expression returns) to its value; the error, if any."""
        fn = self._engine.compiled(source, returns_value=True)
        if isinstance(fn, str):
            return fn
        self._engine._host = self._host
        return _outcome(self._call(self._engine._computed, fn, el, path)).error

    def signal_patch(self, source: str, el: int | None, filter_text: str, detail: Any) -> Outcome:
        """`data-on-signal-patch`: run `source` with `patch` (the `detail` of changed signals,
        filtered by `filter_text`, the `data-on-signal-patch-filter` value) when anything of
        it is left; `value` is True when it ran."""
        fn = self._engine.compiled(source, returns_value=True, arg_names="patch")
        if isinstance(fn, str):
            return Outcome(error=fn)
        self._engine._host = self._host
        raw = self._call(self._engine._signal_patch, fn, el, filter_text, json.dumps(detail))
        return _outcome(raw)

    def define_computed(self, path: str, source: str, el: int | None) -> None:
        """Make the signal at `path` a getter computing `source` (`data-computed`), so an
        action that reads it after changing what it depends on reads it fresh."""
        fn = self._engine.compiled(source, returns_value=True)
        if not isinstance(fn, str):
            self._engine._host = self._host
            self._call(self._engine._define_computed, path, fn, el)

    def set_path(self, path: str, value: Any, *, if_missing: bool = False) -> None:
        """Set one signal (a dotted path) as an attribute plugin does (`if_missing`: only
        when it does not exist yet)."""
        self._call(self._engine._set_path, path, json.dumps(value), if_missing)

    def json_signals(self, filter_text: str, *, terse: bool) -> str:
        """`data-json-signals`: the filtered signals as JSON text, as the plugin shows them."""
        return str(self._call(self._engine._json_signals, filter_text, terse))

    def take(self) -> Taken:
        """The changed signals (or None), the recorded requests and console lines."""
        text = str(self._engine._take())
        if not text:
            return _NOTHING
        raw = load_json(text)
        return Taken(raw.get("s"), raw.get("q", []), raw.get("c", []))

    @staticmethod
    def _call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except quickjs.JSException as exc:  # an interrupted loop, out of memory
            return json.dumps({"e": f"InternalError: {exc}"})
        except quickjs.StackOverflow:
            return json.dumps({"e": "RangeError: Maximum call stack size exceeded"})


def parse_literal(text: str) -> Any:
    """What Datastar makes of a value that is not JSON: `Function("return (" + text + ")")()`
    (so `{a: 1}` reads, and so does any expression without signals); `NOT_A_LITERAL` if that
    throws or gives undefined or a function."""
    try:
        return load_json(text)
    except ValueError:
        pass
    raw = Batch._call(engine()._literal, text)
    data = load_json(str(raw))
    return data.get("v", NOT_A_LITERAL)


_NOTHING = Taken(None, [], [])


def _pair_value(kind: str, text: str) -> Any:
    if text == "\x01":
        return None
    if kind == "class":
        return text == "1"
    return text


def _unknown(value: Any) -> Any:
    if value is UNDEFINED:
        return None
    raise TypeError(f"not a signal value: {value!r}")


def _outcome(raw: Any) -> Outcome:
    data = load_json(str(raw))
    return Outcome(
        value=UNDEFINED if "u" in data or "v" not in data else data["v"],
        error=data.get("e"),
        reads=data.get("r") or [],
        prevented="p" in data,
        stopped="s" in data,
    )
