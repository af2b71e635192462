"""Normalisers: rewrite the parts of a stream that change from run to run, so goldens compare.

A `Rule` is a regex and its replacement. The named rules cover what every Via server varies:
tab ids, session ids, nonces, ports, timestamps. Tab and session ids are best replaced by
their exact values (known after a run: `known_values`), which names them after the scenario's
tabs; the generic patterns catch the rest. Users add their own (`Rule.parse("regex=>text")`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["NAMED_RULES", "Rule", "known_values", "normalize"]


@dataclass(frozen=True, slots=True)
class Rule:
    """Replace every match of `pattern` with `replacement` (`re.sub` syntax: `\\1` works)."""

    name: str
    pattern: str
    replacement: str

    def apply(self, text: str) -> str:
        """`text` with this rule applied."""
        return re.sub(self.pattern, self.replacement, text)

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """A user rule from `REGEX=>REPLACEMENT` (the CLI's `--normalize`)."""
        pattern, sep, replacement = spec.partition("=>")
        if not sep:
            raise ValueError(f"a normaliser is 'REGEX=>REPLACEMENT', not {spec!r}")
        re.compile(pattern)  # a bad regex fails here, with re's message
        return cls("custom", pattern, replacement)


NAMED_RULES: Mapping[str, Rule] = {
    rule.name: rule
    for rule in (
        # Via's tab ids: `<route>_<random>` in the `via_tab` signal and in ids derived from it.
        Rule("tab-ids", r'("via_tab"\s*:\s*")[^"]*(")', r"\1<tab-id>\2"),
        Rule("session-ids", r"(via_session=)[A-Za-z0-9_\-.]+", r"\1<session-id>"),
        Rule("nonces", r'(nonce=["\']?)[A-Za-z0-9+/=_\-]+', r"\1<nonce>"),
        Rule("ports", r"\b(127\.0\.0\.1|localhost|\[::1\]):\d+", r"\1:<port>"),
        Rule(
            "timestamps",
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b"
            r"|\b1[6-9]\d{8}(\d{3})?(\.\d+)?\b",
            "<time>",
        ),
    )
}
"""The named normalisers, applied in this order, after the exact values of a run."""


def known_values(values: Mapping[str, str]) -> list[Rule]:
    """Rules replacing each exact value (a tab id, a session cookie) by its label, longest
    first so that one value inside another is replaced whole."""
    pairs = sorted(((v, k) for k, v in values.items() if v), key=lambda p: -len(p[0]))
    return [Rule(f"value {label}", re.escape(value), label) for value, label in pairs]


def normalize(
    text: str,
    *,
    values: Mapping[str, str] | None = None,
    named: Iterable[str] | None = None,
    custom: Sequence[Rule] = (),
) -> str:
    """`text` with exact `values` (label -> value) replaced by their labels, then the `named`
    rules (all of `NAMED_RULES` when None), then the user's `custom` ones."""
    rules = known_values(values or {})
    for name in NAMED_RULES if named is None else named:
        if name not in NAMED_RULES:
            raise ValueError(f"no normaliser named {name!r}; known: {', '.join(NAMED_RULES)}")
        rules.append(NAMED_RULES[name])
    rules.extend(custom)
    for rule in rules:
        text = rule.apply(text)
    return text
