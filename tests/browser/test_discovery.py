"""Finding Chromium without downloading it (vt/browser/chromium.py); what the settle wait says when
the page never connects (no stream, no Datastar client)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vt import WaitTimeout
from vt.browser import (
    BROWSER_PATH_ENV,
    BROWSER_REQUIRED_ENV,
    BrowserNotFound,
    BrowserUsers,
    browser_required,
    find_browser,
)


@pytest.fixture
def fake_browsers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only an executable `chromium`, and no VT_BROWSER_PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("chromium", "other-chromium"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv(BROWSER_PATH_ENV, raising=False)
    return bin_dir


def test_chromium_on_path_is_the_last_resort(fake_browsers: Path) -> None:
    assert find_browser() == fake_browsers / "chromium"


def test_the_environment_variable_comes_before_path(
    fake_browsers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BROWSER_PATH_ENV, str(fake_browsers / "other-chromium"))
    assert find_browser() == fake_browsers / "other-chromium"


def test_an_explicit_path_comes_first(fake_browsers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BROWSER_PATH_ENV, str(fake_browsers / "chromium"))
    assert find_browser(fake_browsers / "other-chromium") == fake_browsers / "other-chromium"


def test_a_named_path_that_is_no_executable_is_an_error(
    fake_browsers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_executable = fake_browsers / "readme.txt"
    not_executable.write_text("no")
    monkeypatch.setenv(BROWSER_PATH_ENV, str(not_executable))
    with pytest.raises(BrowserNotFound, match=r"VT_BROWSER_PATH names .*readme.txt"):
        find_browser()  # not a fallback to chromium on PATH: the setting is wrong


def test_no_browser_says_how_to_get_one(fake_browsers: Path) -> None:
    os.environ["PATH"] = str(fake_browsers.parent)  # monkeypatched: restored after the test
    with pytest.raises(BrowserNotFound, match=r"no Chromium found .*scripts/setup"):
        find_browser()


@pytest.mark.parametrize(
    ("value", "required"), [("", False), ("0", False), ("1", True), ("yes", True)]
)
def test_browser_required_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, required: bool
) -> None:
    monkeypatch.setenv(BROWSER_REQUIRED_ENV, value)
    assert browser_required() is required


def test_settle_times_out_saying_what_it_saw(vt_browser_users: BrowserUsers) -> None:
    user = vt_browser_users.new()
    user.page.goto(user.url_of("/livez"))  # a page without Datastar: no stream ever opens
    with pytest.raises(WaitTimeout, match=r"(?s)did not settle within 0.5s.*'open': 0"):
        user.settle(timeout=0.5)


def test_without_a_datastar_client_settle_says_how_to_get_one(
    vt_browser_users: BrowserUsers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The server runs in this process: with no client to find, it serves the placeholder.
    monkeypatch.delenv("VT_DATASTAR_JS", raising=False)
    monkeypatch.setattr("sys.prefix", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    user = vt_browser_users.new()
    with pytest.raises(
        WaitTimeout, match=r"(?s)0 event stream\(s\) open.*Run `vt install-browser-client`"
    ):
        user.open("/", timeout=1)
