"""Several `--host` URLs (the nodes of a cluster): users are spread over them round-robin."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reference_impl.examples.chat import create_app
from vt import LiveServer

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).with_name("chat-pair.toml")


def counting(pages: Counter[str], name: str) -> Any:
    """The chat, counting its page loads in `pages[name]`."""
    app = create_app()

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] == "GET":
            pages[name] += 1
        await app(scope, receive, send)

    return counted


def test_users_are_spread_over_the_hosts_given(tmp_path: Path) -> None:
    pages: Counter[str] = Counter()
    with LiveServer(counting(pages, "one")) as one, LiveServer(counting(pages, "two")) as two:
        done = subprocess.run(
            [
                sys.executable, "-m", "vt", "load", str(SCENARIO), "--headless",
                "-u", "6", "-r", "6", "-t", "8s", "-H", f"{one.url},{two.url}",
                "--csv", str(tmp_path / "stats"),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Six users, each opening alice and bob once on its host: three users a host.
    assert pages == {"one": 6, "two": 6}, pages
