"""The SDK level (specs/sdk-cases/) against the three SDK targets: one test per case and target.

Cases a target's SDK is known to fail are strict expected failures, with the reason from
targets/expected-failures.toml: a case that starts passing fails the run.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from targets.launch import TARGETS, expected_failures
from tests.targets.support import require
from vt.conformance.sdk import SDKCaseResult, format_results, load_sdk_cases, run_sdk_cases

CASES = load_sdk_cases()
_results: dict[str, dict[str, SDKCaseResult]] = {}


def _params() -> list[object]:
    params: list[object] = []
    for target in TARGETS:
        known = expected_failures(target)
        for case in CASES:
            marks = (
                [pytest.mark.xfail(reason=known[case.name], strict=True)]
                if case.name in known
                else []
            )
            params.append(
                pytest.param(target.name, case.name, marks=marks, id=f"{target.name}-{case.name}")
            )
    return params


def _results_of(name: str, url_of: Callable[[str], str]) -> dict[str, SDKCaseResult]:
    # The whole level runs once per target; each test reads its own case's result.
    if name not in _results:
        # A generous timeout: the machine is shared, and a slow answer is not a wrong one.
        results = anyio.run(lambda: run_sdk_cases(url_of(name), cases=CASES, timeout=15.0))
        _results[name] = {result.case: result for result in results}
    return _results[name]


@pytest.mark.parametrize(("target", "case"), _params())
def test_sdk_case(target: str, case: str, target_url_of: Callable[[str], str]) -> None:
    result = _results_of(target, target_url_of)[case]
    assert result.passed, (
        format_results([result]) + f"\nbody:\n{result.body.decode(errors='replace')}"
    )


def test_every_expected_failure_names_a_case() -> None:
    names = {case.name for case in CASES}
    for target in TARGETS:
        unknown = sorted(set(expected_failures(target)) - names)
        assert not unknown, (
            f"targets/expected-failures.toml [{target.name}] names no case: {unknown}"
        )


def test_implementations_table_is_current() -> None:
    from targets.implementations import main

    for target in TARGETS:
        require(target)  # a table written where every target ran cannot be checked without one
    assert main(["--check"]) == 0, "specs/IMPLEMENTATIONS.md is stale: run scripts/implementations"
