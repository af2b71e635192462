"""Datastar's attribute grammar (specs/protocol.md §6.5): one reader for every `data-*` name.

A Datastar attribute is `data-<plugin>[:<key>][__<modifier>[.<tag>]...]="<value>"`:
`data-signals:form.user-name__ifmissing="''"`, `data-on:keydown__window="…"`,
`data-bind:my-draft`, `data-text="$greeting"`. This module splits such names, applies the key
casing rules (`__case.camel|kebab|snake|pascal`, each plugin with its default) and turns
dotted signal paths into nested objects. The applier (`vt.replica.patch`), the bindings
(`vt.page.bindings`), the page reader and the display evaluator all read names through it. Pure
functions over strings: no tree, no events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .engine import Batch
from .expr import ExpressionError, load_json

__all__ = [
    "DataAttr",
    "Modifiers",
    "SignalsDecl",
    "is_local",
    "nest",
    "parse_data_attr",
    "parse_modifiers",
    "recase",
    "signals_decls",
    "unflatten",
]

Modifiers = dict[str, tuple[str, ...]]

# Plugins whose key is a signal name: camel-cased unless `__case` says otherwise. The others
# (`on`, `attr`, `class`, `style`) name DOM things and keep their key as written.
_SIGNAL_KEYED = frozenset({"signals", "bind", "computed", "ref", "indicator"})
# Pre-1.0 spellings `data-signals-foo` / `data-bind-foo` that vt keeps reading.
_DASH_KEYED = frozenset({"signals", "bind"})


@dataclass(frozen=True, slots=True)
class DataAttr:
    """One Datastar attribute, read: its plugin, raw key, modifiers and value."""

    name: str
    plugin: str
    key: str
    modifiers: Modifiers
    value: str

    @property
    def cased_key(self) -> str:
        """The key with its casing rule applied: signal keys are camel-cased by default
        (`my-draft` -> `myDraft`), DOM names (`data-on`, `data-class`…) keep their spelling;
        each dot-separated part is cased on its own."""
        default = "camel" if self.plugin in _SIGNAL_KEYED else "kebab"
        case = self.modifiers.get("case", (default,))
        return ".".join(recase(part, case[0] if case else default) for part in self.key.split("."))

    @property
    def path(self) -> tuple[str, ...]:
        """The cased key as a signal path (`form.userName` -> ("form", "userName"))."""
        return tuple(self.cased_key.split("."))


def parse_data_attr(name: str, value: str) -> DataAttr | None:
    """Read an attribute name as Datastar does, or None if it is not a `data-*` attribute."""
    if not name.startswith("data-"):
        return None
    head, _, suffix = name[5:].partition("__")
    plugin, colon, key = head.partition(":")
    if not colon:
        dash_plugin, dash, dash_key = head.partition("-")
        if dash and dash_plugin in _DASH_KEYED:
            plugin, key = dash_plugin, dash_key
    mods = parse_modifiers("__" + suffix if suffix else "")
    return DataAttr(name, plugin, key, mods, value)


def parse_modifiers(suffix: str) -> Modifiers:
    """`__case.kebab__ifmissing` -> {"case": ("kebab",), "ifmissing": ()}."""
    mods: Modifiers = {}
    for part in suffix.split("__")[1:]:
        label, *tags = part.split(".")
        if label:
            mods[label] = tuple(tags)
    return mods


def recase(kebab: str, case: str) -> str:
    """A kebab-case key in another casing, as Datastar's `__case` modifier does."""
    words = [w for w in kebab.split("-") if w]
    if not words or case == "kebab":
        return kebab
    if case == "snake":
        return "_".join(words)
    if case == "pascal":
        return "".join(w[:1].upper() + w[1:] for w in words)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def nest(path: Iterable[str], value: Any) -> dict[str, Any]:
    """A dotted signal path and a value as a merge patch: ("form", "email") -> {"form":
    {"email": value}}."""
    parts = list(path)
    patch: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        patch = {part: patch}
    return patch


def unflatten(patch: Mapping[str, Any]) -> dict[str, Any]:
    """A patch whose keys may be dotted paths (`{"A.step": 1}`) in nested form only, as a
    browser holds signals (§7.3); later keys win, as in an object literal."""
    if not any("." in key for key in patch):
        return dict(patch)
    out: dict[str, Any] = {}
    for key, value in patch.items():
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def is_local(path: str | Iterable[str]) -> bool:
    """True for a local signal: one whose path has a segment starting with `_` (a browser
    never sends it, §6.5)."""
    parts = path.split(".") if isinstance(path, str) else list(path)
    return any(part.startswith("_") for part in parts)


@dataclass(frozen=True, slots=True)
class SignalsDecl:
    """One `data-signals` attribute, read (§6.5): `data-signals="{…}"` merges an object
    (`path` empty); `data-signals:form.user-name="expr"` sets one signal (`path` cased and
    split at dots); `__ifmissing` only fills signals that do not exist yet. The value is an
    expression, evaluated against the signals when the attribute is applied."""

    path: tuple[str, ...]
    expression: str
    only_if_missing: bool

    def patch(self, signals: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The merge patch this attribute applies, given the current signals, and the whole
        store after the expression ran if reading it changed the signals (a signal read
        before it exists is created, empty), else None.

        Raises:
            ExpressionError: the expression throws (or does not compile) in JavaScript, or
                the whole-object form's value is not an object.
        """
        store: dict[str, Any] | None = None
        try:
            value = load_json(self.expression)
        except ValueError:
            batch = Batch(signals)
            outcome = batch.run(self.expression, returns_value=True)
            store = batch.take().signals
            if outcome.error is not None:
                raise ExpressionError(
                    f"data-signals=`{self.expression.strip()[:60]}`: {outcome.error}"
                ) from None
            value = outcome.value
        if self.path:
            return nest(self.path, value), store
        if not isinstance(value, dict):
            raise ExpressionError(
                f"data-signals=`{self.expression.strip()[:60]}` is not an object (Datastar "
                "merges the object a data-signals value evaluates to)"
            )
        return value, store


def signals_decls(attrs: Iterable[tuple[str, str]]) -> list[SignalsDecl]:
    """The `data-signals` attributes among an element's (name, value) pairs, in order."""
    found: list[SignalsDecl] = []
    for name, value in attrs:
        if not name.startswith("data-signals"):
            continue
        attr = parse_data_attr(name, value)
        if attr is None or attr.plugin != "signals":
            continue
        found.append(
            SignalsDecl(attr.path if attr.key else (), value, "ifmissing" in attr.modifiers)
        )
    return found
