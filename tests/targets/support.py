"""Skip-or-fail for SDK targets, shared by the fixtures and the tests that need every target."""

from __future__ import annotations

import pytest

from targets.launch import Target


def require(target: Target) -> None:
    """Skip a test of a target that cannot run here, or fail it when the environment requires
    the target (`VT_GO_REQUIRED=1`, `VT_NODE_REQUIRED=1`; CI sets both)."""
    reason = target.unavailable()
    if reason is None:
        return
    if target.required():
        pytest.fail(f"{reason}, and {target.required_env}=1 requires it")
    pytest.skip(reason)
