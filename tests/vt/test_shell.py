"""vt's I/O shell: the leak check from the last action, failure reports without an artifacts
folder, the separate HTTP timeout, and the sync twin (generated, loop-thread safe)."""

from __future__ import annotations

import inspect
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vt
from tests.vt.apps import Counter, Leaky, Scripted, app_for, signals

Serve = Callable[[Any], str]


# -- the leak check ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_leak_check_fails_on_a_leak_that_arrived_before_it_watched(
    serve: Serve,
) -> None:
    async with vt.AsyncClient(serve(app_for(Leaky)), timeout=3) as client:
        writer, *others = await client.open_tabs(3)
        await writer.action("Note", draft="secret-42")
        await writer.expect_text("#note", "secret-42")
        # The leak is already on the other pages: the natural order of a leak check.
        await client.expect_all(others, "#note", "secret-42")

        with pytest.raises(AssertionError) as info:
            await client.expect_none(others, "secret-42", 0.1)

    message = str(info.value)
    assert "received 'secret-42', which no tab of this group should have." in message
    assert "user2/1" in message


@pytest.mark.anyio
async def test_the_leak_check_reads_stream_bytes_since_the_last_action(serve: Serve) -> None:
    server = Scripted()
    async with vt.AsyncClient(serve(server.app()), timeout=3) as client:
        tab = await client.new_session("u").open("/")
        await tab.ready()
        await tab.action("Poke")
        server.push(signals({"hidden": "secret-9"}))  # in the signals, never on the page
        await tab.expect_signal("hidden", "secret-9")
        assert "secret-9" not in tab.text()

        with pytest.raises(AssertionError, match="received 'secret-9'"):
            await client.expect_none([tab], "secret-9", 0.1)


@pytest.mark.anyio
async def test_the_leak_check_passes_when_nothing_leaked(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        first, second = await client.open_tabs(2)
        await first.action("Inc")
        await first.expect_text("#count", "1")
        await client.expect_none([second], "secret", 0.1)


# -- failure reports -----------------------------------------------------------------------


def _vt_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("vt-artifacts-*")}


@pytest.mark.anyio
async def test_a_failed_wait_without_an_artifacts_folder_saves_nothing(serve: Serve) -> None:
    before = _vt_folders()
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=3) as client:
        tab = await client.new_session("u").open("/")
        await tab.ready()
        with pytest.raises(vt.WaitTimeout) as info:
            await tab.expect_text("#count", "never", timeout=0.1)
        with pytest.raises(vt.UsageError, match="no folder to save into"):
            tab.save_artifacts()
    assert _vt_folders() == before
    message = str(info.value)
    assert "transcript: not saved" in message
    assert "artifacts_dir=" in message
    assert "--vt-output" in message


@pytest.mark.anyio
async def test_the_http_timeout_is_its_own_option(serve: Serve) -> None:
    async with vt.AsyncClient(serve(app_for(Counter)), timeout=7, http_timeout=2) as client:
        assert (client.timeout, client.http_timeout) == (7, 2)
        session = client.new_session()
        assert session.http.timeout.read == 2


# -- the sync twin -------------------------------------------------------------------------

_TWINS = [(vt.AsyncClient, vt.Client), (vt.AsyncSession, vt.Session), (vt.AsyncTab, vt.Tab)]
_RENAMED = {"aclose": "close"}


def _public(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (isinstance(member, property) or inspect.isfunction(member))
    }


@pytest.mark.parametrize(("async_cls", "sync_cls"), _TWINS, ids=lambda c: c.__name__)
def test_every_public_async_member_has_a_sync_twin_with_the_same_signature(
    async_cls: type, sync_cls: type
) -> None:
    members = _public(async_cls)
    assert members, async_cls
    for name, member in members.items():
        twin = getattr(sync_cls, _RENAMED.get(name, name), None)
        assert twin is not None, f"{sync_cls.__name__} has no twin of {name}"
        if isinstance(member, property):
            assert not callable(twin) or isinstance(twin, property), name
            continue
        assert callable(twin), name
        want = inspect.signature(member).parameters
        got = inspect.signature(twin).parameters
        assert [(p.name, p.kind, p.default) for p in got.values()] == [
            (p.name, p.kind, p.default) for p in want.values()
        ], name


def test_sync_reads_inside_conditions_run_on_the_loop_thread(serve: Serve) -> None:
    with vt.Client(serve(app_for(Counter)), timeout=3) as client:
        tab = client.new_session("u").open("/")
        tab.ready()
        assert tab.wait_until(lambda: "hello" in tab.text("#greeting"), description="greet")
        tab.action("Inc")
        # A condition that reads the sync tab (properties and methods) inside the wait.
        tab.expect_event(
            lambda item: (
                tab.select_one("#count") is not None
                and tab.text("#count") == "1"
                and tab.signals["greeting"] == "hello"
            ),
            description="see the count and the greeting",
            since=0,
        )
        with pytest.raises(vt.UsageError, match="cannot run inside the event loop"):
            tab.wait_until(lambda: tab.ready(), description="block the loop")


def test_sync_elements_are_snapshots_of_their_subtree(serve: Serve) -> None:
    with vt.Client(serve(app_for(Counter)), timeout=3) as client:
        tab = client.new_session("u").open("/")
        tab.ready()
        (count,) = tab.select("#count")
        assert count.text == "0"
        tab.action("Inc")
        tab.expect_text("#count", "1")
        assert count.text == "0"  # the snapshot does not follow the loop's tree
        assert count.parent is None  # the subtree alone, not a copy of the document
        assert isinstance(tab.fork(), vt.Tab)
        assert all(isinstance(t, vt.Tab) for t in tab.session.tabs)


# -- the plugin's two deadlines --------------------------------------------------------------


def test_the_plugin_passes_both_deadlines_through(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\n"
        "from reference_impl.examples import chat\n\n"
        "@pytest.fixture\n"
        "def vt_app():\n"
        "    return chat.create_app()\n"
    )
    pytester.makepyfile(
        """
        import pytest

        def test_sync(vt_client):
            assert (vt_client.timeout, vt_client.http_timeout) == (7, 2)

        @pytest.mark.anyio
        async def test_async(vt_async_client):
            assert (vt_async_client.timeout, vt_async_client.http_timeout) == (7, 2)
        """
    )
    result = pytester.runpytest(
        "-p", "no:playwright", "-p", "no:cacheprovider", "--vt-timeout=7", "--vt-http-timeout=2"
    )
    result.assert_outcomes(passed=2)
    help_text = pytester.runpytest("-p", "no:playwright", "--help").stdout.str()
    assert "the wait deadline" in help_text
    assert "--vt-http-timeout" in help_text


# -- the tree cache --------------------------------------------------------------------------


def test_each_thread_has_its_own_fragment_cache() -> None:
    from vt.replica import tree as _tree

    markup = '<div id="t1"><p>same view</p></div>'
    _tree.parse_fragment_shared(markup)
    mine = _tree._templates()
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(_tree._templates()))
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    (theirs,) = seen
    assert theirs is not mine
    assert not theirs  # a second loop thread starts empty: no tree shared across threads
