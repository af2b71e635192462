"""A small reference runtime for Via's wire protocol, in Python (Starlette + uvicorn).

It is the executable form of `specs/protocol.md`, the default server vt runs against, and the
home of the examples (`reference_impl.examples`). The API follows Via's:

    from reference_impl import App, Composition, Ctx, SignalStr, StateApp, action, h, on

    class Counter(Composition):
        count = StateApp("count", 0)

        def view(self, ctx: Ctx) -> h.Node:
            return h.button(h.text(self.count.read(ctx)), on.click(self.inc), id="count")

        @action("Inc")
        def inc(self, ctx: Ctx) -> None:
            self.count.add(ctx, 1)

    app = App(insecure_cookies=True)
    app.mount("/", Counter)
"""

from __future__ import annotations

from . import data, on
from . import html as h
from .app import App
from .compositions import Composition, action
from .options import Options
from .serve import serve
from .state import (
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
)
from .tabs import ActionError, Ctx, Ticker

__all__ = [
    "ActionError",
    "App",
    "Composition",
    "Ctx",
    "Options",
    "Signal",
    "SignalBool",
    "SignalFloat",
    "SignalInt",
    "SignalList",
    "SignalMap",
    "SignalStr",
    "StateApp",
    "StateAppEvents",
    "StateSess",
    "StateTab",
    "Ticker",
    "action",
    "data",
    "h",
    "on",
    "serve",
]
