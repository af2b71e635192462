"""Make docs/two-browsers.png: two real browsers on the reference chat after a fan-out.

    .venv/bin/python docs/two_browsers.py [OUT.png]

Serves the chat on a free loopback port, opens it in two browser contexts (two sessions),
has each send a line, waits until both pages show both lines, and composes the two pages'
screenshots side by side (in the browser itself, so no imaging library is needed).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import vt
from reference_impl.examples import chat
from vt.browser import BrowserUsers, Chromium

DRAFT = "input[data-bind=draft]"
VIEWPORT = {"width": 560, "height": 250}


def main(out: Path) -> None:
    with (
        vt.LiveServer(chat.create_app()) as server,
        Chromium() as chromium,
        BrowserUsers(chromium, server.url, context_args={"viewport": VIEWPORT}) as users,
    ):
        alice, bob = users.open_many(2)
        alice.fill("input[data-bind=name]", "alice")
        bob.fill("input[data-bind=name]", "bob")
        alice.type(DRAFT, "hello from browser A").press(DRAFT, "Enter")
        bob.expect_text("article", "alice: hello from browser A", timeout=2)
        bob.type(DRAFT, "and back from browser B").press(DRAFT, "Enter")
        for user in (alice, bob):
            user.expect_texts(
                "article p",
                ["alice: hello from browser A", "bob: and back from browser B"],
                timeout=2,
            )
        bob.type(DRAFT, "typing…")  # a half-typed draft, kept across the fan-out
        shots = [base64.b64encode(u.page.screenshot()).decode() for u in (alice, bob)]
        canvas = users.new("canvas").page
        canvas.set_viewport_size(
            {"width": 2 * VIEWPORT["width"] + 60, "height": VIEWPORT["height"] + 70}
        )
        canvas.set_content(_side_by_side(shots))
        canvas.screenshot(path=str(out))


def _side_by_side(shots: list[str]) -> str:
    cells = "".join(
        f'<figure><figcaption>browser {name}</figcaption><img src="data:image/png;base64,{shot}">'
        "</figure>"
        for name, shot in zip(("A (alice)", "B (bob)"), shots, strict=True)
    )
    return (
        "<style>body{margin:0;padding:20px;background:#e5e7eb;display:flex;gap:20px;"
        "font:14px system-ui,sans-serif}figure{margin:0}figcaption{margin-bottom:6px;color:#374151}"
        "img{display:block;border:1px solid #9ca3af;box-shadow:0 2px 8px #0003}</style>" + cells
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("two-browsers.png"))
