"""The hub alone, sans I/O: fan-out rules (specs/protocol.md §8.2), folds, broadcasts (§8.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reference_impl.hub import Hub, Reducer
from reference_impl.options import Options


@dataclass(eq=False)
class FakeTab:
    """A `Member`: records what the hub asked of it."""

    id: str
    session: str
    stale: int = 0
    scripts: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)

    def mark_stale(self) -> None:
        self.stale += 1

    def exec_script(self, js: str) -> None:
        self.scripts.append(js)

    def notify(self, message: str) -> None:
        self.scripts.append(f"toast:{message}")

    def patch_signals(self, signals: dict[str, Any]) -> None:
        self.signals.update(signals)


def hub_with(*tabs: tuple[FakeTab, set[tuple[str, str]]]) -> Hub[FakeTab]:
    hub: Hub[FakeTab] = Hub(Options())
    for tab, keys in tabs:
        hub.register(tab, keys)
    return hub


def test_app_writes_reach_every_other_reader_in_any_session() -> None:
    writer, reader, stranger, bystander = (
        FakeTab("w", "s1"),
        FakeTab("r", "s1"),
        FakeTab("x", "s2"),
        FakeTab("b", "s2"),
    )
    hub = hub_with(
        (writer, {("app", "k")}),
        (reader, {("app", "k")}),
        (stranger, {("app", "k")}),
        (bystander, {("app", "other")}),
    )

    hub.fan_out([("app", "k")], origin=writer)

    assert [t.stale for t in (writer, reader, stranger, bystander)] == [0, 1, 1, 0]


def test_session_writes_reach_only_the_writers_session() -> None:
    writer, sibling, stranger = FakeTab("w", "s1"), FakeTab("s", "s1"), FakeTab("x", "s2")
    hub = hub_with(*((t, {("sess", "k")}) for t in (writer, sibling, stranger)))

    hub.fan_out([("sess", "k")], origin=writer)

    assert [t.stale for t in (writer, sibling, stranger)] == [0, 1, 0]


def test_an_unregistered_tab_gets_nothing() -> None:
    gone, writer = FakeTab("g", "s1"), FakeTab("w", "s2")
    hub = hub_with((gone, {("app", "k")}), (writer, set()))

    hub.unregister(gone, {("app", "k")})
    hub.fan_out([("app", "k")], origin=writer)

    assert gone.stale == 0
    assert hub.subscribers == {}
    assert list(hub.tabs) == ["w"]


def test_reindex_moves_subscriptions() -> None:
    tab, writer = FakeTab("t", "s1"), FakeTab("w", "s1")
    hub = hub_with((tab, {("app", "old")}), (writer, set()))

    hub.reindex(tab, {("app", "old")}, {("app", "new")})
    hub.fan_out([("app", "old")], origin=writer)
    assert tab.stale == 0
    hub.fan_out([("app", "new")], origin=writer)
    assert tab.stale == 1


def test_a_fold_folds_only_new_events_and_reports_whether_there_were_any() -> None:
    hub: Hub[FakeTab] = Hub(Options())
    total = Reducer(int, lambda value, event: value + event)
    hub.event_log("n").events.extend([1, 2, 3])

    assert hub.fold("n", total) is True
    assert hub.folded_value("n", total) == 6
    assert hub.fold("n", total) is False
    hub.event_log("n").events.append(4)
    assert hub.fold("n", total) is True
    assert hub.folded_value("n", total) == 10


def test_broadcasts_reach_every_registered_tab_and_count_them() -> None:
    one, two = FakeTab("1", "s1"), FakeTab("2", "s2")
    hub = hub_with((one, set()), (two, set()))

    assert hub.broadcast("x()") == 2
    assert hub.broadcast("") == 0
    assert hub.broadcast_notify("hi") == 2
    assert hub.broadcast_signals({"all": 1}) == 2
    assert hub.broadcast_signals({}) == 0

    for tab in (one, two):
        assert tab.scripts == ["x()", "toast:hi"]
        assert tab.signals == {"all": 1}


def test_a_session_write_from_another_node_reaches_that_sessions_readers_only() -> None:
    reader, other_key, stranger = FakeTab("r", "s1"), FakeTab("o", "s1"), FakeTab("x", "s2")
    hub = hub_with(
        (reader, {("sess", "k")}), (other_key, {("sess", "j")}), (stranger, {("sess", "k")})
    )

    hub.fan_out_session("s1", "k")

    assert [t.stale for t in (reader, other_key, stranger)] == [1, 0, 0]


def test_the_tab_cap_holds_past_the_small_integers() -> None:
    # 300 > 256: counts past CPython's cached small ints compare by value, not identity.
    hub: Hub[FakeTab] = Hub(Options(max_contexts=300))
    for n in range(299):
        hub.register(FakeTab(str(n), "s"), set())
    assert not hub.at_tab_capacity()

    hub.register(FakeTab("last", "s"), set())

    assert hub.at_tab_capacity()
    assert not Hub(Options()).at_tab_capacity()  # 0: no cap
