"""Where the runtime finds the Datastar client it serves at `/_datastar.js` by default.

`scripts/setup` fetches Datastar v1.0.1 (a pinned build, checked by sha256) into the virtual
environment; it is never part of the repository. `Options.datastar_js` (and `vt serve
--datastar-js`) still take any other build, Via's own v1.0.2 for instance.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "DATASTAR_JS_ENV",
    "DATASTAR_VERSION",
    "default_datastar_js",
    "missing_client_script",
    "venv_datastar_js",
]

DATASTAR_VERSION = "1.0.1"
DATASTAR_JS_ENV = "VT_DATASTAR_JS"


def venv_datastar_js() -> Path:
    """Where `scripts/setup` puts the client: `<venv>/share/vt/datastar/datastar-1.0.1.js`."""
    return Path(sys.prefix) / "share" / "vt" / "datastar" / f"datastar-{DATASTAR_VERSION}.js"


def default_datastar_js() -> Path | None:
    """The client to serve when none is configured: the file named by `VT_DATASTAR_JS`, else
    the one `scripts/setup` fetched into this virtual environment; None when neither exists."""
    named = os.environ.get(DATASTAR_JS_ENV)
    for path in (Path(named) if named else None, venv_datastar_js()):
        if path is not None and path.is_file():
            return path
    return None


def missing_client_script() -> bytes:
    """The placeholder served when no client is available: it says how to get one, in the
    browser's console as well as in the file."""
    message = (
        "reference_impl: no Datastar client is available, so this page cannot act. "
        "Run scripts/setup (it fetches Datastar v1.0.1 into the virtual environment), "
        f"set {DATASTAR_JS_ENV}=/path/to/datastar.js, or pass App(datastar_js=...)."
    )
    return f"// {message}\nconsole.warn({message!r});\n".encode()
