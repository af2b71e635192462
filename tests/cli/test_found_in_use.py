"""What a new user of the `vt` command met (issue 17, "Found in use"): each test failed before
its fix. In-process `main([...])` runs; servers are real uvicorn on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import vt
from reference_impl import App, Composition, Ctx, h
from reference_impl.examples import chat
from vt.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_FAILURES = ROOT / "targets" / "expected-failures.toml"

# A user's own app in the current directory, as `uvicorn myapp:create_app --factory` finds it.
USER_APP = '''
from reference_impl.examples import chat


def create_app():
    """The user's chat (the reference one, under the user's module name)."""
    return chat.create_app()
'''
USER_SCENARIO = """
[scenario]
name = "mine"
app = "{app}"

[[step]]
open = "a"

[[step]]
ready = "a"

[[step]]
action = "Send"
signals = {{ name = "me", draft = "hello {{run}}" }}

[[step]]
expect_text = "me: hello {{run}}"
selector = "article"
"""


def not_a_chat() -> App:
    class Page(Composition):
        """A page without the chat: every chat scenario fails against it."""

        def view(self, ctx: Ctx) -> h.Node:
            return h.p("not a chat")

    app = App(insecure_cookies=True)
    app.mount("/", Page)
    return app


@pytest.fixture
def user_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding `userchat.py`, the current directory (and not yet on
    sys.path: the command must put it there, as uvicorn does)."""
    (tmp_path / "userchat.py").write_text(USER_APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "userchat", raising=False)
    return tmp_path


def test_the_chat_level_passes_twice_in_a_row_on_one_long_lived_server(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # `vt serve chat` is one app for as long as it runs: the room fills up across runs.
    with vt.LiveServer(chat.create_app()) as server:
        for attempt in (1, 2):
            code = main(["conformance", server.url, "--level", "chat", "--output", str(tmp_path)])
            out = capsys.readouterr().out
            assert code == 0, f"run {attempt}:\n{out}"
            assert "OK: 5 passed, 0 failed" in out


def test_the_chat_level_still_fails_on_a_server_without_the_chat(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The scenarios made relative (their own `{run}` texts) still check something.
    with vt.LiveServer(not_a_chat()) as server:
        code = main(
            ["conformance", server.url, "--level", "chat", "--timeout", "0.3"]
            + ["--output", str(tmp_path)]
        )
    assert code == 1
    assert "0 passed, 5 failed" in capsys.readouterr().out


def test_the_targets_expected_failures_file_is_an_expect_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Its tables are per implementation; `--target` picks one. A server without /test fails
    # every SDK case, so datastar-py's two known failures are expected failures here.
    with vt.LiveServer(not_a_chat()) as server:
        code = main(
            ["conformance", server.url, "--level", "sdk", "--timeout", "0.3"]
            + ["--expect", str(EXPECTED_FAILURES), "--target", "datastar-py"]
            + ["--output", str(tmp_path)]
        )
        assert code == 1, "the other SDK cases fail for real"
        out = capsys.readouterr().out
        assert "XFAIL  get-elements-line-separator-in-text" in out
        assert "XFAIL  post-json-body-with-charset" in out
        assert "XFAIL  get-script-attribute-value-escaped" not in out  # datastar-go's, not py's
        # Without --target, the file's tables are named, and nothing runs.
        assert (
            main(["conformance", server.url, "--level", "sdk", "--expect", str(EXPECTED_FAILURES)])
            == 2
        )
    err = capsys.readouterr().err
    assert "one table per implementation (datastar-py, datastar-go, datastar-ts)" in err
    assert "--target NAME" in err


def test_serve_without_a_name_lists_the_bundled_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("chat", "counter", "conformance"))
    assert main(["serve", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no bundled example 'nope'" in err
    assert "counter" in err
    assert "module:factory" in err


def test_run_serves_the_users_own_app_from_the_current_directory(
    user_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `app = "module:factory"` in the user's scenario file, found from the current directory.
    (user_project / "mine.toml").write_text(USER_SCENARIO.format(app="userchat:create_app"))
    assert main(["run", "mine.toml", "--output", str(user_project / "out")]) == 0
    assert "PASS  mine" in capsys.readouterr().out


def test_app_option_serves_a_module_factory_for_any_scenario(
    user_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--app module:factory` replaces the scenario's own app (here, the bundled chat level).
    code = main(["run", "--app", "userchat:create_app", "chat-fan-out", "--output", "out"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "against userchat:create_app" in out
    assert main(["run", "--app", "nosuchmodule:create_app", "chat-fan-out"]) == 2
    assert "nosuchmodule" in capsys.readouterr().err


def test_one_spelling_of_the_url_a_positional_argument_in_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with vt.LiveServer(chat.create_app()) as server:
        assert main(["run", server.url, "chat-fan-out", "--output", str(tmp_path)]) == 0
        assert f"against {server.url}" in capsys.readouterr().out
        # The old spelling still works, and says which one to use.
        assert main(["run", "--url", server.url, "chat-fan-out", "--output", str(tmp_path)]) == 0
        captured = capsys.readouterr()
        assert "OK: 1 passed" in captured.out
        assert "--url is deprecated" in captured.err
        assert f"`vt run {server.url} chat-fan-out`" in captured.err


RUN_TOKEN_SCENARIO = """
[scenario]
name = "tokened"
app = "chat"

[[step]]
open = "a"

[[step]]
ready = "a"

[[step]]
action = "Send"
signals = { name = "a", draft = "note {run}" }

[[step]]
expect_text = "a: note {run}"
selector = "article"
"""


def test_run_tokens_are_normalised_in_goldens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tokened.toml"
    scenario.write_text(RUN_TOKEN_SCENARIO)
    goldens = tmp_path / "goldens"
    assert main(["record", "--scenario", str(scenario), "--out", str(goldens)]) == 0
    text = (goldens / "tokened" / "a.txt").read_text()
    assert "note <run>" in text
    capsys.readouterr()
    code = main(["check", "--scenario", str(scenario), "--golden", str(goldens)])
    assert code == 0, capsys.readouterr().out
