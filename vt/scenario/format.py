"""Scenario files (`specs/scenario-format.md`): TOML text in, a typed `Scenario` out.

Sans-IO apart from `load_scenario` / `load_scenarios`, which only read files. Every error is a
`ScenarioError` naming the file, the line of the step's `[[step]]` header, the step's number
and what was expected, so a person fixes the file without reading vt's code.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cluster.faults import FAULTS, NODE_VERBS
from ..errors import SCENARIO_FORMAT, ScenarioError
from ..specfiles import specs_dir

__all__ = [
    "SCENARIO_FORMAT",
    "Scenario",
    "ScenarioError",
    "Step",
    "bundled_scenarios",
    "load_scenario",
    "load_scenarios",
    "parse_scenario",
]

# Option name -> accepted Python types, per verb. `tab` / `tabs` are checked by name later.
_TAB = {"tab": (str,)}
_TABS = {"tab": (str,), "tabs": (str, list)}
_WAIT = {"timeout": (int, float)}
# Checks of a response's headers, shared by `request` and `expect_response`.
_RESPONSE = {
    "response_headers": (dict,),
    "header_matches": (dict,),
    "headers_absent": (list,),
    "cookie": (list,),
}
VERBS: dict[str, tuple[tuple[type, ...], dict[str, tuple[type, ...]]]] = {
    "open": (
        (str,),
        {
            "session": (str,),
            "path": (str,),
            "connect": (bool,),
            "count": (int,),
            "node": (int,),
            "accept_encoding": (str,),
        },
    ),
    "ready": ((str, list), {}),
    "action": (
        (str,),
        {
            **_TABS,
            "signals": (dict,),
            "status": (int,),
            "times": (int,),
            "concurrent": (bool,),
        },
    ),
    # Datastar's backend actions on the app's own routes (a plain Datastar page, §4.1).
    "post": ((str,), {**_TAB, "signals": (dict,), "status": (int,), "times": (int,)}),
    "get": ((str,), {**_TAB, "signals": (dict,), "status": (int,), "times": (int,)}),
    "click": ((str,), {**_TAB, **_WAIT}),
    "type": ((str,), {**_TAB, "text": (str,), **_WAIT}),
    "press": ((str,), {**_TAB, "key": (str,), **_WAIT}),
    "upload": ((str,), {**_TAB, "files": (dict,), "signals": (dict,), "status": (int,)}),
    "request": (
        (str,),
        {
            **_TAB,
            "via_tab": (bool,),
            "body": (str,),
            "json": (dict,),
            "headers": (dict,),
            "status": (int,),
            "body_contains": (str,),
            "body_excludes": (str,),
            "body_empty": (bool,),
            "body_bytes": (int,),
            "repeat": (int,),
            "chunked": (bool,),
            **_RESPONSE,
        },
    ),
    "expect_response": ((str,), {**_TAB, **_RESPONSE}),
    "expect_text": ((str,), {"selector": (str,), "exact": (bool,), **_TABS, **_WAIT}),
    "expect_selector": ((str,), {**_TABS, "count": (int,), **_WAIT}),
    "expect_signal": ((str,), {"value": (object,), **_TABS, **_WAIT}),
    "expect_none": ((str,), {"tabs": (str, list), "within": (int, float)}),
    "expect_quiet": ((int, float), {**_TABS}),
    "expect_frame": ((str, list), {**_WAIT}),
    "expect_no_frame": ((str, list), {"within": (int, float)}),
    "expect_console": ((str,), {**_TAB, **_WAIT}),
    "expect_script": ((str,), {**_TAB, "text": (str,), **_WAIT}),
    # What Via's options promise on the wire (vt/scenario/wire_verbs.py).
    "expect_heartbeat": ((str, list), {"count": (int,), "gap": (list,), **_WAIT}),
    "expect_nonces": ((str, list), {}),
    "expect_end": ((str, list), {**_WAIT}),
    "converge": ((str,), {"tabs": (str, list), **_WAIT}),
    "drop": ((str, list), {}),
    "stall": ((str, list), {}),
    "resume": ((str, list), {}),
    "reconnect": ((str, list), {}),
    "reload": ((str, list), {}),
    "close": ((str, list), {}),
    # Clusters and faults (specs/cluster.md): vt must have started the servers.
    "fault": (
        (str,),
        {
            "node": (int, str),
            "ms": (int, float),
            "jitter": (int, float),
            "rate": (int,),
            "bytes": (int,),
            "for": (int, float),
        },
    ),
    "kill_node": ((int,), {}),
    "restart_node": ((int,), {}),
    "recover": ((str, list), {**_WAIT}),
}
# Verbs whose argument names tabs (checked against the tabs opened before the step).
_TAB_ARGUMENT = frozenset(
    {
        "ready",
        "drop",
        "stall",
        "resume",
        "reconnect",
        "reload",
        "close",
        "expect_frame",
        "expect_no_frame",
        "recover",
        "expect_heartbeat",
        "expect_nonces",
        "expect_end",
    }
)
_HEADER_KEYS = {
    "name": (str,),
    "description": (str,),
    "level": (str,),
    "sections": (list,),
    "app": (str,),
    "route": (str,),
    "timeout": (int, float),
    "nodes": (int,),
}
_STEP_HEADER = re.compile(r"^\s*\[\[\s*step\s*\]\]\s*(#.*)?$")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True)
class Step:
    """One `[[step]]`: its verb, the verb's argument, its options and where it was written."""

    verb: str
    argument: Any
    options: Mapping[str, Any]
    number: int
    line: int

    def describe(self) -> str:
        """`step 3 (line 12): action 'Send'`."""
        return f"step {self.number} (line {self.line}): {self.verb} {self.argument!r}"

    def tab_names(self, key: str = "tabs") -> list[str] | None:
        """The tab names or globs of `tab`/`tabs` (or of the argument, for `ready`-like verbs)."""
        value = self.argument if self.verb in _TAB_ARGUMENT else self.options.get(key)
        if value is None and key == "tabs":
            value = self.options.get("tab")
        if value is None:
            return None
        return [value] if isinstance(value, str) else [str(v) for v in value]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed scenario file. `path` is where it came from (`<string>` when parsed from text);
    `tab_names` every tab the scenario opens, in order."""

    name: str
    path: str
    steps: tuple[Step, ...]
    description: str = ""
    level: str = "core"
    sections: tuple[str, ...] = ()
    app: str | None = None
    route: str = "/"
    timeout: float | None = None
    tab_names: tuple[str, ...] = field(default=())
    nodes: int = 1  # how many nodes vt starts for it when given no URL (specs/cluster.md)

    @property
    def embedded(self) -> bool:
        """True when it runs on one server with no process of vt's (no `nodes`, no fault or
        node step): what `pytest --vt` and a bare `vt run` take."""
        return self.nodes == 1 and not self.controls_nodes

    @property
    def controls_nodes(self) -> bool:
        """True when a step injects a fault or kills a node: vt must start the servers."""
        return any(step.verb in NODE_VERBS for step in self.steps)

    @property
    def needs_proxies(self) -> bool:
        """True when a step injects a wire fault (Toxiproxy in front of the servers)."""
        return any(step.verb == "fault" for step in self.steps)

    @property
    def conformance(self) -> str | None:
        """For a scenario of the conformance suite, the variant of the conformance app it is
        written for (`default`, or the factory's name: `create_app_strict`), else None."""
        factory = self.app_factory
        module, _, name = (factory or "").partition(":")
        if module != "reference_impl.examples.conformance":
            return None
        return "default" if name == "create_app" else name

    @property
    def app_factory(self) -> str | None:
        """`module:factory` of the reference app (`reference_impl.examples.<app>:create_app`)."""
        if self.app is None:
            return None
        return self.app if ":" in self.app else f"reference_impl.examples.{self.app}:create_app"


def parse_scenario(text: str, *, path: str = "<string>") -> Scenario:
    """Parse a scenario file's text; raise `ScenarioError` naming file, line and step."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        raise ScenarioError(path, line, None, f"not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"scenario", "step"})
    if unknown:
        raise ScenarioError(path, None, None, f"unknown top-level keys {unknown}")
    header = data.get("scenario", {})
    header_line = _header_line(text)
    if not isinstance(header, dict):
        raise ScenarioError(path, header_line, None, "[scenario] must be a table")
    for key, value in header.items():
        if key not in _HEADER_KEYS:
            raise ScenarioError(
                path,
                header_line,
                None,
                f"unknown [scenario] key {key!r}; known: " + ", ".join(sorted(_HEADER_KEYS)),
            )
        if not isinstance(value, _HEADER_KEYS[key]) or isinstance(value, bool):
            raise ScenarioError(path, header_line, None, f"[scenario] {key} has the wrong type")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(path, None, None, "a scenario needs at least one [[step]]")
    lines = [n for n, row in enumerate(text.splitlines(), start=1) if _STEP_HEADER.match(row)]
    steps: list[Step] = []
    opened: list[str] = []
    for index, raw in enumerate(raw_steps):
        line = lines[index] if index < len(lines) else 0
        step = _parse_step(raw, index + 1, line, path)
        _check_tabs(step, opened, path)
        if step.verb == "open":
            opened.extend(open_names(step))
        steps.append(step)
    stem = Path(path).stem if path != "<string>" else "scenario"
    return Scenario(
        name=str(header.get("name", stem)),
        path=path,
        steps=tuple(steps),
        description=str(header.get("description", "")),
        level=str(header.get("level", "core")),
        sections=tuple(str(s) for s in header.get("sections", ())),
        app=header.get("app"),
        route=str(header.get("route", "/")),
        timeout=float(header["timeout"]) if "timeout" in header else None,
        tab_names=tuple(opened),
        nodes=int(header.get("nodes", 1)),
    )


def open_names(step: Step) -> list[str]:
    """The tab names an `open` step creates (`count = 3` on `reader`: reader1..reader3)."""
    count = step.options.get("count")
    if count is None:
        return [str(step.argument)]
    return [f"{step.argument}{i + 1}" for i in range(int(count))]


def match_tabs(patterns: Sequence[str], names: Sequence[str]) -> list[str]:
    """The names matching any pattern (a name or a glob), in `names` order, each once."""
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse one scenario file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(file), None, None, f"cannot be read: {exc}") from None
    return parse_scenario(text, path=str(file))


def load_scenarios(folder: str | Path) -> list[Scenario]:
    """Every `*.toml` scenario under `folder` (recursively), sorted by path."""
    root = Path(folder)
    if not root.is_dir():
        raise ScenarioError(str(root), None, None, "is not a folder of scenario files")
    return [load_scenario(p) for p in sorted(root.rglob("*.toml"))]


def bundled_scenarios() -> list[Scenario]:
    """The scenarios shipped with vt (`specs/scenarios/`)."""
    return load_scenarios(specs_dir() / "scenarios")


def _header_line(text: str) -> int | None:
    for number, row in enumerate(text.splitlines(), start=1):
        if row.strip().startswith("[scenario]"):
            return number
    return None


def _parse_step(raw: Any, number: int, line: int, path: str) -> Step:
    def fail(reason: str) -> ScenarioError:
        return ScenarioError(path, line, number, reason)

    if not isinstance(raw, dict):
        raise fail("a step must be a table")
    verbs = [key for key in raw if key in VERBS]
    if len(verbs) != 1:
        found = f"found {verbs}" if verbs else f"found only {sorted(raw)}"
        raise fail(f"a step has exactly one verb ({', '.join(VERBS)}); {found}")
    verb = verbs[0]
    arg_types, option_types = VERBS[verb]
    argument = raw[verb]
    if not isinstance(argument, arg_types) or (
        isinstance(argument, bool) and bool not in arg_types
    ):
        names = " or ".join(t.__name__ for t in arg_types)
        raise fail(f"{verb}'s argument must be a {names}, not {argument!r}")
    options = {k: v for k, v in raw.items() if k != verb}
    for key, value in options.items():
        if key not in option_types:
            known = ", ".join(sorted(option_types)) or "none"
            raise fail(f"{verb} has no option {key!r} (its options: {known})")
        types = option_types[key]
        wrong = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        if wrong and object not in types:
            names = " or ".join(t.__name__ for t in types)
            raise fail(f"{verb}'s option {key!r} must be a {names}, not {value!r}")
    if "tab" in options and "tabs" in options:
        raise fail("give `tab` or `tabs`, not both")
    if verb == "request" and len(str(argument).split()) != 2:
        raise fail(f"request's argument is 'METHOD /path', not {argument!r}")
    if verb == "expect_response" and argument not in ("page", "stream"):
        raise fail(f"expect_response's argument is 'page' or 'stream', not {argument!r}")
    if verb == "fault" and argument not in FAULTS:
        raise fail(f"unknown fault {argument!r}; known: {', '.join(FAULTS)}")
    if verb == "upload":
        for field_name, spec in options.get("files", {}).items():
            if not isinstance(spec, dict) or not {"name", "content"} <= set(spec):
                raise fail(f"upload file {field_name!r} needs {{ name, content[, type] }}")
    return Step(verb, argument, options, number, line)


def _check_tabs(step: Step, opened: list[str], path: str) -> None:
    if step.verb == "open":
        for name in open_names(step):
            if name in opened:
                raise ScenarioError(path, step.line, step.number, f"tab {name!r} is already open")
        return
    patterns = step.tab_names()
    if patterns is None:
        if not opened and step.verb != "request":
            raise ScenarioError(path, step.line, step.number, f"{step.verb} before any `open`")
        return
    for pattern in patterns:
        if not match_tabs([pattern], opened):
            known = ", ".join(opened) or "none yet"
            raise ScenarioError(
                path,
                step.line,
                step.number,
                f"no tab named {pattern!r} is open at this step (open tabs: {known})",
            )
