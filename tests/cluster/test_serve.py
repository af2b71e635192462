"""`vt serve EXAMPLE --nodes 3`: one command starts NATS and three nodes, prints each node's
URL, and Ctrl-C stops every process it started."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.signals import as_from_a_shell

from .support import no_process_left, require_tools

pytestmark = pytest.mark.cluster


def test_serve_nodes_prints_the_urls_and_ctrl_c_stops_everything() -> None:
    require_tools("nats-server")
    with no_process_left():
        proc = subprocess.Popen(
            [sys.executable, "-m", "vt", "serve", "cluster", "--nodes", "3"],
            preexec_fn=as_from_a_shell,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert proc.stdout is not None
            urls: list[str] = []
            lines: list[str] = []
            deadline = time.monotonic() + 120
            while len(urls) < 3 and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
                found = re.match(r"node n\d: (http://127\.0\.0\.1:\d+/)", line)
                if found:
                    urls.append(found.group(1))
            assert len(urls) == 3, "".join(lines)
            for url in urls:
                with urllib.request.urlopen(url + "readyz", timeout=5) as response:
                    assert response.status == 200
            proc.send_signal(signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:  # say what it printed and what it still runs
                alive = [" ".join(c.cmdline()[:4]) for c in psutil.Process(proc.pid).children()]
                masks = signal_masks(proc.pid)  # ignored, blocked or pending: where SIGINT went
                proc.send_signal(signal.SIGUSR1)  # vt serve prints its threads' stacks
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(2)
                kill_tree(proc)
                rest, _ = proc.communicate()
                pytest.fail(
                    f"vt serve did not stop within 60 s of SIGINT; children {alive}; {masks}; "
                    f"it printed:\n{''.join(lines)}{rest}"
                )
            assert proc.returncode == 0, out
            assert "stopped" in out
        finally:
            if proc.poll() is None:  # the test failed: what it started must not outlive it
                kill_tree(proc)
                proc.wait()


def signal_masks(pid: int) -> str:
    """The signal masks of process `pid` (and of this one), as /proc shows them."""
    found = []
    for who in (str(pid), "self"):
        with open(f"/proc/{who}/status") as status:
            masks = [
                line.replace("\t", "") for line in status if line.startswith(("Sig", "ShdPnd"))
            ]
        found.append(f"{who}: " + " ".join(line.strip() for line in masks))
    return "; ".join(found)


def kill_tree(proc: subprocess.Popen[str]) -> None:
    """SIGKILL `proc` and every process under it."""
    for child in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    proc.kill()
