"""One counter per scope, side by side: tab, session and app (specs/protocol.md §8).

Open it in two tabs of one browser and in a second browser: the tab counter is each tab's
own, the session counter is shared by one browser's tabs, the app counter by everyone.

    python -m reference_impl.examples.scopes --port 3000
"""

from __future__ import annotations

from typing import Any

from reference_impl import App, Composition, Ctx, StateApp, StateSess, StateTab, action, h, on
from reference_impl.serve import demo_app, main_for

__all__ = ["Scopes", "create_app", "main"]


class Scopes(Composition):
    """Three counters, one per scope, each with its own `+` button."""

    tab = StateTab[int]("tab_count", 0)
    sess = StateSess[int]("sess_count", 0)
    app = StateApp[int]("app_count", 0)

    def view(self, ctx: Ctx) -> h.Node:
        rows = [
            ("tab", self.tab.read(ctx), self.inc_tab),
            ("session", self.sess.read(ctx), self.inc_sess),
            ("app", self.app.read(ctx), self.inc_app),
        ]
        return h.main(
            h.h1("Scopes"),
            h.table(
                h.tr(
                    h.th(label),
                    h.td(str(value), id=f"{label}-count"),
                    h.td(h.button("+", on.click(inc), id=f"{label}-inc")),
                )
                for label, value, inc in rows
            ),
        )

    @action("IncTab")
    def inc_tab(self, ctx: Ctx) -> None:
        self.tab.add(ctx, 1)

    @action("IncSess")
    def inc_sess(self, ctx: Ctx) -> None:
        self.sess.add(ctx, 1)

    @action("IncApp")
    def inc_app(self, ctx: Ctx) -> None:
        self.app.add(ctx, 1)


def create_app(**options: Any) -> App:
    """A scopes app; options go to `App`."""
    return demo_app({"/": Scopes}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the scopes demo on 127.0.0.1."""
    main_for(lambda _: create_app(), argv, description="Via scopes (reference runtime)")


if __name__ == "__main__":
    main()
