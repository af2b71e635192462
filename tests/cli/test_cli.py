"""The `vt` command: in-process `main([...])` runs, and subprocess runs of the installed command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import vt
from reference_impl import App, Composition, Ctx, h
from reference_impl.examples import chat
from vt.cli import main
from vt.cli.main import _choose, _parser, _run_url
from vt.scenario.harness import check_url

SCENARIOS = Path(__file__).resolve().parents[2] / "specs" / "scenarios"
FAN_OUT = SCENARIOS / "chat" / "chat-fan-out.toml"


def broken_app() -> App:
    class Broken(Composition):
        """A page without the chat: every chat scenario must fail against it."""

        def view(self, ctx: Ctx) -> h.Node:
            return h.p("not a chat")

    app = App(insecure_cookies=True)
    app.mount("/", Broken)
    return app


def test_run_passes_bundled_scenarios_against_the_embedded_runtime(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two scenarios: tests/conformance/test_suite.py runs every bundled one already.
    assert main(["run", "chat-fan-out", "chat-order", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("chat-fan-out", "chat-order"):
        assert f"PASS  {name}" in out
    assert "OK: 2 passed, 0 failed" in out
    assert not any(tmp_path.iterdir()), "a passing run leaves no report"


def test_run_without_names_picks_every_bundled_scenario_for_a_reference_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every bundled scenario written for a reference app (the one process `run` serves); the
    # plain-Datastar level names none (it runs only when named, against a URL), and the
    # cluster levels start processes (only when named).
    args = _parser().parse_args(["run"])
    _run_url(args)  # as `main` reads `run`'s arguments, then chooses
    chosen = _choose(args)
    for_an_app = [s for s in vt.bundled_scenarios() if s.app is not None and s.embedded]
    assert [s.name for s in chosen] == [s.name for s in for_an_app]
    assert {"chat-fan-out", "chat-order", "chat-escaping", "chat-leak", "chat-converge"} <= {
        s.name for s in chosen
    }
    assert "run only when named" in capsys.readouterr().out


def test_run_against_a_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with vt.LiveServer(chat.create_app()) as server:
        assert main(["run", server.url, "chat-order", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"against {server.url}" in out
    assert "OK: 1 passed" in out


def test_a_failing_scenario_exits_1_with_its_step_a_report_and_junit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    with vt.LiveServer(broken_app()) as server:
        code = main(
            ["run", server.url, "--timeout", "0.3", "chat-fan-out"]
            + ["--output", str(tmp_path / "out"), "--junit-xml", str(junit)]
        )
    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL  chat-fan-out" in out
    assert "step 4 (line 18): action 'Send':" in out
    assert "expected status 200, the server answered 404" in out
    assert "FAILED: 0 passed, 1 failed" in out
    report = tmp_path / "out" / "chat-fan-out"
    assert sorted(p.name for p in report.iterdir() if p.is_file()) == [
        "alice.html",
        "alice.sse",
        "alice.timeline.txt",
        "bob.html",
        "bob.sse",
        "bob.timeline.txt",
        "report.html",
    ]
    assert "not a chat" in (report / "bob.html").read_text()
    case = ET.parse(junit).getroot().find("testcase")
    assert case is not None
    assert case.get("name") == "chat-fan-out"
    assert case.get("classname") == "vt.chat"
    failure = case.find("failure")
    assert failure is not None
    assert "action 'Send'" in (failure.text or "")


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "no-such-thing"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("localhost:3000", "is not an http(s) URL"),
        ("http://127.0.0.1:9", "could not reach http://127.0.0.1:9"),
    ],
)
def test_a_wrong_or_unreachable_url_is_one_line_and_exit_2(
    url: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", url]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_wrong_scenario_file_names_file_line_and_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\nopen = "a"\n\n[[step]]\nclick = "button"\ntab = "b"\n')
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4: step 2: no tab named 'b' is open at this step (open tabs: a)" in err


def test_record_then_check_round_trips_against_the_reference_chat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goldens = tmp_path / "goldens"
    assert main(["record", "--scenario", str(FAN_OUT), "--out", str(goldens)]) == 0
    out = capsys.readouterr().out
    assert "2 written" in out
    assert f"next: vt check --scenario {FAN_OUT} --golden {goldens}" in out
    bob = (goldens / "chat-fan-out" / "bob.txt").read_text()
    assert "<strong>alice: </strong>hello bob <run></p>" in bob  # the run token, normalised
    assert '<div id="<tab-id:bob>">' in bob  # normalised: no run-specific tab id left
    for _ in range(2):  # a fresh app and fresh ids each time: still equal
        assert main(["check", "--scenario", str(FAN_OUT), "--golden", str(goldens)]) == 0
        assert "2 matched, 0 differ" in capsys.readouterr().out


def test_check_fails_with_a_readable_diff_when_the_chat_view_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    goldens = tmp_path / "goldens"
    assert main(["record", "--scenario", str(FAN_OUT), "--out", str(goldens)]) == 0
    capsys.readouterr()
    from reference_impl.examples import messages

    original = messages.log_view

    def renamed(log: list[messages.Message]) -> h.Node:
        return h.section(h.class_("renamed"), original(log))

    monkeypatch.setattr(chat, "log_view", renamed)
    code = main(
        ["check", "--scenario", str(FAN_OUT), "--golden", str(goldens)]
        + ["--output", str(tmp_path / "out")]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert f"--- {goldens / 'chat-fan-out' / 'bob.txt'} (golden)" in out
    assert '+  <section class="renamed">' in out
    assert "next: review the diff; if the change is intended, re-run with --update" in out
    assert (tmp_path / "out" / "chat-fan-out" / "report.html").is_file()
    assert main(["check", "--scenario", str(FAN_OUT), "--golden", str(goldens), "--update"]) == 0
    assert main(["check", "--scenario", str(FAN_OUT), "--golden", str(goldens)]) == 0


def test_missing_goldens_are_not_written_without_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goldens = tmp_path / "goldens"
    assert main(["check", "--scenario", str(FAN_OUT), "--golden", str(goldens)]) == 1
    assert "2 missing" in capsys.readouterr().out
    assert not goldens.exists()


def test_conformance_prints_a_table_by_level_and_honours_expect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = tmp_path / "expect.toml"
    expect.write_text('chat-order = "known: the broken app has no chat"\n')
    junit = tmp_path / "j.xml"
    with vt.LiveServer(broken_app()) as server:
        code = main(
            ["conformance", server.url, "--level", "chat", "--timeout", "0.2"]
            + ["--expect", str(expect)]
            + ["--junit-xml", str(junit), "--output", str(tmp_path / "out")]
        )
    assert code == 1  # the other chat scenarios fail for real
    out = capsys.readouterr().out
    assert "XFAIL  chat-order" in out
    assert "expected-failure" in out
    assert any(line.split() == ["chat", "0", "4", "1"] for line in out.splitlines())
    skipped = ET.parse(junit).getroot().findall("testcase/skipped")
    assert len(skipped) == 1


def test_an_expected_failure_that_passes_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect = tmp_path / "expect.toml"
    expect.write_text('chat-order = "thought broken"\n')
    code = main(["conformance", "--level", "chat", "--expect", str(expect)])
    assert code == 1
    out = capsys.readouterr().out
    assert "XPASS  chat-order" in out
    assert "expected to fail (thought broken) but passed" in out


def test_spec_prints_one_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "5.3"]) == 0
    out = capsys.readouterr().out
    assert "### 5.3 Ready and heartbeat" in out
    assert "### 5.4" not in out
    assert main(["spec", "99.9"]) == 2


@pytest.mark.e2e
def test_the_installed_command_runs_without_colour_or_progress_off_a_tty(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "vt", "run", "chat-order", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "PASS  chat-order" in done.stdout
    assert "\033[" not in done.stdout + done.stderr
    assert done.stderr == ""


@pytest.mark.e2e
def test_serve_serves_a_reference_example(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen(
        [sys.executable, "-m", "vt", "serve", "counter", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert f"serving counter on http://127.0.0.1:{port}/" in line
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            # uvicorn binds after printing the line: poll, with a deadline.
            while (problem := check_url(url, timeout=1)) is not None:
                assert time.monotonic() < deadline, problem
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.05)
            with vt.Client(url) as client:
                tab = client.new_session().open("/", connect=False)
                assert tab.id
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_serve_an_unknown_example_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "nope"]) == 2
    assert "no bundled example 'nope'" in capsys.readouterr().err


def test_conformance_runs_one_level_of_the_suite_against_the_embedded_app(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The chat level: the smallest (tests/conformance/test_suite.py runs every level).
    code = main(["conformance", "--level", "chat", "--output", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    chat = sum(s.level == "chat" for s in vt.bundled_scenarios())
    assert f"vt conformance: {chat} scenario(s)" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["chat", str(chat), "0", "0"] in rows
    assert ["total", str(chat), "0", "0"] in rows


def test_exitfirst_stops_the_conformance_suite_at_its_first_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with vt.LiveServer(broken_app()) as server:
        code = main(
            ["conformance", server.url, "--level", "chat", "--timeout", "0.2", "-x"]
            + ["--output", str(tmp_path)]
        )
    assert code == 1
    out = capsys.readouterr().out
    assert out.count("FAIL  chat-") == 1, out  # every chat scenario fails on it; one ran
    assert "stopped after the first failure (-x)" in out
    assert any(line.split() == ["total", "0", "1", "0"] for line in out.splitlines())


def test_run_takes_a_clusters_node_urls_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two "nodes" that are one server: sessions are spread over both URLs, each sees the other.
    with vt.LiveServer(chat.create_app()) as server:
        nodes = [server.url, server.url + "/"]
        assert main(["run", *nodes, "chat-fan-out", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"against {' '.join(nodes)}" in out
    assert "OK: 1 passed" in out


def test_an_unreachable_node_of_several_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with vt.LiveServer(chat.create_app()) as server:
        assert main(["run", server.url, "http://127.0.0.1:9", "chat-order"]) == 2
    err = capsys.readouterr().err
    assert "could not reach http://127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["serve", "notes:create_app", "--nodes", "3"], "give --node-command"),
        (["serve", "notes:create_app", "--nats", "nats://127.0.0.1:4222"], "--nats"),
        (["run", "--app", "notes:create_app", "--nodes", "3"], "need --node-command"),
        (["conformance", "--app", "notes:create_app", "--level", "faults"], "need --node-command"),
    ],
    ids=["serve-nodes", "serve-nats", "run-nodes", "faults-level"],
)
def test_a_users_app_in_one_process_is_no_cluster(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # vt can start its reference runtime's nodes, not a module:factory app's: say so, start
    # nothing (no process, no app import).
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err
