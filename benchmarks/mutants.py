"""The mutants of `benchmarks/mutation.py`: cosmic-ray's over the runtime's protocol modules,
the rules and the file (`specs/mutants-equivalent.toml`) that say which are equivalent, seeded
samples, and where each one sits (its line, block and the spec section the code cites there).
"""

from __future__ import annotations

import ast
import difflib
import random
import re
import tempfile
import tomllib
import warnings
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = (
    "handlers tabs state stream queue hub sessions sse decode page csp html".split()
)  # fmt: skip
EQUIVALENT = ROOT / "specs" / "mutants-equivalent.toml"
SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)")


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mutation: cosmic-ray's operator applied at its `occurrence` in one module."""

    module: str
    operator: str
    occurrence: int
    line: int
    column: int
    function: str


@dataclass(slots=True)
class Result:
    """What became of one mutant. `outcome`: `suite` (killed by `vt conformance`), `tests`
    (survived the suite, killed by the runtime's tests), `timeout` (a test command hung:
    killed, as cosmic-ray counts it), `survived`, `equivalent` (survived, and listed in
    `specs/mutants-equivalent.toml`) or `none` (the operator found nothing to change)."""

    mutant: Mutant
    outcome: str = "none"
    source: str = ""  # the line before, stripped
    mutated: str = ""  # the line after, stripped
    block: str = ""  # the header of its block (stripped): tells equal lines of a function apart
    section: str = ""  # the spec section the code cites nearest the line
    killer: str = ""  # the first failing scenario or test
    reason: str = ""  # why it is equivalent, or what a confirmation run showed
    seconds: float = 0.0

    @property
    def line_known(self) -> bool:
        """True for a mutant that ran (an equivalent by rule never did: its lines are not
        read)."""
        return bool(self.source or self.mutated)


# -- the mutants ------------------------------------------------------------------------------


def all_mutants(root: Path = ROOT, modules: Sequence[str] = MODULES) -> list[Mutant]:
    """Every mutant cosmic-ray's operators make of `modules` (its `init`, into a scratch
    work database), in a stable order."""
    from cosmic_ray.commands.init import init
    from cosmic_ray.work_db import use_db

    found: list[Mutant] = []
    with (
        tempfile.TemporaryDirectory(prefix="vt-mutants-") as scratch,
        use_db(str(Path(scratch) / "session.sqlite")) as db,
    ):
        init([root / "reference_impl" / f"{m}.py" for m in modules], db, {})
        for item in db.work_items:
            found += [
                Mutant(
                    module=Path(spec.module_path).stem,
                    operator=spec.operator_name,
                    occurrence=spec.occurrence,
                    line=spec.start_pos[0],
                    column=spec.start_pos[1],
                    function=spec.definition_name or "",
                )
                for spec in item.mutations
            ]
    return sorted(found, key=lambda m: (m.module, m.line, m.operator, m.occurrence))


def by_rule(mutants: Sequence[Mutant], root: Path = ROOT) -> dict[Mutant, str]:
    """The mutants in code that never runs, each with its rule (`RULES`)."""
    spans = {
        m: never_run((root / "reference_impl" / f"{m}.py").read_text(encoding="utf-8"))
        for m in {m.module for m in mutants}
    }
    found = {m: rule_of(m, spans[m.module]) for m in mutants}
    return {m: rule for m, rule in found.items() if rule}


def sample(
    mutants: Sequence[Mutant], size: int, seed: int, skip: Collection[Mutant] = ()
) -> list[Mutant]:
    """`size` mutants drawn with `seed`, leaving out `skip` (all of them if fewer). The draw
    orders every mutant, skipped or not, so a seed names the same sample when a rule or an
    equivalent entry is added: those mutants alone drop out, replaced by the next drawn."""
    order = list(mutants)
    random.Random(seed).shuffle(order)
    chosen = [m for m in order if m not in skip][:size]
    return sorted(chosen, key=lambda m: (m.module, m.line, m.operator, m.occurrence))


def section_of(source: str, line: int) -> str:
    """The spec section the code cites nearest `line`: the last `§` at or above it inside
    its function (a comment or the docstring), else in the enclosing class, else the
    module's docstring; empty when none is cited."""
    lines = source.splitlines()
    index = min(line, len(lines)) - 1
    indent = len(lines[index]) - len(lines[index].lstrip())
    for i in range(index, -1, -1):
        text = lines[i]
        found = SECTION.findall(text)
        stripped = text.lstrip()
        level = len(text) - len(stripped)
        if found:
            return found[-1]
        if stripped.startswith(("def ", "async def ", "class ")) and level < indent:
            indent = level  # keep climbing: the enclosing class, then the module
            if level == 0:
                break
    head = SECTION.search(source[: source.find("\n\n\n") if "\n\n\n" in source else None])
    return head.group(1) if head else ""


def changed_line(original: str, mutated: str) -> tuple[str, str]:
    """The first line the mutation changed, before and after (stripped; a deleted line's
    "after" is empty)."""
    before, after = original.splitlines(), mutated.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after).get_opcodes():
        if tag != "equal":
            return _first_text(before[i1:i2]), _first_text(after[j1:j2])
    return "", ""


def block_of(source: str, text: str, near: int) -> str:
    """The header (stripped) of the block holding the line that reads `text`, the one nearest
    line `near`: the closest line above it that is indented less (`if ...:`, `def ...:`)."""
    lines = source.splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == text]
    if not found:
        return ""
    index = min(found, key=lambda i: abs(i + 1 - near))
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            return line.strip()
    return ""


def _first_text(lines: Iterable[str]) -> str:
    return next((line.strip() for line in lines if line.strip()), "")


# -- equivalent mutants -----------------------------------------------------------------------


# Equivalent by construction, whatever the line (the file gives each rule's reason): code
# that never runs. Under `from __future__ import annotations` no annotation is evaluated; a
# `typing.Protocol` class only describes what type checkers check; the body of an `if` on a
# test-only fault (`Options.faults`) runs only in the hand-written mutants.
RULES = ("annotation", "protocol", "fault")


def never_run(source: str) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """The spans (start, end as (line, column)) of the code each rule says never runs."""
    tree = ast.parse(source)
    spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {r: [] for r in RULES}
    future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    for node in ast.walk(tree):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found = [node.annotation]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found = [node.returns]
        elif isinstance(node, ast.AnnAssign):
            found = [node.annotation]
        elif isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases
        ):
            spans["protocol"].append(_span(node))
        elif isinstance(node, ast.If) and _needs_fault(node.test):
            spans["fault"] += [_span(n) for n in node.body]
        if future:
            spans["annotation"] += [_span(n) for n in found if n is not None]
    return spans


def _needs_fault(test: ast.expr) -> bool:
    """True when `test` holds only with a fault switched on: `hub.faulty(...)`,
    `"name" in options.faults`, or an `and` with one of them."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_needs_fault(value) for value in test.values)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        return test.func.attr == "faulty"
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.ops[0], ast.In)
        and ast.unparse(test.comparators[0]).endswith("faults")
    )


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    decorators = getattr(node, "decorator_list", [])
    if decorators:  # a decorator belongs to what it decorates
        start = min(start, (decorators[0].lineno, decorators[0].col_offset - 1))
    return start, (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


def rule_of(mutant: Mutant, spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]) -> str:
    """The rule that makes `mutant` equivalent (it sits in code that never runs), or ""."""
    at = (mutant.line, mutant.column)
    for rule, found in spans.items():
        if any(start <= at < end for start, end in found):
            return rule
    return ""


def load_equivalent(path: Path = EQUIVALENT) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The equivalent-mutant file: each rule's reason (`[rule]`), and the single mutants
    (`[[mutant]]` tables)."""
    if not path.exists():
        return {}, []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = {str(k): str(v.get("reason", "")) for k, v in data.get("rule", {}).items()}
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise ValueError(f"{path}: rules this harness does not know: {unknown}")
    mutants = [{k: str(v) for k, v in entry.items()} for entry in data.get("mutant", [])]
    return rules, mutants


def equivalence(result: Result, entries: Sequence[dict[str, str]]) -> str | None:
    """The reason `result`'s mutant is listed as equivalent, or None. An entry matches on
    module, function, operator and the line before and after (and, when it names one, the
    header of the line's block, for equal lines in one function): never on a line number."""
    m = result.mutant
    for entry in entries:
        if (
            entry.get("module") == m.module
            and entry.get("function") == m.function
            and entry.get("operator") == m.operator
            and entry.get("line") == result.source
            and entry.get("mutated") == result.mutated
            and entry.get("block", result.block) == result.block
        ):
            return entry.get("reason", "")
    return None


def judge(results: Sequence[Result], entries: Sequence[dict[str, str]]) -> list[Result]:
    """Mark the survivors `entries` lists as equivalent (and an equivalent no entry lists any
    more as a survivor again): a finished run can be judged again as the file changes."""
    for result in results:
        if result.outcome in ("survived", "equivalent") and result.line_known:
            reason = equivalence(result, entries)
            if reason is not None:
                result.outcome, result.reason = "equivalent", reason
            elif result.outcome == "equivalent":
                result.outcome, result.reason = "survived", ""
    return list(results)


def with_blocks(results: list[Result]) -> list[Result]:
    """Results of a run written before `block` was kept: read it from the sources now."""
    for r in results:
        if r.line_known and not r.block:
            source = (ROOT / "reference_impl" / f"{r.mutant.module}.py").read_text(encoding="utf-8")
            r.block = block_of(source, r.source, r.mutant.line)
    return results


# -- the pool a sample is drawn from -----------------------------------------------------------


@dataclass(slots=True)
class Pool:
    """The mutants a sample is drawn from: `every` one cosmic-ray makes, less those in code
    that never runs (`ruled`, each with its rule) and those that do not compile (`invalid`,
    each with the compiler's complaint)."""

    every: list[Mutant]
    ruled: dict[Mutant, str]
    invalid: dict[Mutant, str]

    @property
    def outside_rules(self) -> list[Mutant]:
        """The mutants no rule makes equivalent (valid or not): what `invalid` was judged in."""
        return [m for m in self.every if m not in self.ruled]

    @property
    def candidates(self) -> list[Mutant]:
        """The mutants a sample is drawn from: outside the rules, and compiling."""
        return [m for m in self.outside_rules if m not in self.invalid]

    def draw(self, size: int, seed: int) -> list[Mutant]:
        """`size` candidates drawn with `seed` (see `sample`)."""
        return sample(self.every, size, seed, skip=self.ruled.keys() | self.invalid.keys())


def pool(
    modules: Sequence[str] = MODULES, root: Path = ROOT, rules: Collection[str] = RULES
) -> Pool:
    """Every mutant of `modules`, with those the `rules` (the ones the equivalent file gives a
    reason for) leave out, and, of the others, those that do not compile."""
    every = all_mutants(root, modules)
    ruled = {m: rule for m, rule in by_rule(every, root).items() if rule in rules}
    found = invalid([m for m in every if m not in ruled], root)
    return Pool(every, ruled, found)


def invalid(mutants: Sequence[Mutant], root: Path = ROOT) -> dict[Mutant, str]:
    """The mutants whose module no longer compiles once mutated, each with the compiler's
    complaint (`line N: message`). cosmic-ray replaces an operator token wherever it stands, so
    `**` in `{**a}` or `*` in `def f(a, *, b)` becomes a syntax error, which any test would
    "kill"."""
    found: dict[Mutant, str] = {}
    for m, _, mutated in mutated_sources(mutants, root):
        if mutated is None:
            continue  # nothing changed: `test_mutant` says `none`
        with warnings.catch_warnings():  # `x is 1` and the like compile, with a warning
            warnings.simplefilter("ignore", SyntaxWarning)
            try:
                compile(mutated, f"{m.module}.py", "exec", dont_inherit=True)
            except SyntaxError as error:
                found[m] = f"line {error.lineno}: {error.msg}"
    return found


def mutated_sources(
    mutants: Iterable[Mutant], root: Path = ROOT
) -> Iterator[tuple[Mutant, str, str | None]]:
    """Each mutant's module, before and after (None: the operator found nothing to change),
    made in memory as `test_mutant` makes it on disk: cosmic-ray's visitor over the module's
    parse tree. The tree is parsed once a module and copied by pickle (a tenth of a parse)."""
    import pickle

    import cosmic_ray.plugins
    import parso
    from cosmic_ray.mutating import MutationVisitor

    trees: dict[str, tuple[str, bytes]] = {}
    for m in mutants:
        if m.module not in trees:
            source = (root / "reference_impl" / f"{m.module}.py").read_text(encoding="utf-8")
            trees[m.module] = source, pickle.dumps(parso.parse(source))
        source, tree = trees[m.module]
        visitor = MutationVisitor(m.occurrence, cosmic_ray.plugins.get_operator(m.operator)())
        mutated = visitor.walk(pickle.loads(tree))
        yield m, source, mutated.get_code() if visitor.mutation_applied else None
