"""The `vt` command.

    vt run [URL] [SCENARIO|FILE ...] [--scenarios DIR]         run scenarios (bundled by default)
    vt record [URL] --scenario FILE --out DIR                  write golden streams, per tab
    vt check [URL] --scenario FILE --golden DIR [--update]     compare with the goldens
    vt conformance [URL ...] [--level L] [--junit-xml F] [--expect FILE [--target NAME]] [-x]
    vt conformance --level cluster [URL ...] [--nodes N] [--node-command TEMPLATE]
    vt conformance URL --level sdk                             a Datastar SDK's /test endpoint
    vt serve EXAMPLE|module:factory [--port N] [--datastar-js PATH]
    vt serve EXAMPLE --nodes N                                 a local cluster on NATS JetStream
    vt spec [SECTION]                                          print specs/protocol.md (a section)
    vt load SCENARIO|FILE[@N] ... [Locust options]             the scenarios as load, on Locust
    vt install-browser-client [--venv | --dest DIR] [--from F] fetch the Datastar client (browsers)

The URL is the first positional argument of every command (`vt run --url URL` is the old
spelling, still accepted with a warning). Without a URL, each scenario runs against a fresh
instance of `--app module:factory` (the user's app, found from the current directory, as
uvicorn finds it) or else of the app the scenario names, served on 127.0.0.1. Exit codes: 0
all passed, 1 a scenario failed, 2 usage error (a bad argument, an unreadable scenario file,
an unreachable URL). `NO_COLOR` turns colour off.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from .. import __version__
from ..conformance.sdk import load_sdk_cases
from ..errors import VTError
from ..scenario.apps import app_maker
from ..scenario.clusters import ClusterPool
from ..scenario.format import (
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    load_scenarios,
)
from ..scenario.harness import check_url
from ..scenario.normalize import Rule
from ..specfiles import spec_text
from .batch import (
    SDK_LEVEL,
    Batch,
    Outcome,
    color_enabled,
    progress_stream,
    sdk_entries,
    write_junit,
)
from .clusters import add_cluster_arguments, serve_cluster, serve_node
from .expect import read_expect

__all__ = ["main"]


class _FirstFailure(Exception):
    """Raised from the outcome callback to end a batch at its first failure (`-x`): the batch
    joins its servers on the way out."""


STATUS_LABEL = {"passed": "PASS", "failed": "FAIL", "xfailed": "XFAIL", "xpassed": "XPASS"}
STATUS_COLOR = {"passed": "32", "failed": "31", "xfailed": "33", "xpassed": "31"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vt", description="Test server-driven web UIs (Via, Datastar) over the wire."
    )
    parser.add_argument("--version", action="version", version=f"vt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--timeout", type=float, default=None, help="wait deadline, seconds")
        sub.add_argument(
            "--output",
            default="test-results",
            help="folder for failure reports (default test-results)",
        )
        sub.add_argument("--junit-xml", type=Path, help="write JUnit XML results here")
        sub.add_argument(
            "--app",
            metavar="MODULE:FACTORY",
            help="serve this app (an ASGI app or a factory, found from the current directory, "
            "as uvicorn finds it) instead of each scenario's own; not with a URL",
        )
        sub.add_argument(
            "--nodes",
            type=int,
            help="run each scenario on a local cluster of N nodes of its app (nats-server and "
            "N processes vt starts and stops; specs/cluster.md)",
        )
        sub.add_argument(
            "--node-command",
            metavar="TEMPLATE",
            help="start the nodes with this command ({port} {nats} {node} {index}): a user's "
            "own cluster, for the node and wire faults",
        )
        sub.add_argument(
            "-x",
            "--exitfirst",
            action="store_true",
            help="stop after the first failing scenario (a mutation run needs one failure)",
        )

    run = commands.add_parser(
        "run",
        help="run scenarios against a server",
        description="Run scenarios (names of bundled ones, or scenario files) against the "
        "server at URL, or, when no URL is given, against --app or each scenario's own app.",
    )
    run.add_argument(
        "scenarios",
        nargs="*",
        metavar="[URL] SCENARIO",
        help="the server's URL first (optional), then scenario names or .toml files",
    )
    run.add_argument("--url", dest="old_url", help=argparse.SUPPRESS)  # the old spelling
    run.add_argument("--scenarios", dest="folder", type=Path, help="a folder of scenario files")
    run.add_argument("--list", action="store_true", help="list scenarios and exit")
    common(run)

    for name, helptext in (("record", "write golden streams"), ("check", "compare goldens")):
        sub = commands.add_parser(
            name,
            help=f"{helptext} (one text file per tab)",
            description="Run a scenario and "
            + (
                "write, per tab, the normalised stream it received to DIR/<scenario>/<tab>.txt."
                if name == "record"
                else "compare, per tab, the normalised stream with the golden files."
            ),
        )
        sub.add_argument("url", nargs="?", help="server (default: serve the scenario's app)")
        sub.add_argument("--scenario", type=Path, required=True, action="append", metavar="FILE")
        if name == "record":
            sub.add_argument("--out", type=Path, required=True, metavar="DIR")
        else:
            sub.add_argument("--golden", type=Path, required=True, metavar="DIR")
            sub.add_argument("--update", action="store_true", help="rewrite differing goldens")
        sub.add_argument(
            "--normalize",
            action="append",
            default=[],
            metavar="REGEX=>TEXT",
            help="an extra normaliser (repeatable); tab ids, session ids, nonces, ports and "
            "timestamps are always normalised",
        )
        common(sub)

    conf = commands.add_parser(
        "conformance",
        help="run the conformance suite, grouped by level",
        description="Run the conformance suite (the scenarios of specs/scenarios/ written for "
        "specs/conformance-app.md) and print a table by level; --level picks any bundled level.",
    )
    conf.add_argument(
        "url",
        nargs="*",
        help="server, or a cluster's node URLs (default: the embedded reference runtime)",
    )
    conf.add_argument(
        "--level",
        action="append",
        help=f"only this level (repeatable); `{SDK_LEVEL}` (a Datastar SDK's /test endpoint, "
        "specs/sdk-cases/) runs only when named, and needs a URL",
    )
    conf.add_argument(
        "--expect",
        type=Path,
        metavar="FILE",
        help='TOML of expected failures: `scenario-name = "reason"` per line, or a table '
        "per implementation (targets/expected-failures.toml), picked with --target",
    )
    conf.add_argument(
        "--target", metavar="NAME", help="the implementation under test: its table of --expect"
    )
    common(conf)

    serve = commands.add_parser("serve", help="serve a bundled example, or your app, on 127.0.0.1")
    serve.add_argument(
        "example", nargs="?", help="a bundled example (chat, counter, ...) or module:factory"
    )
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--datastar-js", type=Path, help="the Datastar client to serve")
    add_cluster_arguments(serve)

    spec = commands.add_parser("spec", help="print specs/protocol.md, or one section of it")
    spec.add_argument("section", nargs="?", help="a section number, e.g. 5.3")
    spec.add_argument("--file", default="protocol.md", help="another file under specs/")
    load = commands.add_parser(
        "load",
        help="run scenarios as distributed load on Locust (the `load` extra)",
        description="Each scenario (a file or a bundled name; FILE@N: exactly N users) becomes "
        "a Locust user class; the arguments after the scenarios go to Locust (`vt load FILE "
        "--help` lists Locust's), vt's among them: --vt-timeout S (each step's wait "
        "deadline), --vt-pace S (mean pause before each iteration), --vt-events-only (no page "
        "replica), --vt-summary FILE (the fan-out summary as JSON).",
    )
    load.add_argument("arguments", nargs=argparse.REMAINDER, help="scenarios, then Locust's")

    client = commands.add_parser(
        "install-browser-client",
        help="fetch the Datastar client the reference runtime serves (real-browser tests) "
        "into your cache, checked by sha256",
    )
    where = client.add_mutually_exclusive_group()
    where.add_argument("--venv", action="store_true", help="into this virtual environment")
    where.add_argument("--dest", type=Path, metavar="DIR", help="into DIR")
    client.add_argument(
        "--from", dest="source", type=Path, metavar="FILE", help="the starhtml wheel (or the "
        ".js) to take it from, instead of downloading it with pip",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "run" and not any(e.startswith("-") for e in extra):
        args.scenarios += extra  # names after an option: `vt run URL --timeout 3 NAME`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    # The user's own modules (`--app`, a scenario's `app = "module:factory"`, `vt serve`) are
    # found from the current directory, as uvicorn and `python -m` find them.
    here = os.getcwd()
    added = here not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        return _command(args)
    finally:
        if added and here in sys.path:
            sys.path.remove(here)  # `main` is also called in-process (tests): leave no trace


def _command(args: argparse.Namespace) -> int:
    if isinstance(getattr(args, "url", None), list):  # a cluster's nodes: one URL string
        args.url = " ".join(args.url) or None
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "spec":
            print(spec_text(args.section, args.file))
            return 0
        if args.command == "load":
            from ..load.command import run as run_load

            return run_load(list(args.arguments))
        if args.command == "install-browser-client":
            return _install_browser_client(args)
        return _scenarios_command(args)
    except ScenarioError as exc:
        print(f"vt: {exc}", file=sys.stderr)
        return 2
    except (LookupError, ValueError, VTError) as exc:
        print(f"vt: {exc}", file=sys.stderr)
        return 2


def _local_target(args: argparse.Namespace) -> str:
    """What a run without a URL runs against, as the header line says it."""
    if args.node_command:
        nodes = f"{args.nodes} nodes" if args.nodes else "each scenario's nodes"
        return f"local clusters of {nodes}, each started with: {args.node_command}"
    if args.nodes:
        return f"local clusters of {args.nodes} reference nodes of each scenario's app"
    return "the embedded reference runtime (each scenario's app, on 127.0.0.1)"


def _install_browser_client(args: argparse.Namespace) -> int:
    # The client belongs to the reference runtime (reference_impl.assets finds it).
    from reference_impl import assets

    folder = (
        args.dest
        or (assets.venv_datastar_js() if args.venv else assets.cached_datastar_js()).parent
    )
    try:
        path, written = assets.install_datastar_js(folder, source=args.source)
    except assets.ClientNotInstalled as exc:
        print(f"vt install-browser-client: {exc}", file=sys.stderr)
        return 1
    said = "installed" if written else "already installed"
    print(f"Datastar client v{assets.DATASTAR_VERSION} (sha256 checked) {said}: {path}")
    return 0


def _choose(args: argparse.Namespace) -> list[Scenario]:
    if args.command in ("record", "check"):
        return [load_scenario(p) for p in args.scenario]
    if args.command == "conformance":
        chosen = bundled_scenarios()
        if args.level:
            chosen = [s for s in chosen if s.level in args.level]
            if not chosen and args.level != [SDK_LEVEL]:
                raise LookupError(f"no bundled scenario has level {', '.join(args.level)}")
            _need_url(args, chosen)
        else:  # the suite: what runs against the conformance app (`--level chat` adds the chat)
            chosen = [s for s in chosen if s.conformance is not None]
        if args.url:  # one server has one set of options: a variant's scenarios need their own
            variants = sorted({str(s.conformance) for s in chosen} - {"default", "None"})
            if variants:
                print(
                    f"vt conformance: scenarios for the app's variants {', '.join(variants)} "
                    "run on the embedded runtime, or named: vt run NAME --url VARIANT_URL"
                )
                chosen = [s for s in chosen if s.conformance in ("default", None)]
        return sorted(chosen, key=lambda s: (s.level, s.name))
    available = load_scenarios(args.folder) if args.folder else bundled_scenarios()
    if args.list:
        return available
    by_name = {s.name: s for s in available}
    chosen = []
    for item in args.names:
        if item.endswith(".toml"):
            chosen.append(load_scenario(item))
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            raise LookupError(f"unknown scenario {item!r}; see `vt run --list`")
    if chosen:
        return chosen
    return available if args.folder else _for_any_app(args, available)


def _for_any_app(args: argparse.Namespace, bundled: list[Scenario]) -> list[Scenario]:
    """The bundled scenarios a run picks by default: those written for the reference apps
    (and any Via app). Those that name no app (the plain-Datastar chat level, written for the
    chat of targets/README.md) run only when named, against a URL; say so."""
    other = sorted({s.level for s in bundled if s.app is None})
    if other:
        how = "--level LEVEL URL" if args.command == "conformance" else "URL NAME"
        print(f"vt {args.command}: level(s) {', '.join(other)} run only when named ({how})")
    clusters = sorted({s.level for s in bundled if s.app is not None and not s.embedded})
    if clusters:  # they start processes (nats-server, nodes, Toxiproxy): only when asked
        print(
            f"vt {args.command}: level(s) {', '.join(clusters)} run only when named "
            "(vt conformance --level LEVEL)"
        )
    return [s for s in bundled if s.app is not None and s.embedded]


def _need_url(args: argparse.Namespace, chosen: list[Scenario]) -> None:
    if not args.url and not args.app and any(s.app is None for s in chosen):
        names = sorted({s.level for s in chosen if s.app is None})
        raise LookupError(f"level(s) {', '.join(names)} name no reference app: give a URL")


def _run_url(args: argparse.Namespace) -> None:
    """`vt run`'s URL: its first positional arguments that are URLs (one spelling across
    commands; several are a cluster's nodes); `--url` is the old spelling, accepted with a
    warning."""
    args.names = list(args.scenarios)
    urls = []
    while args.names and _URLISH.match(args.names[0]):
        urls.append(args.names.pop(0))
    args.url = " ".join(urls) or None
    if args.old_url:
        shown = " ".join(["vt run", args.old_url, *(args.names or ["SCENARIO"])])
        print(f"vt: --url is deprecated: give the URL first, as `{shown}`", file=sys.stderr)
        args.url = args.url or args.old_url


# A URL (scheme://...) or a host:port someone meant as one (then check_url says what is wrong).
_URLISH = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|(localhost|\[[^]]*\]|[\d.]+):\d+)")


def _scenarios_command(args: argparse.Namespace) -> int:
    if args.command == "run":
        _run_url(args)
    if args.app and args.url:
        print("vt: give a URL or --app, not both", file=sys.stderr)
        return 2
    scenarios = _choose(args)
    if (
        args.app
        and not args.node_command
        and (args.nodes or not all(s.embedded for s in scenarios))
    ):
        print(
            "vt: --app serves your app in one process; a cluster's nodes (--nodes, or a "
            "scenario's nodes and faults) need --node-command, how to start one node",
            file=sys.stderr,
        )
        return 2
    maker = app_maker(args.app) if args.app else None
    sdk = args.command == "conformance" and SDK_LEVEL in (args.level or [])
    if sdk and not args.url:
        print(f"vt: the {SDK_LEVEL} level needs the URL of a server serving /test", file=sys.stderr)
        return 2
    if args.command == "run" and args.list:
        for s in scenarios:
            print(f"{s.name:<20} {s.level:<8} {s.description}")
        return 0
    url = args.url
    if url:
        problem = check_url(url)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
    expected: dict[str, str] = {}
    if args.command == "conformance" and args.expect:
        known = scenarios + (sdk_entries() if sdk else [])
        expected = read_expect(args.expect, args.target, {s.name for s in known})
    goldens = args.out if args.command == "record" else getattr(args, "golden", None)
    batch = Batch(
        url=url,
        timeout=args.timeout,
        output=Path(args.output).absolute(),
        goldens=goldens,
        update_goldens=bool(getattr(args, "update", False)),
        record=args.command == "record",
        normalizers=[Rule.parse(spec) for spec in getattr(args, "normalize", [])],
        expected=expected,
        progress=progress_stream(),
        clusters=ClusterPool(nodes=args.nodes, command=args.node_command),
    )
    if maker is not None:
        batch.app = lambda _: maker()
    color = color_enabled(sys.stdout)
    target = url or args.app or _local_target(args)
    print(f"vt {args.command}: {len(scenarios)} scenario(s) against {target}")
    started = time.monotonic()
    outcomes: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        _print_outcome(outcome, color)
        if args.exitfirst and outcome.status in ("failed", "xpassed"):
            raise _FirstFailure

    try:
        batch.run(scenarios, report)
        if sdk:
            cases = load_sdk_cases()
            print(f"vt {args.command}: {len(cases)} SDK case(s) against {url}/test")
            batch.run_sdk(cases, report)
    except _FirstFailure:
        print(f"vt {args.command}: stopped after the first failure (-x)")
    elapsed = time.monotonic() - started
    if goldens is not None:
        _print_golden_summary(outcomes, args)
    if args.command == "conformance":
        _print_table(outcomes)
    if args.junit_xml:
        write_junit(args.junit_xml, outcomes, suite=f"vt {args.command}")
    counts = {k: sum(o.status == k for o in outcomes) for k in STATUS_LABEL}
    bad = counts["failed"] + counts["xpassed"]
    summary = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["xfailed"] or counts["xpassed"]:
        summary += f", {counts['xfailed']} expected failures, {counts['xpassed']} unexpected passes"
    print(("FAILED: " if bad else "OK: ") + summary + f" in {elapsed:.2f}s")
    if bad:
        reports = sorted({str(o.report.parent) for o in outcomes if o.report is not None})
        if reports:
            print(f"failure reports: {', '.join(reports)} (open report.html in each)")
    return 1 if bad else 0


def _print_outcome(outcome: Outcome, color: bool) -> None:
    label = STATUS_LABEL[outcome.status]
    if color:
        label = f"\033[{STATUS_COLOR[outcome.status]}m{label}\033[0m"
    s = outcome.scenario
    print(f"  {label}  {s.name:<20} {s.description} ({outcome.seconds:.2f}s)")
    if outcome.status != "passed":
        if s.sections:  # which rules broke: the sections the scenario checks
            print("        spec: " + ", ".join(f"§{n}" for n in s.sections) + " (vt spec N)")
        for line in outcome.message.rstrip().splitlines():
            print(f"        {line}")
        if outcome.report is not None:
            print(f"        report: {outcome.report}")


def _print_golden_summary(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    hint = (
        "re-run with --update"
        if args.command == "check"
        else "the goldens were written; commit them"
    )
    for outcome in outcomes:
        if outcome.golden is not None:
            print(outcome.golden.summary(hint))
    if args.command == "record":
        files = " ".join(f"--scenario {p}" for p in args.scenario)
        where = f"{args.url} " if args.url else ""
        print(f"next: vt check {where}{files} --golden {args.out}")


def _print_table(outcomes: list[Outcome]) -> None:
    levels = sorted({o.scenario.level for o in outcomes})
    print(f"\n{'level':<12}{'passed':>8}{'failed':>8}{'expected-failure':>18}")
    for level in [*levels, None]:
        group = [o for o in outcomes if level is None or o.scenario.level == level]
        passed = sum(o.status == "passed" for o in group)
        failed = sum(o.status in ("failed", "xpassed") for o in group)
        xfailed = sum(o.status == "xfailed" for o in group)
        print(f"{level or 'total':<12}{passed:>8}{failed:>8}{xfailed:>18}")


def _serve(args: argparse.Namespace) -> int:
    """`vt serve`: a bundled example by name, or the user's app by `module:factory`."""
    from reference_impl.app import App
    from reference_impl.serve import LOOPBACK, serve
    from reference_impl.serve import serve_node as serve_one

    examples = _bundled_examples()
    listing = (
        f"bundled examples: {', '.join(examples)}; or your own app as module:factory "
        "(found from the current directory, e.g. `vt serve myapp:create_app`)"
    )
    name = args.example
    if name is None:
        print(f"vt serve: which app? {listing}", file=sys.stderr)
        return 2
    if args.nodes is not None:
        if ":" in name and not args.node_command:
            print(
                "vt: --nodes serves bundled examples on the reference runtime; for your app, "
                "give --node-command (how to start one node)",
                file=sys.stderr,
            )
            return 2
        return serve_cluster(args)
    if ":" in name:
        if args.datastar_js is not None or args.nats or args.fault:
            print(
                "vt: --datastar-js, --nats and --fault are for the bundled examples",
                file=sys.stderr,
            )
            return 2
        app = app_maker(name)()
    elif name in examples:
        factory = examples[name]
        options = {}
        if args.datastar_js is not None:
            if not args.datastar_js.is_file():
                print(f"vt: --datastar-js {args.datastar_js} is not a file", file=sys.stderr)
                return 2
            if "options" not in inspect.signature(factory).parameters:
                print(f"vt: the {name} example takes no options", file=sys.stderr)
                return 2
            options["datastar_js"] = args.datastar_js
        if args.nats:
            return serve_node(args, factory, options, serve_one)
        if args.fault:
            options["faults"] = frozenset(args.fault)
        app = factory(**options)
    else:
        print(f"vt: no bundled example {name!r}; {listing}", file=sys.stderr)
        return 2
    print(f"serving {name} on http://{LOOPBACK}:{args.port}/  (Ctrl-C to stop)", flush=True)
    if isinstance(app, App):
        serve(app, port=args.port, log_level="warning")  # drains Via's tabs on the way out
    else:
        uvicorn.run(app, host=LOOPBACK, port=args.port, log_level="warning")
    return 0


def _bundled_examples() -> dict[str, Callable[..., Any]]:
    """The reference examples `vt serve` knows: name -> `create_app`."""
    import reference_impl.examples as package

    found = {}
    for module in pkgutil.iter_modules(package.__path__):
        factory = getattr(
            importlib.import_module(f"{package.__name__}.{module.name}"), "create_app", None
        )
        if factory is not None:
            found[module.name] = factory
    return found


if __name__ == "__main__":
    raise SystemExit(main())
