"""The `vt` command.

    vt run [--url URL] [SCENARIO ...]     run scenarios (against the embedded reference
                                          runtime when no URL is given)
    vt run --list                         list the scenarios

Exit codes: 0 all passed, 1 a scenario failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

import anyio

from . import __version__
from ._client import AsyncClient
from ._defaults import WAIT_TIMEOUT
from ._scenarios import SCENARIOS, Scenario
from ._server import LiveServer

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vt", description="Test server-driven web UIs (Via, Datastar) over the wire."
    )
    parser.add_argument("--version", action="version", version=f"vt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run scenarios against a server",
        description="Run scenarios against a server: the one at --url, or the embedded "
        "reference runtime (served on 127.0.0.1) when no URL is given.",
    )
    run.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="names (default: all)")
    run.add_argument("--url", help="server to test (default: serve the reference app)")
    run.add_argument("--timeout", type=float, default=WAIT_TIMEOUT, help="wait deadline, seconds")
    run.add_argument("--list", action="store_true", help="list scenarios and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:<16} {scenario.description}")
        return 0
    by_name = {s.name: s for s in SCENARIOS}
    unknown = [name for name in args.scenarios if name not in by_name]
    if unknown:
        print(f"vt: unknown scenario(s) {', '.join(unknown)}; see `vt run --list`", file=sys.stderr)
        return 2
    chosen = [by_name[name] for name in args.scenarios] or list(SCENARIOS)
    return _run(chosen, args.url, args.timeout)


def _run(scenarios: list[Scenario], url: str | None, timeout: float) -> int:
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    started = time.monotonic()
    failed = 0
    groups: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        groups.setdefault(scenario.app, []).append(scenario)
    for app_ref, group in groups.items():
        if url:
            print(f"vt run: {len(group)} scenario(s) against {url}")
            failed += _run_group(group, url, timeout, color)
            continue
        for scenario in group:
            # A fresh app per scenario: scenarios never see each other's state.
            with LiveServer(_load_app(app_ref)) as server:
                if scenario is group[0]:
                    print(
                        f"vt run: {len(group)} scenario(s) against the reference app "
                        f"{app_ref} (served on 127.0.0.1)"
                    )
                failed += _run_group([scenario], server.url, timeout, color)
    total = len(scenarios)
    elapsed = time.monotonic() - started
    summary = f"{total - failed} passed, {failed} failed in {elapsed:.2f}s"
    print(("FAILED: " if failed else "OK: ") + summary)
    return 1 if failed else 0


def _run_group(group: list[Scenario], url: str, timeout: float, color: bool) -> int:
    failed = 0
    for scenario in group:
        began = time.monotonic()
        error = anyio.run(_one, scenario, url, timeout)
        took = time.monotonic() - began
        if error is None:
            print(
                f"  {_paint('PASS', '32', color)}  {scenario.name:<16} {scenario.description} "
                f"({took:.2f}s)"
            )
        else:
            failed += 1
            print(
                f"  {_paint('FAIL', '31', color)}  {scenario.name:<16} {scenario.description} "
                f"({took:.2f}s)"
            )
            for line in error.rstrip().splitlines():
                print(f"        {line}")
    return failed


async def _one(scenario: Scenario, url: str, timeout: float) -> str | None:
    try:
        async with AsyncClient(url, timeout=timeout) as client:
            await scenario.run(client)
    except AssertionError as exc:
        return f"AssertionError: {exc}"
    except Exception as exc:
        if isinstance(exc, OSError | TimeoutError) or type(exc).__module__.startswith("vt"):
            return f"{type(exc).__name__}: {exc}"
        return traceback.format_exc()
    return None


def _load_app(ref: str) -> Any:
    module_name, _, factory = ref.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, factory)()


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


if __name__ == "__main__":
    raise SystemExit(main())
