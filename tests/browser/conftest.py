"""Real-browser tests: Chromium runs the real Datastar client against the reference runtime.

The fixtures come from `vt.pytest.browser_plugin`; without a browser these tests are skipped (and
fail
with VT_BROWSER_REQUIRED=1). Each test gets a fresh chat app on its own port.
"""

from __future__ import annotations

import pytest

from reference_impl.examples import chat


@pytest.fixture
def vt_app() -> object:
    return chat.create_app()
