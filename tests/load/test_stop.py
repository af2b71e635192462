"""Ctrl-C ends every process `vt load` started: Locust's master and its forked workers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from reference_impl.examples.chat import create_app
from tests.signals import as_from_a_shell
from vt import LiveServer

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).with_name("chat-pair.toml")
STARTS_WITHIN = 120.0
ENDS_WITHIN = 60.0


@pytest.fixture
def chat() -> Iterator[str]:
    with LiveServer(create_app()) as server:
        yield server.url


def test_ctrl_c_ends_the_master_and_its_workers(chat: str, tmp_path: Path) -> None:
    log = tmp_path / "load.log"
    with log.open("wb") as out:
        master = subprocess.Popen(
            [
                sys.executable, "-m", "vt", "load", str(SCENARIO),
                "--headless", "--processes", "2", "-u", "20", "-r", "20", "-t", "300s",
                "-H", chat, "--vt-pace", "1",
            ],
            preexec_fn=as_from_a_shell,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    process = psutil.Process(master.pid)
    started = [process]
    try:
        # Running: both workers forked, and users have reported a step (polling a child
        # process's log: it gives no other sign).
        deadline = time.monotonic() + STARTS_WITHIN
        while not (len(process.children()) == 2 and b"open 'alice'" in log.read_bytes()):
            assert master.poll() is None, log.read_text()
            assert time.monotonic() < deadline, (
                f"not running after {STARTS_WITHIN:g}s:\n" + (log.read_text()[-2000:])
            )
            time.sleep(0.2)
        started = [process, *process.children(recursive=True)]
        master.send_signal(signal.SIGINT)
        gone, alive = psutil.wait_procs(started, timeout=ENDS_WITHIN)
        assert not alive, (
            f"still running {ENDS_WITHIN:g}s after Ctrl-C: {alive}\n" + (log.read_text()[-2000:])
        )
        assert len(gone) == 3
    finally:
        for leftover in (
            [process, *process.children(recursive=True)] if process.is_running() else []
        ):
            leftover.kill()
        master.wait(10)
