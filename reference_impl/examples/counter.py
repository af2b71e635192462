"""The counter: the smallest composition. A tab-scoped count, a step signal bound to an input.

python -m reference_impl.examples.counter --port 3000
"""

from __future__ import annotations

from typing import Any

from reference_impl import App, Composition, Ctx, SignalInt, StateTab, action, h, on
from reference_impl.serve import demo_app, main_for

__all__ = ["Counter", "create_app", "main"]


class Counter(Composition):
    """One counter per tab: `+`/`-` move it by `step` (a client signal)."""

    count = StateTab[int]("count", 0)
    step = SignalInt("step", init=1)

    def view(self, ctx: Ctx) -> h.Node:
        return h.main(
            h.h1("Counter"),
            h.p(h.span(str(self.count.read(ctx)), id="count")),
            h.label("step ", h.input(self.step.bind(), type="number", min="1")),
            h.button("-", on.click(self.dec), id="dec"),
            h.button("+", on.click(self.inc), id="inc"),
        )

    @action("Inc")
    def inc(self, ctx: Ctx) -> None:
        self.count.add(ctx, self.step.read(ctx))

    @action("Dec")
    def dec(self, ctx: Ctx) -> None:
        self.count.add(ctx, -self.step.read(ctx))


def create_app(**options: Any) -> App:
    """A counter app; options go to `App`."""
    return demo_app({"/": Counter}, **options)


def main(argv: list[str] | None = None) -> None:
    """Serve the counter on 127.0.0.1."""
    main_for(lambda _: create_app(), argv, description="Via counter (reference runtime)")


if __name__ == "__main__":
    main()
