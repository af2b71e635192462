"""Mutation testing of the conformance suite (`benchmarks/mutation.py`, issue 22): the
harness's parts, one mutant it must see killed and one it must see survive, the equivalent
file, and (level `slow`) the score of a freshly seeded sample.

    VT_MUTATION_SEED=1234 VT_MUTATION_SAMPLE=200 scripts/test --slow -k fresh_sample -s
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from benchmarks import mutation
from benchmarks.mutation import Config, Mutant, Result

SOURCE = '''"""A module (§1.1)."""

from __future__ import annotations

from typing import Protocol


class Member(Protocol):
    def name(self) -> str:
        """What a member has."""


def pick(value: int | None, faulty: bool) -> int:
    """Pick one (§4.2)."""
    if faulty and hub.faulty("x"):
        return 500
    # A comment citing §5.1.
    return 1 if value is None else value + 1
'''


def mutant(module: str, line: int, column: int = 0, function: str = "f") -> Mutant:
    return Mutant(module, "core/NumberReplacer", 0, line, column, function)


def test_a_seed_names_one_draw_whatever_is_skipped() -> None:
    every = [mutant("m", n) for n in range(1, 100)]
    first = mutation.sample(every, 10, seed=7)
    assert first == mutation.sample(every, 10, seed=7)
    assert first != mutation.sample(every, 10, seed=8)
    skipped = mutation.sample(every, 10, seed=7, skip={first[0]})
    assert first[0] not in skipped
    assert set(first[1:]) <= set(skipped)  # only the skipped one is replaced
    assert len(mutation.sample(every, 500, seed=7)) == len(every)


def test_the_section_is_the_nearest_citation_above_the_line() -> None:
    lines = SOURCE.splitlines()
    last = len(lines)  # `return 1 if ...`, under the comment citing §5.1
    assert mutation.section_of(SOURCE, last) == "5.1"
    assert mutation.section_of(SOURCE, last - 3) == "4.2"  # the `if`: the docstring's
    assert mutation.section_of(SOURCE, 9) == "1.1"  # the protocol's method: the module's


def test_the_changed_line_of_a_deletion_is_its_first_text() -> None:
    before = "a = 1\n\n@decorator\ndef f():\n    pass\n"
    after = "a = 1\ndef f():\n    pass\n"
    assert mutation.changed_line(before, after) == ("@decorator", "")
    assert mutation.changed_line("x = 1\n", "x = 2\n") == ("x = 1", "x = 2")


def test_the_rules_find_code_that_never_runs() -> None:
    spans = mutation.never_run(SOURCE)
    lines = SOURCE.splitlines()
    annotation = lines.index("def pick(value: int | None, faulty: bool) -> int:") + 1
    fault_body = lines.index("        return 500") + 1
    member = lines.index("    def name(self) -> str:") + 1
    column = lines[annotation - 1].index("|")
    assert mutation.rule_of(mutant("m", annotation, column), spans) == "annotation"
    assert mutation.rule_of(mutant("m", fault_body, 15), spans) == "fault"
    assert mutation.rule_of(mutant("m", member, 4), spans) == "protocol"
    assert mutation.rule_of(mutant("m", len(lines), 24), spans) == ""  # `value + 1` runs
    assert mutation.rule_of(mutant("m", fault_body - 1, 7), spans) == ""  # the `if` runs


def test_a_mutant_that_does_not_compile_is_left_out_of_the_draw(tmp_path: Path) -> None:
    # cosmic-ray replaces every `*` and `**` token: in a dict display or a parameter list the
    # result is a syntax error, which any test "kills"; `x * y` mutated stays valid Python.
    (tmp_path / "reference_impl").mkdir()
    (tmp_path / "reference_impl" / "m.py").write_text(
        "def f(a, *, b):\n    return {**a, **b}\n\n\ndef g(x, y):\n    return x * y\n",
        encoding="utf-8",
    )
    found = mutation.pool(["m"], root=tmp_path)
    star = [m for m in found.every if m.operator.endswith("Mul_Add")]
    in_def = next(m for m in star if m.line == 1)  # `def f(a, +, b)`
    in_body = next(m for m in star if m.line == 6)  # `return x + y`
    in_dict = next(m for m in found.every if m.operator.endswith("Pow_Add"))  # `{+a, **b}`
    assert {in_def, in_dict} <= found.invalid.keys()
    assert found.invalid[in_dict].startswith("line 2: "), found.invalid[in_dict]
    assert in_body not in found.invalid
    drawn = found.draw(len(found.every), seed=7)
    assert in_body in drawn
    assert in_def not in drawn
    assert in_dict not in drawn
    assert set(drawn) == set(found.candidates)
    assert len(found.candidates) + len(found.invalid) == len(found.outside_rules)


def test_a_rescore_drops_the_invalid_mutants_of_a_finished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The runtime's smallest module with both kinds (a tenth of the mutants of `handlers`):
    # `{**taken.signals, ...}` with `**` turned `+` is a syntax error, "killed" by any test;
    # `self.render is None` turned `is not` compiles.
    every = mutation.all_mutants(modules=["queue"])
    bad = next(m for m in every if m.operator.endswith("Pow_Add"))
    good = next(m for m in every if m.function == "restore" and m.operator.endswith("Is_IsNot"))
    results = []
    for m in (bad, good):
        _, source, mutated = next(mutation.mutated_sources([m]))
        before, after = mutation.changed_line(source, mutated or "")
        results.append(Result(m, "suite", source=before, mutated=after, killer="any"))
    run = tmp_path / "run.json"
    mutation.write_results(run, results, {"seed": 1, "sample": 2, "of": len(every)})
    assert mutation.main(["--rescore", str(run)]) == 0
    out = capsys.readouterr().out
    assert "invalid: 1 of 2 dropped (1 suite, " in out, out
    assert "| **all** | 1 | 0 | 1/1 (100%) | 1/1 (100%) |" in out, out


def test_an_equivalent_entry_matches_on_the_lines_never_the_number() -> None:
    entry = {
        "module": "m",
        "function": "f",
        "operator": "core/NumberReplacer",
        "line": "x = 1",
        "mutated": "x = 2",
        "reason": "why",
    }
    moved = Result(mutant("m", 99), source="x = 1", mutated="x = 2")
    assert mutation.equivalence(moved, [entry]) == "why"
    other = Result(mutant("m", 99), source="x = 1", mutated="x = 0")
    assert mutation.equivalence(other, [entry]) is None


def test_equal_lines_of_one_function_are_told_apart_by_their_block() -> None:
    source = (
        "def f():\n    if a:\n        return False\n"
        "    try:\n        g()\n    except E:\n        return False\n"
    )
    assert mutation.block_of(source, "return False", near=3) == "if a:"
    assert mutation.block_of(source, "return False", near=7) == "except E:"
    entry = {"module": "m", "function": "f", "operator": "core/NumberReplacer"}
    entry |= {"line": "return False", "mutated": "return True", "block": "if a:", "reason": "r"}
    first = Result(mutant("m", 3), source="return False", mutated="return True", block="if a:")
    second = Result(mutant("m", 7), source="return False", mutated="return True", block="except E:")
    assert mutation.equivalence(first, [entry]) == "r"
    assert mutation.equivalence(second, [entry]) is None


def test_every_equivalent_entry_names_a_line_of_its_module() -> None:
    rules, entries = mutation.load_equivalent()
    assert set(rules) == set(mutation.RULES), "every rule has its reason in the file"
    root = Path(mutation.ROOT) / "reference_impl"
    for entry in entries:
        assert {"module", "function", "operator", "line", "mutated", "reason"} <= set(entry)
        assert entry["reason"], entry
        source = (root / f"{entry['module']}.py").read_text(encoding="utf-8")
        lines = {line.strip() for line in source.splitlines()}
        assert entry["line"] in lines, f"stale entry (the line is gone): {entry}"


@pytest.mark.e2e  # `vt conformance` in subprocesses, on a copy of the tree
@pytest.mark.timeout(600)  # a copy of the tree and two suite runs, on a loaded machine
def test_the_harness_sees_a_mutant_killed_and_an_equivalent_one_survive(tmp_path: Path) -> None:
    every = mutation.all_mutants(modules=["handlers", "stream"])
    # `owns` answers whether a tab is the session's: flipped, every tab is refused (§3.3).
    owns = next(m for m in every if m.function == "owns" and m.operator.endswith("Is_IsNot"))
    # The status given to Starlette's Response is never sent: `__call__` sends its own 200.
    status = next(
        m
        for m in every
        if m.module == "stream"
        and m.function == "__init__"
        and m.operator.endswith("NumberReplacer")
    )
    tree = mutation.make_tree(tmp_path, None)
    config = Config(unit_tests=False)
    killed = mutation.test_mutant(tree, owns, config)
    survived = mutation.test_mutant(tree, status, config)
    assert killed.outcome == "suite", killed
    assert killed.killer  # the first scenario that failed
    assert survived.outcome == "survived", survived
    assert "status_code=200" in survived.source
    # the tree is put back after each mutant
    original = (mutation.ROOT / "reference_impl" / "stream.py").read_text(encoding="utf-8")
    assert (tree / "reference_impl" / "stream.py").read_text(encoding="utf-8") == original


# Floors for a sample of 60, below the figures of a sample of 200 (README: the suite 87%, the
# suite and the runtime's tests 96%, seed 39636688) by what a sample of 60 can stray: this
# catches a suite or tests that lost their teeth. Issue 22's targets (the suite 90%, with the
# tests 95%) are measured on 200 by `python -m benchmarks.mutation`; the suite's is not met.
SUITE_FLOOR = 0.50
ALL_FLOOR = 0.90


@pytest.mark.slow
@pytest.mark.timeout(5400)  # 60 mutants, each a suite run (and the tests): tens of minutes
def test_a_fresh_sample_scores_above_the_floors(capsys: pytest.CaptureFixture[str]) -> None:
    seed = int(os.environ.get("VT_MUTATION_SEED") or random.SystemRandom().randrange(1 << 32))
    size = int(os.environ.get("VT_MUTATION_SAMPLE", "60"))
    rules, _ = mutation.load_equivalent()
    chosen = mutation.pool(rules=rules).draw(size, seed)
    with capsys.disabled():
        print(f"\nmutation sample: --seed {seed} --sample {size} (python -m benchmarks.mutation)")
        results = mutation.run_mutants(chosen, Config(workers=2))
        print(mutation.table(results))
        for line in mutation.survivors(results):
            print("  survivor: " + line)
    killed, counted = mutation.score(results, "suite")
    assert killed >= SUITE_FLOOR * counted, f"the suite killed {killed} of {counted} (seed {seed})"
    killed, counted = mutation.score(results, "all")
    assert killed >= ALL_FLOOR * counted, (
        f"suite + tests killed {killed} of {counted} (seed {seed})"
    )
