"""The codec's imports go one way (ARCHITECTURE.md): checked from the source, not trusted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VT = Path(__file__).resolve().parents[2] / "vt"

# Each codec module and the vt modules it may import: bytes -> events -> patch -> dom.
ALLOWED: dict[str, set[str]] = {
    "wire.sse": set(),
    "js.expr": set(),
    "js.engine": {"js.expr"},
    "js.attrs": {"js.engine", "js.expr"},
    "replica.tree": set(),
    "replica.canonical": {"replica.tree"},
    "replica.dom": {"js.attrs", "replica.canonical", "errors", "replica.tree"},
    "wire.events": {"errors", "js.engine", "js.expr", "wire.sse"},
    "replica.morph": {"replica.tree"},
    "replica.fields": {"js.attrs", "replica.dom", "replica.tree"},
    "replica.watchers": {"js.attrs", "js.engine", "replica.fields", "replica.tree"},
    "replica.display": {"js.attrs", "js.engine", "replica.fields", "replica.tree"},
    "replica.patch": {
        "js.attrs",
        "replica.display",
        "replica.dom",
        "wire.events",
        "errors",
        "replica.morph",
        "replica.tree",
    },
    "replica.signals": {"js.attrs", "errors"},
    "replica.replica": {
        "replica.tree",
        "js.attrs",
        "replica.display",
        "replica.dom",
        "replica.fields",
        "replica.watchers",
        "wire.events",
        "js.expr",
        "replica.patch",
        "replica.signals",
        "wire.sse",
    },
    "page.bindings": {"js.attrs", "js.engine", "js.expr", "replica.dom", "replica.fields"},
}
IO_LIBRARIES = {"httpx", "anyio", "pytest", "playwright", "uvicorn", "starlette"}


def _imports(module: str) -> tuple[set[str], set[str], list[str]]:
    """(vt modules imported, top-level libraries imported, underscore names imported)."""
    path = VT / Path(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".")[:-1]
    local: set[str] = set()
    libraries: set[str] = set()
    private: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level and node.module:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module])
                local.add(target)
                private.extend(f"{target}.{a.name}" for a in node.names if a.name.startswith("_"))
            elif node.level == 0 and node.module:
                libraries.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            libraries.update(a.name.split(".")[0] for a in node.names)
    return local, libraries, private


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_codec_modules_import_only_downwards(module: str) -> None:
    local, libraries, private = _imports(module)
    assert local <= ALLOWED[module], f"{module} imports {sorted(local - ALLOWED[module])}"
    assert not libraries & IO_LIBRARIES, f"{module} does I/O: {sorted(libraries & IO_LIBRARIES)}"
    assert not private, f"{module} imports private names: {private}"
    lines = (VT / Path(*module.split(".")).with_suffix(".py")).read_text().count("\n")
    assert lines <= 600, f"{module} has {lines} lines"


def test_the_dom_does_not_know_the_event_model() -> None:
    assert "wire.events" not in _imports("replica.dom")[0]
