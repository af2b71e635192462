"""Datastar's display attributes, performed: what the page shows once its signals are known.

A browser running Datastar keeps these attributes true (specs/protocol.md §6.5), each an
effect that runs again when a signal it read changes:

* `data-computed:<key>="expr"` (or `data-computed="{key: () => expr}"`): a signal whose value
  is the expression's;
* `data-text="expr"`: the element's text content;
* `data-show="expr"`: `display: none` in its style while the expression is falsy;
* `data-attr:<name>` / `data-attr="{name: expr}"`: attributes (`true`/`""` set it empty,
  `false`/`null` remove it, strings as they are, anything else as JSON);
* `data-class:<name>` / `data-class="{'a b': expr}"`: classes toggled;
* `data-style:<prop>` / `data-style="{prop: expr}"`: style properties (a falsy value other
  than 0 puts back what the element had);
* `data-json-signals`: the signals as JSON text; `data-effect`: an expression run for its
  effects; `data-indicator` (false until a request of the element is in flight) and
  `data-ref` set their signal once.

`render()` runs them with the JavaScript engine (`vt.js.engine`), computed signals first.
Each attribute remembers the signal paths its last run read and what they held (`Effects`):
it runs again only when one of them changed, and a path that was deleted stops counting, as
Datastar's effect stays subscribed to the signal the deletion dropped (§7.5.3). An expression
that throws is reported by name, never shown as empty. Elements under `data-ignore` are left
alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..js.attrs import DataAttr, parse_data_attr
from ..js.engine import Batch
from .fields import ElementHost, Fields, as_number
from .tree import HtmlElement, attributes, elements, root_of

__all__ = [
    "DISPLAY_MARKERS",
    "DISPLAY_PATTERN",
    "Effects",
    "Rendering",
    "bind_initials",
    "bound_initial",
    "created_by",
    "has_display",
    "indicator_paths",
    "render",
    "unsupported",
]

_NAMES = ("text", "show", "attr", "class", "computed", "style", "json-signals", "effect")
_ONCE = ("indicator", "ref")
# Byte strings whose presence in a patch may add display attributes (checked case-folded).
DISPLAY_MARKERS = tuple(f"data-{name}".encode() for name in (*_NAMES, *_ONCE))
#: The same, as one pattern: one pass over a patch's bytes.
DISPLAY_PATTERN = re.compile(
    b"data-(?:" + b"|".join(m[5:] for m in DISPLAY_MARKERS).replace(b"-", b"\\-") + b")"
)

_CONDITION = " or ".join(f"starts-with(name(), 'data-{n}')" for n in (*_NAMES, *_ONCE))
_DISPLAYED = etree.XPath(f"//*[@*[{_CONDITION}]]")
_DISPLAYED_UNDER = etree.XPath(f"descendant-or-self::*[@*[{_CONDITION}]]")
_PLUGINS = frozenset((*_NAMES, *_ONCE))
_MISSING: Any = object()


@dataclass(slots=True)
class _Memo:
    """One attribute's last run: its value text, what it read (path -> JSON of the value),
    what it made (to put back without running), and the style values it replaced."""

    source: str
    reads: list[str]
    result: Any
    deps: dict[str, Any] = field(default_factory=dict)
    originals: dict[str, str | None] = field(default_factory=dict)

    def stale(self, signals: Mapping[str, Any]) -> bool:
        """Whether a signal it read changed; paths deleted since stop counting."""
        changed = False
        for path, snapshot in list(self.deps.items()):
            current = _get(signals, path)
            if current is _MISSING:
                del self.deps[path]
            elif not changed and not _same(current, snapshot):
                changed = True
        return changed

    def remember(self, signals: Mapping[str, Any]) -> None:
        reads = set(self.reads)
        for path in self.reads:
            value = _get(signals, path)
            if value is _MISSING:
                continue
            # Reading `$a.b` reads `a` on the way: only the deepest path counts as a change
            # (an array counts whole: its length is read through its methods).
            if isinstance(value, dict) and any(o.startswith(path + ".") for o in reads):
                continue
            self.deps[path] = copy.deepcopy(value) if isinstance(value, dict | list) else value
        self.reads = []


class Effects:
    """What a page's display attributes last did, per (element, attribute)."""

    __slots__ = ("computed", "memo")

    def __init__(self) -> None:
        self.memo: dict[tuple[HtmlElement, str], _Memo] = {}
        #: The page's keyed `data-computed` attributes: (element, signal path, expression).
        self.computed: list[tuple[HtmlElement, str, str]] = []


class Rendering:
    """What one `render` did: the signals if an expression changed them (the whole store),
    the requests effects sent (engine request dicts), and the errors to log."""

    __slots__ = ("errors", "requests", "signals")

    def __init__(self) -> None:
        self.signals: dict[str, Any] | None = None
        self.requests: list[tuple[dict[str, Any], HtmlElement]] = []
        self.errors: list[str] = []


def has_display(root: HtmlElement) -> bool:
    """True if the tree holds any display attribute (else `render` has nothing to do)."""
    return bool(_DISPLAYED(root))


def render(
    root: HtmlElement,
    signals: Mapping[str, Any],
    effects: Effects | None = None,
    fields: Fields | None = None,
) -> Rendering:
    """Apply every display attribute under `root` for these signals, in place (see the
    module docstring); `effects` carries what they did from one render to the next."""
    effects = effects if effects is not None else Effects()
    out = Rendering()
    found = [
        (el, attr)
        for el in elements(_DISPLAYED(root))
        if not _ignored(el)
        for attr in _display_attrs(el)
    ]
    host = ElementHost(fields or Fields(), signals)
    computed = [(el, attr) for el, attr in found if attr.plugin == "computed"]
    effects.computed = [(el, ".".join(a.path), a.value) for el, a in computed if a.key]
    # The engine is loaded only when something runs: after most events, every attribute's
    # memo is fresh and nothing does.
    lazy = _LazyBatch(signals, host)
    if computed:
        batch = lazy.get()
        for _ in range(2):
            for el, attr in computed:
                path = ".".join(attr.path) if attr.key else ""
                error = batch.computed(attr.value, host.handle(el), path)
                if error:
                    out.errors.append(f"{_name(error)}: {attr.name}: {error} (§6.5)")
        # What the other attributes read (and are checked against) includes the computed.
        taken = batch.take()
        out.errors.extend(taken.console)
        if taken.signals is not None:
            signals = out.signals = taken.signals
            host.signals = signals
            lazy = _LazyBatch(signals, host)
    fresh: list[_Memo] = []
    memo: dict[tuple[HtmlElement, str], _Memo] = {}
    for el, attr in found:
        if attr.plugin == "computed" or root_of(el) is not root:
            continue  # computed, or removed by an ancestor's data-text
        key = (el, attr.name)
        known = effects.memo.get(key)
        if known is not None and known.source == attr.value:
            memo[key] = known
            if attr.plugin in _ONCE or not known.stale(signals):
                _show_result(el, attr, known)
                continue
        batch = lazy.get()
        if attr.plugin in _ONCE:
            memo[key] = _once(attr, batch)
            continue
        if attr.plugin == "json-signals":
            text = batch.json_signals(attr.value, terse="terse" in attr.modifiers)
            known = memo[key] = _Memo(attr.value, [], text)
            _show_result(el, attr, known)
            continue
        kind = {"effect": "run"}.get(attr.plugin, attr.plugin)
        outcome = (
            batch.run(attr.value, el=host.handle(el), record=True)
            if kind == "run"
            else batch.display(kind, attr.value, host.handle(el), record=True, keyed=bool(attr.key))
        )
        if outcome.error is not None:
            out.errors.append(f"{_name(outcome.error)}: {attr.name}: {outcome.error} (§6.5)")
            result: Any = None
        else:
            result = outcome.value
        fresh_memo = _Memo(attr.value, outcome.reads, result)
        if known is not None:
            fresh_memo.originals = known.originals
        memo[key] = fresh_memo
        fresh.append(fresh_memo)
        _show_result(el, attr, fresh_memo)
    if lazy.batch is None:
        effects.memo = memo
        return out
    taken = lazy.batch.take()
    if taken.signals is not None:
        out.signals = taken.signals
    out.requests = [(r, host.element(r.get("el"))) for r in taken.requests]
    out.errors.extend(taken.console)
    final = taken.signals if taken.signals is not None else signals
    for item in fresh:
        item.remember(final)
    effects.memo = memo
    out.errors = list(dict.fromkeys(out.errors))
    return out


class _LazyBatch:
    __slots__ = ("batch", "host", "signals")

    def __init__(self, signals: Mapping[str, Any], host: ElementHost) -> None:
        self.signals, self.host = signals, host
        self.batch: Batch | None = None

    def get(self) -> Batch:
        if self.batch is None:
            self.batch = Batch(self.signals, self.host)
        return self.batch


def _once(attr: DataAttr, batch: Batch) -> _Memo:
    """`data-indicator` (false) and `data-ref` (the element, which JSON shows as {}): set
    their signal once, when the element is first read."""
    path = ".".join(attr.path) if attr.key else attr.value.strip()
    if path:
        batch.set_path(path, False if attr.plugin == "indicator" else {})
    return _Memo(attr.value, [], None)


_BOUND = etree.XPath("//*[@*[starts-with(name(), 'data-bind')]]")


def bind_initials(
    root: HtmlElement, signals: Mapping[str, Any], fields: Fields
) -> dict[str, Any] | None:
    """`data-bind` on fields whose signal does not exist yet: the signal takes the field's
    value (Datastar's bind adapter reads it when it applies the attribute). The whole store
    if that created any, else None. Not a display attribute: it runs when a page loads and
    when a patch brings `data-bind`, not after every event."""
    batch: Batch | None = None
    for el in elements(_BOUND(root)):
        if _ignored(el):
            continue
        for name, value in attributes(el):
            attr = parse_data_attr(name, value) if name.startswith("data-bind") else None
            if attr is None or attr.plugin != "bind":
                continue
            path = ".".join(attr.path) if attr.key else value.strip()
            if not path or _get(signals, path) is not _MISSING:
                continue
            initial = bound_initial(el, fields)
            if initial is _MISSING:
                continue
            batch = batch or Batch(signals)
            batch.set_path(path, initial, if_missing=True)
    return batch.take().signals if batch is not None else None


def bound_initial(el: HtmlElement, fields: Fields) -> Any:
    """What Datastar's bind adapter reads from a field for a signal that does not exist:
    the value (a number for number and range inputs), checked for a checkbox, the value of
    a checked radio (nothing for an unchecked one)."""
    kind = fields.kind(el)
    if kind == "checkbox":
        checked = fields.is_checked(el)
        value = el.get("value")
        return checked if value in (None, "on") else (value if checked else "")
    if kind == "radio":
        return fields.value(el) if fields.is_checked(el) else _MISSING
    text = fields.value(el)
    return as_number(text) if kind in ("number", "range") else text


def indicator_paths(el: HtmlElement) -> list[tuple[str, ...]]:
    """The signals `data-indicator` attributes of `el` name."""
    paths = []
    for name, value in attributes(el):
        attr = parse_data_attr(name, value) if name.startswith("data-indicator") else None
        if attr is not None and attr.plugin == "indicator":
            path = attr.path if attr.key else tuple(value.strip().split("."))
            if path and path[0]:
                paths.append(path)
    return paths


_REFUSED = {
    "on-intersect": "VtUnsupported: data-on-intersect: vt has no layout, so nothing ever "
    "intersects the viewport; run what it does with the page's own requests (tab.get/post)",
    "ref": "VtUnsupported: data-ref: vt holds the element as {} (what JSON shows of it), so "
    "`$ref.id` and the like read nothing; select the element with tab.select_one instead",
}


_REFUSED_XPATH = {
    name: etree.XPath(f"//*[@*[starts-with(name(), 'data-{name}')]]") for name in _REFUSED
}


def unsupported(root: HtmlElement) -> list[str]:
    """Console lines refusing, by name, the attributes vt does not perform."""
    return [line for name, line in _REFUSED.items() if _REFUSED_XPATH[name](root)]


def created_by(root: HtmlElement, signals: Mapping[str, Any]) -> dict[str, Any] | None:
    """The signals after Datastar's one read of the display expressions under `root` (an
    element no longer in the page, §7.5.5), without changing the tree; None if unchanged."""
    batch = Batch(signals, ElementHost(Fields(), signals))
    for el in elements(_DISPLAYED_UNDER(root)):
        for attr in _display_attrs(el):
            if attr.plugin in ("text", "show", "attr", "class", "style"):
                batch.display(attr.plugin, attr.value, None)
    return batch.take().signals


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


def _name(error: str) -> str:
    head = error.split(":", 1)[0]
    return "ExpressionError" if " " in head or not head else head


def _show_result(el: HtmlElement, attr: DataAttr, memo: _Memo) -> None:
    value = memo.result
    if value is None or attr.plugin in ("effect", *_ONCE):
        return
    if attr.plugin in ("text", "json-signals"):
        for child in list(el):
            el.remove(child)
        el.text = str(value)
    elif attr.plugin == "show":
        _show(el, bool(value))
    elif attr.plugin == "attr":
        for name, item in _pairs(attr, value, kebab=False):
            _set_attr(el, name, item)
    elif attr.plugin == "class":
        for name, item in _pairs(attr, value, kebab=False):
            _toggle_classes(el, name, bool(item))
    elif attr.plugin == "style":
        _set_style(el, _pairs(attr, value, kebab=True), memo.originals)


def _pairs(attr: DataAttr, value: Any, *, kebab: bool) -> list[tuple[str, Any]]:
    if attr.key:
        name = attr.key if attr.plugin == "style" else attr.cased_key
        return [(name, value[0][1])] if value else []
    return [(_kebab(k) if kebab else k, v) for k, v in value]


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def _set_attr(el: HtmlElement, name: str, value: str | None) -> None:
    if value is None:
        if el.get(name) is not None:
            del el.attrib[name]
    else:
        el.set(name, value)


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


def _write_style(el: HtmlElement, style: list[tuple[str, str]]) -> None:
    if style or el.get("style") is not None:
        el.set("style", " ".join(f"{n}: {v};" for n, v in style))


def _set_style(
    el: HtmlElement, pairs: list[tuple[str, str | None]], originals: dict[str, str | None]
) -> None:
    """`style.setProperty` for each value; a missing one puts back what the element had."""
    style = dict(_style(el))
    for name, value in pairs:
        if value is None:
            if name in originals:
                before = originals[name]
                if before:
                    style[name] = before
                else:
                    style.pop(name, None)
            continue
        originals.setdefault(name, style.get(name))
        style[name] = value
    _write_style(el, list(style.items()))


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


def _get(signals: Mapping[str, Any], path: str) -> Any:
    value: Any = signals
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal as JavaScript values (1 and true differ; 1 and 1.0 do not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b and (a is None) == (b is None))
