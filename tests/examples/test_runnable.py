"""Every example runs as `python -m reference_impl.examples.NAME --port N` and serves a page."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from tests.deadline import deadline

pytestmark = pytest.mark.anyio

EXAMPLES = ["counter", "scopes", "chat", "chat_events", "rooms", "chat_persist", "presence"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("name", EXAMPLES)
async def test_example_serves_from_the_command_line(name: str, tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", f"reference_impl.examples.{name}", "--port", str(port)]
    if name == "chat_persist":
        argv += ["--db", str(tmp_path / "chat.sqlite3")]
    log = b""
    async with await anyio.open_process(argv) as process:
        try:
            assert process.stderr is not None
            with deadline(20, "'Uvicorn running on' in the example's log", lambda: log):
                async for chunk in process.stderr:
                    log += chunk
                    if b"Uvicorn running on" in log:
                        break
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
