"""`vt_golden` as a new user meets it (issue 17): goldens keyed by test file and test name, the
unused ones reported and, with the update flag, removed; taken once the streams are quiet.
Inner runs are in-process (`pytester.runpytest`). Each test failed before its fix."""

from __future__ import annotations

import pytest

CHAT_APP = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    return chat.create_app()
"""


def same_name_test(text: str, name: str = "test_same_name") -> str:
    """A test file whose `name` test sends `text` and checks its tab against its golden."""
    return f"""
def {name}(vt_client, vt_golden):
    tab = vt_client.new_session("a").open("/")
    tab.ready()
    tab.action("Send", name="a", draft={text!r})
    tab.expect_text("article", {text!r})
    vt_golden.check({{"a": tab}})
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """Two test files, each with a `test_same_name` that sends its own text."""
    pytester.makeconftest(CHAT_APP)
    # In process, pytest-playwright's soft-assertion scope would nest in the outer run's.
    pytester.makeini("[pytest]\naddopts = -p no:playwright\n")
    pytester.makepyfile(test_one=same_name_test("from one"), test_two=same_name_test("from two"))
    return pytester


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_goldens_are_keyed_by_test_file_and_test_name(project: pytest.Pytester) -> None:
    written = project.runpytest("--vt-update-goldens")
    written.assert_outcomes(passed=2)
    written.stdout.fnmatch_lines(["*vt goldens: 0 matched, 0 differ, 2 written*"])
    one = project.path / "goldens" / "test_one" / "test_same_name" / "a.txt"
    two = project.path / "goldens" / "test_two" / "test_same_name" / "a.txt"
    assert "from one" in one.read_text()
    assert "from two" in two.read_text()
    same = project.runpytest()
    same.assert_outcomes(passed=2)
    same.stdout.fnmatch_lines(["*vt goldens: 2 matched, 0 differ, 0 written, 0 missing, 0 unused*"])


@pytest.mark.e2e  # six inner runs: the e2e level (issue 19)
def test_unused_goldens_are_reported_and_removed_with_the_update_flag(
    project: pytest.Pytester,
) -> None:
    project.runpytest("--vt-update-goldens").assert_outcomes(passed=2)
    # test_two's test is renamed: its old golden folder is now used by no test.
    project.makepyfile(test_two=same_name_test("from two", name="test_renamed"))
    old = project.path / "goldens" / "test_two" / "test_same_name"
    missing = project.runpytest()
    missing.assert_outcomes(passed=1, failed=1)  # test_renamed has no golden yet
    missing.stdout.fnmatch_lines(
        [f"*unused (no test uses them; --vt-update-goldens removes them): {old}*"]
    )
    assert old.is_dir()
    # Part of the tests: nothing is judged unused (the others did not run).
    partial = project.runpytest("-k", "one")
    partial.assert_outcomes(passed=1, deselected=1)
    assert "unused (no test" not in partial.stdout.str()
    updated = project.runpytest("--vt-update-goldens")
    updated.assert_outcomes(passed=2)
    updated.stdout.fnmatch_lines([f"*removed (no test uses them): {old}*"])
    assert not old.exists()
    assert (project.path / "goldens" / "test_two" / "test_renamed" / "a.txt").is_file()
    # A test file that is gone takes its goldens with it.
    (project.path / "test_two.py").unlink()
    project.runpytest("--vt-update-goldens").assert_outcomes(passed=1)
    assert not (project.path / "goldens" / "test_two").exists()
    assert (project.path / "goldens" / "test_one" / "test_same_name" / "a.txt").is_file()


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_a_failing_test_keeps_its_goldens_under_the_update_flag(project: pytest.Pytester) -> None:
    project.runpytest("--vt-update-goldens").assert_outcomes(passed=2)
    project.makepyfile(test_two="def test_same_name():\n    assert False, 'broke first'\n")
    project.runpytest("--vt-update-goldens").assert_outcomes(passed=1, failed=1)
    assert (project.path / "goldens" / "test_two" / "test_same_name" / "a.txt").is_file()


def test_async_tests_take_goldens_with_acheck_and_are_told_so(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CHAT_APP)
    pytester.makeini("[pytest]\naddopts = -p no:playwright\n")
    pytester.makepyfile(
        test_async="""
        import pytest
        import vt

        @pytest.mark.anyio
        async def test_acheck(vt_async_client, vt_golden):
            scenario = next(s for s in vt.bundled_scenarios() if s.name == "chat-fan-out")
            run = await vt.run_scenario(vt_async_client, scenario)
            await vt_golden.acheck(run)

        @pytest.mark.anyio
        async def test_check_in_an_async_test(vt_async_client, vt_golden):
            tab = await vt_async_client.new_session().open("/")
            with pytest.raises(vt.UsageError, match="await vt_golden.acheck"):
                vt_golden.check({"a": tab})
        """
    )
    result = pytester.runpytest("--vt-update-goldens", "-p", "anyio")
    result.assert_outcomes(passed=2)
    folder = pytester.path / "goldens" / "test_async" / "test_acheck-asyncio"
    assert "hello bob <run>" in (folder / "bob.txt").read_text()


@pytest.mark.e2e  # several inner runs: the e2e level (issue 19)
def test_a_sync_scenario_run_takes_its_goldens_with_check(pytester: pytest.Pytester) -> None:
    # `vt_client.run_scenario` returns the run with sync tabs: `check` takes their goldens
    # on the client's loop, once the streams are quiet.
    pytester.makeconftest(CHAT_APP)
    pytester.makeini("[pytest]\naddopts = -p no:playwright\n")
    pytester.makepyfile(
        test_sync="""
        import vt

        def test_check(vt_client, vt_golden):
            scenario = next(s for s in vt.bundled_scenarios() if s.name == "chat-fan-out")
            run = vt_client.run_scenario(scenario)
            assert all(isinstance(tab, vt.Tab) for tab in run.tabs.values())
            vt_golden.check(run)
        """
    )
    pytester.runpytest("--vt-update-goldens").assert_outcomes(passed=1)
    bob = pytester.path / "goldens" / "test_sync" / "test_check" / "bob.txt"
    assert "hello bob <run>" in bob.read_text()
    pytester.runpytest().assert_outcomes(passed=1)  # and it matches the next run
