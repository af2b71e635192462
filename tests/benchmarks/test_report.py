"""The benchmarks' table (`benchmarks/report.py`), from a made-up result: a figure a mode does
not measure is said to be so, and only a measurement that failed reads "failed"."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def _run(target: str, reader: str, sessions: int) -> dict[str, Any]:
    return {
        "target": target,
        "reader": reader,
        "sessions": sessions,
        "last_s": [0.01],
        "p95_s": [0.01],
        "cpu_s": [0.01],
        "open_s": 0.1,
        "harness_kb_per_session": 10.0,
        "server_kb_per_tab": 5.0,
    }


def quick_result() -> dict[str, Any]:
    """Quick mode: the SDK target only at the largest N; its vt reader failed there."""
    runs = [_run(report.FLOOR, "bare", n) for n in (1, 10, 100)]
    runs += [_run(report.REFERENCE, r, n) for n in (1, 10, 100) for r in ("bare", "vt")]
    runs += [_run("datastar-py", "bare", 100)]
    return {
        "mode": "quick",
        "targets": [report.REFERENCE, "datastar-py"],
        "fanout": runs,
        "failures": [{"target": "datastar-py", "reader": "vt", "sessions": 100, "error": "boom"}],
        "overhead": {
            "event_bytes": 200,
            "vt_us_per_event": 10.0,
            "bare_us_per_event": 5.0,
            "paired_ratio": 2.0,
            "pairs": 9,
        },
        "check_cost": {"http_median_s": 0.5, "browser_not_measured": "no browser"},
    }


def test_sdk_rows_not_measured_in_quick_mode_say_so_and_failures_say_failed() -> None:
    rows = {row[0]: row for row in report.rows(quick_result()) if "datastar-py" in row[0]}
    one = rows["fan-out to 1 session (datastar-py): last reader has it (median)"]
    assert one[1:3] == ["not measured in quick mode", "not measured in quick mode"]
    hundred = rows["fan-out to 100 sessions (datastar-py): last reader has it (median)"]
    assert hundred[1] == "failed"  # measured, and it failed
    assert hundred[2] == "10 ms"
