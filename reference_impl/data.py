"""Datastar 1.0 attribute helpers (specs/protocol.md §6.5): client-side bindings in views.

    h.span(data.text("$count"))          # data-text="$count"
    h.div(data.show("!$busy"))           # data-show="!$busy"
    h.div(data.computed("total", "$a+$b"))   # data-computed:total="$a+$b"

Keys use Datastar 1.0's colon form (`data-attr:NAME`, `data-computed:KEY`); Via writes
`data-computed-KEY`, which Datastar 1.0 does not read (deviation D2 in specs/deviations.md).
Signal handles
have shortcuts for the common cases (`SignalStr.bind()`, `.text()`, `.show()`...).
"""

from __future__ import annotations

from typing import Any

from .html import Attr
from .jsonenc import encode_json

__all__ = [
    "attr",
    "bind",
    "class_",
    "computed",
    "effect",
    "ignore_morph",
    "indicator",
    "local",
    "show",
    "style",
    "text",
]


def bind(key: str) -> Attr:
    """`data-bind="key"`: two-way binding of an input to a signal."""
    return Attr("data-bind", key)


def text(expr: str) -> Attr:
    """`data-text`: the element's text follows a Datastar expression."""
    return Attr("data-text", expr)


def show(expr: str) -> Attr:
    """`data-show`: the element is shown while the expression is truthy."""
    return Attr("data-show", expr)


def attr(name: str, expr: str) -> Attr:
    """`data-attr:NAME`: the attribute follows the expression."""
    return Attr(f"data-attr:{name}", expr)


def class_(name: str, expr: str) -> Attr:
    """`data-class:NAME`: the class is present while the expression is truthy."""
    return Attr(f"data-class:{name}", expr)


def style(prop: str, expr: str) -> Attr:
    """`data-style:PROP`: the inline style property follows the expression."""
    return Attr(f"data-style:{prop}", expr)


def computed(key: str, expr: str) -> Attr:
    """`data-computed:KEY`: a read-only client signal computed from others."""
    return Attr(f"data-computed:{key}", expr)


def effect(expr: str) -> Attr:
    """`data-effect`: run the expression whenever the signals it reads change."""
    return Attr("data-effect", expr)


def indicator(key: str) -> Attr:
    """`data-indicator`: a signal that is true while this element's request is in flight."""
    return Attr("data-indicator", key)


def ignore_morph() -> Attr:
    """`data-ignore-morph`: Datastar leaves this element alone when morphing."""
    return Attr("data-ignore-morph", True)


def local(name: str, value: Any) -> Attr:
    """A browser-only signal `_name` (never sent to the server), as `data-signals`."""
    bare = name.removeprefix("_")
    return Attr("data-signals", "{" + f"_{bare}:{encode_json(value)}" + "}")
