"""`data-on-signal-patch`, performed: expressions that run when the signals change (sans-IO).

Datastar fires a `datastar-signal-patch` event with the signals a change set (their paths and
new values; a deleted one as null) after each batch of writes; each `data-on-signal-patch`
listener filters it with its `data-on-signal-patch-filter` (`{include, exclude}`) and, when
anything is left, runs its expression with that as `patch`. Its own writes do not wake it
again (Datastar guards the listener while it runs). `changes()` works out what a batch set
from the store before and after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from ..js.attrs import parse_data_attr
from ..js.engine import Batch
from .fields import ElementHost, Fields
from .tree import HtmlElement, attributes, elements

__all__ = ["changes", "has_watchers", "run_watchers"]

_WATCHING = etree.XPath("//*[@*[starts-with(name(), 'data-on-signal-patch')]]")


def has_watchers(root: HtmlElement) -> bool:
    """True if the page has a `data-on-signal-patch` listener."""
    return bool(_WATCHING(root))


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The leaves a batch set, nested (a deleted leaf as None): Datastar's event detail."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key, _MISSING)
        if isinstance(value, Mapping):
            inner = changes(old if isinstance(old, Mapping) else {}, value)
            if inner:
                out[key] = inner
        elif old is _MISSING or old != value or type(old) is not type(value):
            out[key] = value
    for key in before:
        if key not in after:
            out[key] = None
    return out


_MISSING: Any = object()


def run_watchers(
    root: HtmlElement, signals: Mapping[str, Any], detail: dict[str, Any], fields: Fields
) -> tuple[dict[str, Any] | None, list[tuple[dict[str, Any], HtmlElement]], list[str]]:
    """Run every listener whose filter keeps part of `detail`; return the signals they left
    (or None), the requests they made and the errors."""
    host = ElementHost(fields, signals)
    batch = Batch(signals, host)
    errors: list[str] = []
    for el in elements(_WATCHING(root)):
        if el.get("data-ignore") is not None or any(
            a.get("data-ignore") is not None for a in el.iterancestors()
        ):
            continue
        filter_text = el.get("data-on-signal-patch-filter") or ""
        for name, value in attributes(el):
            attr = parse_data_attr(name, value)
            if attr is None or attr.plugin != "on-signal-patch" or not value.strip():
                continue
            outcome = batch.signal_patch(value, host.handle(el), filter_text, detail)
            if outcome.error is not None:
                errors.append(f"ExpressionError: {name}: {outcome.error} (§6.5)")
    taken = batch.take()
    requests = [(r, host.element(r.get("el"))) for r in taken.requests]
    return taken.signals, requests, errors + taken.console
