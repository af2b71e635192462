"""vt: test server-driven web UIs (Via, Datastar) over the wire.

Spawn sessions and tabs against a live server, act as a user would, and assert on each tab's
typed patch stream and on the page the tab would show after applying it:

    async with vt.AsyncClient(url) as client:
        alice = await client.new_session("alice").open("/")
        readers = await client.open_tabs(50)            # 50 sessions, streams ready
        await alice.type("input[data-bind=draft]", "hello")
        await alice.press("input[data-bind=draft]", "Enter")  # runs its data-on:keydown
        await client.expect_all(readers, "article", "hello")

`vt.Client` is the same API, blocking. The pytest plugin (`vt.pytest.plugin`) provides the
`vt_server`, `vt_client` and `vt_async_client` fixtures; the `vt` command runs scenarios.
"""

from __future__ import annotations

import contextlib

from .client.client import AsyncClient, AsyncSession, ClientOptions
from .client.server import LiveServer
from .client.tab import ActionResult, AsyncTab, ResponseInfo
from .client.timeline import ActionRef, Entry, Timeline
from .errors import (
    BrowserErrors,
    BrowserNotFound,
    CheckFailed,
    ElementNotInteractive,
    GoldenMismatch,
    Leak,
    MalformedEvent,
    MissingTool,
    PageBootstrapError,
    ProtocolError,
    RefusedInBrowser,
    ScenarioError,
    ScenarioFailed,
    ServerFailed,
    UnexpectedEvent,
    UnexpectedResponse,
    UsageError,
    VTError,
    WaitTimeout,
)
from .page.profile import ReadySignal
from .replica.canonical import canonical_html
from .replica.dom import Document, Element
from .replica.patch import ApplyResult, Script
from .replica.replica import Replica
from .replica.scripts import ScriptKind, classify_script
from .replica.signals import Signals, merge_patch
from .scenario.format import (
    Scenario,
    Step,
    bundled_scenarios,
    load_scenario,
    load_scenarios,
    parse_scenario,
)
from .scenario.runner import ScenarioRun, StepTime, run_scenario, scenario_app
from .sync.client import Client, Session, Tab
from .wire.events import (
    Event,
    EventLog,
    PatchElements,
    PatchMode,
    PatchSignals,
    StreamItem,
    UnknownEvent,
    is_ready,
    parse_event,
    read_item,
)
from .wire.sse import Comment, ServerSentEvent, SSEDecoder

__version__ = "0.1.0"

__all__ = [
    "ActionRef",
    "ActionResult",
    "ApplyResult",
    "AsyncClient",
    "AsyncSession",
    "AsyncTab",
    "BrowserErrors",
    "BrowserNotFound",
    "bundled_scenarios",
    "canonical_html",
    "CheckFailed",
    "classify_script",
    "Client",
    "ClientOptions",
    "Comment",
    "Document",
    "Element",
    "ElementNotInteractive",
    "Entry",
    "Event",
    "EventLog",
    "GoldenMismatch",
    "is_ready",
    "Leak",
    "LiveServer",
    "load_scenario",
    "load_scenarios",
    "MalformedEvent",
    "merge_patch",
    "MissingTool",
    "PageBootstrapError",
    "parse_event",
    "parse_scenario",
    "PatchElements",
    "PatchMode",
    "PatchSignals",
    "ProtocolError",
    "read_item",
    "ReadySignal",
    "RefusedInBrowser",
    "Replica",
    "ResponseInfo",
    "run_scenario",
    "Scenario",
    "scenario_app",
    "ScenarioError",
    "ScenarioFailed",
    "ScenarioRun",
    "Script",
    "ScriptKind",
    "ServerFailed",
    "ServerSentEvent",
    "Session",
    "Signals",
    "SSEDecoder",
    "Step",
    "StepTime",
    "StreamItem",
    "Tab",
    "Timeline",
    "UnexpectedEvent",
    "UnexpectedResponse",
    "UnknownEvent",
    "UsageError",
    "VTError",
    "WaitTimeout",
]

# Public names report `vt` as their module, so reprs and tracebacks say `vt.Tab`.
for _name in __all__:
    _obj = globals()[_name]
    with contextlib.suppress(AttributeError, TypeError):  # type aliases keep theirs
        _obj.__module__ = "vt"
del _name, _obj
