"""Child processes that vt starts and always stops: free loopback ports, a process with its log
file, waiting for a port or an HTTP probe, and a bounded stop (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..errors import ServerFailed

__all__ = ["LOOPBACK", "Process", "free_port"]

LOOPBACK = "127.0.0.1"
STOP_GRACE = 5.0  # seconds a process gets to exit on SIGTERM before SIGKILL


def free_port() -> int:
    """A loopback port free now (the OS's pick)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """One child process: its command, its log file (stdout and stderr) and its life.

    It runs in its own process group, so stopping it stops what it started too.
    """

    def __init__(self, name: str, argv: Sequence[str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        """The process id while it was started (None before)."""
        return self.proc.pid if self.proc is not None else None

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Process:
        """Start it (its output appended to its log)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def tail(self, lines: int = 20) -> str:
        """The end of its log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_http(self, url: str, deadline: float) -> None:
        """Wait until `url` answers 200 (bounded); fail with the log when the process exits."""
        end = time.monotonic() + deadline
        seen = "no answer"
        while time.monotonic() < end:
            if not self.alive:
                raise ServerFailed(f"{self.name} exited while starting:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1.0) as response:
                    if response.status == 200:
                        return
                    seen = f"status {response.status}"
            except (urllib.error.URLError, OSError) as exc:
                seen = str(exc)
            time.sleep(0.05)  # polling a child's port: there is no event to wait on
        raise ServerFailed(
            f"{self.name}: {url} not up within {deadline:g}s ({seen})\n{self.tail()}"
        )

    def wait_port(self, port: int, deadline: float) -> None:
        """Wait until something accepts on `port` (bounded)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if not self.alive:
                raise ServerFailed(f"{self.name} exited while starting:\n{self.tail()}")
            try:
                with socket.create_connection((LOOPBACK, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)  # polling a child's port: there is no event to wait on
        raise ServerFailed(f"{self.name}: port {port} not open within {deadline:g}s\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL its process group at once (a node dying) and reap it."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(STOP_GRACE)

    def terminate(self) -> None:
        """SIGTERM its process group and return at once (`stop()` then waits, bounded)."""
        if self.proc is not None and self.proc.poll() is None:
            self._signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM its process group; SIGKILL after `STOP_GRACE` seconds. Idempotent."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            self._signal(signal.SIGKILL)  # anything it left in its group
            return
        self._signal(signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            proc.wait(STOP_GRACE)
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)
