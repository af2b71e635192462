"""An HTML builder that escapes by default, in the shape of Via's `h` package.

    h.main(h.class_("container"), h.h1("Via Chat"), h.p(h.strong(name, ": "), body))

Positional arguments are children or attributes: a `str` (or number) is escaped text, an `Attr`
is an attribute, a `Node` is a child, `None`/`False` are skipped and iterables are flattened.
Keyword arguments are attributes too (`class_` -> `class`, `data_foo` -> `data-foo`). Only
`raw()` emits markup unescaped.

Text and attribute values escape `& < > " '` and, beyond that, the characters other than LF
that Python's `str.splitlines()` treats as a line break (CR, U+2028, ...): a line splitter
would turn a raw one into a newline, a character reference survives byte for byte. U+0085 is
the exception: HTML maps `&#133;` to U+2026 (`…`), so it is written raw, and `sse.py` splits
payloads into `data:` lines at LF only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Attr",
    "Tag",
    "Child",
    "Element",
    "Node",
    "Raw",
    "Text",
    "attr",
    "class_",
    "el",
    "escape",
    "raw",
    "render",
    "text",
]

_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_SPECIAL_CHARS = "&<>\"'\r\x0b\x0c\x1c\x1d\x1e\u2028\u2029"
_SPECIAL = re.compile(f"[{re.escape(_SPECIAL_CHARS)}]")
_REPLACEMENTS = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&#34;",
    "'": "&#39;",
}


# Every special character's replacement, for one C-level `str.translate` pass.
_TRANSLATION = {ord(c): _REPLACEMENTS.get(c) or f"&#{ord(c)};" for c in _SPECIAL_CHARS}


def escape(value: str) -> str:
    """Escape text for HTML content or a double-quoted attribute value (see module docs)."""
    if not _SPECIAL.search(value):
        return value
    return value.translate(_TRANSLATION)


class Node:
    """Anything that renders to HTML."""

    __slots__ = ()

    def write(self, out: list[str], text: Callable[[str], str] = escape) -> None:
        """Append this node's HTML to `out`; `text` turns a text node's value into markup."""
        raise NotImplementedError

    def __html__(self) -> str:
        return render(self)

    def __str__(self) -> str:
        return render(self)


@dataclass(frozen=True, slots=True)
class Text(Node):
    """Escaped text."""

    value: str

    def write(self, out: list[str], text: Callable[[str], str] = escape) -> None:
        out.append(text(self.value))


@dataclass(frozen=True, slots=True)
class Raw(Node):
    """Markup emitted as is: the one way to bypass escaping."""

    html: str

    def write(self, out: list[str], text: Callable[[str], str] = escape) -> None:
        out.append(self.html)


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute. `value` True renders a bare attribute; None and False omit it."""

    name: str
    value: str | bool | None = True


Child: TypeAlias = "Node | Attr | str | int | float | None | Iterable[Child]"


class Element(Node):
    """An element with attributes and children."""

    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: list[Attr], children: list[Node]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children = children

    def write(self, out: list[str], text: Callable[[str], str] = escape) -> None:
        out.append("<" + self.tag)
        for a in self.attrs:
            if a.value is True:
                out.append(" " + a.name)
            elif a.value:
                out.append(f' {a.name}="{escape(a.value)}"')
            elif a.value == "":
                out.append(f' {a.name}=""')
        out.append(">")
        if self.tag in _VOID:
            return
        for child in self.children:
            child.write(out, text)
        out.append(f"</{self.tag}>")


def _collect(items: Iterable[Child], attrs: list[Attr], children: list[Node]) -> None:
    # The hot loop of every render (each tab re-renders its view on a fan-out, §8): the
    # checks go from the most common item (text) to the least.
    for item in items:
        if isinstance(item, str):
            children.append(Text(item))
        elif isinstance(item, Node):
            children.append(item)
        elif isinstance(item, Attr):
            attrs.append(item)
        elif item is None or item is False or item is True:
            continue
        elif isinstance(item, int | float):
            children.append(Text(str(item)))
        else:
            _collect(item, attrs, children)


def _attr_name(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


def el(tag: str, *items: Child, **attributes: str | bool | None) -> Element:
    """Build any element: `el("my-widget", "text", data_x="1")`."""
    return _element(tag, items, attributes)


def _element(tag: str, items: Iterable[Child], attributes: dict[str, str | bool | None]) -> Element:
    attrs: list[Attr] = []
    children: list[Node] = []
    _collect(items, attrs, children)
    if attributes:
        attrs.extend(Attr(_attr_name(k), v) for k, v in attributes.items())
    return Element(tag, attrs, children)


def attr(name: str, value: str | bool | None = True) -> Attr:
    """An attribute as a positional item: `h.div(attr("data-show", "$open"))`."""
    return Attr(name, value)


def class_(value: str) -> Attr:
    """The `class` attribute."""
    return Attr("class", value)


def text(value: object) -> Text:
    """Escaped text from any value (`str()` of it)."""
    return Text(str(value))


def raw(html: str) -> Raw:
    """Markup emitted without escaping. Never pass user input."""
    return Raw(html)


def render(node: Node, *, escape_text: bool = True) -> str:
    """The HTML of a node tree. `escape_text=False` leaves text unescaped: only for the
    `unescaped-markup` fault of the conformance suite's mutation check, never otherwise."""
    out: list[str] = []
    node.write(out, escape if escape_text else str)
    return "".join(out)


class Tag:
    """A callable that builds one kind of element: `h.div(...)` is `el("div", ...)`."""

    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __call__(self, *items: Child, **attributes: str | bool | None) -> Element:
        return _element(self.tag, items, attributes)

    def __repr__(self) -> str:
        return f"h.{self.tag}"


# One builder per HTML tag (the tags Via's h package has, lower case).
a = Tag("a")
abbr = Tag("abbr")
article = Tag("article")
aside = Tag("aside")
b = Tag("b")
blockquote = Tag("blockquote")
body = Tag("body")
button = Tag("button")
caption = Tag("caption")
code = Tag("code")
dd = Tag("dd")
details = Tag("details")
dialog = Tag("dialog")
div = Tag("div")
dl = Tag("dl")
dt = Tag("dt")
em = Tag("em")
fieldset = Tag("fieldset")
figcaption = Tag("figcaption")
figure = Tag("figure")
footer = Tag("footer")
form = Tag("form")
h1 = Tag("h1")
h2 = Tag("h2")
h3 = Tag("h3")
h4 = Tag("h4")
h5 = Tag("h5")
h6 = Tag("h6")
head = Tag("head")
header = Tag("header")
hgroup = Tag("hgroup")
html = Tag("html")
i = Tag("i")
iframe = Tag("iframe")
label = Tag("label")
legend = Tag("legend")
li = Tag("li")
main = Tag("main")
mark = Tag("mark")
nav = Tag("nav")
ol = Tag("ol")
optgroup = Tag("optgroup")
option = Tag("option")
output = Tag("output")
p = Tag("p")
pre = Tag("pre")
progress = Tag("progress")
section = Tag("section")
select = Tag("select")
small = Tag("small")
span = Tag("span")
strong = Tag("strong")
sub = Tag("sub")
summary = Tag("summary")
sup = Tag("sup")
table = Tag("table")
tbody = Tag("tbody")
td = Tag("td")
template = Tag("template")
textarea = Tag("textarea")
tfoot = Tag("tfoot")
th = Tag("th")
thead = Tag("thead")
time = Tag("time")
title = Tag("title")
tr = Tag("tr")
u = Tag("u")
ul = Tag("ul")
video = Tag("video")
script = Tag("script")
style = Tag("style")
area = Tag("area")
base = Tag("base")
br = Tag("br")
col = Tag("col")
embed = Tag("embed")
hr = Tag("hr")
img = Tag("img")
input = Tag("input")
link = Tag("link")
meta = Tag("meta")
source = Tag("source")
track = Tag("track")
wbr = Tag("wbr")
