"""The public API: `vt.__all__` is sorted and complete, and every public name documented."""

from __future__ import annotations

import inspect

import vt


def test_all_is_sorted_case_insensitively() -> None:
    assert vt.__all__ == sorted(vt.__all__, key=str.lower)


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, value in vars(vt).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    public.discard("contextlib")
    assert public == set(vt.__all__)


def test_every_public_name_is_documented_and_reports_vt() -> None:
    for name in vt.__all__:
        obj = getattr(vt, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # type aliases
        assert (obj.__doc__ or "").strip(), f"vt.{name} has no docstring"
        assert obj.__module__ == "vt", f"vt.{name} reports module {obj.__module__}"


def test_every_public_method_is_documented() -> None:
    undocumented = []
    for name in vt.__all__:
        cls = getattr(vt, name)
        if not inspect.isclass(cls):
            continue
        for attr, member in vars(cls).items():
            if attr.startswith("_"):
                continue
            target = member.fget if isinstance(member, property) else member
            if callable(target) and not (getattr(target, "__doc__", None) or "").strip():
                undocumented.append(f"{name}.{attr}")
    assert undocumented == []


def test_sync_and_async_tabs_offer_the_same_methods() -> None:
    def methods(cls: type) -> set[str]:
        return {n for n, m in vars(cls).items() if not n.startswith("_") and callable(m)}

    missing = methods(vt.AsyncTab) - methods(vt.Tab)
    assert missing == set()
    client_missing = methods(vt.AsyncClient) - methods(vt.Client) - {"aclose"}  # sync: close
    assert client_missing == set()
