"""The `vt` command: in-process `main([...])` runs, and one subprocess smoke test."""

from __future__ import annotations

import subprocess
import sys

import pytest

import vt
from reference_impl.examples import chat
from vt.cli import main


def test_run_passes_every_scenario_against_the_embedded_runtime(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "PASS  chat-fan-out" in out
    assert "OK: 3 passed, 0 failed" in out


def test_run_against_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    with vt.LiveServer(chat.create_app()) as server:
        assert main(["run", "--url", server.url, "chat-order"]) == 0
    out = capsys.readouterr().out
    assert f"against {server.url}" in out
    assert "OK: 1 passed" in out


def test_run_reports_a_failing_scenario_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from reference_impl import App, Composition, Ctx, h

    class Broken(Composition):
        """A page without the chat: every chat scenario must fail against it."""

        def view(self, ctx: Ctx) -> h.Node:
            return h.p("not a chat")

    app = App(insecure_cookies=True)
    app.mount("/", Broken)
    with vt.LiveServer(app) as server:
        assert main(["run", "--url", server.url, "--timeout", "0.3", "chat-fan-out"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  chat-fan-out" in out
    assert "FAILED: 0 passed, 1 failed" in out


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "no-such-thing"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_the_installed_command_runs(tmp_path: object) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vt", "run", "--list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "chat-fan-out" in done.stdout
