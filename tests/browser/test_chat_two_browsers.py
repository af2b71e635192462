"""The headline check, in real browsers: a line typed in browser A appears live in browser B.

Every user is its own browser context (its own cookies, so its own Via session) running the
page's own Datastar client; waits are on what each page shows (Playwright's `expect`).
"""

from __future__ import annotations

import time

import pytest

from reference_impl.examples import chat, rooms
from vt.browser import BrowserUser, BrowserUsers

DRAFT = "input[data-bind=draft]"
NAME = "input[data-bind=name]"
SEND = "form button"
LOG = "article"
FAN_OUT = 2.0  # seconds: a message reaches every open browser within this


def send_with_enter(user: BrowserUser, text: str) -> None:
    user.type(DRAFT, text)
    user.press(DRAFT, "Enter")


def test_enter_sends_to_every_browser_and_clears_the_draft(vt_browser_users: BrowserUsers) -> None:
    a, b = vt_browser_users.open_many(2)
    a.fill(NAME, "alice")

    started = time.monotonic()
    send_with_enter(a, "hello from A")
    b.expect_text(LOG, "alice: hello from A", timeout=FAN_OUT)
    a.expect_text(LOG, "alice: hello from A", timeout=FAN_OUT)
    a.expect_value(DRAFT, "", timeout=FAN_OUT)
    assert time.monotonic() - started < FAN_OUT + 1.0  # Enter, fan-out and clear, end to end
    b.expect_value(DRAFT, "")  # B's own draft untouched
    b.expect_texts(f"{LOG} p", ["alice: hello from A"])  # once, not twice


def test_the_send_button_sends_to_every_browser(vt_browser_users: BrowserUsers) -> None:
    a, b = vt_browser_users.open_many(2)
    a.type(DRAFT, "clicked, not pressed")
    a.click(SEND)
    b.expect_text(LOG, "Anon: clicked, not pressed", timeout=FAN_OUT)
    a.expect_text(LOG, "Anon: clicked, not pressed", timeout=FAN_OUT)
    a.expect_value(DRAFT, "", timeout=FAN_OUT)


def test_a_user_arriving_later_sees_the_history_in_order(vt_browser_users: BrowserUsers) -> None:
    a, b = vt_browser_users.open_many(2)
    send_with_enter(a, "first")
    b.expect_text(LOG, "first", timeout=FAN_OUT)
    send_with_enter(b, "second")
    a.expect_text(LOG, "second", timeout=FAN_OUT)

    c = vt_browser_users.open("/")
    c.expect_texts(f"{LOG} p", ["Anon: first", "Anon: second"])
    send_with_enter(c, "third")  # and the latecomer is live too
    for user in (a, b, c):
        user.expect_texts(f"{LOG} p", ["Anon: first", "Anon: second", "Anon: third"])


def test_focus_and_a_half_typed_draft_survive_an_arriving_message(
    vt_browser_users: BrowserUsers,
) -> None:
    a, b = vt_browser_users.open_many(2)
    b.type(DRAFT, "half-typ")
    b.expect_focused(DRAFT)

    send_with_enter(a, "interruption")
    b.expect_text(LOG, "interruption", timeout=FAN_OUT)  # the log was morphed under B
    b.expect_value(DRAFT, "half-typ")
    b.expect_focused(DRAFT)

    b.page.keyboard.type("ed")  # typing goes on where it was: focus and caret kept
    b.page.keyboard.press("Enter")
    a.expect_text(LOG, "Anon: half-typed", timeout=FAN_OUT)
    b.expect_value(DRAFT, "", timeout=FAN_OUT)


def test_markup_in_a_message_is_shown_as_text(vt_browser_users: BrowserUsers) -> None:
    a, b = vt_browser_users.open_many(2)
    send_with_enter(a, "<b>bold</b> & <script>x()</script>")
    b.expect_text(LOG, "<b>bold</b> & <script>x()</script>", timeout=FAN_OUT)
    b.expect_count(f"{LOG} b", 0)
    b.expect_count(f"{LOG} script", 0)


@pytest.mark.vt_browser_allow(
    # Datastar reports the stream's end (go_offline cut it), then each retry refused while
    # offline; Chromium reports each refused request. Which of them appear depends on timing.
    r"^vt: connection cut$",
    r"^Failed to fetch$",
    r"^Datastar failed to reach \S+/_sse\?\S+ retrying in \d+ms\.$",
    r"^Failed to load resource: net::ERR_INTERNET_DISCONNECTED$",
)
@pytest.mark.slow  # waits out Datastar's retry backoff (up to 15 s) after the cut
def test_a_browser_back_online_converges_without_a_reload(vt_browser_users: BrowserUsers) -> None:
    a, b = vt_browser_users.open_many(2)
    connects = b.state()["connects"]
    navigations = b.navigations

    assert b.go_offline() == 1  # B's one event stream is cut
    send_with_enter(a, "while you were away")
    a.expect_text(LOG, "while you were away", timeout=FAN_OUT)
    assert "while you were away" not in b.text(LOG)  # nothing can reach B now

    b.go_online()
    b.expect_text(LOG, "while you were away", timeout=15)  # Datastar's retry backs off
    b.settle()
    assert b.state()["connects"] > connects  # a new stream: §5.5.2's fresh render
    assert b.navigations == navigations  # converged without a reload
    b.expect_texts(f"{LOG} p", ["Anon: while you were away"])

    send_with_enter(b, "back")  # the recovered tab acts as well as it listens
    a.expect_text(LOG, "Anon: back", timeout=FAN_OUT)


class TestRooms:
    @pytest.fixture
    def vt_app(self) -> object:
        return rooms.create_app()

    def test_a_message_in_room_a_never_reaches_a_browser_on_room_b(
        self, vt_browser_users: BrowserUsers
    ) -> None:
        in_a = vt_browser_users.open("/rooms/a")
        also_in_a = vt_browser_users.open("/rooms/a")
        in_b = vt_browser_users.open("/rooms/b")

        send_with_enter(in_a, "secret of room a")
        also_in_a.expect_text(LOG, "secret of room a", timeout=FAN_OUT)
        # B's stream is live (it gets its own room's messages) and processed what came after.
        send_with_enter(in_b, "hello room b")
        in_b.expect_text(LOG, "hello room b", timeout=FAN_OUT)
        in_b.settle()

        assert "secret of room a" not in in_b.text("body")
        assert not [e for e in in_b.sse_events() if "secret of room a" in e["data"]]
        also_in_a.expect_no_text(LOG, "hello room b")
        assert in_b.sse_events(), "B's page recorded no stream event at all"


class TestContentSecurityPolicy:
    @pytest.fixture
    def vt_app(self) -> object:
        # The log styles itself inline (`style=` on <article>), which Via's policy blocks
        # (style-src falls back to default-src 'self'): the example allows inline styles.
        return chat.create_app(csp=True, csp_extra=("style-src 'self' 'unsafe-inline'",))

    def test_the_chat_runs_under_its_policy_without_a_violation(
        self, vt_browser_users: BrowserUsers
    ) -> None:
        # Any blocked script or eval would be a console error, and fail the test.
        a, b = vt_browser_users.open_many(2)
        send_with_enter(a, "under a nonce policy")
        b.expect_text(LOG, "Anon: under a nonce policy", timeout=FAN_OUT)
        a.expect_value(DRAFT, "", timeout=FAN_OUT)
