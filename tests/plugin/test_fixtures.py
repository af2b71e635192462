"""The pytest plugin, black-box: inner pytest runs, in-process (`pytester.runpytest`; the e2e
level runs them again in subprocesses, `--runpytest=subprocess`)."""

from __future__ import annotations

import pytest

import vt
from reference_impl.examples import chat
from vt.pytest.plugin import NO_APP_MESSAGE

CONFTEST = """
import pytest
from reference_impl.examples import chat

@pytest.fixture
def vt_app():
    return chat.create_app()
"""


def test_sync_and_async_clients_drive_the_served_app(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import pytest

        def test_sync(vt_client):
            tab = vt_client.new_session().open("/")
            tab.ready()
            tab.action("Send", draft="hi")
            tab.expect_text("article", "Anon: hi")

        @pytest.mark.anyio
        async def test_async(vt_async_client):
            tab = await vt_async_client.new_session().open("/")
            await tab.ready()
            await tab.action("Send", draft="yo")
            await tab.expect_text("article", "Anon: yo")

        def test_each_test_gets_a_fresh_app(vt_client):
            tab = vt_client.new_session().open("/", connect=False)
            assert tab.select("article p") == []
        """
    )
    result = pytester.runpytest("-p", "no:playwright", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_an_app_or_url_the_test_fails_saying_what_to_do(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VT_BASE_URL", raising=False)
    pytester.makepyfile("def test_x(vt_client):\n    pass\n")
    result = pytester.runpytest("-p", "no:playwright", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{NO_APP_MESSAGE[:60]}*"])


def test_base_url_option_targets_a_running_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_remote(vt_server, vt_client):
            assert vt_server.url.startswith("http://127.0.0.1:")
            tab = vt_client.new_session().open("/")
            tab.ready()
            tab.action("Send", draft="from the inner run")
        """
    )
    with vt.LiveServer(chat.create_app()) as server, vt.Client(server.url) as client:
        result = pytester.runpytest(
            "-p", "no:playwright", "-p", "no:cacheprovider", "--vt-base-url", server.url
        )
        result.assert_outcomes(passed=1)
        # The inner run really talked to this server: its message is in the shared log.
        reader = client.new_session().open("/", connect=False)
        assert reader.text("article") == "Anon: from the inner run"


def test_a_failed_wait_saves_its_transcript_under_vt_output(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        def test_times_out(vt_client):
            tab = vt_client.new_session("carol").open("/")
            tab.ready()
            tab.expect_text("article", "never sent", timeout=0.2)
        """
    )
    out = pytester.path / "artifacts"
    result = pytester.runpytest(
        "-p", "no:playwright", "-p", "no:cacheprovider", "--vt-output", str(out)
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*carol/1 did not show 'never sent' in 'article' within 0.2s*", "*transcript: *"]
    )
    folder = next(out.iterdir())  # one folder for the failed test: its report
    saved = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert saved == [
        "carol-1.html",
        "carol-1.sse",
        "carol-1.timeline.txt",
        "report.html",
        "waits/carol-1.html",  # written by the failed wait itself
        "waits/carol-1.sse",
    ]
    transcript = next(out.rglob("carol-1.sse")).read_bytes()
    assert b": ready" in transcript


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:playwright", "--help")
    result.stdout.fnmatch_lines(
        ["*vt: server-driven UI testing*", "*--vt-base-url*", "*--vt-timeout*", "*--vt-output*"]
    )


def test_the_profile_option_forces_how_pages_are_read(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import pytest
        import vt

        def test_forced(vt_client, vt_client_options):
            assert vt_client_options["profile"] == "datastar"
            tab = vt_client.new_session().open("/")  # Via's chat, read as plain Datastar
            assert tab.profile == "datastar"
            with pytest.raises(vt.UsageError, match="tab.post"):
                tab.action("Send", draft="x")
            assert vt_client.new_session(profile="auto").open("/").profile == "via"
        """
    )
    result = pytester.runpytest(
        "-p", "no:playwright", "-p", "no:cacheprovider", "--vt-profile", "datastar"
    )
    result.assert_outcomes(passed=1)
