"""Every example runs as `python -m reference_impl.examples.NAME --port N` and serves a page.

The child is given `--port 0`: the OS picks a free port when uvicorn binds, and uvicorn's log
line names it. (A port picked here and released before the child binds it could be taken by a
parallel test worker in between.)
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from tests.deadline import deadline

pytestmark = pytest.mark.anyio

EXAMPLES = ["counter", "scopes", "chat", "chat_events", "rooms", "chat_persist", "presence"]


# The port ends at the space before "(Press CTRL+C": a chunk may end inside the number.
RUNNING_ON = re.compile(rb"Uvicorn running on http://127\.0\.0\.1:(\d+) ")


@pytest.mark.e2e
@pytest.mark.parametrize("name", EXAMPLES)
async def test_example_serves_from_the_command_line(name: str, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", f"reference_impl.examples.{name}", "--port", "0"]
    if name == "chat_persist":
        argv += ["--db", str(tmp_path / "chat.sqlite3")]
    log = b""
    async with await anyio.open_process(argv) as process:
        try:
            assert process.stderr is not None
            running = None
            with deadline(20, "'Uvicorn running on <port>' in the example's log", lambda: log):
                async for chunk in process.stderr:
                    log += chunk
                    running = RUNNING_ON.search(log)
                    if running is not None:
                        break
            assert running is not None, log.decode()  # stderr ended without the line
            port = int(running.group(1))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                page = await client.get("/")
                ready = await client.get("/readyz")
            assert page.status_code == 200, log.decode()
            assert 'data-signals="' in page.text
            assert ready.status_code == 200
        finally:
            process.send_signal(signal.SIGINT)  # graceful: drain, then stop
            with deadline(15, "exit after SIGINT", lambda: log):
                code = await process.wait()
                assert process.stderr is not None
                async for chunk in process.stderr:
                    log += chunk
    # uvicorn re-raises the signal once it has shut down, so the exit is "by SIGINT".
    assert code in (0, -signal.SIGINT), log.decode()
    assert b"Finished server process" in log, log.decode()
