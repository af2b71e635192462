"""The pytest plugin's settings for one run (command line, ini file, environment), and the
messages the plugin's modules share. Light: pytest imports it with the plugin for every run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..defaults import HTTP_TIMEOUT

__all__ = [
    "BASE_URL_ENV",
    "CONFIG",
    "DEFAULT_SCENARIOS",
    "IGNORED_APP_MESSAGE",
    "LEVELS",
    "NO_APP_MESSAGE",
    "REPORT_FILES",
    "VTConfig",
    "resolve",
    "vt_settings",
    "within",
]

BASE_URL_ENV = "VT_BASE_URL"
NO_APP_MESSAGE = (
    "vt has no server to test: override the `vt_app` fixture to return your ASGI app "
    "(vt serves it on 127.0.0.1), or pass --vt-base-url URL (or set VT_BASE_URL)."
)
IGNORED_APP_MESSAGE = (
    "vt: --vt-base-url is set, so every test talks to {url} and shares its state; a `vt_app` "
    "fixture is ignored. For a fresh app per test, drop --vt-base-url (vt serves vt_app per test)."
)
# Levels known before any scenario is read, so `-m vt_core` passes --strict-markers anyway.
LEVELS = ("core", "chat", "sdk", "browser", "slow")
DEFAULT_SCENARIOS = "tests/scenarios"
# What vt writes in a test's report folder (reports, wait transcripts, browser artifacts): a
# folder of --vt-output holding one of these is an old report, removed at a run's start.
REPORT_FILES = ("report.html", "waits", "*.sse", "screenshot-*.png", "sse-*.json")


@dataclass(frozen=True, slots=True)
class VTConfig:
    """The plugin's settings for this run (from the command line, ini file and environment)."""

    base_url: str | None  # a server, or a cluster's node URLs separated by spaces
    timeout: float
    output: Path
    scenarios: bool  # --vt: the project's scenario folders
    scenario_paths: tuple[Path, ...]  # --vt-scenarios: folders or files
    update_goldens: bool
    http_timeout: float = HTTP_TIMEOUT
    profile: str = "auto"
    project_folders: tuple[Path, ...] = ()  # the `vt_scenarios` ini folders
    levels: tuple[str, ...] = ()  # --vt-level: vt's bundled scenarios of these levels
    bundled: bool = False  # --vt-bundled: vt's bundled scenarios of every level
    # The URL came from vt's own settings (not only from pytest-base-url's --base-url, which
    # tests that never touch vt may use): it is checked once, when the run starts.
    check_url: bool = False

    @property
    def first_url(self) -> str | None:
        """The server's URL, or a cluster's first node (`base_url` may hold several URLs,
        separated by spaces or commas)."""
        return self.base_url.replace(",", " ").split()[0] if self.base_url else None

    def wants(self, path: Path, session: pytest.Session) -> bool:
        """Whether the `.toml` file `path` is a scenario file of this run: named on the
        command line, under a `--vt-scenarios` path, or under a `vt_scenarios` folder when
        `--vt` is given or the folder (or one inside it) was named."""
        if session.isinitpath(path) or any(within(path, p) for p in self.scenario_paths):
            return True
        for folder in self.project_folders:
            if within(path, folder):
                if self.scenarios:
                    return True
                inside = [path.parent, *path.parent.parents]
                named = inside[: inside.index(folder) + 1] if folder in inside else []
                if any(session.isinitpath(p) for p in named):
                    return True
        return False


def within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies under it."""
    return path == folder or folder in path.parents


CONFIG = pytest.StashKey[VTConfig]()


def resolve(config: pytest.Config) -> VTConfig:
    """The run's settings: each option, else its ini value, else its default."""
    given = config.getoption("vt_base_url")  # repeated for a cluster's nodes
    own_url = (
        (" ".join(given) if given else None)
        or config.getini("vt_base_url")
        or os.environ.get(BASE_URL_ENV)
        or None
    )
    base_url = own_url or _pytest_base_url(config)
    timeout = config.getoption("vt_timeout") or float(config.getini("vt_timeout"))
    output = Path(config.getoption("vt_output") or config.getini("vt_output"))
    if not output.is_absolute():
        output = config.rootpath / output
    folders = [Path(p) for p in config.getini("vt_scenarios")] or [
        config.rootpath / DEFAULT_SCENARIOS
    ]
    return VTConfig(
        base_url,
        timeout,
        output,
        bool(config.getoption("vt_scenarios_on")),
        tuple(Path(p).absolute() for p in config.getoption("vt_scenarios")),
        bool(config.getoption("vt_update_goldens")),
        config.getoption("vt_http_timeout") or float(config.getini("vt_http_timeout")),
        config.getoption("vt_profile") or config.getini("vt_profile"),
        tuple(p.absolute() for p in folders),
        tuple(config.getoption("vt_levels")),
        bool(config.getoption("vt_bundled")),
        check_url=own_url is not None,
    )


def _pytest_base_url(config: pytest.Config) -> str | None:
    """pytest-base-url's `--base-url` or `base_url` ini value, when it is installed."""
    option: str | None = getattr(config.option, "base_url", None)
    if option:
        return option
    try:
        ini: str | None = config.getini("base_url")
    except ValueError:  # pytest-base-url is not installed
        return None
    return ini or None


def vt_settings(request: pytest.FixtureRequest) -> VTConfig:
    """This run's vt settings, for plugins built on this one (`vt.pytest.browser_plugin`)."""
    return request.config.stash[CONFIG]
