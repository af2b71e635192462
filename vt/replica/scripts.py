"""What Via's pushed scripts mean, recognised from their text (specs/protocol.md §6.4).

Via sends scripts, toasts, redirects and reloads as `<script>` elements appended to `body`;
a browser runs them. The replica cannot run JavaScript, so it classifies them instead: tests
can then assert "a toast saying X", "a redirect to Y" or "a reload".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..js.expr import parse_string
from .dom import Script

__all__ = ["ScriptKind", "classify_script"]

_RELOAD = re.compile(
    r"^\s*(?:try\{)?\s*(?:window\.)?location\.reload\(\)\s*;?\s*(?:\}catch\(e\)\{console\.error\(e\)\};?)?\s*$"
)
_REDIRECT = re.compile(
    r"window\.location(?:\.href)?\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
)
_TOAST = re.compile(r"textContent=(\"(?:[^\"\\]|\\.)*\")")


@dataclass(frozen=True, slots=True)
class ScriptKind:
    """A classified script: `kind` is ``reload``, ``redirect``, ``toast`` or ``script``;
    `value` the redirect URL or the toast text."""

    kind: str
    value: str | None
    script: Script

    def describe(self) -> str:
        """One line for timelines."""
        if self.kind == "script":
            return f"script {' '.join(self.script.text.split())[:80]!r}"
        return f"{self.kind} {self.value!r}" if self.value is not None else self.kind


def classify_script(script: Script) -> ScriptKind:
    """Recognise Via's reload, redirect and toast scripts; anything else is ``script``."""
    text = script.text
    if _RELOAD.match(text):
        return ScriptKind("reload", None, script)
    if "via-toast-root" in text and (match := _TOAST.search(text)):
        return ScriptKind("toast", _js_string(match.group(1)), script)
    if match := _REDIRECT.search(text):
        return ScriptKind("redirect", _js_string(match.group(1)), script)
    return ScriptKind("script", None, script)


def _js_string(literal: str) -> str:
    value = parse_string(literal)
    return value if value is not None else literal[1:-1]
