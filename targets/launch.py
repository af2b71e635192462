"""Start vt's SDK targets as subprocesses on free loopback ports (for tests and scripts).

`TARGETS` names the three servers of targets/README.md; `started(target)` runs one until the
block ends and yields its base URL. A target whose toolchain is missing is not an error here:
`Target.unavailable()` says why, and the caller decides to skip or fail (`VT_GO_REQUIRED=1`,
`VT_NODE_REQUIRED=1`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = [
    "ROOT",
    "TARGETS",
    "Target",
    "TargetError",
    "expected_failures",
    "started",
]

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "targets"
BUILD_DIR = ROOT / ".venv" / "targets"
START_TIMEOUT = 30.0  # seconds from spawn to the first 200 on `/` (a cold `go build` is slower)
STOP_TIMEOUT = 5.0


class TargetError(RuntimeError):
    """A target could not be built or started; the message carries its output."""


@dataclass(frozen=True)
class Target:
    """One SDK target: its folder name, the toolchain it needs, and the env var that makes a
    missing toolchain a failure instead of a skip."""

    name: str
    toolchain: str | None = None
    required_env: str | None = None

    @property
    def folder(self) -> Path:
        """The target's source folder under targets/."""
        return HERE / self.name

    def unavailable(self) -> str | None:
        """Why this target cannot run here (missing toolchain or install), or None."""
        if self.toolchain is not None and shutil.which(self.toolchain) is None:
            return f"{self.name}: `{self.toolchain}` is not on PATH (install it to run this target)"
        if self.name == "datastar-ts" and not (self.folder / "node_modules").is_dir():
            return f"{self.name}: dependencies not installed (run scripts/setup-targets)"
        return None

    def required(self) -> bool:
        """True when the environment demands this target run (CI sets VT_GO/NODE_REQUIRED=1)."""
        return self.required_env is not None and os.environ.get(self.required_env) == "1"

    def command(self, port: int, datastar_js: Path | None = None) -> list[str]:
        """The argv that serves this target on 127.0.0.1:`port` (building the Go binary first
        when it is missing or older than its sources)."""
        extra = ["--datastar-js", str(datastar_js)] if datastar_js is not None else []
        if self.name == "datastar-py":
            return [sys.executable, str(self.folder / "server.py"), "--port", str(port), *extra]
        if self.name == "datastar-go":
            return [str(build_go(self)), "--port", str(port), *extra]
        if self.name == "datastar-ts":
            return ["node", str(self.folder / "server.mjs"), "--port", str(port), *extra]
        raise ValueError(f"unknown target {self.name!r}")


TARGETS = (
    Target("datastar-py"),
    Target("datastar-go", toolchain="go", required_env="VT_GO_REQUIRED"),
    Target("datastar-ts", toolchain="node", required_env="VT_NODE_REQUIRED"),
)


def build_go(target: Target) -> Path:
    """The Go target's binary in .venv/targets/, rebuilt when a source is newer (idempotent)."""
    binary = BUILD_DIR / target.name
    sources = [target.folder / name for name in ("main.go", "go.mod", "go.sum")]
    newest = max(path.stat().st_mtime for path in sources)
    if binary.exists() and binary.stat().st_mtime >= newest:
        return binary
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # Build to a private name, then rename: two test workers may build at once.
    partial = BUILD_DIR / f".{target.name}.{os.getpid()}"
    done = subprocess.run(
        ["go", "build", "-o", str(partial), "."],
        cwd=target.folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise TargetError(f"go build of {target.name} failed:\n{done.stdout}{done.stderr}")
    partial.replace(binary)
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def started(target: Target, *, datastar_js: Path | None = None) -> Iterator[str]:
    """Run `target` on a free loopback port for the block; yield its base URL.

    Waits until `GET /` answers 200 (at most START_TIMEOUT); on exit stops the process
    (SIGTERM, then SIGKILL after STOP_TIMEOUT) and removes its log.

    Raises:
        TargetError: it could not be built, exited early, or never answered; the message
            shows its output.
    """
    with tempfile.TemporaryDirectory(prefix=f"vt-{target.name}-") as tmp:
        log_path = Path(tmp) / "server.log"
        port = free_port()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                target.command(port, datastar_js),
                cwd=target.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer yet"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TargetError(
                    f"{process.args!r} exited with {process.returncode} before answering:\n"
                    + log_path.read_text(errors="replace")
                )
            try:
                response = client.get(url + "/")
                if response.status_code == 200:
                    return
                last = f"status {response.status_code}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.05)  # polling interval of a wait with a deadline, not synchronisation
    raise TargetError(
        f"{process.args!r} did not answer GET / with 200 within {START_TIMEOUT:g}s "
        f"(last: {last}); its output:\n" + log_path.read_text(errors="replace")
    )


def expected_failures(target: Target) -> dict[str, str]:
    """Case name -> reason, for the SDK cases `target`'s SDK is known to fail
    (targets/expected-failures.toml; see specs/IMPLEMENTATIONS.md)."""
    with (HERE / "expected-failures.toml").open("rb") as handle:
        table = tomllib.load(handle)
    return {str(k): str(v) for k, v in table.get(target.name, {}).items()}
