"""Coverage of `specs/protocol.md` by the conformance suite: every numbered clause with a MUST
is named by some scenario's `sections`, or listed in `specs/not-covered.toml` with
why vt cannot observe it over the wire (and, for client-side rules, the vt tests that check
them instead)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import vt

SPECS = Path(__file__).resolve().parents[2] / "specs"
PROTOCOL = SPECS / "protocol.md"
NOT_COVERED = SPECS / "not-covered.toml"
ROOT = Path(__file__).resolve().parents[2]
# A clause opens a line with its number and a dot (`4.2.1. `, `8.2. `); a heading or the next
# clause ends it.
CLAUSE = re.compile(r"^(\d+(?:\.\d+)+)\.\s")
HEADING = re.compile(r"^#+\s")


def must_clauses(text: str) -> dict[str, str]:
    """Clause number -> its text, for every numbered clause containing MUST."""
    clauses: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        found = CLAUSE.match(line)
        if found:
            current = clauses.setdefault(found.group(1), [])
        elif HEADING.match(line):
            current = None
        if current is not None:
            current.append(line)
    return {n: " ".join(lines) for n, lines in clauses.items() if "MUST" in " ".join(lines)}


def covered() -> set[str]:
    return {section for s in vt.bundled_scenarios() for section in s.sections}


def exempt() -> dict[str, dict[str, str]]:
    data = tomllib.loads(NOT_COVERED.read_text(encoding="utf-8"))
    return {str(k): dict(v) for k, v in data.items()}


def test_the_parser_finds_the_clauses() -> None:
    clauses = must_clauses(PROTOCOL.read_text(encoding="utf-8"))
    # A few clauses known to carry a MUST; an empty result would make the coverage test vacuous.
    assert {"2.1.1", "4.2.2", "5.1.2", "8.2"} <= set(clauses), sorted(clauses)


def test_every_must_is_covered_or_explained() -> None:
    clauses = must_clauses(PROTOCOL.read_text(encoding="utf-8"))
    listed = exempt()
    missing = sorted(set(clauses) - covered() - set(listed), key=_key)
    assert not missing, "MUST clauses no scenario names in `sections` and not-covered.toml " + (
        "does not explain:\n" + "\n".join(f"  §{n}: {clauses[n][:120]}" for n in missing)
    )


def test_not_covered_entries_are_real_and_explained() -> None:
    clauses = must_clauses(PROTOCOL.read_text(encoding="utf-8"))
    for number, entry in exempt().items():
        assert number in clauses, f"not-covered.toml lists §{number}, which has no MUST"
        assert number not in covered(), f"§{number} is covered by a scenario: remove it"
        assert entry.get("reason"), f"not-covered.toml §{number} gives no reason"
        for test in entry.get("tests", []):  # type: ignore[union-attr]
            path, _, name = str(test).partition("::")
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"def {name}(" in source, f"§{number} names a test that does not exist: {test}"


def test_scenario_sections_exist() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    numbers = {m.group(1) for m in re.finditer(r"^#*\s*(\d+(?:\.\d+)*)\.?\s", text, re.M)}
    # `C` sections are specs/cluster.md's (the cluster and faults levels).
    cluster = (SPECS / "cluster.md").read_text(encoding="utf-8")
    numbers |= {m.group(1) for m in re.finditer(r"^#*\s*(C\d+(?:\.\d+)*)\.?\s", cluster, re.M)}
    unknown = sorted(covered() - numbers, key=_key)
    assert not unknown, f"scenarios name sections the specs do not have: {unknown}"


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.lstrip("C").split("."))
