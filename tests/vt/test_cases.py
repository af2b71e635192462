"""The codec cases of `specs/cases/`: every folder replayed into a replica, whole and split."""

from __future__ import annotations

import pytest

from vt.conformance.cases import CodecCase, decode_case, load_cases, replay_case

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
    whole_fed = decode_case(case)
    whole = replay_case(case, whole_fed)
    want = (whole.problems(case), whole.replica.document.canonical(), whole.items)
    # The replay reads only the decoded wire items (`replay_case`): a split that decodes to
    # the same items gives the same page by construction, and the whole stream replayed
    # twice shows that the replay is deterministic. A split that decodes otherwise is
    # replayed and must still give the same page, the same items and the same problems.
    again = replay_case(case, decode_case(case))
    assert (again.problems(case), again.replica.document.canonical(), again.items) == want
    raws = [raw for raw, _ in whole_fed]
    for cut in range(1, len(case.stream)):
        fed = decode_case(case, [cut])
        if [raw for raw, _ in fed] == raws:
            continue
        split = replay_case(case, fed)
        assert split.problems(case) == want[0], f"split at byte {cut}"
        assert split.replica.document.canonical() == want[1], f"split at byte {cut}"
        assert split.items == want[2], f"split at byte {cut}"


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
