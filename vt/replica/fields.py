"""What the browser holds of a page besides its markup: form fields' current values, and the
`el` an expression sees (sans-IO).

A field's value is a property, not an attribute: typing changes `.value`, clicking a checkbox
changes `.checked`, and neither shows in the markup (so not in `document.html`). `Fields`
keeps them per element; `data-bind` fields read their signal, as Datastar's bind effect keeps
`.value` equal to it. `ElementHost` answers an expression's `el` (and `evt.target`) for the
JavaScript engine (`vt.js.engine.Host`) through handles, one table per batch. `form_data`
serialises a form as `new FormData(form)` does, for `contentType: 'form'`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..js.attrs import parse_data_attr
from .dom import query
from .tree import HtmlElement, attributes, is_element

__all__ = ["ElementHost", "Fields", "as_number", "bind_path_of", "form_data"]

_NO_VALUE_ATTR = {"checkbox": "on", "radio": "on"}


def as_number(text: str) -> int | float | None:
    """`+el.value`, as Datastar's bind adapter reads a number: "" is 0, what is not a number
    is NaN (None: JSON shows it as null); integral values as ints."""
    try:
        number = float(text) if text.strip() else 0.0
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def bind_path_of(el: HtmlElement) -> tuple[str, ...] | None:
    """The signal a field is bound to with `data-bind` (a dotted path), or None."""
    for name, value in attributes(el):
        if not name.startswith("data-bind"):
            continue
        attr = parse_data_attr(name, value)
        if attr is None or attr.plugin != "bind":
            continue
        if attr.key:
            return attr.path
        if value.strip():
            return tuple(value.strip().split("."))
    return None


def _signal(signals: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = signals
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


class Fields:
    """Current `.value` and `.checked` of form fields, per element."""

    __slots__ = ("checked", "values")

    def __init__(self) -> None:
        self.values: dict[HtmlElement, str] = {}
        self.checked: dict[HtmlElement, bool] = {}

    def kind(self, el: HtmlElement) -> str:
        """The input type, lower case (`text` when absent), or the tag for other fields."""
        if el.tag == "input":
            return (el.get("type") or "text").lower()
        return str(el.tag)

    def value(self, el: HtmlElement, signals: Mapping[str, Any] | None = None) -> str:
        """`el.value` as the browser has it now."""
        path = bind_path_of(el) if signals is not None else None
        kind = self.kind(el)
        if path is not None and kind not in ("checkbox", "radio") and signals is not None:
            bound = _signal(signals, path)
            if bound is not None and not isinstance(bound, dict | list):
                return _js_text(bound)
        if el in self.values:
            return self.values[el]
        if el.tag == "textarea":
            return _text(el)
        if el.tag == "select":
            options = list(el.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            if not chosen:
                return ""
            found = chosen[0].get("value")
            return found if found is not None else _text(chosen[0]).strip()
        found = el.get("value")
        return found if found is not None else _NO_VALUE_ATTR.get(kind, "")

    def is_checked(self, el: HtmlElement, signals: Mapping[str, Any] | None = None) -> bool:
        """`el.checked` as the browser has it now (a bound box follows its signal)."""
        path = bind_path_of(el) if signals is not None else None
        if path is not None and signals is not None:
            bound = _signal(signals, path)
            kind = self.kind(el)
            if kind == "radio":
                return bound is not None and _js_text(bound) == self.value(el)
            if isinstance(bound, bool):
                return bound
            if isinstance(bound, str) and el.get("value") is not None:
                return bound == el.get("value")
            if isinstance(bound, list):
                return self.value(el) in [_js_text(v) for v in bound]
        if el in self.checked:
            return self.checked[el]
        return el.get("checked") is not None

    def set_value(self, el: HtmlElement, value: str) -> None:
        """Type into a field (the property; the markup keeps its `value` attribute)."""
        self.values[el] = value

    def set_checked(self, el: HtmlElement, checked: bool) -> None:
        """Tick or untick a box; ticking a radio unticks the others of its group."""
        if checked and self.kind(el) == "radio" and el.get("name"):
            root = el.getroottree().getroot()
            for other in root.iter("input"):
                if other is not el and other.get("name") == el.get("name"):
                    self.checked[other] = False
        self.checked[el] = checked


def _js_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_data(
    form: HtmlElement,
    fields: Fields,
    signals: Mapping[str, Any],
    submitter: HtmlElement | None = None,
) -> list[tuple[str, str]]:
    """The (name, value) pairs `new FormData(form)` gives, in tree order, then the submitter's
    name and value (Datastar appends them): named, enabled fields; checked boxes only; a
    select's selected option; buttons left out."""
    out: list[tuple[str, str]] = []
    for el in form.iter():
        if not is_element(el) or el.tag not in ("input", "select", "textarea"):
            continue
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        kind = fields.kind(el)
        if kind in ("submit", "button", "reset", "image", "file"):
            continue
        if kind in ("checkbox", "radio") and not fields.is_checked(el, signals):
            continue
        out.append((name, fields.value(el, signals)))
    if submitter is not None and submitter.get("name"):
        out.append((submitter.get("name") or "", submitter.get("value") or ""))
    return out


class ElementHost:
    """Answers the engine's questions about elements, by handle (`vt.js.engine.Host`)."""

    __slots__ = ("_elements", "fields", "removed", "signals")

    def __init__(self, fields: Fields, signals: Mapping[str, Any]) -> None:
        self.fields = fields
        self.signals = signals
        self._elements: list[HtmlElement] = []
        self.removed: list[HtmlElement] = []

    def handle(self, el: HtmlElement | None) -> int | None:
        """A handle for `el` in this batch (None for None)."""
        if el is None:
            return None
        self._elements.append(el)
        return len(self._elements) - 1

    def element(self, handle: Any) -> HtmlElement:
        """The element of a handle (the document element for none: a request made by an
        expression with no element)."""
        if isinstance(handle, int) and 0 <= handle < len(self._elements):
            return self._elements[handle]
        raise LookupError(f"no element with handle {handle!r} in this batch")

    def ask(self, handle: int, what: str, arg: Any) -> Any:
        """One question of `el` (see `vt.js.engine.Host`)."""
        if not 0 <= handle < len(self._elements):
            return None
        el = self._elements[handle]
        if what == "id":
            return el.get("id") or ""
        if what == "tagName":
            return str(el.tag).upper()
        if what == "value":
            return self.fields.value(el, self.signals)
        if what == "checked":
            return self.fields.is_checked(el, self.signals)
        if what == "textContent":
            return _text(el)
        if what == "dataset":
            return {
                _camel(name[5:]): value
                for name, value in attributes(el)
                if name.startswith("data-")
            }
        if what == "attr":
            return el.get(str(arg))
        if what == "setValue":
            self.fields.set_value(el, str(arg))
        elif what == "setChecked":
            self.fields.set_checked(el, bool(arg))
        elif what == "setAttr":
            name, value = json.loads(str(arg))
            if value is None:
                if el.get(name) is not None:
                    del el.attrib[name]
            else:
                el.set(name, value)
        elif what == "remove":
            self.removed.append(el)
        elif what in ("closest", "query", "parent"):
            return self.handle(_relative(el, what, arg))
        return None


def _relative(el: HtmlElement, what: str, selector: Any) -> HtmlElement | None:
    if what == "parent":
        parent = el.getparent()
        return parent if parent is not None and is_element(parent) else None
    if what == "query":
        found = query(str(selector), el)
        return next((f for f in found if f is not el), None)
    node: HtmlElement | None = el
    while node is not None:
        if is_element(node) and node in query(str(selector), node.getroottree().getroot()):
            return node
        node = node.getparent()
    return None


def _text(el: HtmlElement) -> str:
    return "".join(str(t) for t in el.itertext())


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
