"""`vt conformance URL --level sdk` against the SDK targets: the SDK cases in the conformance
table, expected failures from targets/expected-failures.toml. The plain-chat level runs once
per target, scenario by scenario, in test_plain_chat.py; a table of several levels is checked
on the reference runtime (tests/cli/test_cli.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from targets.launch import TARGETS, expected_failures
from vt.cli import main
from vt.conformance.sdk import load_sdk_cases

BY_NAME = {target.name: target for target in TARGETS}


def _row(out: str, level: str) -> list[str]:
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == [level]]
    assert rows, f"no table row for {level!r} in:\n{out}"
    return rows[-1]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_the_sdk_level_passes_with_the_known_sdk_disagreements(
    name: str,
    target_url_of: Callable[[str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = target_url_of(name)
    known = expected_failures(BY_NAME[name])
    expect = tmp_path / "expect.toml"
    expect.write_text("".join(f"{case} = {json.dumps(why)}\n" for case, why in known.items()))
    junit = tmp_path / "junit.xml"
    code = main(
        ["conformance", url, "--level", "sdk", "--timeout", "15"]
        + ["--expect", str(expect), "--junit-xml", str(junit), "--output", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    cases = len(load_sdk_cases())
    assert _row(out, "sdk") == ["sdk", str(cases - len(known)), "0", str(len(known))]
    for case in known:
        assert f"XFAIL  {case}" in out
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert {c.name for c in load_sdk_cases()} <= names


def test_a_failing_sdk_case_is_a_failed_row_with_its_problems(
    target_url_of: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # datastar-go is known to write a script attribute's `"` unescaped: without the expect
    # file, that case fails the run and says why.
    code = main(
        ["conformance", target_url_of("datastar-go"), "--level", "sdk", "--timeout", "15"]
        + ["--output", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  get-script-attribute-value-escaped" in out
    assert "data-note" in out, "the row shows the problem and the body"


def test_the_sdk_level_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--level", "sdk"]) == 2
    assert "needs the URL of a server serving /test" in capsys.readouterr().err


def test_the_plain_chat_level_runs_only_when_named_and_needs_a_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["conformance", "--level", "datastar-chat"]) == 2
    assert "datastar-chat name no reference app: give a URL" in capsys.readouterr().err
    assert main(["run", "--list"]) == 0
    assert "datastar-chat-order" in capsys.readouterr().out  # listed, though not run by default
