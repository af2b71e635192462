"""The replica shows what a browser shows: each case is the smallest stream or page where vt
once differed from Datastar 1.0 in Chromium (specs/protocol.md §5-§7)."""

from __future__ import annotations

import random
import time

import pytest

from vt import Replica, canonical_html
from vt.errors import UsageError
from vt.js.attrs import parse_data_attr, unflatten
from vt.page.bindings import bind_path, missing_binding
from vt.replica.dom import Document
from vt.replica.signals import reject_local
from vt.wire.events import PatchElements, PatchMode
from vt.wire.sse import SSEDecoder


def feed(replica: Replica, stream: bytes) -> Replica:
    """Decode `stream` and let the replica read every item, as a tab does."""
    decoder = SSEDecoder()
    for item in decoder.feed(stream) + decoder.close():
        replica.receive(item)
    return replica


def elements(payload: str, selector: str | None = None, mode: str = "outer", **extra: str) -> bytes:
    lines = ["event: datastar-patch-elements"]
    if selector is not None:
        lines.append(f"data: selector {selector}")
    if mode != "outer":
        lines.append(f"data: mode {mode}")
    lines.extend(f"data: {key} {value}" for key, value in extra.items())
    lines.extend(f"data: elements {line}" for line in payload.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def signals(text: str, only_if_missing: bool = False) -> bytes:
    extra = "data: onlyIfMissing true\n" if only_if_missing else ""
    return f"event: datastar-patch-signals\n{extra}data: signals {text}\n\n".encode()


def body(replica: Replica) -> str:
    return replica.document.canonical()


# -- targets and positions (§7.1, §7.2) --------------------------------------------------------


def test_an_id_patched_again_after_its_element_was_replaced_is_found() -> None:
    replica = Replica.from_html('<div id="box"><p id="a">1</p></div>')
    feed(replica, elements('<p id="a">2</p>'))  # cached by id
    feed(replica, elements('<div id="box"><p id="a">3</p></div>', mode="replace"))
    feed(replica, elements('<p id="a">4</p>'))
    assert body(replica) == canonical_html('<div id="box"><p id="a">4</p></div>')
    assert replica.console == []


def test_an_id_removed_then_patched_is_logged_not_applied_to_the_detached_element() -> None:
    replica = Replica.from_html('<p id="a">1</p>')
    feed(replica, elements('<p id="a">2</p>'))
    feed(replica, elements("", selector="#a", mode="remove"))
    feed(replica, elements('<p id="a">3</p>'))
    assert body(replica) == ""
    assert replica.console
    assert "PatchElementsNoTargetsFound" in replica.console[-1]


def test_prepend_goes_before_the_targets_leading_text() -> None:
    replica = feed(
        Replica.from_html('<div id="t">text<b>b</b></div>'), elements("<i>i</i>", "#t", "prepend")
    )
    assert replica.document.html("#t") == '<div id="t"><i>i</i>text<b>b</b></div>'


def test_after_goes_right_after_the_target_before_its_tail_text() -> None:
    replica = feed(
        Replica.from_html('<div><b id="t">b</b>tail</div>'), elements("<i>i</i>", "#t", "after")
    )
    assert replica.document.html("div") == '<div><b id="t">b</b><i>i</i>tail</div>'


def test_outer_by_selector_keeps_text_after_the_payload_element() -> None:
    replica = feed(
        Replica.from_html('<div><p id="t">old</p></div>'), elements("<p>new</p> and text", "#t")
    )
    assert replica.document.text("div") == "new and text"


def test_inner_on_an_element_and_its_descendant_patches_both() -> None:
    replica = Replica.from_html('<div class="x"><div class="x">in</div></div>')
    feed(replica, elements('<div class="x">y</div>', ".x", "inner"))
    # The outer match is morphed first and keeps its child (a soft match); that child is the
    # second match, still in the page, and gets the payload inside it too.
    assert body(replica) == canonical_html(
        '<div class="x"><div class="x"><div class="x">y</div></div></div>'
    )


def test_ignore_morph_on_both_sides_by_selector_replaces_with_another_tag() -> None:
    replica = Replica.from_html('<i id="c" data-ignore-morph>old</i>')
    feed(replica, elements('<b id="d" data-ignore-morph>new</b>', selector="#c"))
    assert body(replica) == canonical_html('<b id="d" data-ignore-morph>new</b>')


def test_ignore_morph_on_both_sides_by_id_keeps_the_element() -> None:
    replica = Replica.from_html('<i id="c" data-ignore-morph>old</i>')
    feed(replica, elements('<i id="c" data-ignore-morph>new</i>'))
    assert body(replica) == canonical_html('<i id="c" data-ignore-morph>old</i>')


# -- a patch never hangs or kills the tab (§7.2) ------------------------------------------------


@pytest.mark.parametrize(
    ("page", "stream"),
    [
        (
            '<i id="c" data-ignore-morph></i>',
            elements('<em id="c"><i id="c"></i></em>', "i", "inner"),
        ),
        (
            '<div id="t"></div>',
            elements('<div id="t"><b data-ignore-morph></b></div>', "#t", "inner"),
        ),
    ],
)
def test_a_patch_that_throws_in_a_browser_is_logged_and_the_stream_goes_on(
    page: str, stream: bytes
) -> None:
    replica = Replica.from_html(page)
    started = time.monotonic()
    feed(replica, stream + elements('<p id="after">ok</p>', "body", "append"))
    assert time.monotonic() - started < 5
    assert replica.document.text("#after") == "ok"  # the stream went on
    assert body(replica) == canonical_html(page + '<p id="after">ok</p>')  # unchanged
    assert len(replica.console) == 1
    assert replica.console[0].startswith("Error: the patch failed")


@pytest.mark.parametrize(
    "pages", [pytest.param(400, id="sample"), pytest.param(2000, id="full", marks=pytest.mark.slow)]
)
def test_random_streams_never_raise_and_stay_fast(pages: int) -> None:
    rng = random.Random(7)  # the sample is the full run's first pages
    tags = ["div", "p", "i", "b", "em", "ul", "li"]
    ids = ["a", "b", "c", "t", ""]
    attrs = [
        "",
        " data-ignore-morph",
        ' data-preserve-attr="class"',
        ' class="x"',
        ' data-signals:n="1"',
    ]

    def markup(depth: int) -> str:
        parts = []
        for _ in range(rng.randint(0, 3)):
            if rng.random() < 0.3:
                parts.append(rng.choice(["t", " ", "x y"]))
                continue
            tag, element_id = rng.choice(tags), rng.choice(ids)
            id_attr = f' id="{element_id}"' if element_id else ""
            inner = markup(depth - 1) if depth > 0 else ""
            parts.append(f"<{tag}{id_attr}{rng.choice(attrs)}>{inner}</{tag}>")
        return "".join(parts)

    modes = [m.value for m in PatchMode]
    selectors = [None, "#a", "#t", "i", "div", ".x", "body", "  ", "p, li", "#c b"]
    worst = 0.0
    for _ in range(pages):
        replica = Replica.from_html(markup(3))
        for _ in range(3):
            mode = rng.choice(modes)
            selector = rng.choice(selectors)
            event = PatchElements(markup(3), selector=selector, mode=PatchMode(mode))
            started = time.monotonic()
            replica.apply(event)  # must not raise
            worst = max(worst, time.monotonic() - started)
    assert worst < 1.0, f"one patch took {worst:.3f} s"


# -- the stream as the browser reads it (§5, §6) -----------------------------------------------


def test_a_utf8_bom_at_the_start_of_the_stream_is_stripped() -> None:
    stream = b"\xef\xbb\xbf" + signals('{"a": 1}')
    for cut in range(len(stream)):
        decoder = SSEDecoder()
        items = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) + decoder.close()
        replica = Replica.from_html("")
        for item in items:
            replica.receive(item)
        assert replica.signals.to_dict() == {"a": 1}, cut


def test_integers_beyond_2_53_are_rounded_as_javascript_does() -> None:
    replica = feed(Replica.from_html(""), signals('{"big": 9007199254740993}'))
    assert replica.signals["big"] == 9007199254740992


def test_a_blank_selector_throws_and_changes_nothing() -> None:
    replica = feed(Replica.from_html("<p>a</p>"), elements("<p>b</p>", selector="  ", mode="inner"))
    assert body(replica) == "<p>a</p>"
    assert any("SyntaxError" in m for m in replica.console)
    assert [v.section for v in replica.violations] == ["6.2"]


def test_a_namespace_with_trailing_spaces_throws_and_changes_nothing() -> None:
    replica = feed(
        Replica.from_html('<p id="a">a</p>'), elements('<p id="a">b</p>', namespace="svg ")
    )
    assert body(replica) == canonical_html('<p id="a">a</p>')
    assert any("PatchElementsInvalidNamespace" in m for m in replica.console)


def test_an_object_patched_onto_an_array_merges_into_the_array() -> None:
    replica = feed(
        Replica.from_html(""), signals('{"a": [1, 2]}') + signals('{"a": {"1": 5, "x": 0}}')
    )
    assert replica.signals["a"] == [1, 5]


@pytest.mark.parametrize(
    ("stream", "page", "expected"),
    [
        (elements('<p id="a">b</p>', huh="1"), '<p id="a">a</p>', '<p id="a">b</p>'),
        (
            b'event: datastar-patch-elements\ndata: elements <p id="a">b</p>\ndata: mode\n\n',
            '<p id="a">a</p>',
            '<p id="a">b</p>',
        ),
        (
            elements('<p id="a">b</p>', useViewTransition="yes"),
            '<p id="a">a</p>',
            '<p id="a">b</p>',
        ),
        (
            b'event: datastar-patch-elements\ndata\ndata: elements <p id="a">b</p>\n\n',
            '<p id="a">a</p>',
            '<p id="a">b</p>',
        ),
    ],
)
def test_malformed_events_a_browser_applies_are_applied_and_recorded(
    stream: bytes, page: str, expected: str
) -> None:
    replica = feed(Replica.from_html(page), stream)
    assert body(replica) == canonical_html(expected)
    assert replica.violations
    assert all(v.section == "6.1" for v in replica.violations)
    assert "§6.1" in str(replica.violations[0].error())


def test_js_literal_and_array_signals_are_applied_and_recorded() -> None:
    replica = feed(Replica.from_html(""), signals("{a: 'x'}") + signals("[7]"))
    assert replica.signals.to_dict() == {"a": "x", "0": 7}
    assert [v.section for v in replica.violations] == ["6.3", "6.3"]


# -- display attributes (§6.5) -----------------------------------------------------------------


def test_data_text_shows_what_the_browser_shows() -> None:
    replica = Replica.from_html(
        """<div data-signals="{name: 'Ada'}"><p id="g" data-text="'Hello, ' + $name"></p></div>"""
    )
    assert replica.document.text("#g") == "Hello, Ada"
    feed(replica, signals('{"name": "Grace"}'))
    assert replica.document.text("#g") == "Hello, Grace"


def test_display_attributes_follow_signal_and_element_patches() -> None:
    page = (
        '<div data-signals:n="2">'
        '<p id="s" data-show="$n > 2">many</p>'
        '<b id="c" data-class:big="$n >= 2" data-attr:title="`n=${$n}`"></b>'
        '<i id="k" data-computed:double="$n * 2" data-text="$double"></i></div>'
    )
    replica = Replica.from_html(page)
    assert replica.document.get_by_id("s").get("style") == "display: none;"  # type: ignore[union-attr]
    assert replica.document.get_by_id("c").attrs == {  # type: ignore[union-attr]
        "id": "c",
        "class": "big",
        "title": "n=2",
        "data-class:big": "$n >= 2",
        "data-attr:title": "`n=${$n}`",
    }
    assert replica.document.text("#k") == "4"
    feed(replica, signals('{"n": 3}'))
    assert replica.document.get_by_id("s").get("style") == ""  # type: ignore[union-attr]
    assert replica.document.text("#k") == "6"
    feed(replica, elements('<p id="late" data-text="$n + 1"></p>', "div", "append"))
    assert replica.document.text("#late") == "4"


def test_an_expression_vt_cannot_evaluate_is_reported_by_name() -> None:
    replica = Replica.from_html('<p data-text="el.offsetWidth"></p>')
    assert any("el.offsetWidth" in m and "§6.5" in m for m in replica.console)


def test_data_signals_values_are_expressions() -> None:
    replica = Replica.from_html(
        '<div data-signals:a="1 + 1" data-signals="{b: $a * 10, c: `x${$a}`}"></div>'
    )
    assert replica.signals.to_dict() == {"a": 2, "b": 20, "c": "x2"}


# -- the attribute grammar (§6.5) --------------------------------------------------------------


def test_data_bind_keys_are_camel_cased() -> None:
    document = Document.parse('<input data-bind:my-draft><input data-bind="form.user-name">')
    first, second = document.select("input")
    assert bind_path(first) == ("myDraft",)
    assert bind_path(second) == ("form", "user-name")  # a value is a signal path as written


def test_one_reader_for_names_and_modifiers() -> None:
    attr = parse_data_attr("data-on:my-event__window__debounce.500ms", "x")
    assert attr is not None
    assert (attr.plugin, attr.key, attr.cased_key) == ("on", "my-event", "my-event")
    assert attr.modifiers == {"window": (), "debounce": ("500ms",)}
    snake = parse_data_attr("data-signals:a-b__case.snake", "1")
    assert snake is not None
    assert snake.path == ("a_b",)


def test_flat_dotted_signal_keys_end_up_nested_only() -> None:
    replica = Replica.from_html("", {"A.step": 1, "A.name": "x"})
    assert replica.signals.to_dict() == {"A": {"step": 1, "name": "x"}}
    assert unflatten({"a.b": 1, "c": 2}) == {"a": {"b": 1}, "c": 2}


def test_a_checkbox_click_fires_change_without_data_bind() -> None:
    document = Document.parse('<input id="c" type="checkbox" data-on:change="@post(\'/t\')">')
    box = document.get_by_id("c")
    assert box is not None
    assert "data-on:change" in missing_binding(box, ("click",))
    assert "for other events" in missing_binding(box, ("click",))


def test_an_empty_list_item_keeps_its_end_tag_in_html() -> None:
    # libxml2 writes `<li>` alone for an empty item; parsed again, the next node nests in it.
    document = Document.parse('<ul><li></li><li id="x">x</li></ul>')
    assert document.html("ul") == '<ul><li></li><li id="x">x</li></ul>'


def test_local_signals_are_refused_with_one_message() -> None:
    reject_local({"a": 1, "form.b": 2})
    with pytest.raises(UsageError, match=r"\['_x', 'form._y'\] are local"):
        reject_local({"_x": 1, "form._y": 2, "z": 3})


def test_an_element_added_and_removed_by_one_event_still_creates_the_signals_it_reads() -> None:
    # Datastar reads an added element's attributes once, even if the same event removes it.
    replica = Replica.from_html('<div id="c"><section id="a"></section></div>')
    feed(replica, elements('<p id="a" data-attr:title="!$flag"></p><span id="c"></span>'))
    assert body(replica) == '<span id="c"></span>'
    assert replica.signals.to_dict() == {"flag": ""}
