"""The page replica: Datastar's morph on lxml, element views, text and canonical HTML."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from vt import Document, PatchElements, PatchMode, canonical_html
from vt.replica.patch import Patcher
from vt.replica.replica import Replica

TAGS = ("div", "p", "span", "ul", "li", "b")
IDS = ("a", "b", "c", "d", "e")


@st.composite
def trees(draw: st.DrawFn, depth: int = 3) -> str:
    """Small HTML fragments with text, classes and (unique) ids from a shared pool."""
    used: set[str] = set()

    def node(level: int) -> str:
        if level == 0 or draw(st.booleans()):
            return draw(st.sampled_from(["", "x", "y z", " "]))
        tag = draw(st.sampled_from(TAGS))
        attrs = ""
        element_id = draw(st.none() | st.sampled_from(IDS))
        if element_id is not None and element_id not in used:
            used.add(element_id)
            attrs += f' id="{element_id}"'
        if draw(st.booleans()):
            attrs += f' class="{draw(st.sampled_from(["k", "m"]))}"'
        children = "".join(node(level - 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{tag}{attrs}>{children}</{tag}>"

    return "".join(node(depth) for _ in range(draw(st.integers(1, 3))))


# Each property runs on a sample in the default level and on the full count in `slow`.
QUICK, FULL = 0.2, 1.0  # of each property's example count


def _morph_gives_the_new_markup_when_nothing_opts_out(
    old: str, new: str, node_by_node: bool
) -> None:
    # Node by node (Datastar's algorithm) and by result (the fast path) must agree.
    replica = Replica.from_html(f'<div id="root">{old}</div><p id="after">after</p>')
    replica.node_by_node = node_by_node
    result = replica.apply(PatchElements(f'<div id="root">{new}</div>'))
    assert result.errors == []
    assert replica.document.canonical() == canonical_html(
        f'<div id="root">{new}</div><p id="after">after</p>'
    )


def _inner_morph_gives_the_new_children(old: str, new: str, node_by_node: bool) -> None:
    replica = Replica.from_html(f'<section class="s">{old}</section>')
    replica.node_by_node = node_by_node
    replica.apply(PatchElements(new, selector="section", mode=PatchMode.INNER))
    assert replica.document.canonical() == canonical_html(f'<section class="s">{new}</section>')


def _morph_property(check: Callable[[str, str, bool], None], examples: int) -> Any:
    return settings(max_examples=examples, deadline=None)(
        given(old=trees(), new=trees(), node_by_node=st.booleans())(check)
    )


test_morph_gives_the_new_markup_when_nothing_opts_out = _morph_property(
    _morph_gives_the_new_markup_when_nothing_opts_out, round(300 * QUICK)
)
test_morph_gives_the_new_markup_when_nothing_opts_out_full = pytest.mark.slow(
    _morph_property(_morph_gives_the_new_markup_when_nothing_opts_out, round(300 * FULL))
)
test_inner_morph_gives_the_new_children = _morph_property(
    _inner_morph_gives_the_new_children, round(200 * QUICK)
)
test_inner_morph_gives_the_new_children_full = pytest.mark.slow(
    _morph_property(_inner_morph_gives_the_new_children, round(200 * FULL))
)


def test_a_morph_keeps_the_target_element() -> None:
    document = Document.parse('<div id="t" class="a"><p>old</p></div>')
    patcher = Patcher(document)
    target = document.get_by_id("t")
    assert target is not None
    patcher.apply(PatchElements('<div id="t" class="b"><p>new</p></div>'))
    assert target.text == "new"
    assert target.get("class") == "b"


def test_node_by_node_morph_updates_matched_elements_in_place() -> None:
    document = Document.parse('<ul id="l"><li id="a">A</li><li id="b">B</li></ul>')
    patcher = Patcher(document)
    patcher.node_by_node = True
    a = document.get_by_id("a")
    b = document.get_by_id("b")
    assert a is not None
    assert b is not None

    patcher.apply(PatchElements('<ul id="l"><li id="b">B2</li><li id="a">A2</li></ul>'))

    # The views follow the elements: they were moved and updated, not recreated.
    assert (a.text, b.text) == ("A2", "B2")
    assert [li.id for li in document.select("li")] == ["b", "a"]
    assert a.parent is not None
    assert a.parent.id == "l"


def test_replace_mode_recreates_the_element() -> None:
    document = Document.parse('<div id="x">old</div>')
    patcher = Patcher(document)
    old = document.get_by_id("x")
    assert old is not None

    patcher.apply(PatchElements('<div id="x">new</div>', mode=PatchMode.REPLACE))

    assert old.text == "old"  # the old view shows the detached element
    assert old.parent is None
    assert document.text("#x") == "new"


def test_whole_document_patch_morphs_head_and_body() -> None:
    document = Document.parse("<html><head><title>a</title></head><body><p>a</p></body></html>")
    patcher = Patcher(document)
    result = patcher.apply(
        PatchElements("<html><head><title>b</title></head><body><p>b</p></body></html>")
    )
    assert result.errors == []
    assert document.text("title") == "b"
    assert document.canonical() == "<p>b</p>"


def test_text_reads_like_a_reader_sees_it() -> None:
    document = Document.parse(
        "<body><article><p><strong>alice: </strong>hi  there</p><p>b</p>"
        "<script>var x</script></article></body>"
    )
    assert document.text("article") == "alice: hi there b"
    assert [p.text for p in document.select("article p")] == ["alice: hi there", "b"]


def test_element_closest_and_contains() -> None:
    document = Document.parse('<form id="f"><div><input id="i"></div></form><p id="p"></p>')
    field = document.get_by_id("i")
    form = document.get_by_id("f")
    assert field is not None
    assert form is not None
    assert field.closest("form") == form
    assert field.closest("p") is None
    assert form.contains(field)
    assert not field.contains(form)


def test_canonical_html_ignores_attribute_order_and_whitespace_runs() -> None:
    a = canonical_html('<div  b="2" a="1">\n  hello   world \n<br>\n</div>')
    b = canonical_html('<div a="1" b="2"> hello world <br/></div>')
    assert a == b == '<div a="1" b="2"> hello world <br></br></div>'
    assert canonical_html("<pre>a\n\n b</pre>") != canonical_html("<pre>a\n b</pre>")
    assert canonical_html("<p>a</p>") != canonical_html("<p>b</p>")
    assert canonical_html("<p><b>a:</b> b</p>") != canonical_html("<p><b>a:</b>b</p>")


def test_page_data_effect_self_removal_runs_on_load() -> None:
    document = Document.parse('<body><div data-effect="el.remove()">gone</div><p>kept</p></body>')
    assert document.canonical() == "<p>kept</p>"


def test_tabs_given_the_same_view_share_its_parse_but_not_its_tree() -> None:
    # A fan-out sends each tab the same markup in its own container; the replica parses it
    # once and copies it: each tab still gets its own id and a tree of its own.
    view = '<main><h1>Room</h1><p class="m">hello</p></main>'
    docs = {
        tab: Document.parse(f'<body><div id="{tab}">old</div></body>') for tab in ("/_a", "/_b")
    }
    for tab, doc in docs.items():
        Patcher(doc).apply(PatchElements(elements=f'<div id="{tab}">{view}</div>'))

    for tab, doc in docs.items():
        expected = Document.parse(f'<body><div id="{tab}">{view}</div></body>')
        assert doc.canonical() == expected.canonical()
    first = docs["/_a"].select_one("p")
    assert first is not None
    Patcher(docs["/_a"]).apply(
        PatchElements(elements='<p class="m" id="x">changed</p>', selector="p")
    )
    assert docs["/_b"].text("p") == "hello"


@settings(max_examples=100, deadline=None)
@given(tree=trees(), element_id=st.sampled_from(["t1", "t/2", "{x}_3"]))
def test_a_shared_parse_equals_a_direct_parse(tree: str, element_id: str) -> None:
    from vt.replica.tree import parse_fragment, parse_fragment_shared, serialize

    markup = f'<section id="{element_id}">{tree}</section>{tree}'
    shared = parse_fragment_shared(markup)
    again = parse_fragment_shared(markup)  # the second makes the shared parse
    third = parse_fragment_shared(markup)  # and the third is a copy of it
    direct = parse_fragment(markup)
    assert serialize(shared) == serialize(direct) == serialize(again) == serialize(third)
    assert len({id(shared), id(again), id(third)}) == 3


def test_a_contains_selector_keeps_working_after_other_xpath_work() -> None:
    # lxml compiles `:contains()` to a call of its own XPath extension function; libxml2
    # caches that function's namespace URI in the compiled expression on its first use, as a
    # pointer into the evaluation's namespace table, which lxml frees afterwards. A compiled
    # selector used again once that memory was reused (other XPath work, other threads)
    # calls "{}lower-case" (XPathFunctionError) or decodes garbage. vt's sync API selects
    # in its loop's thread, a scenario run in-process in another.
    selector = '#c:contains("-"), p:contains("Ab")'
    page = Document.parse('<html><body><p id="c">-15</p><p>ab</p></body></html>')
    results: dict[str, object] = {}

    def select(label: str) -> None:
        try:
            results[label] = [el.text for el in page.select(selector)]
        except Exception as exc:  # the failure to report, whatever lxml raises
            results[label] = repr(exc)

    select("first")
    churn = [etree.XPath(f"//n{i}:x", namespaces={f"n{i}": f"urn:vt:{i}" * 4}) for i in range(500)]
    assert len(churn) == 500
    worker = threading.Thread(target=select, args=("another thread",))
    worker.start()
    worker.join(timeout=10)
    select("again")
    expected = ["-15", "ab"]
    assert results == {"first": expected, "another thread": expected, "again": expected}
