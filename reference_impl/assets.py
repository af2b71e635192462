"""The Datastar client the runtime serves at `/_datastar.js` by default: where it is found, and
the one way it is fetched.

The client is never part of the repository or the wheel: `install_datastar_js` fetches a
pinned build (Datastar v1.0.1, as shipped in the starhtml 0.7.0 wheel on PyPI, checked by
sha256) with pip and writes it, with its licences, into a folder: the user's cache for an
installed vt (`vt install-browser-client`), the virtual environment in vt's checkout
(`scripts/setup-browser`, which runs the same command with `--venv`). `Options.datastar_js`
(and `vt serve --datastar-js`) still take any other build, Via's own v1.0.2 for instance.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

__all__ = [
    "DATASTAR_JS_ENV",
    "DATASTAR_SHA256",
    "DATASTAR_VERSION",
    "DATASTAR_WHEEL",
    "ClientNotInstalled",
    "cached_datastar_js",
    "default_datastar_js",
    "install_datastar_js",
    "missing_client_script",
    "user_cache_dir",
    "venv_datastar_js",
]

DATASTAR_VERSION = "1.0.1"
DATASTAR_JS_ENV = "VT_DATASTAR_JS"
DATASTAR_WHEEL = "starhtml==0.7.0"  # ships Datastar v1.0.1 (two small StarHTML patches)
DATASTAR_MEMBER = "starhtml/static/js/datastar-core.js"
DATASTAR_SHA256 = "31c8c9efb895beadeba5f73407c3ca60201dee321c5dea56c182817b475bde9f"
_FILE = f"datastar-{DATASTAR_VERSION}.js"

# The wheel's LICENSE and NOTICE are StarHTML's (Apache-2.0); Datastar's own notice travels
# with the file too.
DATASTAR_LICENSE = """Datastar (https://data-star.dev), MIT licence:

Copyright (c) Star Federation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


class ClientNotInstalled(Exception):
    """The Datastar client could not be fetched or did not verify; the message says why and
    what to do."""


def user_cache_dir() -> Path:
    """vt's folder in the user's cache, as platformdirs names it: `$XDG_CACHE_HOME/vt`
    (default `~/.cache/vt`) on Linux and the BSDs, `~/Library/Caches/vt` on macOS,
    `%LOCALAPPDATA%\\vt\\Cache` on Windows."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "vt"
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "vt" / "Cache"
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(cache) if os.path.isabs(cache) else Path.home() / ".cache") / "vt"


def cached_datastar_js() -> Path:
    """Where `vt install-browser-client` puts the client: `<user cache>/datastar/`."""
    return user_cache_dir() / "datastar" / _FILE


def venv_datastar_js() -> Path:
    """Where `scripts/setup` puts the client: `<venv>/share/vt/datastar/datastar-1.0.1.js`."""
    return Path(sys.prefix) / "share" / "vt" / "datastar" / _FILE


def default_datastar_js() -> Path | None:
    """The client to serve when none is configured: the file named by `VT_DATASTAR_JS`, else
    the one `scripts/setup` fetched into this virtual environment, else the one
    `vt install-browser-client` fetched into the user's cache; None when none exists."""
    named = os.environ.get(DATASTAR_JS_ENV)
    for path in (Path(named) if named else None, venv_datastar_js(), cached_datastar_js()):
        if path is not None and path.is_file():
            return path
    return None


def missing_client_script() -> bytes:
    """The placeholder served when no client is available: it says how to get one, in the
    browser's console as well as in the file."""
    message = (
        "reference_impl: no Datastar client is available, so this page cannot act. "
        f"Run `vt install-browser-client` (it fetches Datastar v{DATASTAR_VERSION} into "
        f"{cached_datastar_js().parent}; in vt's checkout scripts/setup does it), "
        f"set {DATASTAR_JS_ENV}=/path/to/datastar.js, or pass App(datastar_js=...)."
    )
    return f"// {message}\nconsole.warn({message!r});\n".encode()


def install_datastar_js(folder: Path, *, source: Path | None = None) -> tuple[Path, bool]:
    """Put the pinned Datastar client, checked by sha256, into `folder` with its licences;
    return its path and whether it was written (False: a verified copy was there already).

    The client comes from `source` (the starhtml wheel, or the `.js` file itself) or, without
    one, from PyPI through pip (`pip download starhtml==0.7.0`, so pip's own index and proxy
    settings apply).

    Raises:
        ClientNotInstalled: pip could not fetch the wheel, or what it holds is not the pinned
            build; the message says what to do.
    """
    target = folder / _FILE
    if target.is_file() and _sha256(target.read_bytes()) == DATASTAR_SHA256:
        return target, False
    with tempfile.TemporaryDirectory(prefix="vt-datastar-") as tmp:
        wheel = source if source is not None else _download(Path(tmp))
        body, notices = _client_from(wheel)
    got = _sha256(body)
    if got != DATASTAR_SHA256:
        raise ClientNotInstalled(
            f"{source or DATASTAR_WHEEL}: {DATASTAR_MEMBER} has sha256 {got}, not the pinned "
            f"{DATASTAR_SHA256} (Datastar v{DATASTAR_VERSION}); nothing was installed"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**notices, "DATASTAR-LICENSE": DATASTAR_LICENSE.encode()}.items():
        (folder / name).write_bytes(text)
    partial = target.with_suffix(".part")
    partial.write_bytes(body)
    partial.replace(target)  # whole or not at all: a reader never sees half a client
    return target, True


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _download(folder: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--python-version", "3.12", DATASTAR_WHEEL,
        "-d", str(folder),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ClientNotInstalled(
            f"could not download {DATASTAR_WHEEL} with pip ({' / '.join(said) or 'no wheel'});"
            f" the command was: {' '.join(command)}. Download the wheel yourself and pass it"
            " with --from WHEEL"
        )
    return wheels[0]


def _client_from(source: Path) -> tuple[bytes, dict[str, bytes]]:
    """The client's bytes and the licence files found with it, from the wheel or a `.js`."""
    if source.suffix != ".whl":
        return source.read_bytes(), {}
    try:
        with zipfile.ZipFile(source) as wheel:
            notices = {
                name.rsplit("/", 1)[1]: wheel.read(name)
                for name in wheel.namelist()
                if name.endswith(("/licenses/LICENSE", "/licenses/NOTICE"))
            }
            return wheel.read(DATASTAR_MEMBER), notices
    except (zipfile.BadZipFile, KeyError) as error:
        raise ClientNotInstalled(f"{source} is not the {DATASTAR_WHEEL} wheel ({error})") from None
