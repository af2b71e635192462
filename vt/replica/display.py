"""Datastar's display attributes, evaluated: what the page shows once its signals are known.

A browser running Datastar keeps these attributes true at all times (specs/protocol.md §6.5):

* `data-computed:<key>="expr"`: a signal whose value is the expression's;
* `data-text="expr"`: the element's text content;
* `data-show="expr"`: `display: none` in its style while the expression is falsy;
* `data-attr:<name>="expr"` / `data-attr="{name: expr}"`: attributes (`true`/`""` set it
  empty, `false`/`null` remove it, strings as they are, anything else as JSON);
* `data-class:<name>="expr"` / `data-class="{'a b': expr}"`: classes toggled.

`render()` re-applies them all to the tree, computed signals first, with `vt.js.expr`'s reader.
An expression outside vt's subset is reported by name, never shown as empty. Elements under
`data-ignore` are left alone, as Datastar leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lxml import etree

from ..js.attrs import DataAttr, nest, parse_data_attr
from ..js.expr import UNDEFINED, ExpressionError, evaluate, js_string, js_truthy
from .tree import HtmlElement, attributes, elements, root_of

__all__ = ["DISPLAY_MARKERS", "Rendering", "created_by", "has_display", "render"]

# Byte strings whose presence in a patch may add display attributes (checked case-folded).
DISPLAY_MARKERS = (b"data-text", b"data-show", b"data-attr", b"data-class", b"data-computed")

_DISPLAYED = etree.XPath(
    "//*[@*[starts-with(name(), 'data-text') or starts-with(name(), 'data-show')"
    " or starts-with(name(), 'data-attr') or starts-with(name(), 'data-class')"
    " or starts-with(name(), 'data-computed')]]"
)
_DISPLAYED_UNDER = etree.XPath(
    "descendant-or-self::*[@*[starts-with(name(), 'data-text') or starts-with(name(), 'data-show')"
    " or starts-with(name(), 'data-attr') or starts-with(name(), 'data-class')"
    " or starts-with(name(), 'data-computed')]]"
)
_PLUGINS = frozenset({"text", "show", "attr", "class", "computed"})


class Rendering:
    """What one `render` did: the computed signals and the signals expressions created, to
    merge, and the errors to log."""

    __slots__ = ("computed", "created", "errors")

    def __init__(self) -> None:
        self.computed: list[dict[str, Any]] = []
        self.created: dict[str, Any] = {}  # signals an expression read before they existed
        self.errors: list[str] = []


def has_display(root: HtmlElement) -> bool:
    """True if the tree holds any display attribute (else `render` has nothing to do)."""
    return bool(_DISPLAYED(root))


def render(root: HtmlElement, signals: Mapping[str, Any]) -> Rendering:
    """Apply every display attribute under `root` for these signals, in place.

    Computed signals are evaluated first (twice, so one may use another) and returned for
    the caller to merge; each display attribute then reads `signals` with them merged in.
    """
    out = Rendering()
    found = [
        (el, attr)
        for el in elements(_DISPLAYED(root))
        if not _ignored(el)
        for attr in _display_attrs(el)
    ]
    view: dict[str, Any] = dict(signals)
    computed = [(el, attr) for el, attr in found if attr.plugin == "computed"]
    for _ in range(2 if computed else 0):
        for _el, attr in computed:
            if not attr.key:
                out.errors.append(
                    f"ComputedExpectedFunction: {attr.name}: vt evaluates data-computed:<key> "
                    "only (§6.5)"
                )
                continue
            value = _value(attr, view, out)
            if value is not _FAILED:
                patch = nest(attr.path, value)
                _merge_into(view, patch)
                out.computed.append(patch)
    for el, attr in found:
        if attr.plugin == "computed" or root_of(el) is not root:
            continue  # computed, or removed by an ancestor's data-text
        value = _value(attr, view, out)
        if value is _FAILED:
            continue
        if attr.plugin == "text":
            for child in list(el):
                el.remove(child)
            el.text = js_string(value)
        elif attr.plugin == "show":
            _show(el, js_truthy(value))
        elif attr.plugin == "attr":
            for name, item in _pairs(attr.key, value, attr, out) or []:
                _set_attr(el, name, item)
        elif attr.plugin == "class":
            for name, item in _pairs(attr.key, value, attr, out) or []:
                _toggle_classes(el, name, js_truthy(item))
    out.errors = list(dict.fromkeys(out.errors))
    return out


_FAILED: Any = object()


def created_by(root: HtmlElement, signals: Mapping[str, Any]) -> dict[str, Any]:
    """The signals the display expressions under `root` create by reading them before they
    exist (`""` each), without changing the tree: what Datastar's one read of the attributes
    of an element that is no longer in the page leaves behind (§7.5.5)."""
    out = Rendering()
    for el in elements(_DISPLAYED_UNDER(root)):
        for attr in _display_attrs(el):
            _value(attr, signals, out)
    return out.created


def _display_attrs(el: HtmlElement) -> list[DataAttr]:
    found = []
    for name, value in attributes(el):
        attr = parse_data_attr(name, value)
        if attr is not None and attr.plugin in _PLUGINS:
            found.append(attr)
    return found


def _ignored(el: HtmlElement) -> bool:
    if el.get("data-ignore") is not None or el.get("data-ignore__self") is not None:
        return True
    return any(a.get("data-ignore") is not None for a in el.iterancestors())


def _value(attr: DataAttr, signals: Mapping[str, Any], out: Rendering) -> Any:
    try:
        return evaluate(attr.value, signals, out.created)
    except ExpressionError as exc:
        out.errors.append(f"ExpressionError: {attr.name}: {exc} (§6.5)")
        return _FAILED


def _pairs(key: str, value: Any, attr: DataAttr, out: Rendering) -> list[tuple[str, Any]] | None:
    if key:
        return [(attr.cased_key, value)]
    if isinstance(value, dict):
        return list(value.items())
    out.errors.append(f"ExpressionError: {attr.name}: the value is not an object (§6.5)")
    return None


def _set_attr(el: HtmlElement, name: str, value: Any) -> None:
    if value == "" or value is True:
        el.set(name, "")
    elif value is False or value is None or value is UNDEFINED:
        if el.get(name) is not None:
            del el.attrib[name]
    elif isinstance(value, str):
        el.set(name, value)
    elif isinstance(value, int | float):
        el.set(name, js_string(value))
    else:
        el.set(name, json.dumps(value, separators=(",", ":")))


def _toggle_classes(el: HtmlElement, names: str, on: bool) -> None:
    current = (el.get("class") or "").split()
    for name in names.split():
        if on and name not in current:
            current.append(name)
        elif not on and name in current:
            current = [c for c in current if c != name]
    if current or el.get("class") is not None:
        el.set("class", " ".join(current))


def _style(el: HtmlElement) -> list[tuple[str, str]]:
    declarations = []
    for part in (el.get("style") or "").split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip():
            declarations.append((name.strip().lower(), value.strip()))
    return declarations


def _show(el: HtmlElement, shown: bool) -> None:
    """`display: none` while hidden; shown again, a `display: none` is removed (Datastar's
    `data-show`), and the browser writes the style back as `name: value;` pairs."""
    style = _style(el)
    if shown:
        if ("display", "none") not in style:
            return
        style = [(n, v) for n, v in style if n != "display"]
    else:
        if ("display", "none") in style:
            return
        style = [(n, v) for n, v in style if n != "display"] + [("display", "none")]
    el.set("style", " ".join(f"{n}: {v};" for n, v in style))


def _merge_into(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            inner = dict(target[key])
            _merge_into(inner, value)
            target[key] = inner
        else:
            target[key] = value
