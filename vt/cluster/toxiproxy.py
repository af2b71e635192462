"""Toxiproxy (github.com/Shopify/toxiproxy), driven through its HTTP API: a TCP proxy in front
of each node (and of NATS) whose links get toxics at chosen steps of a scenario.

The faults a scenario names (`vt.cluster.faults.FAULTS`) map to toxics: `latency` (and
`jitter`), `bandwidth` (`rate` KB/s), `cut` (the connection closes after `bytes` more bytes,
mid-event), `reset` (TCP RST), `stall` (nothing flows, nothing is lost, until cleared), and
`outage` (the proxy is disabled: connections cut, new ones refused; on the NATS proxies: a
backplane outage).
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ..errors import UsageError, VTError
from .faults import FAULTS
from .procs import LOOPBACK, Process, free_port
from .tools import TOXIPROXY_SERVER, find_tool

__all__ = ["Toxiproxy"]
STARTUP = 20.0  # seconds the server gets to answer its API


class Toxiproxy:
    """A toxiproxy-server on a free loopback port, and its API."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.port = free_port()
        folder = workdir or Path(tempfile.mkdtemp(prefix="vt-toxiproxy-"))
        argv = [find_tool(TOXIPROXY_SERVER), "-host", LOOPBACK, "-port", str(self.port)]
        self.process = Process("toxiproxy", argv, folder / "toxiproxy.log")
        self.proxies: dict[str, int] = {}  # name -> listen port

    @property
    def api(self) -> str:
        """The API's base URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> Toxiproxy:
        """Start the server; returns once its API answers."""
        self.process.start()
        self.process.wait_http(self.api + "/version", STARTUP)
        return self

    def stop(self) -> None:
        """Stop the server."""
        self.process.stop()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=5.0) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise VTError(f"toxiproxy {method} {path}: {exc.code} {exc.read()[:300]!r}") from None
        return json.loads(text) if text else None

    def proxy(self, name: str, upstream_port: int, listen_port: int | None = None) -> int:
        """A proxy `name` to `127.0.0.1:upstream_port`; returns the port it listens on."""
        port = listen_port or free_port()
        self._call(
            "POST",
            "/proxies",
            {
                "name": name,
                "listen": f"{LOOPBACK}:{port}",
                "upstream": f"{LOOPBACK}:{upstream_port}",
                "enabled": True,
            },
        )
        self.proxies[name] = port
        return port

    def enable(self, name: str, enabled: bool = True) -> None:
        """Enable (or disable: cut every connection, refuse new ones) proxy `name`."""
        self._call("POST", f"/proxies/{name}", {"enabled": enabled})

    def toxic(self, name: str, kind: str, attributes: dict[str, Any], stream: str) -> None:
        """Add a toxic to proxy `name`'s `stream` (`downstream`: to the client)."""
        body = {"name": f"{kind}_{stream}", "type": kind, "stream": stream, "toxicity": 1.0}
        self._call("POST", f"/proxies/{name}/toxics", {**body, "attributes": attributes})

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self._call("POST", "/reset")

    def fault(self, names: list[str], kind: str, options: dict[str, Any]) -> None:
        """Apply fault `kind` (`FAULTS`) to the proxies `names`."""
        for name in names:
            if kind == "latency":
                attrs = {
                    "latency": int(options.get("ms", 200)),
                    "jitter": int(options.get("jitter", 0)),
                }
                self.toxic(name, "latency", attrs, "downstream")
            elif kind == "bandwidth":
                self.toxic(name, "bandwidth", {"rate": int(options.get("rate", 16))}, "downstream")
            elif kind == "cut":
                self.toxic(
                    name, "limit_data", {"bytes": int(options.get("bytes", 500))}, "downstream"
                )
            elif kind == "reset":
                self.toxic(name, "reset_peer", {"timeout": 0}, "downstream")
            elif kind == "stall":
                self.toxic(name, "bandwidth", {"rate": 0}, "downstream")
            elif kind == "outage":
                self.enable(name, False)
            elif kind == "clear":
                self.enable(name, True)
                for toxic in self._call("GET", f"/proxies/{name}/toxics") or []:
                    self._call("DELETE", f"/proxies/{name}/toxics/{toxic['name']}")
            else:
                raise UsageError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
