"""JSON as Via writes it: compact, keys sorted, `<`, `>` and `&` escaped (Go's json.Marshal),
and dotted signal keys as nested objects, as Datastar's signal store holds them (§6.3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "encode_json", "lookup", "nest"]

MISSING: Any = object()


def encode_json(value: Any) -> str:
    """Compact JSON with sorted keys, `<`, `>` and `&` escaped as Go's json.Marshal does."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"form.name": 1}` -> `{"form": {"name": 1}}`: the shape Datastar sends and merges.

    Via sends dotted keys flat, which Datastar 1.0 stores as one odd key (a recorded
    deviation, specs/deviations.md).
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            # Copy on the way down: values may be the caller's own dicts.
            child = node[part] = dict(child) if isinstance(child, dict) else {}
            node = child
        node[leaf] = value
    return out


def lookup(payload: Mapping[str, Any], key: str) -> Any:
    """The value of a possibly dotted key in a nested payload, or `MISSING`.

    A flat dotted key (what Via's own Go harness posts) is accepted too.
    """
    if key in payload:
        return payload[key]
    node: Any = payload
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node
