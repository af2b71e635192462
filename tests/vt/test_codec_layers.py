"""The codec's imports go one way (ARCHITECTURE.md): checked from the source, not trusted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VT = Path(__file__).resolve().parents[2] / "vt"

# Each codec module and the vt modules it may import: bytes -> events -> patch -> dom.
ALLOWED: dict[str, set[str]] = {
    "_sse": set(),
    "_jsvalues": set(),
    "_js": {"_jsvalues"},
    "_attrs": {"_js"},
    "_tree": set(),
    "_canonical": {"_tree"},
    "_dom": {"_attrs", "_canonical", "_exceptions", "_tree"},
    "_events": {"_exceptions", "_js", "_sse"},
    "_morph": {"_tree"},
    "_display": {"_attrs", "_js", "_tree"},
    "_patch": {"_attrs", "_display", "_dom", "_events", "_exceptions", "_morph", "_tree"},
    "_signals": {"_attrs", "_exceptions"},
    "_replica": {
        "_tree",
        "_attrs",
        "_display",
        "_dom",
        "_events",
        "_js",
        "_patch",
        "_signals",
        "_sse",
    },
    "_actions": {"_attrs", "_js"},
    "_bindings": {"_actions", "_attrs", "_dom", "_js"},
}
IO_LIBRARIES = {"httpx", "anyio", "pytest", "playwright", "uvicorn", "starlette"}


def _imports(module: str) -> tuple[set[str], set[str], list[str]]:
    """(vt modules imported, top-level libraries imported, underscore names imported)."""
    tree = ast.parse((VT / f"{module}.py").read_text(encoding="utf-8"))
    local: set[str] = set()
    libraries: set[str] = set()
    private: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                local.add(node.module)
                private.extend(
                    f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")
                )
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
    lines = (VT / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{module} has {lines} lines"


def test_the_dom_does_not_know_the_event_model() -> None:
    assert "_events" not in _imports("_dom")[0]
