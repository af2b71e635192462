"""Shared test configuration: the test levels' markers by folder, and async tests on asyncio
through anyio's pytest plugin.

Levels (README, "Tests"; `scripts/test --level NAME` runs one, `--all` every one): a test in
one of `LEVEL_FOLDERS` gets that level's marker here, so a new file there is in its level
without a marker of its own; `e2e` (a subprocess run of the `vt` command or of pytest) and
`slow` are marked where the test is. Every test that uses `pytester` is marked `pytester`: the
default level runs its inner pytest in-process, the `e2e` level again in subprocesses
(`--runpytest=subprocess`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# tests/<folder>/ -> the marker of its level.
LEVEL_FOLDERS = {"browser": "browser", "targets": "targets", "cluster": "cluster"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder's level, and `pytester` where it runs an inner pytest."""
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:  # not under tests/ (a pytester test's own inner items)
            continue
        level = LEVEL_FOLDERS.get(folder)
        if level is not None:
            item.add_marker(level)
        if "pytester" in getattr(item, "fixturenames", ()):
            item.add_marker("pytester")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _lean_inner_pytest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest runs a pytester test starts do not load Hypothesis' plugin: none of them
    uses it, and importing it is about a second of every inner run's start (there are
    dozens of them)."""
    if "pytester" in request.fixturenames:
        addopts = os.environ.get("PYTEST_ADDOPTS", "")
        monkeypatch.setenv("PYTEST_ADDOPTS", f"{addopts} -p no:hypothesispytest".strip())


pytest_plugins = ["pytester"]
