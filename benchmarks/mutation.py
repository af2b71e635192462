"""Mutation score of the conformance suite over the reference runtime's protocol modules.

    .venv/bin/python -m benchmarks.mutation                  # a sample of 200, a fresh seed
    .venv/bin/python -m benchmarks.mutation --seed 1234      # the same sample again
    .venv/bin/python -m benchmarks.mutation --all            # every mutant (about an hour)
    .venv/bin/python -m benchmarks.mutation --suite-from 3665963 --out before.json  # "before"
    .venv/bin/python -m benchmarks.mutation --before before.json  # a before/after table

cosmic-ray (8.7) makes the mutants: its operators (comparison, boolean and arithmetic flips,
constants, `and`/`or`, exceptions, loops, decorators) over `MODULES` of `reference_impl/`. It
replaces an operator token wherever it stands, so some mutants are syntax errors (`**` in
`{**a}`, `*` in `def f(a, *, b)` turned `+`): each mutant is made in memory and compiled
first, and those that do not compile ("invalid", counted in the output and the JSON) are left
out of the draw, as any test would "kill" them; `--rescore` drops them from a run drawn before
(the runtime's sources must be the run's). A mutant lives in a COPY of the tree (one per
worker, in a temporary folder): cosmic-ray mutates files in place, and the worktree and every
other process must never see a mutated file. Each mutant is tested by `vt conformance` (every
conformance level against the embedded runtime, then the levels that start processes: a
cluster's nodes on NATS and Toxiproxy's faults; stopping at the first failure, waits cut to
`DEADLINE`), run under `nice -n 10`; a survivor is then tested by the runtime's own tests
(`tests/reference_impl`). A kill that only the short deadline made (the failing scenario
passes with the default one) counts as a survivor. Survivors listed in
`specs/mutants-equivalent.toml` (keyed by module, function, operator and the source line
before and after) are equivalent: they leave the score. The table gives, by module, the kills
of the suite and of the suite plus the tests; the JSON (`--out`) has every mutant with its
line, operator and the spec section it touches.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.mutants import (
    EQUIVALENT,
    MODULES,
    ROOT,
    RULES,
    Mutant,
    Pool,
    Result,
    all_mutants,
    block_of,
    by_rule,
    changed_line,
    equivalence,
    invalid,
    judge,
    load_equivalent,
    mutated_sources,
    never_run,
    pool,
    rule_of,
    sample,
    section_of,
    with_blocks,
)

__all__ = [
    "EQUIVALENT",
    "MODULES",
    "RULES",
    "Config",
    "Mutant",
    "Pool",
    "Result",
    "all_mutants",
    "block_of",
    "by_rule",
    "changed_line",
    "equivalence",
    "invalid",
    "judge",
    "load_equivalent",
    "main",
    "make_tree",
    "mutated_sources",
    "never_run",
    "pool",
    "rule_of",
    "run_mutants",
    "sample",
    "score",
    "section_of",
    "table",
    "test_mutant",
]

DEADLINE = 0.5  # the wait deadline of a mutant's suite run, seconds
CLUSTER_DEADLINE = 2.0  # ... at least, for the levels whose scenarios start processes
PROCESS_LEVELS = ("cluster", "faults")  # `vt conformance` runs them only when named
CONFIRM_DEADLINE = 5.0  # a kill by a wait running out is confirmed under this one
COMMAND_TIMEOUT = 180.0  # a test command still running then is a kill by timeout (cosmic-ray's)
UNIT_TESTS = "tests/reference_impl"
QUICK_TESTS = "tests/reference_impl/test_api.py"  # sans-IO: run first, the likeliest to kill
COPIED = ("reference_impl", "vt", "specs", "tests", "pyproject.toml")
KILLED = ("suite", "tests", "timeout")


@dataclass(slots=True)
class Config:
    """How mutants are tested."""

    deadline: float = DEADLINE
    unit_tests: bool = True
    confirm: bool = True
    suite_from: str | None = None  # a commit whose scenarios and runtime tests are used
    workers: int = 1
    progress: Callable[[str], None] = field(default=lambda line: None)


# -- running ----------------------------------------------------------------------------------


def make_tree(folder: Path, suite_from: str | None) -> Path:
    """A copy of what a test run imports and reads, byte-compiled with checked hashes (so a
    mutated module is always compiled afresh); with `suite_from`, its scenarios and runtime
    tests are those of that commit."""
    tree = folder / "tree"
    tree.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "test-results")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    if suite_from is not None:
        for part in ("specs/scenarios", UNIT_TESTS):
            shutil.rmtree(tree / part)
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", suite_from, part],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    # cosmic-ray's ExceptionReplacer names `CosmicRayTestingException` in an `except`; define it,
    # or a handler it touches would raise NameError for every exception, not just miss one.
    (tree / "sitecustomize.py").write_text(
        "import builtins\nfrom cosmic_ray.exceptions import CosmicRayTestingException\n"
        "builtins.CosmicRayTestingException = CosmicRayTestingException\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash"]
        + [str(tree / n) for n in ("reference_impl", "vt", "tests")],
        check=True,
    )
    return tree


@dataclass(slots=True)
class Run:
    """One test command's end."""

    failed: bool
    timed_out: bool
    output: str


def run_command(argv: Sequence[str], tree: Path, timeout: float = COMMAND_TIMEOUT) -> Run:
    """Run `argv` niced in `tree` with the tree first on the import path; a run past
    `timeout` is ended with its whole process group."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    with subprocess.Popen(
        ["nice", "-n", "10", *argv],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, _ = proc.communicate()
            return Run(True, True, out.decode(errors="replace"))
    return Run(proc.returncode != 0, False, out.decode(errors="replace"))


def suite_argvs(tree: Path, deadline: float) -> list[list[str]]:
    """`vt conformance`, all of it: the levels against the embedded runtime, then those
    whose scenarios start processes (a cluster's nodes on NATS, Toxiproxy's faults), where
    the runtime's cluster-only code runs; the first failure ends each. The process levels
    wait at least `CLUSTER_DEADLINE`: nodes start while a scenario runs."""
    command = [sys.executable, "-m", "vt", "conformance", "-x", *_output(tree)]
    processes = [arg for level in PROCESS_LEVELS for arg in ("--level", level)]
    slower = max(deadline, CLUSTER_DEADLINE)
    return [
        [*command, "--timeout", str(deadline)],
        [*command, *processes, "--timeout", str(slower)],
    ]


def scenario_argv(tree: Path, deadline: float, scenario: str) -> list[str]:
    """`vt run` of one bundled scenario."""
    return [sys.executable, "-m", "vt", "run", scenario, "--timeout", str(deadline), *_output(tree)]


def _output(tree: Path) -> list[str]:
    """Where a run in `tree` leaves its failure reports."""
    return ["--output", str(tree / "test-results")]


def run_suite(tree: Path, deadline: float) -> Run:
    """The suite's commands in turn, until one fails (that one's run) or all pass."""
    done = Run(False, False, "")
    for argv in suite_argvs(tree, deadline):
        done = run_command(argv, tree)
        if done.failed:
            return done
    return done


def tests_argv(tree: Path) -> list[str]:
    """The runtime's own tests, the quick ones first; the first failure ends them."""
    first = [QUICK_TESTS] if (tree / QUICK_TESTS).exists() else []
    return [
        sys.executable, "-m", "pytest", "-x", "-q", "-n0", "-p", "no:cacheprovider",
        *first, UNIT_TESTS,
    ]  # fmt: skip


def first_failure(output: str) -> str:
    """The first failing scenario (`FAIL  name`) or test (`FAILED path::name`) of a run."""
    found = re.search(r"^\s*FAIL\s+(\S+)|^FAILED (\S+)", output, re.M)
    if found is None:
        return ""
    return found.group(1) or found.group(2)


def baseline(tree: Path, config: Config) -> None:
    """The unmutated tree passes the commands a mutant is judged by (or kills mean nothing)."""
    for argv in suite_argvs(tree, config.deadline) + (
        [tests_argv(tree)] if config.unit_tests else []
    ):
        done = run_command(argv, tree)
        if done.failed:
            tail = "\n".join(done.output.splitlines()[-30:])
            raise RuntimeError(f"the unmutated tree fails {' '.join(argv[1:4])}:\n{tail}")


def test_mutant(tree: Path, mutant: Mutant, config: Config) -> Result:
    """Apply `mutant` to the tree (put back afterwards) and run the commands on it."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import use_mutation

    result = Result(mutant)
    began = time.monotonic()
    path = tree / "reference_impl" / f"{mutant.module}.py"
    operator = cosmic_ray.plugins.get_operator(mutant.operator)()
    with use_mutation(path, operator, mutant.occurrence) as (original, mutated):
        if mutated is None:
            return result
        result.source, result.mutated = changed_line(original, mutated)
        result.block = block_of(original, result.source, mutant.line)
        result.section = section_of(original, mutant.line)
        suite = run_suite(tree, config.deadline)
        if suite.timed_out:
            result.outcome = "timeout"
        elif suite.failed:
            result.outcome, result.killer = "suite", first_failure(suite.output)
            if config.confirm and result.killer and _timing_only(tree, result.killer, suite):
                result.outcome = "survived"
                result.reason = f"{result.killer} failed only under the {config.deadline}s deadline"
        if result.outcome in ("none", "survived") and config.unit_tests:
            tests = run_command(tests_argv(tree), tree)
            if tests.failed:
                result.outcome = "timeout" if tests.timed_out else "tests"
                result.killer = first_failure(tests.output)
            else:
                result.outcome = "survived"
        elif result.outcome == "none":
            result.outcome = "survived"
    result.seconds = round(time.monotonic() - began, 2)
    return result


def _timing_only(tree: Path, scenario: str, suite: Run) -> bool:
    """True when the scenario that failed by a wait running out passes with the default
    deadline: the kill was the machine's load, not the mutant."""
    if "WaitTimeout" not in suite.output and "did not" not in suite.output:
        return False
    return not run_command(scenario_argv(tree, CONFIRM_DEADLINE, scenario), tree).failed


def run_mutants(mutants: Sequence[Mutant], config: Config) -> list[Result]:
    """Test every mutant on `config.workers` trees (each its own copy), in parallel."""
    results: list[Result] = []
    lock = threading.Lock()
    _, entries = load_equivalent()  # read first: a broken file must not cost a finished run
    with _trees(config) as trees:
        baseline(trees.queue[0], config)
        done = 0

        def one(mutant: Mutant) -> Result:
            nonlocal done
            tree = trees.get()
            try:
                result = test_mutant(tree, mutant, config)
            finally:
                trees.put(tree)
            with lock:
                done += 1
                config.progress(f"[{done}/{len(mutants)}] {_describe(result)}")
            return result

        with ThreadPoolExecutor(max_workers=config.workers) as pool:
            results = list(pool.map(one, mutants))
    return judge(results, entries)


@contextmanager
def _trees(config: Config) -> Iterator[queue.Queue[Path]]:
    with tempfile.TemporaryDirectory(prefix="vt-mutation-") as scratch:
        trees: queue.Queue[Path] = queue.Queue()
        for n in range(max(1, config.workers)):
            trees.put(make_tree(Path(scratch) / str(n), config.suite_from))
        yield trees


def _describe(result: Result) -> str:
    m = result.mutant
    where = f"{m.module}:{m.line} {m.function} {m.operator.removeprefix('core/')}"
    return f"{result.outcome:<10} {where}  {result.source!r} -> {result.mutated!r}"


# -- the score ------------------------------------------------------------------------------


def score(results: Sequence[Result], by: str = "suite") -> tuple[int, int]:
    """(killed, counted): the mutants killed by the suite alone (`by="suite"`) or by the
    suite and the runtime's tests (`by="all"`), of those that changed something and are not
    equivalent."""
    counted = [r for r in results if r.outcome not in ("none", "equivalent")]
    kinds = ("suite", "timeout") if by == "suite" else KILLED
    return sum(r.outcome in kinds for r in counted), len(counted)


def table(
    results: Sequence[Result], before: Sequence[Result] | None = None, before_tests: bool = True
) -> str:
    """A markdown table by module: mutants, equivalent, killed by the suite and by the suite
    plus the runtime's tests (with the `before` run's figures when given; its suite + tests
    column only if that run ran the tests)."""
    columns = ["module", "mutants", "equivalent"]
    for by, name in (("suite", "suite"), ("all", "suite + tests")):
        if before is not None and (by == "suite" or before_tests):
            columns.append(f"{name} before")
        columns.append(name)
    head = "| " + " | ".join(columns) + " |"
    rows = [head, _rule(head)]
    for module in [*sorted({r.mutant.module for r in results}), None]:
        mine = [r for r in results if module is None or r.mutant.module == module]
        equivalent = sum(r.outcome == "equivalent" for r in mine)
        cells = [module or "**all**", str(sum(r.outcome != "none" for r in mine)), str(equivalent)]
        old = [r for r in before or () if module is None or r.mutant.module == module]
        for by in ("suite", "all"):
            if before is not None and (by == "suite" or before_tests):
                cells.append(_ratio(*score(old, by)))
            cells.append(_ratio(*score(mine, by)))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _rule(head: str) -> str:
    return "|" + "---|" * (head.count("|") - 1)


def _ratio(killed: int, counted: int) -> str:
    return f"{killed}/{counted} ({100 * killed / counted:.0f}%)" if counted else "-"


def survivors(results: Sequence[Result]) -> list[str]:
    """One line per survivor: module, line, operator, the spec section, the change."""
    return [
        f"{r.mutant.module}.py:{r.mutant.line} ({r.mutant.function}) "
        f"{r.mutant.operator} §{r.section or '?'}: {r.source!r} -> {r.mutated!r}"
        + (f" [{r.reason}]" if r.reason else "")
        for r in results
        if r.outcome == "survived"
    ]


def read_results(path: Path) -> list[Result]:
    """The results of a run written by `--out`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Result(**{**item, "mutant": Mutant(**item["mutant"])}) for item in data["mutants"]]


def write_results(path: Path, results: Sequence[Result], meta: dict[str, Any]) -> None:
    """The run as JSON: its settings and figures, and every mutant with its outcome."""
    data = {
        **meta,
        "score": {by: score(results, by) for by in ("suite", "all")},
        "mutants": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutation", description=__doc__)
    parser.add_argument("--sample", type=int, default=200, help="mutants drawn (default 200)")
    parser.add_argument("--seed", type=int, help="the sample's seed (default: a fresh one)")
    parser.add_argument("--all", action="store_true", help="every mutant, no sample")
    parser.add_argument("--module", action="append", choices=MODULES, help="only these")
    parser.add_argument("--workers", type=int, default=2, help="trees tested at once")
    parser.add_argument("--deadline", type=float, default=DEADLINE, help="wait deadline (s)")
    parser.add_argument("--suite-only", action="store_true", help="skip the runtime's tests")
    parser.add_argument("--suite-from", metavar="COMMIT", help="scenarios and tests of COMMIT")
    parser.add_argument("--before", type=Path, help="a previous run's JSON, for the table")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--rescore", type=Path, metavar="JSON", help="judge a finished run again, run nothing"
    )
    parser.add_argument(
        "--retest", type=Path, metavar="JSON", help="test a finished run's suite survivors again"
    )
    args = parser.parse_args(argv)
    if args.rescore:
        return _rescore(args.rescore, args.before)
    if args.retest:
        return _retest(args.retest, args.out, args.workers)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rules, _ = load_equivalent()
    found = pool(args.module or MODULES, rules=rules)
    chosen = found.candidates if args.all else found.draw(args.sample, seed)
    what = "all of them" if args.all else f"a sample of {len(chosen)}, --seed {seed}"
    print(f"mutation: {len(found.every)} mutants of {', '.join(args.module or MODULES)}")
    for rule in sorted(set(found.ruled.values())):
        count = sum(r == rule for r in found.ruled.values())
        print(f"  {count} equivalent by the rule {rule!r}: {rules[rule]}")
    print(f"  {_invalid_line(found)}")
    print(f"  {len(found.candidates)} others, valid: {what}")
    config = Config(
        deadline=args.deadline,
        unit_tests=not args.suite_only,
        suite_from=args.suite_from,
        workers=args.workers,
        progress=lambda line: print(line, flush=True),
    )
    began = time.monotonic()
    results = run_mutants(chosen, config)
    if args.all:  # the whole set: the rule-equivalent mutants are in the table too
        results += [Result(m, "equivalent", reason=rules[r]) for m, r in found.ruled.items()]
    elapsed = time.monotonic() - began
    before = read_results(args.before) if args.before else None
    tested = _ran_tests(args.before) if args.before else True
    print(f"\n{_invalid_line(found)}\n\n{table(results, before, before_tests=tested)}\n")
    lines = survivors(results)
    print(f"{len(lines)} survivor(s):" if lines else "no survivor")
    for line in lines:
        print("  " + line)
    print(f"in {elapsed:.0f}s, load average {os.getloadavg()[0]:.2f}")
    if args.out:
        meta = {
            "seed": None if args.all else seed,
            "sample": len(chosen),
            "of": len(found.every),
            "equivalent_by_rule": len(found.ruled),
            "invalid": len(found.invalid),  # of the mutants outside the rules: never drawn
            "outside_rules": len(found.outside_rules),
            "deadline": args.deadline,
            "suite_from": args.suite_from,
            "unit_tests": not args.suite_only,
            "seconds": round(elapsed),
        }
        meta["invalid_mutants"] = [
            {**asdict(m), "error": error} for m, error in found.invalid.items()
        ]
        write_results(args.out, results, meta)
    return 0


def _invalid_line(found: Pool) -> str:
    return (
        f"invalid: {len(found.invalid)} of {len(found.outside_rules)} (mutants outside the "
        "rules that do not compile: left out of the draw, as no test is needed to kill them)"
    )


def _retest(path: Path, out: Path | None, workers: int) -> int:
    """Test the suite's survivors of a finished run (`survived`, and `tests`: killed by the
    runtime's tests alone) again on the tree as it is now (same mutants: the runtime's sources
    must not have changed, which each result's line shows), and write the whole run with
    their new outcomes."""
    results = read_results(path)
    again = [r.mutant for r in results if r.outcome in ("survived", "tests")]
    print(f"{path}: testing {len(again)} survivor(s) again")
    config = Config(workers=workers, progress=lambda line: print(line, flush=True))
    fresh = {r.mutant: r for r in run_mutants(again, config)}
    for i, old in enumerate(results):
        new = fresh.get(old.mutant)
        if new is not None:
            if (new.source, new.mutated) != (old.source, old.mutated):
                raise SystemExit(f"the source changed since {path}: {old.mutant}")
            results[i] = new
    _, entries = load_equivalent()
    results = judge(with_blocks(results), entries)
    print(f"\n{table(results)}\n")
    for line in survivors(results):
        print("  " + line)
    if out is not None:
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta.pop("mutants", None)
        meta["retested"] = len(again)
        write_results(out, results, meta)
    return 0


def _valid(results: list[Result], path: Path) -> list[Result]:
    """A finished run less its invalid mutants (a run drawn before they were left out of the
    draw), judged on the runtime's sources as they are now: each dropped mutant's changed
    line must still be the one the run recorded."""
    found = invalid([r.mutant for r in results if r.outcome != "equivalent" or r.line_known])
    for r in results:
        if r.mutant in found and r.line_known:
            _, source, mutated = next(mutated_sources([r.mutant]))
            if changed_line(source, mutated or source) != (r.source, r.mutated):
                raise SystemExit(f"the source changed since {path}: {r.mutant}")
    kept = [r for r in results if r.mutant not in found]
    dropped = [r for r in results if r.mutant in found]
    outcomes = ", ".join(
        f"{sum(r.outcome == o for r in dropped)} {o}" for o in (*KILLED, "survived")
    )
    print(f"{path}: invalid: {len(dropped)} of {len(results)} dropped ({outcomes})")
    return kept


def _ran_tests(path: Path) -> bool:
    """Whether the run written to `path` tested survivors with the runtime's tests."""
    return bool(json.loads(path.read_text(encoding="utf-8")).get("unit_tests", True))


def _rescore(path: Path, before_path: Path | None) -> int:
    """Print a finished run's table and survivors under the equivalent file as it is now."""
    _, entries = load_equivalent()
    results = judge(with_blocks(_valid(read_results(path), path)), entries)
    before = None
    if before_path:
        before = judge(with_blocks(_valid(read_results(before_path), before_path)), entries)
    tested = _ran_tests(before_path) if before_path else True
    meta = json.loads(path.read_text(encoding="utf-8"))
    print(f"{path}: seed {meta.get('seed')}, {meta.get('sample')} of {meta.get('of')} mutants")
    print(f"\n{table(results, before, before_tests=tested)}\n")
    for line in survivors(results):
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
