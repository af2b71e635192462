"""The Datastar client for an installed vt: `vt install-browser-client` fetches the pinned build
into the user's cache (checked by sha256), and the reference runtime finds it there
(reference_impl/assets.py; scripts/setup-browser runs the same command with `--venv`).

The fast tests take the client from a local copy (`--from`, the path for a closed network);
the slow one is a new user's whole trial: a fresh virtual environment that installed vt with
pip, the documented step (which downloads the wheel from PyPI), then the browser fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from reference_impl import assets
from vt.cli.main import main as vt_main
from vt.pytest.browser_plugin import no_browser

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_CLIENT = assets.venv_datastar_js()  # before any test moves sys.prefix


@pytest.fixture
def client_js() -> Path:
    """The pinned client, as scripts/setup fetched it for this checkout."""
    if not CHECKOUT_CLIENT.is_file():
        no_browser(f"no Datastar client at {CHECKOUT_CLIENT}: run scripts/setup")
    return CHECKOUT_CLIENT


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache of this test's own, an environment with no other client to find."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(assets.DATASTAR_JS_ENV, raising=False)
    monkeypatch.setattr("sys.prefix", str(tmp_path / "no-venv"))
    return tmp_path / "cache" / "vt"


def test_the_cache_is_where_platformdirs_puts_it(own_cache: Path) -> None:
    assert assets.user_cache_dir() == own_cache
    assert assets.cached_datastar_js() == own_cache / "datastar" / "datastar-1.0.1.js"


def test_the_step_installs_the_verified_client_where_the_runtime_finds_it(
    own_cache: Path, client_js: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert assets.default_datastar_js() is None
    assert b"vt install-browser-client" in assets.missing_client_script()

    assert vt_main(["install-browser-client", "--from", str(client_js)]) == 0
    installed = own_cache / "datastar" / "datastar-1.0.1.js"
    assert installed.read_bytes() == client_js.read_bytes()
    assert "MIT" in (installed.parent / "DATASTAR-LICENSE").read_text()
    assert assets.default_datastar_js() == installed
    assert "(sha256 checked) installed:" in capsys.readouterr().out

    # Again: nothing to do, and it says so.
    assert vt_main(["install-browser-client", "--from", str(client_js)]) == 0
    assert "already installed" in capsys.readouterr().out


def test_the_client_is_taken_out_of_the_wheel_with_its_notices(
    tmp_path: Path, client_js: Path
) -> None:
    wheel = tmp_path / "starhtml-0.7.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(assets.DATASTAR_MEMBER, client_js.read_bytes())
        zf.writestr("starhtml-0.7.0.dist-info/licenses/LICENSE", "Apache-2.0 text")
    path, written = assets.install_datastar_js(tmp_path / "out", source=wheel)
    assert written
    assert path.read_bytes() == client_js.read_bytes()
    assert (tmp_path / "out" / "LICENSE").read_text() == "Apache-2.0 text"


def test_a_client_that_is_not_the_pinned_build_is_refused_and_nothing_is_written(
    own_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = tmp_path / "datastar.js"
    forged.write_text("console.log('not datastar')")
    assert vt_main(["install-browser-client", "--from", str(forged)]) == 1
    assert f"not the pinned {assets.DATASTAR_SHA256}" in capsys.readouterr().err
    assert not own_cache.exists()
    assert assets.default_datastar_js() is None


def _venv_with_vt_installed(root: Path) -> Path:
    """A fresh virtual environment with vt installed by pip from this worktree (a wheel, not
    editable). Its dependencies come from this checkout's environment (a path file), so
    installing needs no index."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site) / "dev-deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         str(ROOT)],
        check=True, cwd=root,
    )  # fmt: skip
    return venv


PROJECT_CONFTEST = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    return chat.create_app()
"""

PROJECT_TEST = """
import vt

def test_vt_is_the_installed_one():
    assert "site-packages" in vt.__file__, vt.__file__

def test_a_line_typed_in_a_appears_in_b(vt_browser_users):
    a, b = vt_browser_users.open_many(2)
    a.type("input[data-bind=draft]", "hello").press("input[data-bind=draft]", "Enter")
    b.expect_text("article", "Anon: hello", timeout=5)
"""


@pytest.mark.slow
def test_an_installed_vt_runs_the_browser_fixture_after_the_documented_step(
    tmp_path: Path, vt_browser_path: Path
) -> None:
    venv = _venv_with_vt_installed(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(textwrap.dedent(PROJECT_CONFTEST))
    (project / "test_chat.py").write_text(textwrap.dedent(PROJECT_TEST))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (assets.DATASTAR_JS_ENV, "PYTHONPATH", "VIRTUAL_ENV")
    }
    env |= {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "VT_BROWSER_PATH": str(vt_browser_path),
        "VT_BROWSER_REQUIRED": "1",
    }

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, check=False
        )

    pytest_args = (str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider")
    before = run(*pytest_args, "--vt-timeout=2")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "vt install-browser-client" in before.stdout, before.stdout  # the page says how

    step = run(str(venv / "bin" / "vt"), "install-browser-client")
    assert step.returncode == 0, step.stdout + step.stderr
    assert str(tmp_path / "cache" / "vt" / "datastar") in step.stdout

    after = run(*pytest_args)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "2 passed" in after.stdout
