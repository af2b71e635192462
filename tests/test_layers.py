"""The import graph of `vt/` and `reference_impl/`, checked with `ast` against the dependency
directions that ARCHITECTURE.md lists (the one source: the test reads that block).

Fails on: an import circle among vt modules; a vt module importing one on a higher line of
the list (or a module the list does not know); a sans-IO module importing an HTTP library,
anyio, pytest, Playwright or uvicorn; `vt` importing `reference_impl` (except lazily, inside a
function, in the CLI or the plugin: the embedded default target); `reference_impl` importing
`vt`; a module over 600 lines; a module reaching into another module's underscore-prefixed
member (`module._name`, `from .module import _name`), except `vt/_sync.py`.
Imports under `if TYPE_CHECKING:` count like any other.
"""

from __future__ import annotations

import ast
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
MAY_REACH_INTO_PRIVATE = frozenset({"vt/_sync.py"})
# The embedded default target: served by the CLI and the plugin, imported inside a function.
MAY_IMPORT_REFERENCE_IMPL = frozenset({"vt/cli.py", "vt/pytest_plugin.py"})


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


def imports_of(path: Path) -> list[Import]:
    """Every import in the file (TYPE_CHECKING blocks and function bodies included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
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
    return found


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


def _files(tree: str) -> list[Path]:
    return sorted(p for p in (ROOT / tree).rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# -- the dependency directions, read from ARCHITECTURE.md ----------------------------------


@dataclass(frozen=True, slots=True)
class Directions:
    """vt's layers, top first (a module imports only its own line and lines below), and the
    sans-IO modules."""

    layers: list[list[str]]
    sans_io: frozenset[str]

    def rank(self, module: str) -> int | None:
        for index, line in enumerate(self.layers):
            if module in line:
                return index
        return None


def read_directions() -> Directions:
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
        label, *modules = line.split()
        if section.startswith("layers"):
            layers.append(modules)
        elif section.startswith("sans-IO"):
            sans_io.update([label, *modules])
    assert layers, "the layers block lists no layers"
    assert sans_io, "the layers block lists no sans-IO modules"
    return Directions(layers, frozenset(sans_io))


DIRECTIONS = read_directions()


def _vt_module(target: str, names: tuple[str, ...]) -> list[str]:
    """The vt modules an import names (`vt._dom` -> `_dom`; `from vt import _a, x` -> `_a`
    and `__init__` for the rest)."""
    if target == "vt":
        found = [n for n in names if (ROOT / "vt" / f"{n}.py").is_file()]
        return found + (["__init__"] if len(found) < len(names) or not names else [])
    if target.startswith("vt."):
        return [target.split(".")[1]]
    return []


def _vt_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _files("vt"):
        deps = graph.setdefault(path.stem, set())
        for imp in imports_of(path):
            deps.update(m for m in _vt_module(imp.target, imp.names) if m != path.stem)
    return graph


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
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_vt_imports_follow_the_listed_directions() -> None:
    graph = _vt_graph()
    unknown = sorted(m for m in graph if DIRECTIONS.rank(m) is None)
    assert not unknown, f"modules missing from ARCHITECTURE.md's layers: {unknown}"
    upward = [
        f"{module} imports {dep}"
        for module, deps in sorted(graph.items())
        for dep in sorted(deps)
        if (DIRECTIONS.rank(dep) or 0) < (DIRECTIONS.rank(module) or 0)
    ]
    assert not upward, "imports against the layers (up the list): " + "; ".join(upward)


def test_sans_io_modules_import_no_io_library() -> None:
    listed = {p.stem for p in _files("vt")}
    assert DIRECTIONS.sans_io - listed <= {"_patch", "_attrs"}, "sans-IO names that are no module"
    bad = [
        f"vt/{path.name}:{imp.line} imports {imp.target}"
        for path in _files("vt")
        if path.stem in DIRECTIONS.sans_io
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
    tree = ast.parse(path.read_text(encoding="utf-8"))
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
