"""A tab's signal store, patched as Datastar does (JSON Merge Patch, RFC 7386).

Pure data, no I/O. Datastar's rules (specs/protocol.md §7.3): `null` deletes a key, an object
merges recursively (creating missing parents), anything else (scalars and arrays) replaces the
old value wholesale; with `only_if_missing` a leaf is written only when its key is absent and
nulls are ignored. Signals whose path has a segment starting with `_` are local: the browser
never sends them to the server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import UsageError
from ..js.attrs import is_local, unflatten

__all__ = ["Signals", "local_keys", "merge_patch", "reject_local", "wire_signals"]


def merge_patch(
    target: dict[str, Any], patch: Mapping[str, Any], *, only_if_missing: bool = False
) -> None:
    """Apply `patch` to `target` in place, with Datastar's merge-patch semantics (§7.3).

    Dotted keys (`{"A.step": 1}`) are read as paths, so signals are held in nested form only.
    """
    for key, value in unflatten(patch).items():
        _merge_key(target, key, value, only_if_missing)


def _merge_key(target: Any, key: str, value: Any, only_if_missing: bool) -> None:
    """One key of a merge patch into `target`, a dict or (Datastar keeps arrays as they are
    when an object is merged into them) a list."""
    if isinstance(value, Mapping):
        current = _get(target, key)
        if not isinstance(current, dict | list):
            # Datastar replaces a non-object by {} here, even with only_if_missing (§7.3).
            current = {}
            _set(target, key, current)
        for inner_key, inner in value.items():
            _merge_key(current, inner_key, inner, only_if_missing)
    elif value is None:
        if not only_if_missing:
            _delete(target, key)
    elif not only_if_missing or _get(target, key) is _MISSING:
        _set(target, key, copy.deepcopy(value) if isinstance(value, list) else value)


_MISSING: Any = object()


def _index(target: list[Any], key: str) -> int | None:
    """The array index a key names (`"2"`), or None: other keys are properties JSON does not
    show, which the replica does not keep (§7.3)."""
    return int(key) if key.isdigit() and len(key) < 10 else None


def _get(target: Any, key: str) -> Any:
    if isinstance(target, dict):
        return target.get(key, _MISSING)
    index = _index(target, key)
    return target[index] if index is not None and index < len(target) else _MISSING


def _set(target: Any, key: str, value: Any) -> None:
    if isinstance(target, dict):
        target[key] = value
        return
    index = _index(target, key)
    if index is None:
        return
    if index >= len(target):
        target.extend([None] * (index + 1 - len(target)))  # holes read as null in JSON
    target[index] = value


def _delete(target: Any, key: str) -> None:
    if isinstance(target, dict):
        target.pop(key, None)
        return
    index = _index(target, key)
    if index is not None and index < len(target):
        target[index] = None  # `delete` leaves a hole, null in JSON


def local_keys(signals: Mapping[str, Any]) -> list[str]:
    """The keys of `signals` (dotted paths allowed) that name local signals (§7.3.4)."""
    return [key for key in signals if is_local(key)]


def reject_local(signals: Mapping[str, Any]) -> None:
    """Refuse signals a test wants sent that a browser would never send (§7.3.4).

    Raises:
        UsageError: some key names a local signal (a path segment starting with `_`).
    """
    local = local_keys(signals)
    if local:
        raise UsageError(
            f"signals {local} are local (a path segment starts with '_'): Datastar never sends "
            "them to the server, so a test cannot either (§7.3.4)"
        )


def wire_signals(signals: Mapping[str, Any]) -> dict[str, Any]:
    """The signals a browser would send: every path segment starting with `_` left out.

    Empty objects left after filtering drop out too, as in Datastar's request builder.
    """
    out: dict[str, Any] = {}
    for key, value in signals.items():
        if is_local(key):
            continue
        if isinstance(value, Mapping):
            inner = wire_signals(value)
            if inner:
                out[key] = inner
        else:
            out[key] = copy.deepcopy(value) if isinstance(value, list) else value
    return out


class Signals(Mapping[str, Any]):
    """The current signals of one tab: a read-only mapping; vt changes it by applying patches.

    Values are plain JSON values (dicts, lists, str, int, float, bool, None). Nested signals are
    dicts: ``tab.signals["form"]["email"]``.
    """

    __slots__ = ("_data",)

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = {}
        if initial:
            merge_patch(self._data, initial)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Signals({json.dumps(self._data, ensure_ascii=False, sort_keys=True)})"

    def patch(self, patch: Mapping[str, Any], *, only_if_missing: bool = False) -> None:
        """Merge-patch these signals in place (§7.3)."""
        merge_patch(self._data, patch, only_if_missing=only_if_missing)

    def replace(self, data: dict[str, Any]) -> None:
        """Take `data` as the whole store (what an expression left, `vt.js.engine`)."""
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of every signal, local ones included."""
        return copy.deepcopy(self._data)

    def to_wire(self) -> dict[str, Any]:
        """The signals a browser would send with a request (local `_` signals left out)."""
        return wire_signals(self._data)
