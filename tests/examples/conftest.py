"""The examples are served by the plugin's `vt_server` through `vt_app`."""

from __future__ import annotations

import pytest

from reference_impl.examples import chat


@pytest.fixture
def vt_app() -> object:
    return chat.create_app()
