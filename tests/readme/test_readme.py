"""README's "Testing a plain Datastar app" example is a test file of this folder, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.DOTALL)


def test_the_plain_datastar_example_is_the_test_file() -> None:
    blocks = _python_blocks("Testing a plain Datastar app")
    example = (Path(__file__).parent / "test_plain_datastar_app.py").read_text(encoding="utf-8")
    assert blocks == [example], (
        "README's example differs from tests/readme/test_plain_datastar_app.py"
    )
