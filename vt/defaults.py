"""One home for vt's defaults, shared by the client, the pytest plugin and the CLI."""

from __future__ import annotations

__all__ = [
    "BEACON_TIMEOUT",
    "HTTP_TIMEOUT",
    "KEEPALIVE_EXPIRY",
    "QUIET_WINDOW",
    "WAIT_TIMEOUT",
]

WAIT_TIMEOUT = 5.0
"""Seconds a wait (`expect_*`, `ready`, `wait_until`) gives its condition before it fails."""

HTTP_TIMEOUT = 5.0
"""Seconds one HTTP request (page, action, stream connect) may take before it fails."""

QUIET_WINDOW = 0.3
"""Seconds with nothing arriving that count as quiet (`expect_quiet`, `expect_none`)."""

KEEPALIVE_EXPIRY = 2.0
"""Seconds an idle pooled connection is kept: under the usual 5 s server keep-alive
(uvicorn's), so vt never sends a request on a connection the server is closing."""

BEACON_TIMEOUT = 1.0
"""Seconds the client's exit gives the close beacons of its open tabs (sent concurrently, §4.4):
a browser sends them on unload without waiting, and a dead server must not hang the exit."""
