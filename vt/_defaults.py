"""One home for vt's defaults, shared by the client, the pytest plugin and the CLI."""

from __future__ import annotations

__all__ = ["HTTP_TIMEOUT", "QUIET_WINDOW", "WAIT_TIMEOUT"]

WAIT_TIMEOUT = 5.0
"""Seconds a wait (`expect_*`, `ready`, `wait_until`) gives its condition before it fails."""

HTTP_TIMEOUT = 5.0
"""Seconds one HTTP request (page, action, stream connect) may take before it fails."""

QUIET_WINDOW = 0.3
"""Seconds with nothing arriving that count as quiet (`expect_quiet`, `expect_none`)."""
