"""vt's pytest plugin (loaded through the `pytest11` entry point).

Fixtures:

* `vt_app` — override it to return your ASGI app; vt serves it on a free loopback port.
* `vt_server` — the server under test: `vt_app` served by uvicorn for the test (torn down
  after it), or the URL given by `--vt-base-url` / `VT_BASE_URL`. Has `.url`.
* `vt_client` — a `vt.Client` (sync) for that server; closes its sessions after the test.
* `vt_async_client` — a `vt.AsyncClient` for async tests (run through anyio's plugin).

Options: `--vt-base-url URL`, `--vt-timeout SECONDS` (the wait deadline of `expect_*`,
`ready`, `wait_until`), `--vt-http-timeout SECONDS` (each HTTP request and stream connect),
`--vt-output DIR` (where failing waits save transcripts; default `test-results`).

The module imports nothing heavy at load time: pytest imports every plugin for every run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._defaults import HTTP_TIMEOUT, WAIT_TIMEOUT
from ._report import slug

if TYPE_CHECKING:
    from vt import AsyncClient, Client

__all__ = ["RemoteServer", "VTConfig"]

BASE_URL_ENV = "VT_BASE_URL"
NO_APP_MESSAGE = (
    "vt has no server to test: override the `vt_app` fixture to return your ASGI app "
    "(vt serves it on 127.0.0.1), or pass --vt-base-url URL (or set VT_BASE_URL)."
)


@dataclass(frozen=True, slots=True)
class VTConfig:
    """The plugin's settings for this run (from the command line, ini file and environment)."""

    base_url: str | None
    timeout: float
    output: Path
    http_timeout: float = HTTP_TIMEOUT


@dataclass(frozen=True, slots=True)
class RemoteServer:
    """A server vt did not start (`--vt-base-url`); only its URL is known."""

    url: str


_CONFIG = pytest.StashKey[VTConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest hook: vt's command-line options and ini keys."""
    group = parser.getgroup("vt", "vt: server-driven UI testing")
    group.addoption(
        "--vt-base-url",
        dest="vt_base_url",
        default=None,
        help=f"test the server at this URL instead of serving vt_app (env {BASE_URL_ENV})",
    )
    group.addoption(
        "--vt-timeout",
        dest="vt_timeout",
        type=float,
        default=None,
        help="the wait deadline: how long vt's waits (expect_*, ready, wait_until) give "
        f"their condition, in seconds (default {WAIT_TIMEOUT:g})",
    )
    group.addoption(
        "--vt-http-timeout",
        dest="vt_http_timeout",
        type=float,
        default=None,
        help="how long one HTTP request (page, action, stream connect) may take, in seconds "
        f"(default {HTTP_TIMEOUT:g})",
    )
    group.addoption(
        "--vt-output",
        dest="vt_output",
        default=None,
        help="directory for transcripts of failed waits (default test-results)",
    )
    parser.addini("vt_base_url", "default for --vt-base-url", default=None)
    parser.addini("vt_timeout", "default for --vt-timeout", default=str(WAIT_TIMEOUT))
    parser.addini("vt_http_timeout", "default for --vt-http-timeout", default=str(HTTP_TIMEOUT))
    parser.addini("vt_output", "default for --vt-output", default="test-results")


def pytest_configure(config: pytest.Config) -> None:
    """pytest hook: resolve the settings once, into the config stash."""
    base_url = (
        config.getoption("vt_base_url")
        or config.getini("vt_base_url")
        or os.environ.get(BASE_URL_ENV)
        or None
    )
    timeout = config.getoption("vt_timeout") or float(config.getini("vt_timeout"))
    output = Path(config.getoption("vt_output") or config.getini("vt_output"))
    if not output.is_absolute():
        output = config.rootpath / output
    http_timeout = config.getoption("vt_http_timeout") or float(config.getini("vt_http_timeout"))
    config.stash[_CONFIG] = VTConfig(base_url, timeout, output, http_timeout)


def _settings(request: pytest.FixtureRequest) -> VTConfig:
    return request.config.stash[_CONFIG]


def _artifacts_dir(request: pytest.FixtureRequest) -> Path:
    name = slug(request.node.nodeid).strip("-")
    return _settings(request).output / name[-150:]


@pytest.fixture
def vt_app() -> Any:
    """The ASGI app under test: None until you override this fixture (in a conftest) to
    return yours. It may be parametrized indirectly to run a test against several apps."""
    return None


@pytest.fixture
def vt_server(request: pytest.FixtureRequest, vt_app: Any) -> Iterator[Any]:
    """The server under test, with a `.url`: `vt_app` on a free loopback port, or the
    `--vt-base-url` server. A served app lives for one test, so state never leaks between
    tests; its error log is attached to the test report if the test fails."""
    base_url = _settings(request).base_url
    if base_url:
        yield RemoteServer(base_url.rstrip("/"))
        return
    if vt_app is None:
        pytest.fail(NO_APP_MESSAGE, pytrace=False)
    from vt import LiveServer

    with LiveServer(vt_app) as server:
        yield server
    if server.errors:
        request.node.add_report_section(
            "teardown", "vt server errors", "\n".join(server.errors[-50:])
        )


@pytest.fixture
def vt_client(request: pytest.FixtureRequest, vt_server: Any) -> Iterator[Client]:
    """A sync `vt.Client` for the server under test."""
    from vt import Client

    settings = _settings(request)
    with Client(
        vt_server.url,
        timeout=settings.timeout,
        http_timeout=settings.http_timeout,
        artifacts_dir=_artifacts_dir(request),
    ) as client:
        yield client


@pytest.fixture
async def vt_async_client(
    request: pytest.FixtureRequest, vt_server: Any, anyio_backend: Any
) -> AsyncIterator[AsyncClient]:
    """An async `vt.AsyncClient` for the server under test (async tests run under anyio)."""
    from vt import AsyncClient

    settings = _settings(request)
    async with AsyncClient(
        vt_server.url,
        timeout=settings.timeout,
        http_timeout=settings.http_timeout,
        artifacts_dir=_artifacts_dir(request),
    ) as client:
        yield client


def vt_settings(request: pytest.FixtureRequest) -> VTConfig:
    """This run's vt settings, for plugins built on this one (`vt.browser_plugin`)."""
    return _settings(request)


def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """The folder for a failing test's reports: `<--vt-output>/<test id>` (made on write)."""
    return _artifacts_dir(request)
