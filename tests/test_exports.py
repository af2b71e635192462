"""The public API: `vt.__all__` is sorted, complete and documented, and names report `vt`."""

from __future__ import annotations
import __future__

import inspect
import types

import vt


def test_all_is_sorted_case_insensitively() -> None:
    assert vt.__all__ == sorted(vt.__all__, key=str.lower)


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in vt.__all__:
        assert hasattr(vt, name), name
    public = {
        name
        for name, value in vars(vt).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert public - set(vt.__all__) == set()


def test_every_public_name_is_documented() -> None:
    undocumented = [
        name
        for name in vt.__all__
        if (inspect.isclass(getattr(vt, name)) or inspect.isfunction(getattr(vt, name)))
        and not (getattr(vt, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_public_classes_and_functions_report_module_vt() -> None:
    wrong = [
        name
        for name in vt.__all__
        if (inspect.isclass(getattr(vt, name)) or inspect.isfunction(getattr(vt, name)))
        and getattr(vt, name).__module__ != "vt"
    ]
    assert wrong == []


def test_public_methods_are_documented() -> None:
    missing = []
    for name in vt.__all__:
        cls = getattr(vt, name)
        if not inspect.isclass(cls):
            continue
        for attr, member in vars(cls).items():
            if attr.startswith("_") or not callable(member) and not isinstance(member, property):
                continue
            if not (getattr(member, "__doc__", None) or "").strip():
                missing.append(f"{name}.{attr}")
    assert missing == []
