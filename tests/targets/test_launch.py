"""The target launcher: missing toolchains skip or fail as the environment says, a target
serves the `--datastar-js` file, and a stopped target leaves nothing listening."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from targets.launch import TARGETS, Target, started
from tests.targets.support import require

MISSING = Target("datastar-go", toolchain="vt-no-such-toolchain", required_env="VT_FAKE_REQUIRED")


def test_a_missing_toolchain_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VT_FAKE_REQUIRED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="`vt-no-such-toolchain` is not on PATH"):
        require(MISSING)


def test_a_missing_required_toolchain_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VT_FAKE_REQUIRED", "1")
    with pytest.raises(pytest.fail.Exception, match="VT_FAKE_REQUIRED=1 requires it"):
        require(MISSING)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_serves_the_datastar_js_file_and_stops_cleanly(target: Target, tmp_path: Path) -> None:
    require(target)
    client_js = tmp_path / "datastar.js"
    client_js.write_text("export const marker = 'vt-datastar-js';\n")
    with started(target, datastar_js=client_js) as url, httpx.Client(trust_env=False) as client:
        response = client.get(url + "/datastar.js")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]
        assert response.text == client_js.read_text()
        assert client.get(url + "/no-such-page").status_code == 404
    address = urlsplit(url)
    with socket.socket() as sock:
        refused = sock.connect_ex((address.hostname or "", address.port or 0))
    assert refused != 0, f"{target.name} still listens on {url} after it was stopped"
