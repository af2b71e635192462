"""The Datastar client the runtime serves by default (reference_impl/assets.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

import vt
from reference_impl import App, Composition
from reference_impl.assets import (
    DATASTAR_JS_ENV,
    default_datastar_js,
    missing_client_script,
    venv_datastar_js,
)


@pytest.fixture
def no_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment with no fetched client: an empty prefix, no VT_DATASTAR_JS."""
    monkeypatch.delenv(DATASTAR_JS_ENV, raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    return tmp_path


def test_the_environment_variable_names_the_client(
    no_client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = no_client / "custom.js"
    script.write_text("// another build\n")
    monkeypatch.setenv(DATASTAR_JS_ENV, str(script))
    assert default_datastar_js() == script


def test_the_venv_copy_is_used_when_present(no_client: Path) -> None:
    fetched = venv_datastar_js()
    assert fetched.is_relative_to(no_client)
    assert default_datastar_js() is None
    fetched.parent.mkdir(parents=True)
    fetched.write_text("// Datastar v1.0.1\n")
    assert default_datastar_js() == fetched


def test_a_missing_environment_file_falls_back_to_the_venv_copy(
    no_client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATASTAR_JS_ENV, str(no_client / "absent.js"))
    fetched = venv_datastar_js()
    fetched.parent.mkdir(parents=True)
    fetched.write_text("// Datastar v1.0.1\n")
    assert default_datastar_js() == fetched


@pytest.mark.anyio
async def test_without_a_client_the_placeholder_says_how_to_get_one(no_client: Path) -> None:
    app = App(insecure_cookies=True)
    app.mount("/", Composition)
    with vt.LiveServer(app) as server:
        async with httpx.AsyncClient() as client:
            served = await client.get(f"{server.url}/_datastar.js")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/javascript"
    assert served.content == missing_client_script()
    assert "scripts/setup" in served.text
    assert "console.warn(" in served.text  # a person with devtools open sees it too
