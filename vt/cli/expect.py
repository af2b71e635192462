"""Expect files (`vt conformance --expect FILE`): the failures a run expects, with the reason.

One format for every expect file: TOML whose top-level `scenario-name = "reason"` entries apply
to any run, and whose tables (`[datastar-py]`, as in targets/expected-failures.toml) each hold
the entries of one implementation, picked with `--target NAME`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path

__all__ = ["read_expect"]


def read_expect(path: Path, target: str | None, known: Collection[str]) -> dict[str, str]:
    """Scenario (or SDK case) name -> reason: the file's top-level entries, plus those of the
    table `target`.

    Raises:
        ValueError: the file cannot be read; it has tables and no `target` names one (the
            message lists them); `target` names no table; an entry names no known scenario.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read the expect file {path}: {exc}") from None
    tables = [name for name, value in data.items() if isinstance(value, dict)]
    entries = {str(k): str(v) for k, v in data.items() if not isinstance(v, dict)}
    if target is not None:
        if target not in tables:
            listed = ", ".join(tables) or "none"
            raise ValueError(f"{path} has no table [{target}] (its tables: {listed})")
        entries.update({str(k): str(v) for k, v in data[target].items()})
    elif tables:
        raise ValueError(
            f"{path} has one table per implementation ({', '.join(tables)}); say which "
            "implementation this run tests with --target NAME"
        )
    unknown = sorted(set(entries) - set(known))
    if unknown:
        raise ValueError(f"{path}: no scenario named {', '.join(unknown)}")
    return entries
