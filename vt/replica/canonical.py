"""`canonical_html`: a normal form of HTML for comparing pages structurally (§7).

Used by the codec cases, goldens and the browser parity test: two fragments a browser would
build the same visible tree from compare equal.
"""

from __future__ import annotations

import re

from .tree import (
    HtmlElement,
    attributes,
    escape_attr,
    escape_text,
    is_element,
    parse_document,
    parse_fragment,
)

__all__ = ["canonical_children", "canonical_html"]


def canonical_html(markup: str) -> str:
    """A normal form of an HTML fragment for structural comparison.

    Attributes are sorted, runs of whitespace in text collapse to one space, text that is only
    whitespace and comments are dropped, and every element is closed explicitly; inside
    `<pre>` and `<textarea>` text is kept as written. Two
    fragments a browser would build the same visible tree from compare equal. A whole
    document (`<html>…`) is reduced to its body's content.
    """
    if re.search(r"<(html|body)[\s>]", markup, re.IGNORECASE):
        root = parse_document(markup)
        body = root.find("body")
        return "" if body is None else canonical_children(body)
    return canonical_children(parse_fragment(markup))


_WHITESPACE = re.compile(r"\s+")

# Elements whose whitespace is content (the browser renders it as written).
_VERBATIM = frozenset({"pre", "textarea", "listing", "plaintext"})


def canonical_children(el: HtmlElement, verbatim: bool = False) -> str:
    """The children of `el` in `canonical_html` form (`verbatim`: inside `<pre>`)."""
    verbatim = verbatim or el.tag in _VERBATIM
    parts: list[str] = []
    _canonical_text(parts, el.text, verbatim)
    for child in el:
        if is_element(child):
            parts.append(_canonical_element(child, verbatim))
        _canonical_text(parts, child.tail, verbatim)
    return "".join(parts)


def _canonical_text(parts: list[str], text: str | None, verbatim: bool) -> None:
    if verbatim and text:
        parts.append(escape_text(text))
    elif text and text.strip():
        parts.append(escape_text(_WHITESPACE.sub(" ", text)))


def _canonical_element(el: HtmlElement, verbatim: bool) -> str:
    attrs = "".join(f' {k}="{escape_attr(v)}"' for k, v in sorted(attributes(el)))
    return f"<{el.tag}{attrs}>{canonical_children(el, verbatim)}</{el.tag}>"
