"""Compositions (a page's class), actions and mounts.

A composition is a class with a `view(ctx)` method, state handles as class attributes and
actions marked with `@action`; one instance is made per tab. Optional hooks: `on_init(ctx)`
(page GET, before the first render), `on_connect(ctx)` (first stream only), `on_dispose(ctx)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import html as h
from .state import Signal

__all__ = ["Composition", "Mount", "action"]

F = TypeVar("F", bound=Callable[..., Any])

_ACTION_ATTR = "__via_action__"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def action(name: str) -> Callable[[F], F]:
    """Mark a composition method as the action `POST /_action/<name>` (case-sensitive)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"action name {name!r} must be an identifier")

    def mark(fn: F) -> F:
        setattr(fn, _ACTION_ATTR, name)
        return fn

    return mark


def action_name(fn: Any) -> str:
    """The wire name of an action method (raises if `fn` is not marked with `@action`)."""
    name = getattr(fn, _ACTION_ATTR, None)
    if not isinstance(name, str):
        raise TypeError(f"{fn!r} is not an @action method")
    return name


class Composition:
    """Optional base class: documents the hooks and gives them no-op defaults."""

    def view(self, ctx: Any) -> h.Node:
        """The whole page body for this tab (rendered inside `<div id="TAB">`)."""
        raise NotImplementedError

    def on_init(self, ctx: Any) -> None:
        """Runs on the page GET, before the first render; an error is logged, not shown."""

    def on_connect(self, ctx: Any) -> None:
        """Runs once per tab, when its first stream opens, before the stream's headers."""

    def on_dispose(self, ctx: Any) -> None:
        """Runs when the tab goes away: close beacon, TTL sweep or shutdown."""


@dataclass(slots=True)
class Mount:
    """A composition class mounted at a route pattern like `/` or `/u/{name}`."""

    route: str
    composition: type[Any]
    signals: list[Signal[Any]] = field(default_factory=list)
    actions: dict[str, str] = field(default_factory=dict)  # wire name -> method name
    pattern: re.Pattern[str] = field(default=re.compile(""))
    params: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, route: str, composition: type[Any]) -> Mount:
        """Inspect a composition class; duplicate wire keys or actions fail here, at mount."""
        if not route.startswith("/"):
            raise ValueError(f"route {route!r} must start with '/'")
        if not callable(getattr(composition, "view", None)):
            raise TypeError(f"{composition.__name__} has no view(ctx) method")
        signals: list[Signal[Any]] = []
        actions: dict[str, str] = {}
        keys: dict[str, str] = {}
        for klass in reversed(composition.__mro__):
            for attr_name, value in vars(klass).items():
                if isinstance(value, Signal):
                    if value.key.split(".")[0] == "via_tab":
                        raise ValueError(f"{composition.__name__}: 'via_tab' is the tab id's key")
                    if value.key in keys and keys[value.key] != attr_name:
                        raise ValueError(
                            f"{composition.__name__}: signal key {value.key!r} used by both "
                            f"{keys[value.key]} and {attr_name}"
                        )
                    keys[value.key] = attr_name
                    signals = [s for s in signals if s.key != value.key] + [value]
                wire = getattr(value, _ACTION_ATTR, None)
                if isinstance(wire, str):
                    if wire in actions and actions[wire] != attr_name:
                        raise ValueError(f"{composition.__name__}: action {wire!r} defined twice")
                    actions[wire] = attr_name
        params = _PARAM.findall(route)
        regex = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if _PARAM.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", route)
        )
        return cls(route, composition, signals, actions, re.compile(regex), params)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters if `path` matches this route (`/` matches every path)."""
        if self.route == "/":
            return {}
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()
