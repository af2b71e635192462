"""vt.browser's public API: every name in `__all__` exists, every public name and method is
documented (the standard `tests/vt/test_exports.py` holds `vt` to)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from vt import browser


def test_every_name_in_all_exists() -> None:
    assert [name for name in browser.__all__ if not hasattr(browser, name)] == []


def test_every_public_name_and_method_is_documented() -> None:
    undocumented = []
    for name in browser.__all__:
        obj = getattr(browser, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                target = member.fget if isinstance(member, property) else member
                if attr.startswith("_") or not callable(target):
                    continue
                if not (getattr(target, "__doc__", None) or "").strip():
                    undocumented.append(f"{name}.{attr}")
    assert undocumented == []


# The sync API is generated from the one async driver, as vt.Client is from vt.AsyncClient.
_TWINS = [
    (browser.BrowserDriver, browser.BrowserUsers),
    (browser.BrowserTab, browser.BrowserUser),
    (browser.BrowserSession, browser.SyncBrowserSession),
]


def _public(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (isinstance(member, property) or inspect.isfunction(member))
    }


@pytest.mark.parametrize(("async_cls", "sync_cls"), _TWINS, ids=lambda c: c.__name__)
def test_every_public_async_member_has_a_sync_twin_with_the_same_signature(
    async_cls: type, sync_cls: type
) -> None:
    members = _public(async_cls)
    assert members, async_cls
    for name, member in members.items():
        twin = getattr(sync_cls, name, None)
        assert twin is not None, f"{sync_cls.__name__} has no twin of {name}"
        if isinstance(member, property):
            continue
        assert callable(twin), name
        want = inspect.signature(member).parameters
        got = inspect.signature(twin).parameters
        assert [(p.name, p.kind, p.default) for p in got.values()] == [
            (p.name, p.kind, p.default) for p in want.values()
        ], name
