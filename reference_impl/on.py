"""Action bindings: `data-on:*` attributes that POST an action, in Datastar 1.0 syntax.

    h.button("Send", on.click(self.send))
    h.input(self.draft.bind(), on.key("Enter", self.send))
    h.input(on.event("input", self.search, debounce="200ms"))

Modifiers use Datastar 1.0's `__name.tag` form (`data-on:input__debounce.200ms`); Via itself
writes them with dots, which Datastar 1.0 does not read (deviation D1 in specs/deviations.md; §6.5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .compositions import action_name
from .html import Attr

__all__ = ["action_url", "click", "event", "key", "post"]

ActionRef = Callable[..., Any] | str


def action_url(target: ActionRef) -> str:
    """`/_action/<Name>` for an `@action` method (bound or not) or a wire name."""
    name = target if isinstance(target, str) else action_name(target)
    return f"/_action/{name}"


def post(target: ActionRef) -> str:
    """The Datastar expression that fires the action: `@post('/_action/Name')`."""
    return f"@post('{action_url(target)}')"


def event(
    name: str,
    target: ActionRef,
    *,
    debounce: str | None = None,
    throttle: str | None = None,
    delay: str | None = None,
    prevent: bool = False,
    stop: bool = False,
    once: bool = False,
    window: bool = False,
    outside: bool = False,
    confirm: str | None = None,
    set_signals: dict[str, Any] | None = None,
    when: str | None = None,
) -> Attr:
    """`data-on:<name>` firing the action, with optional guards and modifiers.

    `when` is a Datastar expression that must be true (for example a key test); `confirm`
    asks the user first; `set_signals` assigns signals before posting, only when the guards
    pass.
    """
    guards = ([when] if when else []) + (
        [f"confirm({json.dumps(confirm)})"] if confirm is not None else []
    )
    assigns = [f"${k}={json.dumps(v)}" for k, v in (set_signals or {}).items()]
    if not assigns:
        body = post(target)
    elif guards:
        # `g&&$x=1;@post(…)` would not compile (an assignment cannot follow &&), and the post
        # would escape the guard; a parenthesised comma sequence keeps both under it.
        body = f"({','.join([*assigns, post(target)])})"
    else:
        body = ";".join([*assigns, post(target)])  # Via's `$key=<json>;` prefix form
    expr = "&&".join([*guards, body])
    mods = [
        m
        for m, on in (
            ("prevent", prevent),
            ("stop", stop),
            ("once", once),
            ("window", window),
            ("outside", outside),
        )
        if on
    ]
    for mod, value in (("debounce", debounce), ("throttle", throttle), ("delay", delay)):
        if value:
            mods.append(f"{mod}.{value}")
    suffix = "".join(f"__{m}" for m in mods)
    return Attr(f"data-on:{name}{suffix}", expr)


def click(target: ActionRef, **options: Any) -> Attr:
    """Fire the action on click."""
    return event("click", target, **options)


def key(key_name: str, target: ActionRef, **options: Any) -> Attr:
    """Fire the action when `key_name` (a `KeyboardEvent.key`, e.g. "Enter") is pressed."""
    quoted = key_name.replace("\\", "\\\\").replace("'", "\\'")
    return event("keydown", target, when=f"evt.key==='{quoted}'", **options)
