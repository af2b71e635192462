"""Live servers for vt's tests: `serve(app)` runs any ASGI app on 127.0.0.1 for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import vt


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Start servers on free loopback ports; each is stopped after the test."""
    servers: list[vt.LiveServer] = []

    def start(app: Any) -> str:
        # A short grace: a test's server may hold a response that never ends (a hung beacon),
        # and nothing waits on its end.
        server = vt.LiveServer(app, shutdown_grace=0.3).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where a test's failed waits save transcripts."""
    return tmp_path / "artifacts"
