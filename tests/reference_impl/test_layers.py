"""reference_impl's modules import one way: each only modules listed below it in
ARCHITECTURE.md's reference_impl block (imports under TYPE_CHECKING included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reference_impl"


def layers() -> list[list[str]]:
    """The module names of each line of the block, top first."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text[text.index("## reference_impl") :]
    block = section[section.index("```\n") + 4 :]
    block = block[: block.index("```")]
    found = []
    for line in block.splitlines():
        names = re.match(r"((?:[a-z_]+\.py)(?:, [a-z_]+\.py)*)\s", line)
        if names:
            found.append([name.removesuffix(".py") for name in names[1].split(", ")])
    return found


def internal_imports(module: str) -> set[str]:
    """The package's modules that `module` imports, relatively or absolutely."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                out.add(node.module.split(".")[0])
            elif node.level == 1:
                out.update(alias.name for alias in node.names)
            elif node.level == 0 and (node.module or "").startswith("reference_impl."):
                out.add((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("reference_impl."):
                    out.add(alias.name.split(".")[1])
    return out


def test_the_list_names_every_module_once() -> None:
    listed = [name for line in layers() for name in line]
    on_disk = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert sorted(listed) == on_disk


def test_every_module_imports_only_modules_below_it() -> None:
    rank = {name: i for i, line in enumerate(layers()) for name in line}
    upward = [
        f"{module} (line {rank[module]}) imports {target} (line {rank[target]})"
        for module in rank
        for target in sorted(internal_imports(module))
        if target in rank and rank[target] <= rank[module]
    ]
    assert upward == []
