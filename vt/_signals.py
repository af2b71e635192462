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

__all__ = ["Signals", "merge_patch", "wire_signals"]


def merge_patch(
    target: dict[str, Any], patch: Mapping[str, Any], *, only_if_missing: bool = False
) -> None:
    """Apply `patch` to `target` in place, with Datastar's merge-patch semantics."""
    for key, value in patch.items():
        if isinstance(value, Mapping):
            current = target.get(key)
            if not isinstance(current, dict):
                # Datastar replaces a non-object by {} here, even with only_if_missing (§7.3).
                current = target[key] = {}
            merge_patch(current, value, only_if_missing=only_if_missing)
        elif value is None:
            if not only_if_missing:
                target.pop(key, None)
        elif not only_if_missing or key not in target:
            target[key] = copy.deepcopy(value) if isinstance(value, list) else value


def wire_signals(signals: Mapping[str, Any]) -> dict[str, Any]:
    """The signals a browser would send: every path segment starting with `_` left out.

    Empty objects left after filtering drop out too, as in Datastar's request builder.
    """
    out: dict[str, Any] = {}
    for key, value in signals.items():
        if key.startswith("_"):
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

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of every signal, local ones included."""
        return copy.deepcopy(self._data)

    def to_wire(self) -> dict[str, Any]:
        """The signals a browser would send with a request (local `_` signals left out)."""
        return wire_signals(self._data)
