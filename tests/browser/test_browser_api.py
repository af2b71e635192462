"""vt.browser's public API: every name in `__all__` exists, every public name and method is
documented (the standard `tests/vt/test_exports.py` holds `vt` to)."""

from __future__ import annotations

import inspect

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
