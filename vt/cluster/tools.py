"""Finding the cluster tools: `nats-server` and `toxiproxy-server`.

`scripts/setup-cluster` installs both into the virtual environment's `go/bin`. An environment
variable (`VT_NATS_SERVER`, `VT_TOXIPROXY_SERVER`) names another binary; otherwise `PATH` is
searched.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..errors import MissingTool

__all__ = ["NATS_SERVER", "TOXIPROXY_SERVER", "MissingTool", "find_tool"]

NATS_SERVER = "nats-server"
TOXIPROXY_SERVER = "toxiproxy-server"
_ENV = {NATS_SERVER: "VT_NATS_SERVER", TOXIPROXY_SERVER: "VT_TOXIPROXY_SERVER"}


def find_tool(name: str) -> str:
    """The path of `name` (`nats-server` or `toxiproxy-server`).

    Raises:
        MissingTool: not found; run `scripts/setup-cluster` (needs Go).
    """
    env = _ENV.get(name)
    if env and os.environ.get(env):
        return os.environ[env]
    local = Path(sys.prefix) / "go" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    raise MissingTool(
        f"{name} not found (looked at ${env}, {local}, PATH): run scripts/setup-cluster, which "
        "installs nats-server and toxiproxy with `go install` (Go 1.24+)"
    )
