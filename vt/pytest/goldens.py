"""Goldens in pytest: the `vt_golden` fixture's object, where a test's goldens live, and the
end-of-run accounting (compared, written, unused; with the update flag, unused ones removed).

A test's goldens are keyed by its file and its name, as syrupy keys snapshots:
`<test file's folder>/goldens/<test file's stem>/<test name>/<tab>.txt`, so `test_same_name`
in two files never shares a folder. A scenario item's are keyed the same way by its scenario
file (`tests/scenarios/goldens/chat/chat-fan-out/`). Every golden is taken through the one
harness (`vt.scenario.harness.take_goldens`): once the streams have gone quiet.

Imported lazily by `vt.pytest.plugin`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..client.report import slug
from ..client.tab import AsyncTab
from ..errors import UsageError
from ..scenario.golden import GoldenResult, compare_goldens
from ..scenario.harness import take_goldens
from ..scenario.normalize import Rule
from ..scenario.runner import ScenarioRun
from ..sync.client import Tab, with_async_tabs

__all__ = [
    "GOLDEN_PROPERTY",
    "UPDATE_HINT",
    "GoldenLedger",
    "VTGolden",
    "golden_folder",
    "result_from_json",
    "result_to_json",
]

UPDATE_HINT = "re-run with --vt-update-goldens, review the changed files, commit them"
GOLDEN_PROPERTY = "vt_golden"
GOLDEN_HEADER = "# vt golden: "  # the first line of every golden file vt writes


def golden_folder(path: Path, nodeid: str) -> Path:
    """The golden folder of the test (or scenario item) `nodeid` in file `path`:
    `<folder>/goldens/<file stem>/<the id after the file, made a file name>`."""
    key = slug(nodeid.split("::", 1)[-1]).strip("-")
    return path.parent / "goldens" / path.stem / key


def result_to_json(result: GoldenResult, folder: Path) -> str:
    """A comparison's outcome as JSON (a test report property, so it survives xdist);
    `folder` is the test's golden folder (the comparison's, or its parent with `name=`)."""
    return json.dumps(
        {
            "test_folder": str(folder),
            "folder": str(result.folder),
            "compared": result.compared,
            "written": result.written,
            "mismatched": list(result.mismatched),
            "missing": result.missing,
            "unused": result.unused,
        }
    )


def result_from_json(text: str) -> tuple[GoldenResult, Path]:
    """The inverse of `result_to_json` (diffs are not carried: they are in the test's
    failure), with the test's golden folder."""
    data = json.loads(text)
    result = GoldenResult(
        Path(data["folder"]),
        compared=data["compared"],
        written=data["written"],
        mismatched=dict.fromkeys(data["mismatched"], ""),
        missing=data["missing"],
        unused=data["unused"],
    )
    return result, Path(data["test_folder"])


class VTGolden:
    """The `vt_golden` fixture: compare tabs' normalised streams with golden files.

        run = vt_client.run_scenario(scenario)         # a sync test
        vt_golden.check(run)                           # or vt_golden.check({"alice": tab})
        run = await vt.run_scenario(vt_async_client, scenario)   # an async test
        await vt_golden.acheck(run)

    The streams are read once they have gone quiet (the patches of the last step arrive after
    its response), which needs the event loop that reads them: hence `acheck` in an async test.
    Goldens live in `<test file's folder>/goldens/<test file's stem>/<test name>/<tab>.txt`.
    Missing or differing files fail the test with a bounded diff, unless
    `--vt-update-goldens` was given, which (re)writes them.
    """

    def __init__(
        self,
        folder: Path,
        update: bool,
        properties: list[tuple[str, object]],
        rules: Sequence[Rule] = (),
    ) -> None:
        self.folder = folder
        self.update = update
        self.rules = list(rules)
        self.properties = properties  # the test's user_properties: they reach xdist's controller
        self.last: GoldenResult | None = None

    def check(
        self,
        tabs: ScenarioRun | Mapping[str, Any],
        *,
        name: str | None = None,
        normalize: Sequence[tuple[str, str]] = (),
    ) -> GoldenResult:
        """Compare each tab (by name) with its golden, once the streams are quiet (sync tabs,
        from `vt_client`); `normalize` adds (regex, replacement) rules for this call. Raises
        `GoldenMismatch` with the diffs when they differ."""
        by_name, title, token = self._unpack(tabs, name)
        if any(isinstance(tab, AsyncTab) for tab in by_name.values()):
            raise UsageError(
                "these are async tabs: in an async test, `await vt_golden.acheck(...)` (a "
                "golden is taken once the streams are quiet, on the loop that reads them)"
            )
        texts = with_async_tabs(
            by_name,
            lambda twins: take_goldens(twins, title, token=token, rules=self._rules(normalize)),
        )
        return self._compare(texts, name)

    async def acheck(
        self,
        tabs: ScenarioRun | Mapping[str, Any],
        *,
        name: str | None = None,
        normalize: Sequence[tuple[str, str]] = (),
    ) -> GoldenResult:
        """`check` for an async test (`AsyncTab`s, from `vt_async_client`)."""
        by_name, title, token = self._unpack(tabs, name)
        if any(isinstance(tab, Tab) for tab in by_name.values()):
            raise UsageError("these are sync tabs (vt_client): use `vt_golden.check(...)`")
        texts = await take_goldens(by_name, title, token=token, rules=self._rules(normalize))
        return self._compare(texts, name)

    def _unpack(
        self, tabs: ScenarioRun | Mapping[str, Any], name: str | None
    ) -> tuple[dict[str, Any], str, str | None]:
        if isinstance(tabs, ScenarioRun):
            return dict(tabs.tabs), tabs.scenario.name, tabs.token
        return dict(tabs), name or self.folder.name, None

    def _rules(self, normalize: Sequence[tuple[str, str]]) -> list[Rule]:
        return [*self.rules, *(Rule("custom", p, r) for p, r in normalize)]

    def _compare(self, texts: Mapping[str, str], name: str | None) -> GoldenResult:
        folder = self.folder / name if name else self.folder
        result = compare_goldens(folder, texts, update=self.update)
        self.properties.append((GOLDEN_PROPERTY, result_to_json(result, self.folder)))
        self.last = result
        if not result.ok:
            raise result.failure(UPDATE_HINT)
        return result


@dataclass(slots=True)
class GoldenLedger:
    """Every golden comparison of a pytest run and every test that ran, for the end-of-run
    summary: what was compared and written, and which goldens no test used (removed under
    the update flag). Fed from test reports, so it works on xdist's controller too."""

    root: Path
    update: bool = False
    results: list[tuple[GoldenResult, Path]] = field(default_factory=list)
    ran: dict[Path, set[str]] = field(default_factory=dict)  # test file -> keys that passed
    held: dict[Path, set[str]] = field(default_factory=dict)  # keys that failed or skipped
    partial: bool = False  # only some tests ran (-k, -m, --lf, deselected, node ids)
    unused: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def test_ran(self, nodeid: str, passed: bool) -> None:
        """Note a test's outcome (its file and key, as `golden_folder` makes them)."""
        file_part = nodeid.split("::", 1)[0]
        key = golden_folder(self.root / file_part, nodeid).name
        where = self.ran if passed else self.held
        where.setdefault((self.root / file_part).resolve(), set()).add(key)

    def find_unused(self) -> list[Path]:
        """Golden folders no test used: of a test that ran and passed without taking them,
        of a test that is gone, or of a test file that is gone. Not judged on a partial run,
        and never a test that failed or was skipped (it may not have reached its check)."""
        if self.partial:
            return []
        used = {folder.resolve() for _, folder in self.results}
        unused: list[Path] = []
        files = set(self.ran) | set(self.held)
        for file in sorted(files):
            stems = _golden_stems(file.parent / "goldens")
            for key_folder in stems.get(file.stem, []):
                held = self.held.get(file, set())
                if key_folder.resolve() not in used and key_folder.name not in held:
                    unused.append(key_folder)
        for folder in sorted({file.parent for file in files}):
            for stem, key_folders in _golden_stems(folder / "goldens").items():
                if not any(folder.glob(f"{stem}.*")):  # its test file is gone
                    unused.extend(key_folders)
        self.unused = sorted(set(unused))
        return self.unused

    def remove_unused(self) -> None:
        """Under the update flag: delete unused golden folders, and unused tab files of the
        folders that were compared."""
        for folder in self.unused:
            shutil.rmtree(folder, ignore_errors=True)
            self.removed.append(folder)
            if folder.parent.is_dir() and not any(folder.parent.iterdir()):
                folder.parent.rmdir()
        for result, _ in self.results:
            for tab in result.unused:
                path = result.folder / f"{tab}.txt"
                if path.is_file():
                    path.unlink()
                    self.removed.append(path)

    def summary(self) -> list[str]:
        """Lines for the terminal summary (empty when no golden was taken or found unused)."""
        results = [r for r, _ in self.results]
        if not results and not self.unused:
            return []
        total = {
            "matched": sum(len(r.compared) for r in results),
            "differ": sum(len(r.mismatched) for r in results),
            "written": sum(len(r.written) for r in results),
            "missing": sum(len(r.missing) for r in results),
            "unused": sum(len(r.unused) for r in results) + len(self.unused),
        }
        lines = ["vt goldens: " + ", ".join(f"{v} {k}" for k, v in total.items())]
        for result in results:
            if not result.ok or result.written or result.unused:
                lines.append(result.summary(UPDATE_HINT))
        if self.removed:
            lines.append("removed (no test uses them): " + ", ".join(map(str, self.removed)))
        elif self.unused:
            lines.append(
                "unused (no test uses them; --vt-update-goldens removes them): "
                + ", ".join(map(str, self.unused))
            )
        if self.partial and results:
            lines.append("unused goldens not looked for: only some tests ran")
        if total["differ"] or total["missing"]:
            lines.append(f"next: {UPDATE_HINT}")
        return lines


def _golden_stems(root: Path) -> dict[str, list[Path]]:
    """Under a `goldens` folder, per test file stem, its key folders: only folders laid out
    as `vt_golden` writes them (`<stem>/<key>/<tab>.txt`, each file starting with vt's
    header), so a folder of `vt record`'s (`<scenario>/<tab>.txt`) is never taken for one."""
    found: dict[str, list[Path]] = {}
    if not root.is_dir():
        return found
    for stem in sorted(p for p in root.iterdir() if p.is_dir()):
        keys = [p for p in sorted(stem.iterdir()) if p.is_dir()]
        if keys and all(p.is_dir() for p in stem.iterdir()) and all(map(_vt_written, keys)):
            found[stem.name] = keys
    return found


def _vt_written(folder: Path) -> bool:
    files = list(folder.rglob("*.txt"))
    return bool(files) and all(
        f.read_text(encoding="utf-8", errors="replace").startswith(GOLDEN_HEADER) for f in files
    )
