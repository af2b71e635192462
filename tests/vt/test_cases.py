"""The codec cases of `specs/cases/`: every folder replayed into a replica, whole and split."""

from __future__ import annotations

import pytest

from vt.conformance.cases import CodecCase, load_cases, run_case

CASES = load_cases()
BY_NAME = {case.name: case for case in CASES}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_case(name: str) -> None:
    case = BY_NAME[name]
    problems = case.check()
    assert not problems, f"{name} ({case.title}, §{case.section}):\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_case_split_at_every_byte_gives_the_same_page(name: str) -> None:
    case = BY_NAME[name]
    whole = run_case(case)
    for cut in range(1, len(case.stream)):
        split = run_case(case, [cut])
        assert split.problems(case) == whole.problems(case), f"split at byte {cut}"
        assert split.replica.document.canonical() == whole.replica.document.canonical()
        assert split.items == whole.items, f"split at byte {cut}"


def _modes(case: CodecCase) -> set[str]:
    text = case.stream.decode("utf-8", "replace")
    found = {line.split()[2] for line in text.splitlines() if line.startswith("data: mode ")}
    if "datastar-patch-elements" in text and "data: mode" not in text:
        found.add("outer")
    return found


def test_cases_cover_all_eight_modes_and_merge_patch() -> None:
    passing = [c for c in CASES if not c.errors]
    modes = set().union(*(_modes(c) for c in passing))
    assert modes >= {"outer", "inner", "replace", "prepend", "append", "before", "after", "remove"}
    sections = {c.section for c in CASES}
    assert {"5.2", "6.1", "6.2", "6.3", "7.1", "7.2", "7.3", "7.4"} <= sections
    assert any(c.errors for c in CASES if c.section == "6.3")
