"""`pytest --vt` as a new user meets it (issue 17, "Found in use"): scenario files collected as
pytest collects test files, the user's scenarios against the user's app, vt's bundled levels
only when asked, a malformed file failing alone, an unreachable server in one line,
pytest-base-url, old reports cleared, no pytest-asyncio warning. Inner runs are in-process
(`pytester.runpytest`) unless a test needs a process of its own. Each test failed before its
fix."""

from __future__ import annotations

import pytest

import vt
from reference_impl.examples import chat

CHAT_APP = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    return chat.create_app()
"""
# Two scenarios of the user's: one passes on the chat, one fails (its text never shows).
FAN = """
[scenario]
name = "fan"

[[step]]
open = "a"

[[step]]
open = "b"

[[step]]
ready = "*"

[[step]]
action = "Send"
tab = "a"
signals = { name = "a", draft = "hi {run}" }

[[step]]
expect_text = "a: hi {run}"
selector = "article"
tab = "b"
"""
WRONG = """
[scenario]
name = "wrong"

[[step]]
open = "a"

[[step]]
expect_text = "never said"
selector = "article"
timeout = 0.3
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: the app in `tests/conftest.py`, scenarios in `tests/scenarios/`."""
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(CHAT_APP)
    scenarios = tests / "scenarios"
    scenarios.mkdir()
    (scenarios / "fan.toml").write_text(FAN)
    (scenarios / "wrong.toml").write_text(WRONG)
    # In process, pytest-playwright's soft-assertion scope would nest in the outer run's.
    pytester.makeini("[pytest]\ntestpaths = tests\naddopts = -p no:playwright\n")
    return pytester


def test_scenario_files_are_items_with_node_ids_of_their_own(project: pytest.Pytester) -> None:
    result = project.runpytest("--vt", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines_random(
        [
            "tests/scenarios/fan.toml::fan PASSED*",
            "tests/scenarios/wrong.toml::wrong FAILED*",
            "FAILED tests/scenarios/wrong.toml::wrong - *scenario 'wrong'*",
        ]
    )


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_last_failed_reruns_only_the_failed_scenario(project: pytest.Pytester) -> None:
    project.runpytest("--vt").assert_outcomes(passed=1, failed=1)
    again = project.runpytest("--vt", "--lf", "-v")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*run-last-failure: rerun previous 1 failure*"])
    assert "fan.toml::fan" not in again.stdout.str()


def test_one_scenario_file_on_the_command_line_runs_alone(project: pytest.Pytester) -> None:
    # Named on the command line: no --vt needed, as for a test file.
    result = project.runpytest("tests/scenarios/fan.toml", "-v")
    result.assert_outcomes(passed=1)
    result = project.runpytest("tests/scenarios/fan.toml::fan")
    result.assert_outcomes(passed=1)
    result = project.runpytest("--vt-scenarios", "tests/scenarios/fan.toml", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_k_selects_scenario_items(project: pytest.Pytester) -> None:
    result = project.runpytest("--vt", "-k", "fan")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_malformed_scenario_file_fails_its_own_item_only(project: pytest.Pytester) -> None:
    (project.path / "tests" / "scenarios" / "bad.toml").write_text("[[step]]\nopen = 1\n")
    result = project.runpytest("--vt", "-k", "not wrong")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # not a usage error ending the session
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*bad.toml:1: step 1: open's argument must be a str*"])


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_vt_runs_the_users_scenarios_against_the_users_app_and_bundled_ones_when_asked(
    project: pytest.Pytester,
) -> None:
    # A project's `--vt` is its own scenarios on its own `vt_app`: none of vt's.
    result = project.runpytest("--vt", "-v", "-k", "fan")
    result.assert_outcomes(passed=1, deselected=1)
    assert "vt::" not in result.stdout.str()
    # vt's own levels only when asked, and then against the project's app too.
    result = project.runpytest("--vt-level", "chat", "-v", "-k", "vt")
    chat_level = [s for s in vt.bundled_scenarios() if s.level == "chat"]
    result.assert_outcomes(passed=len(chat_level))
    result.stdout.fnmatch_lines(["*vt::chat::chat-fan-out PASSED*"])


def test_an_unreachable_base_url_is_one_line(project: pytest.Pytester) -> None:
    result = project.runpytest("--vt", "--vt-base-url", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    said = [line for line in result.stderr.lines if line.strip()]
    assert len(said) == 1, said
    assert "vt: could not reach http://127.0.0.1:9" in said[0]
    assert result.stdout.str().count("\n") < 10


def test_pytest_base_url_and_vt_base_url_are_one_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:playwright\n")
    pytester.makepyfile(
        test_urls="""
        import os

        def test_vt_client_url_is_the_server(vt_client, base_url):
            assert isinstance(vt_client.url, str)
            assert vt_client.url == os.environ["SERVER"] == base_url
            assert vt_client.url_of("/x") == os.environ["SERVER"] + "/x"
        """
    )
    with vt.LiveServer(chat.create_app()) as server:
        monkeypatch.setenv("SERVER", server.url)
        pytester.runpytest("--base-url", server.url).assert_outcomes(passed=1)
        pytester.runpytest("--vt-base-url", server.url).assert_outcomes(passed=1)


def test_old_report_folders_are_cleared_at_the_start_of_a_run(project: pytest.Pytester) -> None:
    stale = project.path / "test-results" / "tests-scenarios-gone.toml-gone"
    stale.mkdir(parents=True)
    (stale / "report.html").write_text("an old report")
    project.runpytest("--vt").assert_outcomes(passed=1, failed=1)
    folders = [p.name for p in (project.path / "test-results").iterdir() if p.is_dir()]
    assert folders == ["tests-scenarios-wrong.toml-wrong"]  # this run's failure only
    # A folder vt did not make its own is left alone.
    mine = project.path / "mine"
    (mine / "keep").mkdir(parents=True)
    project.runpytest("--vt", "--vt-output", str(mine), "-k", "fan")
    assert (mine / "keep").is_dir()


@pytest.mark.e2e  # pytest-asyncio's plugin loaded fresh, as a user's run loads it
def test_pytest_asyncio_says_nothing_about_its_loop_scope(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_quiet="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "asyncio")
    result.assert_outcomes(passed=1)
    said = result.stdout.str() + result.stderr.str()
    assert "PytestDeprecationWarning" not in said
    assert '"asyncio_default_fixture_loop_scope" is unset' not in said


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_scenario_goldens_are_taken_when_their_folder_exists_or_on_update(
    project: pytest.Pytester,
) -> None:
    goldens = project.path / "tests" / "scenarios" / "goldens" / "fan" / "fan"
    project.runpytest("--vt", "-k", "fan").assert_outcomes(passed=1, deselected=1)
    assert not goldens.exists()  # no folder: no goldens taken
    written = project.runpytest("--vt", "-k", "fan", "--vt-update-goldens")
    written.assert_outcomes(passed=1, deselected=1)
    written.stdout.fnmatch_lines(["*vt goldens: 0 matched, 0 differ, 2 written*"])
    assert sorted(p.name for p in goldens.iterdir()) == ["a.txt", "b.txt"]
    assert "hi <run>" in (goldens / "a.txt").read_text()  # the run token, normalised
    same = project.runpytest("--vt", "-k", "fan")
    same.assert_outcomes(passed=1, deselected=1)
    same.stdout.fnmatch_lines(["*vt goldens: 2 matched, 0 differ, 0 written*"])


def test_vt_base_url_repeated_is_a_clusters_nodes(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two "nodes" that are one server: the client has both, the scenario items see one chat.
    (project.path / "tests" / "test_nodes.py").write_text(
        """
import os

def test_sessions_take_turns(vt_client, base_url):
    node = os.environ["NODE"]
    assert vt_client.nodes == (node, node)
    assert base_url == vt_client.url == node  # pytest-base-url's: the first node
    assert vt_client.new_session().open("/").label == "session1/1@n1"
"""
    )
    with vt.LiveServer(chat.create_app()) as server:
        nodes = [server.url, server.url + "/"]
        monkeypatch.setenv("NODE", server.url)
        args = ("--vt-base-url", nodes[0], "--vt-base-url", nodes[1])
        project.runpytest(*args, "--vt", "-k", "fan or turns").assert_outcomes(
            passed=2, deselected=1
        )
    result = project.runpytest("--vt", "--vt-base-url", nodes[0], "--vt-base-url", nodes[1])
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the server is gone: named in one line
    assert f"vt: could not reach {nodes[0]}" in result.stderr.str()


def test_bundled_leaves_out_the_levels_that_start_processes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:playwright", "--vt-bundled", "--collect-only", "-q")
    assert "vt::chat::chat-fan-out" in result.stdout.str()
    assert "vt::cluster::" not in result.stdout.str()
    assert "vt::faults::" not in result.stdout.str()
    result = pytester.runpytest("-p", "no:playwright", "--vt-level", "faults", "--collect-only")
    faults = [s for s in vt.bundled_scenarios() if s.level == "faults"]
    result.stdout.fnmatch_lines([f"*collected {len(faults)} item*"])
