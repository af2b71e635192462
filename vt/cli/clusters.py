"""`vt serve EXAMPLE --nodes N` and `vt serve EXAMPLE --nats URL`: a local cluster of reference
nodes on one NATS JetStream, or one node of it (specs/cluster.md §C7)."""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
import threading
from types import FrameType
from typing import Any

from ..cluster.local import LocalCluster, node_command
from ..errors import VTError

__all__ = ["add_cluster_arguments", "serve_cluster", "serve_node"]


def add_cluster_arguments(serve: argparse.ArgumentParser) -> None:
    """`vt serve`'s cluster options."""
    serve.add_argument(
        "--nodes",
        type=int,
        help="start a local cluster: a nats-server with JetStream and N nodes of the example "
        "on free 127.0.0.1 ports (prints each node's URL; Ctrl-C stops everything)",
    )
    serve.add_argument(
        "--node-command",
        metavar="TEMPLATE",
        help="with --nodes: the command of one node, with {port} {nats} {node} {index} "
        "(default: this example on the reference runtime)",
    )
    serve.add_argument("--nats", metavar="URL", help="serve one cluster node on this NATS server")
    serve.add_argument("--node", default="node", help="with --nats: this node's name")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        help="test-only: a deliberately broken runtime (reference_impl.options.FAULTS)",
    )
    serve.add_argument(
        "--backplane-fault",
        action="append",
        default=[],
        help="test-only: a deliberately broken backplane (reference_impl.jetstream)",
    )


def serve_node(
    args: argparse.Namespace, factory: Any, options: dict[str, Any], serve_one: Any
) -> int:
    """One node of a cluster, on the NATS server at `--nats` (`serve_one`: the reference
    runtime's `serve_node`, imported by the caller)."""
    if args.fault:
        options["faults"] = frozenset(args.fault)
    print(f"node {args.node}: {args.example} on http://127.0.0.1:{args.port}/", flush=True)
    serve_one(
        factory,
        port=args.port,
        nats=args.nats,
        node=args.node,
        backplane_faults=args.backplane_fault,
        **options,
    )
    return 0


def serve_cluster(args: argparse.Namespace) -> int:
    """Start a local cluster, print its URLs, wait for Ctrl-C (or SIGTERM), stop it all."""
    if args.nodes < 1:
        print("vt: --nodes needs at least 1", file=sys.stderr)
        return 2
    command = args.node_command or node_command(args.example, faults=args.fault)
    if args.backplane_fault and not args.node_command:
        for fault in args.backplane_fault:
            command += ["--backplane-fault", fault]
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    # `kill -USR1 PID` prints every thread's stack: what a cluster that will not stop is doing.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    cluster = LocalCluster(command, args.nodes)
    try:
        print(f"starting nats-server and {args.nodes} node(s) of {args.example}...", flush=True)
        cluster.start()
        print(f"nats: nats://127.0.0.1:{cluster.nats_port}")
        for index, url in enumerate(cluster.urls, start=1):
            print(f"node n{index}: {url}/")
        print("(Ctrl-C stops every process started)", flush=True)
        while not stop.wait(0.5):  # woken by a signal handler; KeyboardInterrupt ends it too
            pass
    except KeyboardInterrupt:
        pass
    except VTError as exc:
        print(f"vt: {exc}", file=sys.stderr)
        return 2
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)
        print("stopped", flush=True)
    return 0
