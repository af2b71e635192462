"""`pytest --vt-level`, `vt_golden`, failure reports, xdist and pytest-asyncio: inner pytest
runs, in-process where they can be (`pytester.runpytest`), as a framework project would run
them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

import vt
from reference_impl.examples import chat

BASE = ("-p", "no:cacheprovider")
# In process, pytest-playwright's soft-assertion scope would nest in the outer run's.
INNER = (*BASE, "-p", "no:playwright")
CHAT_APP = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    return chat.create_app()
"""
BROKEN_APP = """
import pytest
from reference_impl import App, Composition, Ctx, action, h, on

class Broken(Composition):
    def view(self, ctx: Ctx) -> h.Node:
        return h.main(h.article("nothing here"), h.button("go", on.click(self.boom)))

    @action("Send")
    def boom(self, ctx: Ctx) -> None:
        raise RuntimeError("the app broke on purpose")

@pytest.fixture
def vt_app():
    app = App(insecure_cookies=True)
    app.mount("/", Broken)
    return app
"""


# The bundled scenarios by level, so the counts below follow the suite as it grows.
# `--vt-bundled` adds those written for a reference app (a level that names none, the plain
# Datastar chat, runs only when named with --vt-level, against a server; the cluster and
# faults levels, which need processes vt starts, run only when named too).
LEVEL_COUNT = Counter(s.level for s in vt.bundled_scenarios() if s.app is not None and s.embedded)
TOTAL = sum(LEVEL_COUNT.values())
CHAT = LEVEL_COUNT["chat"]


def test_vt_level_adds_the_bundled_scenarios_in_an_empty_project(
    pytester: pytest.Pytester,
) -> None:
    # The chat level alone keeps this quick; tests/conformance/test_suite.py runs every level.
    result = pytester.runpytest(*INNER, "--vt-level", "chat", "--strict-markers", "-v")
    result.assert_outcomes(passed=CHAT)
    result.stdout.fnmatch_lines(["*vt::chat::chat-fan-out PASSED*"])


def test_markers_select_levels(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_other():\n    pass\n")
    # Selection is what this checks: collecting is enough (tests/conformance/test_suite.py
    # runs the core level).
    result = pytester.runpytest(*INNER, "--vt-bundled", "--strict-markers", "-m", "vt_core", "--co")
    core = LEVEL_COUNT["core"]
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [f"*{core}/{TOTAL + 1} tests collected ({TOTAL - core + 1} deselected)*"]
    )
    result = pytester.runpytest(*INNER, "--vt-bundled", "-m", "vt_chat", "-k", "order")
    result.assert_outcomes(passed=1, deselected=TOTAL)


def test_vt_level_runs_against_the_projects_own_app(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    result = pytester.runpytest(*INNER, "--vt-level", "chat", "-k", "fan-out")
    result.assert_outcomes(passed=1, deselected=CHAT - 1)


def test_a_failing_scenario_names_its_step_and_leaves_a_report_and_junit_errors(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(BROKEN_APP)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        *INNER, "--vt-level", "chat", "-k", "fan-out", "--vt-timeout", "0.5", f"--junit-xml={junit}"
    )
    result.assert_outcomes(failed=1, deselected=CHAT - 1)
    result.stdout.fnmatch_lines(
        [
            "*scenario 'chat-fan-out' (*chat-fan-out.toml) failed at step 5 (line 24): "
            "expect_text 'alice: hello bob *':*",
            "*did not show 'alice: hello bob *' in 'article' within 0.5s*",
        ]
    )
    assert "_runner.py" not in result.stdout.str()  # the step's message, not vt's traceback
    reports = list((pytester.path / "test-results").glob("*chat-fan-out*"))
    assert len(reports) == 1
    files = {p.name for p in reports[0].iterdir()}
    assert {"report.html", "alice.sse", "bob.timeline.txt", "bob.html"} <= files
    page = (reports[0] / "report.html").read_text()
    assert "the app broke on purpose" in page  # the server's captured error
    assert "http" not in page.replace("http://127.0.0.1", "")  # nothing loaded from a network
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert "the app broke on purpose" in (props.get("vt_server_errors") or "")


def test_vt_scenarios_adds_the_projects_own_files(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("scenarios")
    (folder / "mine.toml").write_text(
        '[scenario]\nlevel = "core"\napp = "counter"\n\n[[step]]\nopen = "a"\n'
        '[[step]]\nclick = "#inc"\n[[step]]\nexpect_text = "1"\nselector = "#count"\n'
    )
    result = pytester.runpytest(*INNER, "--vt-scenarios", str(folder), "-m", "vt_core", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["scenarios/mine.toml::mine PASSED*"])
    (folder / "bad.toml").write_text("[[step]]\nopen = 1\n")
    result = pytester.runpytest(*INNER, "--vt-scenarios", str(folder))
    result.assert_outcomes(passed=1, failed=1)  # the malformed file fails alone
    result.stdout.fnmatch_lines(["*bad.toml:1: step 1: open's argument must be a str*"])


def test_base_url_says_at_start_that_vt_app_is_ignored(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    pytester.makepyfile("def test_x(vt_client):\n    vt_client.new_session().open('/')\n")
    with vt.LiveServer(chat.create_app()) as server:
        result = pytester.runpytest(*INNER, "--vt-base-url", server.url)
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert text.count("a `vt_app` fixture is ignored") == 1
    assert text.index("a `vt_app` fixture is ignored") < text.index("test_base_url")


def test_client_options_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        CHAT_APP
        + """
@pytest.fixture
def vt_client_options(vt_client_options):
    return {**vt_client_options, "timeout": 0.25, "strict": False}
"""
    )
    pytester.makepyfile(
        """
        def test_uses_them(vt_client):
            assert vt_client.timeout == 0.25
        """
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


@pytest.mark.e2e  # xdist's workers are processes
def test_scenarios_run_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    result = pytester.runpytest_subprocess(*BASE, "--vt-level", "chat", "-n", "2")
    result.assert_outcomes(passed=CHAT)


@pytest.mark.e2e  # pytest-asyncio's plugin loaded fresh, as a user's run loads it
def test_async_fixtures_work_under_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest(CHAT_APP)
    pytester.makepyfile(
        """
        async def test_auto(vt_async_client):
            tab = await vt_async_client.new_session().open("/")
            await tab.ready()
            await tab.action("Send", draft="auto")
            await tab.expect_text("article", "Anon: auto")

        async def test_auto_fails_cleanly(vt_async_client):
            tab = await vt_async_client.new_session("f").open("/")
            await tab.ready()
            await tab.expect_text("article", "never", timeout=0.2)
        """
    )
    result = pytester.runpytest_subprocess(*BASE, "-p", "asyncio", "-W", "error")
    result.assert_outcomes(passed=1, failed=1)
    assert "ClosedResourceError" not in result.stdout.str()
    assert "RuntimeError" not in result.stdout.str()


GOLDEN_TEST = """
import os
import pytest
import vt
from reference_impl import h
from reference_impl.examples import chat

@pytest.fixture
def vt_app(monkeypatch):
    if os.environ.get("CHANGED_VIEW"):  # the app's view changes: a wrapper around the log
        original = chat.log_view
        changed = lambda log: h.section(h.class_("changed"), original(log))
        monkeypatch.setattr(chat, "log_view", changed)
    return chat.create_app()

@pytest.mark.anyio
async def test_fan_out_stream(vt_async_client, vt_golden):
    scenario = next(s for s in vt.bundled_scenarios() if s.name == "chat-fan-out")
    run = await vt.run_scenario(vt_async_client, scenario)
    await vt_golden.acheck(run)
"""


@pytest.mark.timeout(600)  # five inner pytest runs, each starting servers
@pytest.mark.e2e  # a whole flow: the e2e level (issue 19)
def test_the_golden_update_flow(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not `test_golden.py`: in process, the outer run may have imported a module of that name.
    pytester.makepyfile(test_golden_flow=GOLDEN_TEST)
    goldens = pytester.path / "goldens" / "test_golden_flow" / "test_fan_out_stream-asyncio"

    first = pytester.runpytest(*INNER)  # no goldens, no update flag: a failure
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*alice: no golden file (not written without the update flag)*"])
    assert not goldens.exists()

    written = pytester.runpytest(*INNER, "--vt-update-goldens")
    written.assert_outcomes(passed=1)
    written.stdout.fnmatch_lines(["*vt goldens: 0 matched, 0 differ, 2 written*"])
    assert sorted(p.name for p in goldens.iterdir()) == ["alice.txt", "bob.txt"]

    same = pytester.runpytest(*INNER)
    same.assert_outcomes(passed=1)
    same.stdout.fnmatch_lines(["*vt goldens: 2 matched, 0 differ, 0 written*"])

    monkeypatch.setenv("CHANGED_VIEW", "1")
    changed = pytester.runpytest(*INNER)
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*bob.txt (golden)*",
            '*+  <section class="changed">*',
            "*next: re-run with --vt-update-goldens*",
        ]
    )
    pytester.runpytest(*INNER, "--vt-update-goldens").assert_outcomes(passed=1)
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


@pytest.mark.e2e  # xdist's workers are processes
def test_the_golden_summary_survives_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_golden_flow=GOLDEN_TEST)
    written = pytester.runpytest(*INNER, "--vt-update-goldens")
    written.assert_outcomes(passed=1)
    written.stdout.fnmatch_lines(["*vt goldens: 0 matched, 0 differ, 2 written*"])
    same = pytester.runpytest_subprocess(*BASE, "-n", "2")
    same.assert_outcomes(passed=1)
    same.stdout.fnmatch_lines(["*vt goldens: 2 matched, 0 differ, 0 written*"])


def test_a_failed_async_test_leaves_one_report_folder_replaced_on_rerun(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CHAT_APP)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.anyio
        async def test_fails(vt_async_client):
            tab = await vt_async_client.new_session("carol").open("/")
            await tab.ready()
            await tab.action("Send", draft="hi")
            await tab.expect_text("article", "never sent", timeout=0.2)
        """
    )
    out = pytester.path / "out"
    for _ in range(2):
        result = pytester.runpytest(*INNER, "--vt-output", str(out))
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*did not show 'never sent'*", "*failure report: *report.html*"]
        )
    folders = list(out.iterdir())
    assert len(folders) == 1
    files = sorted(p.name for p in folders[0].iterdir() if p.is_file())
    assert files == ["carol-1.html", "carol-1.sse", "carol-1.timeline.txt", "report.html"]
    page = (folders[0] / "report.html").read_text()
    assert "carol/1" in page
    assert "Send" in page


def test_an_unwritable_report_folder_is_a_one_line_warning(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.anyio
        async def test_fails(vt_async_client):
            tab = await vt_async_client.new_session().open("/")
            assert tab.text("h1") == "not the title"
        """
    )
    blocker = pytester.path / "a-file"  # a folder cannot be made inside a file, even by root
    blocker.write_text("")
    result = pytester.runpytest(*INNER, "--vt-output", str(blocker / "out"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 'Via Chat' == 'not the title'*"])
    result.stdout.fnmatch_lines([f"*vt: could not write the failure report to {blocker}*"])


def test_live_server_keeps_the_hosts_log_file(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    pytester.makepyfile(
        """
        import logging

        def test_logs(vt_client):
            vt_client.new_session().open("/")
            logging.getLogger("project").warning("after the server started")
        """
    )
    log = pytester.path / "run.log"
    result = pytester.runpytest(*INNER, f"--log-file={log}", "--log-file-level=INFO")
    result.assert_outcomes(passed=1)
    assert "after the server started" in log.read_text()


def test_live_server_leaves_the_hosts_handlers_open(tmp_path: Path) -> None:
    import logging

    path = tmp_path / "host.log"
    handler = logging.FileHandler(path, mode="w")  # as pytest's --log-file: closed stays closed
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with vt.LiveServer(chat.create_app()):
            pass
        logging.getLogger("after").error("still heard")
    finally:
        root.removeHandler(handler)
        handler.close()
    assert "still heard" in path.read_text()


def test_scenario_and_spec_files_ship_inside_the_package(tmp_path: Path) -> None:
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include == {"specs": "vt/specs"}
    assert (vt.bundled_scenarios()[0].path).endswith(".toml")
