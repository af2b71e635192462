"""Serving an `App` with uvicorn on loopback, with Via's graceful shutdown.

uvicorn waits for open responses before it runs the ASGI lifespan shutdown, and an SSE stream
never finishes by itself; so the server here begins the app's drain (`/readyz` 503, every tab
disposed, every stream ended) *before* uvicorn waits for connections.
"""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import uvicorn

from .app import App

__all__ = ["Server", "demo_app", "main_for", "serve", "serve_node"]

LOOPBACK = "127.0.0.1"


class Server(uvicorn.Server):
    """uvicorn's server, draining the Via app before waiting for its connections."""

    def __init__(self, app: App, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.via_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.via_app.shutdown()
        await super().shutdown(sockets)


def serve(app: App, *, port: int = 3000, host: str = LOOPBACK, log_level: str = "info") -> None:
    """Serve `app` until interrupted. Binds loopback unless told otherwise."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, lifespan="on", timeout_graceful_shutdown=5
    )
    Server(app, config).run()


def serve_node(
    factory: Callable[..., App],
    *,
    port: int,
    nats: str,
    node: str,
    backplane_faults: Sequence[str] = (),
    log_level: str = "warning",
    **options: Any,
) -> None:
    """Serve one cluster node until interrupted: `factory(backplane=..., **options)` on a NATS
    JetStream backplane at `nats` (specs/cluster.md). `backplane_faults` are test-only mutants
    (`reference_impl.jetstream.BACKPLANE_FAULTS`)."""
    from .jetstream import JetStreamBackplane

    backplane = JetStreamBackplane(nats, node, backplane_faults)
    serve(factory(backplane=backplane, **options), port=port, log_level=log_level)


def demo_app(mounts: Mapping[str, type[Any]], **options: Any) -> App:
    """An `App` for a local demo: these mounts, and insecure cookies (the demo is served over
    plain http) unless `options` say otherwise. Other options go to `App`."""
    options.setdefault("insecure_cookies", True)
    app = App(**options)
    for route, composition in mounts.items():
        app.mount(route, composition)
    return app


def main_for(
    build: Callable[[argparse.Namespace], App],
    argv: Sequence[str] | None = None,
    description: str = "",
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """A `main()` for examples: `python -m reference_impl.examples.NAME --port N`.

    `build(args)` makes the app from the parsed arguments; `add_arguments` adds an example's
    own options to the parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default 3000)")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = build(args)
    print(f"serving on http://{LOOPBACK}:{args.port}/  (Ctrl-C to stop)", flush=True)
    serve(app, port=args.port, log_level=args.log_level)
