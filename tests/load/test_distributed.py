"""`vt load` distributed: a Locust master and two workers (processes) against the chat.

The scenario (`chat-pair.toml`: alice sends, alice's and bob's tabs must show it) runs
headless with 200 users (400 sessions in the one room every user shares). Each user holds
its sessions and acts after a random pause (`--vt-pace`), so the room gets a few messages,
each fanned out to every tab, while every user is connected. Checked from Locust's CSV
stats: every step reported, the fan-out percentiles present, no failure; against a lossy
chat (every other stream loses its patches), failures that name the step and the tabs.
Every process started ends with the run time.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from reference_impl.examples.chat import create_app
from tests.load.lossy import lossy_chat
from vt import LiveServer

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
SCENARIO = HERE / "chat-pair.toml"
VT = [sys.executable, "-m", "vt"]
USERS = 200
RUN_TIME = "20s"
PACE = "50"  # seconds between a user's iterations, on average: a few dozen messages
ENDS_WITHIN = 240.0  # seconds for the whole run on a loaded two-core machine


def free_port() -> int:
    with LiveServer(create_app()) as probe:  # binds a free loopback port, then frees it
        return probe.port


def run_distributed(url: str, folder: Path, timeout: float = 30) -> dict[str, Any]:
    """Master + two workers, headless; their exit codes, outputs, and the CSV rows.
    `timeout` is the steps' wait deadline (an iteration still waiting when the run time ends
    is stopped, and reports nothing)."""
    port = str(free_port())
    common = [*VT, "load", str(SCENARIO)]
    master = subprocess.Popen(
        [
            *common,
            "--master",
            "--master-bind-host", "127.0.0.1",
            "--master-bind-port", port,
            "--expect-workers", "2",
            "--headless",
            "-u", str(USERS),
            "-r", "100",
            "-t", RUN_TIME,
            "-H", url,
            "--csv", str(folder / "stats"),
            "--vt-pace", PACE,
            "--vt-timeout", str(timeout),
            "--vt-summary", str(folder / "summary.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", port],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    started = [psutil.Process(p.pid) for p in (master, *workers)]
    outputs = []
    try:
        for process in (master, *workers):
            out, _ = process.communicate(timeout=ENDS_WITHIN)
            outputs.append(out.decode(errors="replace"))
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.wait(10)
    left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return {
        "codes": [p.returncode for p in (master, *workers)],
        "output": "\n---\n".join(o[-3000:] for o in outputs),
        "left": left,
        "stats": _rows(folder / "stats_stats.csv"),
        "failures": _rows(folder / "stats_failures.csv"),
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [row for row in csv.DictReader(f) if row["Name"] != "Aggregated"]


@pytest.fixture
def chat() -> Iterator[str]:
    with LiveServer(create_app()) as server:
        yield server.url


@pytest.fixture
def lossy() -> Iterator[str]:
    with LiveServer(lossy_chat()) as server:
        yield server.url


def test_a_master_and_two_workers_report_every_step_and_the_fan_out(
    chat: str, tmp_path: Path
) -> None:
    run = run_distributed(chat, tmp_path)
    assert run["codes"] == [0, 0, 0], run["output"]
    assert not run["left"], f"processes left running: {run['left']}"
    stats = {(r["Type"], r["Name"].split(": ", 1)[1]): r for r in run["stats"]}
    assert set(stats) == {
        ("open", "open 'alice'"),
        ("open", "open 'bob'"),
        ("ready", "ready '*'"),
        ("action", "action 'Send'"),
        ("fan-out", "expect_text 'alice: hi {run}'"),
    }, run["output"]
    assert int(stats[("open", "open 'alice'")]["Request Count"]) >= USERS // 2, run["output"]
    fanout = stats[("fan-out", "expect_text 'alice: hi {run}'")]
    assert int(fanout["Request Count"]) >= 2, run["output"]  # two tabs per iteration
    for percentile in ("50%", "95%", "99%"):
        assert float(fanout[percentile]) > 0, fanout
    assert all(r["Failure Count"] == "0" for r in run["stats"]), run["failures"]
    (summary,) = json.loads((tmp_path / "summary.json").read_text())  # vt's: the slowest tab
    assert summary["step"].endswith("expect_text 'alice: hi {run}'"), summary
    assert summary["slowest_tab"].startswith(("alice/1 (user ", "bob/1 (user ")), summary
    assert 0 < summary["p50"] <= summary["p95"] <= summary["p99"], summary  # Locust's rounding


def test_a_lossy_server_fails_at_the_expect_step_naming_the_tabs(
    lossy: str, tmp_path: Path
) -> None:
    run = run_distributed(lossy, tmp_path, timeout=4)
    assert not run["left"], f"processes left running: {run['left']}"
    assert run["codes"][0] == 1, run["output"]  # Locust's exit code when a request failed
    failed = [r for r in run["failures"] if r["Method"] == "fan-out"]
    assert failed, (run["failures"], run["output"])
    for row in failed:
        assert "step 5 (line 21): expect_text 'alice: hi {run}'" in row["Name"], row
        assert "did not" in row["Error"], row
        assert "alice/1" in row["Error"] or "bob/1" in row["Error"], row
    assert {r["Method"] for r in run["failures"]} == {"fan-out"}, run["failures"]
