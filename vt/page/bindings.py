"""What a page does when an event reaches an element: Datastar's `data-on:*` listeners, found
in the order a browser calls them and run in the JavaScript engine (sans-IO).

`data-on:<event>[__modifier[.tag]...]="<expression>"` adds a listener (specs/protocol.md §6.5):
on the element, on `window` (`__window`), or on `document` (`__document`, and `__outside`,
which runs only for events outside the element). `listeners()` lists the listeners one event
calls, in the browser's order: capture listeners from the window down, those on the target,
then (for events that bubble) up through the ancestors, the document and the window.
`run_listener()` runs one expression as Datastar's `on` plugin does (`__prevent`, `__stop`,
`evt`), through `vt.js.engine`: what it writes to the signals and the requests its actions
would send come back in a `Ran`.

Timing modifiers (`__delay`, `__debounce`, `__throttle`) are applied by `vt.page.flows` on the
tab's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..js.attrs import Modifiers, parse_data_attr
from ..js.engine import Batch
from ..js.expr import ExpressionError
from ..replica.dom import Document, Element
from ..replica.fields import ElementHost, Fields, as_number, bind_path_of

__all__ = [
    "NON_BUBBLING",
    "Binding",
    "ExpressionError",
    "Ran",
    "bind_path",
    "bindings_of",
    "event_spec",
    "field_value",
    "listeners",
    "missing_binding",
    "near_misses",
    "run_expression",
    "run_listener",
]

ON_PREFIX = "data-on:"

# Events that do not bubble: only capture listeners and the target's own hear them.
NON_BUBBLING = frozenset(
    {"focus", "blur", "mouseenter", "mouseleave", "pointerenter", "pointerleave", "load"}
)


@dataclass(frozen=True, slots=True)
class Binding:
    """One `data-on:*` attribute of one element."""

    element: Element
    attr: str
    event: str
    modifiers: Modifiers
    expression: str

    @property
    def where(self) -> str:
        """`window`, `document` (`__document`, `__outside`) or `element`: what it listens on."""
        if "window" in self.modifiers:
            return "window"
        if "outside" in self.modifiers or "document" in self.modifiers:
            return "document"
        if self.event in ("datastar-fetch", "datastar-signal-patch"):
            return "document"
        return "element"

    def describe(self) -> str:
        """`data-on:keydown="evt.key==='Enter'&&@post('/_action/Send')"` on `<input#draft>`."""
        where = f"<{self.element.tag}{'#' + self.element.id if self.element.id else ''}>"
        return f'{self.attr}="{self.expression}" on {where}'


@dataclass(slots=True)
class Ran:
    """What one expression did: the whole signal store if it changed them (else None), the
    requests its actions would send (engine request dicts, in call order), whether it
    called `evt.preventDefault()` / `evt.stopPropagation()`, the error it threw, console
    lines, and elements it removed (`el.remove()`)."""

    signals: dict[str, Any] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    prevented: bool = False
    stopped: bool = False
    error: str | None = None
    console: list[str] = field(default_factory=list)
    host: ElementHost | None = None


# -- reading attributes ----------------------------------------------------------------------


def bindings_of(element: Element, event: str | None = None) -> list[Binding]:
    """The element's `data-on:*` bindings (for one event, or all), in attribute order."""
    found: list[Binding] = []
    for name, value in element.attrs.items():
        attr = parse_data_attr(name, value)
        if attr is None or attr.plugin != "on" or not attr.key:
            continue
        name_of_event = attr.cased_key
        if event is None or name_of_event == event:
            found.append(Binding(element, name, name_of_event, attr.modifiers, value))
    return found


def near_misses(element: Element, event: str) -> list[str]:
    """Attributes that look like a binding for `event` but that Datastar 1.0 does not read."""
    misses = []
    for name in element.attrs:
        if name.startswith(f"{ON_PREFIX}{event}."):
            misses.append(
                f"{name} (Datastar 1.0 reads this as an event named "
                f"{name[len(ON_PREFIX) :]!r}; modifiers are written with __)"
            )
        elif name.startswith(f"data-on-{event}"):
            misses.append(f"{name} (Datastar 1.0 reads data-on:{event}; data-on-* is pre-1.0)")
    return misses


def bind_path(element: Element) -> tuple[str, ...] | None:
    """The signal a field is bound to with `data-bind` (a dotted path), or None.

    `data-bind="form.email"` names the path as written; `data-bind:my-draft` is camel-cased
    to `myDraft`, as Datastar does with keys (unless `__case` says otherwise)."""
    return bind_path_of(element.node)


def missing_binding(target: Element, events: tuple[str, ...]) -> str:
    """Why a gesture found nothing to run: the events it dispatched and the `data-on:*`
    bindings there are on the element and its ancestors (none of them for these events)."""
    present = sorted({b.attr for el in (target, *target.ancestors) for b in bindings_of(el)})
    text = f"no data-on:{'/'.join(events)} on the element or its ancestors"
    if present:
        text += f"; the bindings there are for other events: {', '.join(present)}"
    return text


def field_value(element: Element, text: str) -> Any:
    """A typed text as the bound signal's value: numbers for number and range inputs (as
    Datastar coerces them, `+el.value`), the text itself otherwise."""
    if element.tag == "input" and (element.get("type") or "").lower() in ("number", "range"):
        return as_number(text)
    return text


# -- the order of listeners --------------------------------------------------------------------


def listeners(document: Document, target: Element, event: str) -> list[Binding]:
    """The listeners one `event` dispatched at `target` calls, in the browser's order
    (capture phase, target, bubble phase; `window` and `document` listeners in their
    places). Propagation stops are for the caller to apply (`stops_after`)."""
    path = [target, *target.ancestors]  # target first, root last
    bubbles = event not in NON_BUBBLING
    on_document: list[Binding] = []
    on_window: list[Binding] = []
    on_element: dict[Element, list[Binding]] = {}
    for element in document.with_attribute_prefix(f"{ON_PREFIX}{event}"):
        for binding in bindings_of(element, event):
            where = binding.where
            if where == "window":
                on_window.append(binding)
            elif where == "document":
                if "outside" in binding.modifiers and binding.element.contains(target):
                    continue
                on_document.append(binding)
            else:
                on_element.setdefault(element, []).append(binding)

    def capture(items: Iterable[Binding]) -> list[Binding]:
        return [b for b in items if "capture" in b.modifiers]

    def plain(items: Iterable[Binding]) -> list[Binding]:
        return [b for b in items if "capture" not in b.modifiers]

    order = capture(on_window) + capture(on_document)
    for element in reversed(path[1:]):
        order += capture(on_element.get(element, []))
    at_target = on_element.get(target, [])
    order += capture(at_target) + plain(at_target)  # capture listeners first (DOM, 2021)
    if bubbles:
        for element in path[1:]:
            order += plain(on_element.get(element, []))
        order += plain(on_document) + plain(on_window)
    return order


def event_spec(
    event: str,
    target: int | None,
    current: int | None,
    *,
    key: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `evt` an expression sees: `type`, `key` for keyboard events, `target` and
    `currentTarget` (element handles), `bubbles`."""
    spec: dict[str, Any] = {
        "type": event,
        "target": target,
        "currentTarget": current,
        "bubbles": event not in NON_BUBBLING,
        "isTrusted": True,
    }
    if key is not None:
        spec.update(key=key, code=_code(key), shiftKey=False, ctrlKey=False, altKey=False)
        spec["metaKey"] = False
    if extra:
        spec.update(extra)
    return spec


def _code(key: str) -> str:
    if len(key) == 1 and key.isalpha():
        return f"Key{key.upper()}"
    if len(key) == 1 and key.isdigit():
        return f"Digit{key}"
    return {" ": "Space"}.get(key, key)


# -- running ---------------------------------------------------------------------------------


def run_listener(
    binding: Binding,
    target: Element,
    signals: Mapping[str, Any],
    fields: Fields,
    *,
    key: str | None = None,
    extra: Mapping[str, Any] | None = None,
    computed: Iterable[tuple[Any, str, str]] = (),
) -> Ran:
    """Run one listener as Datastar's `on` plugin does, with `evt` for this event
    (`computed`: the page's `data-computed` signals, computed when read)."""
    host = ElementHost(fields, signals)
    me = host.handle(binding.element.node)
    at = me if target == binding.element else host.handle(target.node)
    current: int | None = me if binding.where == "element" else None
    evt = event_spec(binding.event, at, current, key=key, extra=extra)
    ran = run_expression(
        binding.expression, signals, host, me, evt=evt, arg_names="evt", computed=computed
    )
    ran.prevented = ran.prevented or "prevent" in binding.modifiers
    ran.stopped = ran.stopped or "stop" in binding.modifiers
    if binding.element.tag == "form" and binding.event == "submit":
        ran.prevented = True  # Datastar always prevents a form's submit it listens to
    if "passive" in binding.modifiers:
        ran.prevented = False
    return ran


def run_expression(
    expression: str,
    signals: Mapping[str, Any],
    host: ElementHost,
    el: int | None,
    *,
    evt: Mapping[str, Any] | None = None,
    arg_names: str = "",
    args: Iterable[Any] | None = None,
    computed: Iterable[tuple[Any, str, str]] = (),
) -> Ran:
    """Run an action expression (`data-on`, `data-init`, `data-on-interval`, ...) for the
    element with handle `el`, in one engine batch (`computed`: (element, path, expression)
    of the page's `data-computed` signals, computed when read)."""
    batch = Batch(signals, host)
    for node, path, source in computed:
        batch.define_computed(path, source, host.handle(node))
    outcome = batch.run(expression, el=el, evt=evt, arg_names=arg_names, args=args)
    taken = batch.take()
    return Ran(
        signals=taken.signals,
        requests=taken.requests,
        prevented=outcome.prevented,
        stopped=outcome.stopped,
        error=outcome.error,
        console=taken.console,
        host=host,
    )
