"""The browser driver's one wait loop (vt/browser/waits.py): re-checked whenever a page changed,
a deadline, and a timeout that says what the pages show; `expect_none` watches its window."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from reference_impl.examples import rooms
from vt import WaitTimeout
from vt.browser import BrowserUsers

LOG = "article"

PAGE = """<!doctype html><html><body><p id=status>waiting</p><script>
fetch('/stream').then(async (r) => {
  const reader = r.body.getReader();
  for (;;) {
    const {done} = await reader.read();
    if (done) break;
  }
});
</script></body></html>"""


def leaky_app(marker: str) -> Starlette:
    """A page whose stream sends `marker` in a frame (never shown on the page) a moment after
    it opens: the leak arrives while a leak check's window is open."""

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def stream(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b": open\n\n"
            await anyio.sleep(0.3)  # the stimulus: after the test's check has started
            yield f"event: note\ndata: {marker}\n\n".encode()
            await anyio.sleep_forever()

        return StreamingResponse(body(), media_type="text/event-stream")

    no_icon = Route("/favicon.ico", lambda _: Response(status_code=204))
    return Starlette(routes=[Route("/", page), Route("/stream", stream), no_icon])


class TestLeakWindow:
    @pytest.fixture
    def vt_app(self) -> object:
        return leaky_app("secret-7")

    def test_a_leak_arriving_within_the_window_fails_the_check(
        self, vt_browser_users: BrowserUsers
    ) -> None:
        user = vt_browser_users.open("/")
        with pytest.raises(AssertionError, match=r"(?s)'secret-7' reached pages.*in a note event"):
            vt_browser_users.expect_none([user], "secret-7", 3.0)

    def test_nothing_leaked_passes(self, vt_browser_users: BrowserUsers) -> None:
        user = vt_browser_users.open("/")
        vt_browser_users.expect_none([user], "other-secret", 1.0)


class TestTimeouts:
    @pytest.fixture
    def vt_app(self) -> object:
        return rooms.create_app()

    def test_pages_that_never_converge_are_each_shown(self, vt_browser_users: BrowserUsers) -> None:
        in_a = vt_browser_users.open("/rooms/a")
        in_b = vt_browser_users.open("/rooms/b")
        in_a.type("input[data-bind=draft]", "only in a").press("input[data-bind=draft]", "Enter")
        in_a.expect_text(LOG, "only in a")
        with pytest.raises(WaitTimeout) as info:
            vt_browser_users.expect_converged([in_a, in_b], "main", timeout=0.5)
        said = str(info.value)
        assert "did not converge on the same 'main' (§5.4) within 0.5s." in said
        assert "A: '#a all rooms Anon: only in a" in said
        assert "B: '#b all rooms" in said

    def test_a_text_that_never_shows_says_what_the_page_shows(
        self, vt_browser_users: BrowserUsers
    ) -> None:
        user = vt_browser_users.open("/rooms/a")
        with pytest.raises(WaitTimeout) as info:
            user.expect_text("h1", "#b", timeout=0.3)
        said = str(info.value)
        assert "A: did not show '#b' in 'h1' within 0.3s." in said
        assert "now: 'h1' shows ['#a']" in said
        assert "'open': 1" in said  # and the page's request state

    def test_a_gesture_on_nothing_times_out_naming_it(self, vt_browser_users: BrowserUsers) -> None:
        user = vt_browser_users.open("/rooms/a")
        with pytest.raises(WaitTimeout, match=r"A: could not click '#nowhere' within 0.3s"):
            user.click("#nowhere", timeout=0.3)
