"""What the cluster tests share: the tools they need (skip, or fail when `VT_GO_REQUIRED=1`),
and the check that a test left no process behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from vt.cluster.tools import NATS_SERVER, TOXIPROXY_SERVER, MissingTool, find_tool

__all__ = ["no_process_left", "require_tools"]


def require_tools(*names: str) -> None:
    """Skip when a tool is missing (`scripts/setup-cluster` installs them), or fail when the
    environment requires Go tools (`VT_GO_REQUIRED=1`; CI sets it)."""
    for name in names or (NATS_SERVER, TOXIPROXY_SERVER):
        try:
            find_tool(name)
        except MissingTool as exc:
            if os.environ.get("VT_GO_REQUIRED") == "1":
                pytest.fail(f"{exc}; VT_GO_REQUIRED=1 requires it")
            pytest.skip(str(exc))


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@contextmanager
def no_process_left() -> Iterator[set[int]]:
    """Run the block; then assert that no process it started (a descendant of this one) is
    still running. Yields the pids seen before."""
    before = _descendants()
    yield before
    left = []
    for pid in _descendants() - before:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    assert not left, "processes left behind:\n" + "\n".join(left)
