"""The import graph of `vt/` and `reference_impl/`, checked with `ast` against the dependency
directions that ARCHITECTURE.md lists (the one source: the test reads that block).

Fails on: an import circle among vt modules; a vt module importing one on a higher line of
the list (or a module the list does not know); a sans-IO module importing an HTTP library,
anyio, pytest, Playwright or uvicorn; `vt` importing `reference_impl` (except lazily, inside a
function, in the CLI or the plugin: the embedded default target); `reference_impl` importing
`vt`; a module over 600 lines; a module reaching into another module's underscore-prefixed
member (`module._name`, `from .module import _name`), except `vt/sync/client.py`.
Imports under `if TYPE_CHECKING:` count like any other.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
TREES = ("vt", "reference_impl")
MAX_LINES = 600
IO_LIBRARIES = frozenset({"httpx", "anyio", "pytest", "playwright", "uvicorn", "httpcore"})
MAY_REACH_INTO_PRIVATE = frozenset({"vt/sync/client.py"})
# The embedded default target: served by the CLI and the plugin, imported inside a function.
MAY_IMPORT_REFERENCE_IMPL = frozenset({"vt/cli/main.py", "vt/pytest/plugin.py"})


@dataclass(frozen=True, slots=True)
class Import:
    """One import in one module: the module it names (dotted, absolute) and the names taken
    from it (empty for `import x`), and whether it sits at module level."""

    target: str
    names: tuple[str, ...]
    top_level: bool
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


@functools.cache
def _syntax(path: Path) -> ast.Module:
    """The file's syntax tree, parsed once per run (several checks read every module)."""
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def imports_of(path: Path) -> tuple[Import, ...]:
    """Every import in the file (TYPE_CHECKING blocks and function bodies included), found
    once per run (most checks read every module's imports)."""
    tree = _syntax(path)
    top = {id(node) for node in _top_level(tree.body)}
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name, (), id(node) in top, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = tuple(alias.name for alias in node.names)
            found.append(Import(target, names, id(node) in top, node.lineno))
    return tuple(found)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time: module level, and inside module-level `if`/`try`."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level(block)
            for handler in node.handlers:
                yield from _top_level(handler.body)


@functools.cache
def _files(tree: str) -> tuple[Path, ...]:
    return tuple(sorted(p for p in (ROOT / tree).rglob("*.py") if "__pycache__" not in p.parts))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# -- vt's packages and their contracts, read from ARCHITECTURE.md ---------------------------


@dataclass(frozen=True, slots=True)
class Contracts:
    """vt's units (a subpackage such as `client`, or a root module such as `errors`) by rank,
    top first: a unit imports only itself and units on lower lines; units on one line never
    import each other. `sans_io` lists the units (or `unit.module`s) that do no I/O."""

    layers: list[list[str]]
    sans_io: frozenset[str]

    def rank(self, unit: str) -> int | None:
        for index, line in enumerate(self.layers):
            if unit in line:
                return index
        return None

    def violations(self, graph: dict[str, set[str]]) -> list[str]:
        """Every module-to-module import (`vt.a.b` -> `vt.c.d`) against the contracts."""
        found = []
        for module, deps in sorted(graph.items()):
            mine = unit_of(module)
            for dep in sorted(deps):
                theirs = unit_of(dep)
                if theirs == mine:
                    continue
                here, there = self.rank(mine), self.rank(theirs)
                if here is None or there is None:
                    found.append(f"{module} imports {dep}: unit not in ARCHITECTURE.md's list")
                elif there < here:
                    found.append(f"{module} imports {dep} (up: {mine} -> {theirs})")
                elif there == here:
                    found.append(f"{module} imports {dep} (sideways: {mine} -> {theirs})")
        return found


def read_contracts() -> Contracts:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- layers:begin -->\s*```text\n(.*?)```\s*<!-- layers:end -->", text, re.S
    )
    assert block, "ARCHITECTURE.md has no <!-- layers:begin --> ... <!-- layers:end --> block"
    layers: list[list[str]] = []
    sans_io: set[str] = set()
    section = ""
    for raw in block.group(1).splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.strip().rstrip(":")
            continue
        if section.startswith("units"):
            layers.append(line.split()[1:])  # the first word is the line's label
        elif section.startswith("sans-IO"):
            sans_io.update(line.split())
    assert layers, "the layers block lists no units"
    assert sans_io, "the layers block lists no sans-IO units"
    return Contracts(layers, frozenset(sans_io))


CONTRACTS = read_contracts()


def unit_of(module: str) -> str:
    """`vt.client.tab` -> `client`; `vt.errors` -> `errors`; `vt` -> `__init__`."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _vt_targets(imp: Import) -> list[str]:
    """The vt modules an import names, dotted (`from vt.client import waits` -> vt.client.waits;
    `from vt import Client` -> vt)."""
    if imp.target.split(".")[0] != "vt":
        return []
    base = ROOT / Path(*imp.target.split("."))
    found = [f"{imp.target}.{n}" for n in imp.names if (base / f"{n}.py").is_file()]
    if len(found) < len(imp.names) or not imp.names:
        found.append(imp.target)
    return found


def _vt_graph() -> dict[str, set[str]]:
    """vt's module graph: each module's vt imports (a copy: a test may change it)."""
    return {module: set(deps) for module, deps in _vt_graph_once().items()}


@functools.cache
def _vt_graph_once() -> dict[str, frozenset[str]]:
    graph: dict[str, set[str]] = {}
    for path in _files("vt"):
        name = _module_name(path)
        deps = graph.setdefault(name, set())
        for imp in imports_of(path):
            deps.update(t for t in _vt_targets(imp) if t != name)
    return {module: frozenset(deps) for module, deps in graph.items()}


# -- the checks ------------------------------------------------------------------------------


def test_vt_has_no_import_circle() -> None:
    graph = _vt_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                circles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    # A package's __init__ re-exporting its own modules is not a circle of the code.
    circles = [c for c in circles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_every_vt_unit_is_listed() -> None:
    units = {unit_of(m) for m in _vt_graph()}
    unknown = sorted(u for u in units if CONTRACTS.rank(u) is None)
    assert not unknown, f"vt units missing from ARCHITECTURE.md's layers: {unknown}"
    listed = {u for line in CONTRACTS.layers for u in line}
    assert listed <= units, f"listed units that do not exist: {sorted(listed - units)}"


def test_vt_imports_follow_the_contracts() -> None:
    bad = CONTRACTS.violations(_vt_graph())
    assert not bad, "imports against the package contracts:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize(
    ("module", "injected"),
    [
        ("vt.pytest.plugin", "vt.cli.main"),  # the two surfaces never import each other
        ("vt.replica.dom", "vt.client.tab"),  # sans-IO layers never reach the I/O shell
        ("vt.client.tab", "vt.scenario.runner"),  # the client does not know scenarios
    ],
)
def test_the_contract_check_catches_an_injected_import(module: str, injected: str) -> None:
    graph = _vt_graph()
    assert CONTRACTS.violations(graph) == []
    graph[module] = {*graph[module], injected}
    found = CONTRACTS.violations(graph)
    assert len(found) == 1
    assert found[0].startswith(f"{module} imports {injected}")


def _is_sans_io(path: Path) -> bool:
    name = _module_name(path)
    unit = unit_of(name)
    rest = name.split(".", 2)[2] if name.count(".") >= 2 else ""
    return unit in CONTRACTS.sans_io or f"{unit}.{rest}" in CONTRACTS.sans_io


def test_sans_io_units_import_no_io_library() -> None:
    assert any(_is_sans_io(p) for p in _files("vt"))
    bad = [
        f"{_rel(path)}:{imp.line} imports {imp.target}"
        for path in _files("vt")
        if _is_sans_io(path)
        for imp in imports_of(path)
        if imp.target.split(".")[0] in IO_LIBRARIES
    ]
    assert not bad, "sans-IO modules importing I/O libraries: " + "; ".join(bad)


def test_vt_imports_reference_impl_only_lazily_for_the_default_target() -> None:
    bad = [
        f"{_rel(path)}:{imp.line}"
        for path in _files("vt")
        for imp in imports_of(path)
        if imp.target.split(".")[0] == "reference_impl"
        and (_rel(path) not in MAY_IMPORT_REFERENCE_IMPL or imp.top_level)
    ]
    assert not bad, "vt importing reference_impl: " + ", ".join(bad)


def read_reference_impl_layers() -> list[list[str]]:
    """The module names of each line of ARCHITECTURE.md's reference_impl block, top first."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text[text.index("## reference_impl") :]
    block = section[section.index("```\n") + 4 :]
    block = block[: block.index("```")]
    found = []
    for line in block.splitlines():
        names = re.match(r"((?:[a-z_]+\.py)(?:, [a-z_]+\.py)*)\s", line)
        if names:
            found.append([name.removesuffix(".py") for name in names[1].split(", ")])
    return found


def _reference_impl_imports(path: Path) -> set[str]:
    """The reference_impl top-level modules that the file imports."""
    out: set[str] = set()
    for imp in imports_of(path):
        parts = imp.target.split(".")
        if parts[0] != "reference_impl":
            continue
        if len(parts) > 1:
            out.add(parts[1])
        else:  # `from . import x` inside the package
            out.update(n for n in imp.names if (ROOT / "reference_impl" / f"{n}.py").is_file())
    return out


def test_reference_impl_layer_list_names_every_module_once() -> None:
    listed = [name for line in read_reference_impl_layers() for name in line]
    on_disk = sorted(p.stem for p in (ROOT / "reference_impl").glob("*.py"))
    assert sorted(listed) == on_disk


def test_reference_impl_imports_only_modules_below_it() -> None:
    rank = {name: i for i, line in enumerate(read_reference_impl_layers()) for name in line}
    upward = [
        f"{module} (line {rank[module]}) imports {target} (line {rank[target]})"
        for module in rank
        for target in sorted(_reference_impl_imports(ROOT / "reference_impl" / f"{module}.py"))
        if target in rank and target != module and rank[target] <= rank[module]
    ]
    assert upward == []


def test_reference_impl_never_imports_vt() -> None:
    bad = [
        f"{_rel(path)}:{imp.line}"
        for path in _files("reference_impl")
        for imp in imports_of(path)
        if imp.target.split(".")[0] == "vt"
    ]
    assert not bad, "reference_impl importing vt: " + ", ".join(bad)


@pytest.mark.parametrize("tree", TREES)
def test_no_module_is_over_600_lines(tree: str) -> None:
    long = {
        _rel(path): lines
        for path in _files(tree)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _private_reaches(path: Path) -> list[str]:
    tree = _syntax(path)
    module_names: set[str] = set()
    found: list[str] = []
    for imp in imports_of(path):
        if imp.target.split(".")[0] not in TREES:
            continue
        if not imp.names:
            module_names.add(imp.target.split(".")[-1])
            continue
        for name in imp.names:
            if (ROOT / Path(*imp.target.split("."), f"{name}.py")).is_file():
                module_names.add(name)  # `from . import _http`: a module, not a member
            elif name.startswith("_") and not name.startswith("__"):
                found.append(f"{_rel(path)}:{imp.line} from {imp.target} import {name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_names
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{_rel(path)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("tree", TREES)
def test_no_module_reaches_into_another_modules_private_members(tree: str) -> None:
    found = [
        reach
        for path in _files(tree)
        if _rel(path) not in MAY_REACH_INTO_PRIVATE
        for reach in _private_reaches(path)
    ]
    assert not found, "private members used from another module: " + "; ".join(found)
