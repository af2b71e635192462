"""Fixtures for the SDK targets: each runs once per test session, on a free loopback port.

A target whose toolchain is missing is skipped with the reason, or fails when the environment
requires it (`VT_GO_REQUIRED=1`, `VT_NODE_REQUIRED=1`; CI sets both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from targets.launch import TARGETS, started
from tests.targets.support import require

TARGET_NAMES = [target.name for target in TARGETS]
BY_NAME = {target.name: target for target in TARGETS}


@pytest.fixture(scope="session")
def target_url_of() -> Iterator[Callable[[str], str]]:
    """`url_of(name)`: the base URL of that target, started on first use and stopped (with
    every other one started) when the session ends."""
    with ExitStack() as stack:
        urls: dict[str, str] = {}

        def url_of(name: str) -> str:
            target = BY_NAME[name]
            require(target)
            if name not in urls:
                urls[name] = stack.enter_context(started(target))
            return urls[name]

        yield url_of


@pytest.fixture(params=TARGET_NAMES)
def target_url(request: pytest.FixtureRequest, target_url_of: Callable[[str], str]) -> str:
    """The base URL of one running SDK target (the test runs once per target)."""
    return target_url_of(request.param)
