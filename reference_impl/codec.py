"""State values as bytes on a backplane (specs/cluster.md §C2): JSON, read back by type.

A value crossing a backplane is JSON (dataclasses as objects of their fields). Reading it back
needs its type: a state handle declared as `StateApp[list[Message]](...)` records that type
here when its class is created (`register`), by (scope, wire key), so a node that receives a
value decodes it into what the handle's readers expect (a `Message`, not a dict). A key with
no registered type decodes as plain JSON. Nothing is unpickled: a backplane carries data only.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Union

__all__ = ["decode", "dumps", "encode", "register", "registered_type"]

_TYPES: dict[tuple[str, str], Any] = {}


def register(scope: str, key: str, tp: Any) -> None:
    """Record the type of the values under (`scope`, `key`) (`app`, `sess` or `events`)."""
    _TYPES[(scope, key)] = tp


def registered_type(scope: str, key: str) -> Any:
    """The type recorded for (`scope`, `key`), or `Any`."""
    return _TYPES.get((scope, key), Any)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def encode(value: Any) -> Any:
    """`value` as plain JSON data (dataclasses become objects of their fields)."""
    return _plain(value)


def decode(tp: Any, data: Any) -> Any:
    """Plain JSON `data` read as type `tp` (lists, dicts, tuples, dataclasses, optionals);
    what the type does not describe is returned as it is."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any or tp is None:
        return data
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return decode(inner[0], data) if len(inner) == 1 else data
    if origin is list and isinstance(data, list):
        return [decode(args[0] if args else Any, v) for v in data]
    if origin is tuple and isinstance(data, list):
        return tuple(decode(args[0] if args else Any, v) for v in data)
    if origin is dict and isinstance(data, dict):
        value_type = args[1] if len(args) == 2 else Any
        return {k: decode(value_type, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(data, dict):
        hints = typing.get_type_hints(tp)
        fields = {f.name for f in dataclasses.fields(tp)}
        return tp(**{k: decode(hints.get(k, Any), v) for k, v in data.items() if k in fields})
    return data


def dumps(value: Any) -> bytes:
    """`value` as compact JSON bytes."""
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False).encode()
