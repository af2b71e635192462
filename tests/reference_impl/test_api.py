"""The runtime's Python API and its sans-IO parts, where the wire cannot tell (issue 22: the
mutants of `benchmarks/mutation.py` that break only them): the `h` builder, signal and state
handles, the hub's return values, sessions, the page's scripts and the queue's restore."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from types import SimpleNamespace
from typing import Any

import pytest

from reference_impl import (
    Signal,
    SignalBool,
    SignalFloat,
    SignalInt,
    SignalList,
    SignalMap,
    SignalStr,
    StateApp,
    StateAppEvents,
    StateSess,
    StateTab,
    codec,
    h,
)
from reference_impl.decode import decode_json
from reference_impl.hub import Hub, Reducer, hub_of
from reference_impl.options import Options
from reference_impl.page import beacon_script, render_page
from reference_impl.queue import PatchQueue
from reference_impl.sessions import Session, SessionStore, is_hex64, new_hex64
from reference_impl.sse import patch_elements
from reference_impl.tabs import Ctx

# -- the h builder ------------------------------------------------------------------------------


def test_attributes_bare_empty_and_omitted() -> None:
    node = h.input(h.attr("required"), value="", hidden=None, checked=False, data_x="1")
    assert h.render(node) == '<input required value="" data-x="1">'


def test_children_skip_none_and_booleans_and_go_on() -> None:
    node = h.p(None, "a", False, "b", True, 1, 2.5, ["c", ("d",)])
    assert h.render(node) == "<p>ab12.5cd</p>"


def test_escape_keeps_line_breaks_as_references_but_lf_and_nel() -> None:
    # U+0085 stays raw: HTML reads `&#133;` as U+2026 (a NEL typed in the chat showed as `…`).
    assert h.escape("a\rb\x85c\u2028d\u2029e\nf") == "a&#13;b\x85c&#8232;d&#8233;e\nf"
    assert h.escape("plain") == "plain"


def test_elements_are_split_into_data_lines_at_lf_only() -> None:
    event = patch_elements("<p>a</p>\n<p>b\x85c\u2028</p>", selector="body", mode="append")
    assert event == (
        "event: datastar-patch-elements\ndata: mode append\ndata: selector body\n"
        "data: elements <p>a</p>\ndata: elements <p>b\x85c\u2028</p>\n\n"
    )
    assert patch_elements("", selector="#x", mode="remove") == (
        "event: datastar-patch-elements\ndata: mode remove\ndata: selector #x\n\n"
    )


def test_tags_render_their_name_and_say_it() -> None:
    assert h.render(h.section(h.br(), "x")) == "<section><br>x</section>"
    assert repr(h.div) == "h.div"
    assert str(h.span("s")) == "<span>s</span>"
    assert h.el("my-widget", data_y="2").__html__() == '<my-widget data-y="2"></my-widget>'


def test_unescaped_rendering_is_only_on_request() -> None:
    node = h.p("<b>")
    assert h.render(node) == "<p>&lt;b&gt;</p>"
    assert h.render(node, escape_text=False) == "<p><b></p>"


# -- signals ------------------------------------------------------------------------------------


def test_signal_defaults_and_repr() -> None:
    assert SignalStr("s").initial() == ""
    assert SignalInt("i").initial() == 0
    assert SignalFloat("f").initial() == 0.0
    assert SignalBool("b").initial() is False
    assert SignalList("l").initial() == []
    assert SignalMap("m").initial() == {}
    assert repr(SignalInt("i")) == "Signal('i')"
    assert SignalBool("open").show().value == "$open"
    assert SignalBool("open").show(negate=True).value == "!$open"
    with pytest.raises(TypeError):
        SignalBool("open").show(True)  # type: ignore[call-arg]  # negate is keyword-only


def test_a_signal_key_with_a_local_segment_is_refused() -> None:
    for key in ("_x", "a._b", "a..b", ""):
        with pytest.raises(ValueError, match="browser-only"):
            SignalStr(key)


@pytest.mark.parametrize(
    ("signal", "raw", "expected"),
    [
        (SignalStr("s"), "x", (True, "x")),
        (SignalStr("s"), True, (True, "true")),
        (SignalStr("s"), False, (True, "false")),
        (SignalStr("s"), 3, (True, "3")),
        (SignalStr("s"), 1.5, (True, "1.5")),
        (SignalStr("s"), None, (False, None)),
        (SignalBool("b"), True, (True, True)),
        (SignalBool("b"), " TRUE ", (True, True)),
        (SignalBool("b"), "false", (True, False)),
        (SignalBool("b"), "yes", (False, None)),
        (SignalBool("b"), 1, (False, None)),
        (SignalInt("i"), 4, (True, 4)),
        (SignalInt("i"), "12", (True, 12)),
        (SignalInt("i"), 2.0, (True, 2)),
        (SignalInt("i"), 2.5, (False, None)),
        (SignalInt("i"), -2.5, (False, None)),
        (SignalInt("i"), "abc", (False, None)),
        (SignalInt("i"), True, (False, None)),
        (SignalInt("i"), math.inf, (False, None)),
        (SignalInt("i"), [1], (False, None)),
        (SignalFloat("f"), 2, (True, 2.0)),
        (SignalFloat("f"), "0.25", (True, 0.25)),
        (SignalFloat("f"), math.nan, (False, None)),
        (SignalFloat("f"), False, (False, None)),
        (SignalFloat("f"), "x", (False, None)),
        (SignalList("l"), [1], (True, [1])),
        (SignalList("l"), "[2]", (True, [2])),  # a multipart text field carries JSON
        (SignalList("l"), {"a": 1}, (False, None)),
        (SignalMap("m"), {"a": 1}, (True, {"a": 1})),
        (SignalMap("m"), "[1]", (False, None)),
        (SignalMap("m"), "{no", (False, None)),
    ],
)
def test_coerce_is_best_effort_and_never_raises(signal: Any, raw: Any, expected: Any) -> None:
    ok, value = signal.coerce(raw)
    assert (ok, value) == expected
    assert type(value) is type(expected[1])


def test_a_signal_of_another_kind_takes_nothing() -> None:
    assert Signal("s", set, set).coerce([1]) == (False, None)


def test_deep_json_is_undecodable_never_an_error() -> None:
    assert SignalList("l").coerce("[" * 100_000) == (False, None)
    assert decode_json(b"[" * 100_000) is None  # RecursionError: a 404, never a 500 (§4.2)
    assert decode_json(b'{"via_tab": "x"}') == {"via_tab": "x"}
    assert decode_json(b"[1]") is None


# -- state --------------------------------------------------------------------------------------


class Scope:
    """A `TabScope` that records reads and writes."""

    def __init__(self, hub: Hub[Any], session: Session) -> None:
        self.signals: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.session = session
        self.hub = hub
        self.reads: list[tuple[str, str]] = []
        self.writes: list[tuple[str, str]] = []
        self.marked: list[str] = []

    def note_read(self, scope: str, key: str) -> None:
        self.reads.append((scope, key))

    def note_write(self, scope: str, key: str) -> None:
        self.writes.append((scope, key))

    def mark_signal(self, key: str) -> None:
        self.marked.append(key)


def scope() -> Scope:
    return Scope(Hub(Options()), Session(new_hex64()))


def test_state_ops_each_write_once_and_reads_subscribe() -> None:
    tab = scope()
    flag = StateTab[bool]("flag", False)
    table = StateSess[dict[str, int]]("table", dict)
    shared = StateApp[list[int]]("shared", list)
    flag.toggle(tab)
    table.put(tab, "a", 1)
    table.put(tab, "b", 2)
    table.delete(tab, "a")
    table.delete(tab, "zz")  # absent: no error
    shared.append(tab, 1, 2)
    assert flag.read(tab) is True
    assert table.read(tab) == {"b": 2}
    assert shared.read(tab) == [1, 2]
    assert tab.session.state == {"table": {"b": 2}}
    assert tab.hub.state == {"shared": [1, 2]}
    assert tab.writes == [("tab", "flag")] + [("sess", "table")] * 4 + [("app", "shared")]
    assert tab.reads == [("tab", "flag"), ("sess", "table"), ("app", "shared")]
    assert repr(flag) == "StateTab('flag')"


def test_a_failing_update_changes_nothing() -> None:
    tab = scope()
    count = StateTab[int]("count", 5)

    def boom(value: int) -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        count.update(tab, boom)
    assert count.read(tab) == 5
    assert tab.writes == []


def test_update_async_is_serialised_per_key() -> None:
    tab = scope()
    count = StateApp[int]("n", 0)

    async def slow_add(value: int) -> int:
        await asyncio.sleep(0)  # an await between read and write: no update may be lost
        return value + 1

    async def main() -> None:
        await asyncio.gather(*(count.update_async(tab, slow_add) for _ in range(20)))

    asyncio.run(main())
    assert count.read(tab) == 20
    assert tab.writes == [("app", "n")] * 20


def test_an_event_log_folds_what_it_loads_and_what_is_appended() -> None:
    hub: Hub[Any] = Hub(Options())
    log = StateAppEvents[int, list[int]]("log", list, lambda value, e: [*value, e])
    log.load(hub, [1, 2])
    assert log.value(hub) == [1, 2]
    assert log.events(hub) == [1, 2]
    assert not log.fold_pending(hub)  # nothing new
    hub.event_log("log").events.append(3)
    assert log.fold_pending(hub)
    assert log.value(hub) == [1, 2, 3]
    assert repr(log) == "StateAppEvents('log')"


# -- the hub ------------------------------------------------------------------------------------


class Tab:
    def __init__(self, tab_id: str) -> None:
        self.id = tab_id
        self.session = None
        self.scripts: list[str] = []
        self.signals: dict[str, Any] = {}

    def mark_stale(self) -> None:
        pass

    def exec_script(self, js: str) -> None:
        self.scripts.append(js)

    def notify(self, message: str) -> None:
        self.scripts.append(message)

    def patch_signals(self, signals: dict[str, Any]) -> None:
        self.signals.update(signals)


def test_broadcasts_of_nothing_reach_no_one() -> None:
    hub: Hub[Tab] = Hub(Options())
    tab = Tab("t")
    hub.register(tab, ())
    assert hub.broadcast("") == 0
    assert hub.broadcast_signals({}) == 0
    assert tab.scripts == []
    assert tab.signals == {}
    assert hub.broadcast("x()") == 1
    assert hub.broadcast_notify("hi") == 1
    assert tab.scripts == ["x()", "hi"]


def test_a_reducer_is_a_frozen_value() -> None:
    reducer = Reducer(list, lambda value, event: [*value, event])
    with pytest.raises(dataclasses.FrozenInstanceError):
        reducer.fold = print  # type: ignore[misc]
    assert reducer == Reducer(reducer.initial, reducer.fold)
    assert hash(reducer) == hash(Reducer(reducer.initial, reducer.fold))


def test_hub_of_and_the_tab_cap() -> None:
    hub: Hub[Tab] = Hub(Options(max_contexts=2))

    class Owner:
        def __init__(self, hub: Hub[Any]) -> None:
            self.hub = hub

    assert hub_of(hub) is hub
    assert hub_of(Owner(hub)) is hub
    hub.register(Tab("a"), ())
    assert not hub.at_tab_capacity()
    hub.register(Tab("b"), ())
    assert hub.at_tab_capacity()
    hub.register(Tab("c"), ())  # past the cap (pages loading at once): still at capacity
    assert hub.at_tab_capacity()
    assert not Hub(Options()).at_tab_capacity()  # 0: no cap


def test_reindex_drops_keys_no_tab_reads() -> None:
    hub: Hub[Tab] = Hub(Options())
    a, b = Tab("a"), Tab("b")
    hub.register(a, [("app", "k")])
    hub.register(b, [("app", "k")])
    hub.reindex(a, [("app", "k")], [])
    assert hub.subscribers == {("app", "k"): {b}}
    hub.unregister(b, [("app", "k")])
    assert hub.subscribers == {}
    assert hub.tabs == {"a": a}


# -- sessions, the page, the queue ----------------------------------------------------------------


def test_session_ids_and_the_sweep() -> None:
    assert is_hex64(new_hex64())
    assert not is_hex64(new_hex64()[:-1])
    store = SessionStore()
    old, new = store.create(), store.create("a" * 64)
    old.last_seen, new.last_seen = 99.9, 150.0
    assert store.sweep(ttl=60, now=160.0) == [old]  # idle 60.1 s goes, 10 s stays
    assert store.sweep(ttl=10, now=160.0) == []
    assert store.sweep(ttl=9.9, now=160.0) == [new]
    assert len(store) == 0
    assert store.get(None) is None


def test_the_beacon_script_names_its_tab_as_a_javascript_string() -> None:
    script = beacon_script("/a_b'c\\d<\u2028\n")
    assert script == (
        "window.addEventListener('beforeunload',()=>navigator.sendBeacon('/_sse/close',"
        "'/a_b\\'c\\\\d\\u003c\\u2028\\u000a'))"
    )
    # JSON reads the same escapes a JavaScript string literal does (once ' is \u0027).
    literal = script.split("'/_sse/close',", 1)[1][:-2].replace("\\'", "\\u0027")
    assert json.loads('"' + literal[1:-1] + '"') == "/a_b'c\\d<\u2028\n"


def test_the_page_carries_what_its_options_ask_for() -> None:
    full = render_page(
        title="T", seed_json="{}", tab_id="/_x", view_html="<div></div>", reconnect_manager=True
    )
    assert "__viaRC" in full  # the reconnect manager, when asked for
    assert '<html lang="' not in full
    bare = render_page(
        title="T",
        seed_json="{}",
        tab_id="/_x",
        view_html="<div></div>",
        reconnect_manager=False,
        lang="en",
        description="d",
    )
    assert "__viaRC" not in bare
    assert '<html lang="en">' in bare
    assert '<meta name="description" content="d">' in bare


def test_restore_puts_back_a_render_and_a_redirect_only_when_none_is_newer() -> None:
    queue = PatchQueue(render="r1", redirect="/a")
    taken = queue.take()
    queue.restore(taken)
    assert (queue.render, queue.redirect) == ("r1", "/a")
    taken = queue.take()
    queue.render, queue.redirect = "r2", "/b"
    queue.restore(taken)
    assert (queue.render, queue.redirect) == ("r2", "/b")
    assert PatchQueue(elements=["e"])
    assert PatchQueue(redirect="/x")
    assert not PatchQueue()


# -- what a cluster node adds (specs/cluster.md), sans I/O ---------------------------------------


def test_shared_state_declares_its_type_for_the_backplane_and_tab_state_does_not() -> None:
    class Holder:
        count = StateSess[int]("codec_count", 0)
        mine = StateTab[int]("codec_mine", 0)
        shared = StateApp[list[str]]("codec_shared", list)

    assert Holder.count.key == "codec_count"
    assert codec.registered_type("sess", "codec_count") is int
    assert codec.registered_type("app", "codec_shared") == list[str]
    assert codec.registered_type("tab", "codec_mine") is Any


class Replicator:
    """Records what a cluster node would stage for the backplane."""

    def __init__(self) -> None:
        self.staged: list[tuple[str, str]] = []

    def stage_update(self, scope: str, key: str, session: Any, fn: Any, fresh: Any) -> str:
        self.staged.append((scope, key))
        return f"commit {scope} {key}"


class Staging(Scope):
    def __init__(self) -> None:
        super().__init__(Hub(Options()), Session(new_hex64()))
        self.commits: list[Any] = []

    def stage(self, commit: Any) -> None:
        self.commits.append(commit)


def test_shared_writes_are_staged_for_the_backplane_and_tab_writes_are_not() -> None:
    tab = Staging()
    replicator = Replicator()
    tab.hub.replicator = replicator  # type: ignore[assignment]

    StateApp[int]("rep_app", 0).add(tab, 1)
    StateSess[int]("rep_sess", 0).add(tab, 1)
    StateTab[int]("rep_tab", 0).add(tab, 1)

    assert replicator.staged == [("app", "rep_app"), ("sess", "rep_sess")]
    assert tab.commits == ["commit app rep_app", "commit sess rep_sess"]


def test_await_commits_waits_for_every_staged_write_and_logs_failures() -> None:
    logged: list[str] = []
    done: list[str] = []

    async def write(name: str) -> None:
        await asyncio.sleep(0)
        done.append(name)

    async def fail() -> None:
        raise RuntimeError("backplane down")

    async def main() -> Any:
        owner = SimpleNamespace(
            id="t", commits=[], hub=SimpleNamespace(log_exception=logged.append)
        )
        owner.commits = [asyncio.ensure_future(write("a")), asyncio.ensure_future(fail())]
        await Ctx.await_commits(owner)  # type: ignore[arg-type]
        return owner

    owner = asyncio.run(main())

    assert done == ["a"]
    assert owner.commits == []
    assert len(logged) == 1
    assert "backplane down" in logged[0]
