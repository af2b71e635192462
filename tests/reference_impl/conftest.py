"""Fixtures for the runtime's conformance tests: the probe app, served per test.

`@pytest.mark.probe_options(heartbeat=0.05, ...)` sets the probe app's options for one test.
"""

from __future__ import annotations

import pytest
from probe_app import create_app

from reference_impl import App


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "probe_options(**options): options of the probe app")


@pytest.fixture
def probe(request: pytest.FixtureRequest) -> App:
    marker = request.node.get_closest_marker("probe_options")
    return create_app(**(marker.kwargs if marker else {}))


@pytest.fixture
def vt_app(probe: App) -> App:
    return probe
