"""The HTML builder and the Datastar attribute helpers (specs/protocol.md §6.5)."""

from __future__ import annotations

from reference_impl import SignalBool, SignalStr, action, data, h, on


class Form:
    @action("Save")
    def save(self, ctx: object) -> None:
        pass


def test_text_and_attributes_are_escaped() -> None:
    node = h.p("<b>\"hi\" & 'bye'</b>\u2028", title='a"b<c>', data_x="1")

    assert h.render(node) == (
        '<p title="a&#34;b&lt;c&gt;" data-x="1">'
        "&lt;b&gt;&#34;hi&#34; &amp; &#39;bye&#39;&lt;/b&gt;&#8232;</p>"
    )


def test_void_elements_booleans_and_raw() -> None:
    node = h.div(h.input(type="checkbox", checked=True, disabled=False), None, h.raw("<hr>"))

    assert h.render(node) == '<div><input type="checkbox" checked><hr></div>'


def test_action_bindings_use_datastar_1_modifiers() -> None:
    save = Form().save
    rendered = [
        h.render(h.button(on.click(save))),
        h.render(h.input(on.key("Enter", save))),
        h.render(h.input(on.event("input", save, debounce="200ms"))),
        h.render(h.form(on.event("submit", save, prevent=True, throttle="1s"))),
        h.render(h.button(on.click(save, confirm="Sure?"))),
    ]

    assert rendered == [
        '<button data-on:click="@post(&#39;/_action/Save&#39;)"></button>',
        '<input data-on:keydown="evt.key===&#39;Enter&#39;&amp;&amp;'
        '@post(&#39;/_action/Save&#39;)">',
        '<input data-on:input__debounce.200ms="@post(&#39;/_action/Save&#39;)">',
        '<form data-on:submit__prevent__throttle.1s="@post(&#39;/_action/Save&#39;)"></form>',
        '<button data-on:click="confirm(&#34;Sure?&#34;)&amp;&amp;@post(&#39;/_action/Save&#39;)">'
        "</button>",
    ]


def test_signal_helpers() -> None:
    name = SignalStr("form.name")
    open_ = SignalBool("open")

    node = h.div(
        name.bind(),
        name.text(),
        open_.show(negate=True),
        open_.class_("active"),
        name.attr("title"),
        name.style("color"),
        data.computed("upper", "$form.name.toUpperCase()"),
        data.local("draft", "x"),
    )

    assert h.render(node) == (
        '<div data-bind="form.name" data-text="$form.name" data-show="!$open" '
        'data-class:active="$open" data-attr:title="$form.name" data-style:color="$form.name" '
        'data-computed:upper="$form.name.toUpperCase()" data-signals="{_draft:&#34;x&#34;}"></div>'
    )


def test_text_and_raw_nodes_are_hashable_values() -> None:
    # Frozen dataclasses: equal by value and hashable, so a view may keep them in sets or as
    # keys (a mutable dataclass with eq is unhashable).
    text, raw = h.text("a"), h.raw("<b>")

    assert {text, h.text("a"), raw, h.raw("<b>")} == {text, raw}
