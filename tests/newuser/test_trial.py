"""A new user's trial, end to end (issue 17): a project with its own app, its own tests,
scenario files and goldens; `pytest --vt`, the golden update flow, `--lf`, one scenario file,
and `vt serve module:factory`. The inner pytest runs are in-process (`pytester.runpytest`);
`vt serve` is the installed command in a process of its own, with a deadline."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vt
from vt.scenario.harness import check_url

# The user's app: a notes page on their framework (the reference runtime stands in for it).
NOTES_APP = """
import os

from reference_impl import App, Composition, Ctx, SignalStr, StateApp, action, h, on


class Notes(Composition):
    notes = StateApp[list[str]]("notes", list)
    draft = SignalStr("draft")

    def view(self, ctx: Ctx) -> h.Node:
        title = "Notes!" if os.environ.get("NOTES_LOUD") else "Notes"  # a change of the view
        return h.main(
            h.h1(title),
            h.ul((h.li(note) for note in self.notes.read(ctx)), id="notes"),
            h.input(self.draft.bind(), type="text"),
            h.button("Add", on.click(self.add), id="add"),
        )

    @action("Add")
    def add(self, ctx: Ctx) -> None:
        text = self.draft.read(ctx).strip()
        if text:
            self.notes.append(ctx, text)
            self.draft.write(ctx, "")


def create_app() -> App:
    app = App(insecure_cookies=True)
    app.mount("/", Notes)
    return app
"""
CONFTEST = """
import pytest

import notes


@pytest.fixture
def vt_app():
    return notes.create_app()
"""
TEST_NOTES = """
def test_add(vt_client, vt_golden):
    a = vt_client.new_session("a").open("/")
    a.ready()
    a.action("Add", draft="eggs")
    a.expect_text("#notes", "eggs")
    vt_golden.check({"a": a})
"""
SCENARIO = """
[scenario]
name = "add-a-note"
description = "A note added in one session shows in another."

[[step]]
open = "a"

[[step]]
open = "b"

[[step]]
ready = "*"

[[step]]
action = "Add"
tab = "a"
signals = { draft = "milk {run}" }

[[step]]
expect_text = "milk {run}"
selector = "#notes"
tabs = "*"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """The user's project: `notes.py`, `tests/conftest.py`, a test, a scenario file."""
    pytester.makepyfile(notes=NOTES_APP)
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(CONFTEST)
    (tests / "test_notes.py").write_text(TEST_NOTES)
    (tests / "scenarios").mkdir()
    (tests / "scenarios" / "notes.toml").write_text(SCENARIO)
    # `pythonpath = .` finds notes.py; in process, pytest-playwright's soft-assertion scope
    # would nest in the outer run's.
    pytester.makeini("[pytest]\ntestpaths = tests\npythonpath = .\naddopts = -p no:playwright\n")
    return pytester


@pytest.mark.e2e  # a whole journey of eight inner runs: the e2e level (issue 19)
def test_a_new_users_project_from_first_run_to_an_accepted_change(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_golden = project.path / "tests" / "goldens" / "test_notes" / "test_add" / "a.txt"
    scenario_golden = project.path / "tests" / "scenarios" / "goldens" / "notes" / "add-a-note"

    # The first run: the test's golden does not exist yet (so it fails, saying what to do);
    # the scenario file runs against the project's own app, and takes no golden.
    first = project.runpytest("--vt", "-v")
    first.assert_outcomes(passed=1, failed=1)
    first.stdout.fnmatch_lines(
        [
            "tests/scenarios/notes.toml::add-a-note PASSED*",
            "*a: no golden file (not written without the update flag)*",
        ]
    )
    assert "vt::" not in first.stdout.str()  # none of vt's bundled scenarios

    # The update flag writes the goldens of both; the next run compares them.
    written = project.runpytest("--vt", "--vt-update-goldens")
    written.assert_outcomes(passed=2)
    written.stdout.fnmatch_lines(["*vt goldens: 0 matched, 0 differ, 3 written*"])
    assert "<h1>Notes</h1>" in test_golden.read_text()
    assert "milk <run>" in (scenario_golden / "b.txt").read_text()
    project.runpytest("--vt").stdout.fnmatch_lines(["*vt goldens: 3 matched, 0 differ*"])

    # The view changes: both goldens differ; --lf reruns just those two.
    monkeypatch.setenv("NOTES_LOUD", "1")
    changed = project.runpytest("--vt")
    changed.assert_outcomes(failed=2)
    changed.stdout.fnmatch_lines(
        ["*+  <h1>Notes!</h1>*", "*next: re-run with --vt-update-goldens*"]
    )
    again = project.runpytest("--vt", "--lf", "--vt-update-goldens")
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*run-last-failure: rerun previous 2 failures*"])
    assert "<h1>Notes!</h1>" in test_golden.read_text()
    project.runpytest("--vt").assert_outcomes(passed=2)

    # One scenario file on its own, as one test file is run.
    alone = project.runpytest("tests/scenarios/notes.toml", "-v")
    alone.assert_outcomes(passed=1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.e2e
def test_vt_serve_serves_the_users_app_by_module_and_factory(project: pytest.Pytester) -> None:
    # The installed `vt` command (not `python -m vt`, which has the current directory on its
    # path anyway), run from the project's folder.
    command = shutil.which("vt", path=str(Path(sys.executable).parent)) or "vt"
    port = _free_port()
    with subprocess.Popen(
        [command, "serve", "notes:create_app", "--port", str(port)],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while (problem := check_url(url, timeout=1)) is not None:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, problem
                time.sleep(0.05)  # a poll of the port, under the deadline above
            with vt.Client(url) as client:
                tab = client.new_session().open("/")
                tab.ready()
                tab.action("Add", draft="served")
                tab.expect_text("#notes", "served")
        finally:
            server.terminate()
            server.wait(timeout=30)
