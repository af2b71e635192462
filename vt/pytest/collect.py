"""Scenario files collected as pytest collects test files.

Each scenario file is a `ScenarioFile` with one item per scenario, node id
`tests/scenarios/chat.toml::chat-fan-out`: `--lf`, `-k`, `-m vt_<level>`, a single file on the
command line and `--vt-scenarios file.toml` work as for any test file. A file that does not
parse is one failing item of its own (the message names file, line and step); the other files
run. vt's bundled levels (`--vt-level chat`, `--vt-bundled`) are not files of the project: they
sit under one collector, `vt::chat::chat-fan-out`.

Only the classes live here; what an item does is `vt.pytest.support.make_scenario_test`.
Imported lazily by `vt.pytest.plugin`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ..scenario.format import Scenario, ScenarioError, bundled_scenarios, load_scenario
from .settings import LEVELS
from .support import make_browser_scenario_test, make_scenario_test

__all__ = ["BrokenScenario", "BundledScenarios", "ScenarioFile", "ScenarioItem", "scenario_items"]


class ScenarioItem(pytest.Function):
    """One scenario as a test (over HTTP, or in browsers with `--vt-browser`); its location is
    the scenario file, not the Python function that runs it."""

    scenario: Scenario

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        """The scenario file and the item's name (what pytest's header and summary show)."""
        return Path(self.scenario.path), None, self.name


class BrokenScenario(pytest.Item):
    """A scenario file that does not parse: one failing item, so the rest of the run goes on."""

    error: ScenarioError

    def runtest(self) -> None:
        """Fail with the file's mistake (file, line, step, what was expected)."""
        pytest.fail(str(self.error), pytrace=False)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        """The file and the line of the mistake."""
        line = self.error.line - 1 if self.error.line else None
        return self.path, line, self.name


class ScenarioFile(pytest.File):
    """A scenario file of the project (`*.toml` under a scenario folder, or named)."""

    def collect(self) -> Iterable[pytest.Item]:
        """The file's scenario items, or one failing item when the file does not parse."""
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            broken = BrokenScenario.from_parent(self, name=self.path.stem)
            broken.error = exc
            broken.add_marker(pytest.mark.vt)
            return [broken]
        return scenario_items(self, scenario, scenario.name, bundled=False)


class BundledScenarios(pytest.Collector):
    """vt's own scenarios of the levels asked for (`vt::<level>::<name>`)."""

    levels: tuple[str, ...] = ()  # empty: every level written for a reference app (embedded)

    def collect(self) -> Iterable[pytest.Item]:
        """One item per bundled scenario of the chosen levels."""
        items: list[pytest.Item] = []
        for scenario in bundled_scenarios():
            # Every level written for a reference app, but those that need vt's processes
            # (the cluster and faults levels) only when named.
            chosen = (
                scenario.level in self.levels
                if self.levels
                else scenario.app is not None and scenario.embedded
            )
            if chosen:
                name = f"{scenario.level}::{scenario.name}"
                items.extend(scenario_items(self, scenario, name, bundled=True))
        return items


def scenario_items(
    parent: pytest.Collector, scenario: Scenario, name: str, *, bundled: bool
) -> list[pytest.Item]:
    """The items of one scenario under `parent`: over HTTP, and with `--vt-browser` in
    browsers too; marked `vt` and `vt_<level>`."""
    config = parent.config
    marker = f"vt_{scenario.level}"
    if scenario.level not in LEVELS:  # the others' markers exist from the start
        config.addinivalue_line("markers", f"{marker}: vt scenarios of level {scenario.level}")
    makers: list[tuple[str, Any]] = [("", make_scenario_test)]
    if config.getoption("vt_browser_scenarios", False):
        makers.append(("[browser]", make_browser_scenario_test))
    items: list[pytest.Item] = []
    for suffix, make in makers:
        item = ScenarioItem.from_parent(
            parent, name=name + suffix, callobj=make(scenario, bundled=bundled)
        )
        item.scenario = scenario
        item.add_marker(pytest.mark.vt)
        item.add_marker(getattr(pytest.mark, marker))
        items.append(item)
    return items
