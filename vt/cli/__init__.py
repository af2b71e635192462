"""The `vt` command: argument parsing and printing over the scenario harness (`vt --help`)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
