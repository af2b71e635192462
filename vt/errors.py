"""Every error vt raises, in one tree: catch `vt.VTError` for all of them.

```
VTError                           the base of every exception vt raises on purpose
├── ProtocolError                 the server broke specs/protocol.md (names the §, shows bytes)
│   ├── MalformedEvent            an SSE event vt cannot read as a Datastar/Via event
│   ├── PageBootstrapError        the page GET lacks what a tab needs (tab id, seed)
│   └── UnexpectedResponse        wrong status or content type, or a body that never came
├── UsageError                    the caller misused vt (closed client, bad argument)
│   └── RefusedInBrowser          a scenario step no person can do in a browser
├── ScenarioError                 a scenario file breaks specs/scenario-format.md
├── ElementNotInteractive         click/press/type on an element that has no such binding
├── BrowserNotFound               no Chromium to launch (also a RuntimeError)
├── MissingTool                   no nats-server or toxiproxy-server (also a RuntimeError)
├── ServerFailed                  a server or cluster process did not start (also a RuntimeError)
├── WaitTimeout                   a wait's condition did not hold in time (also a TimeoutError)
└── CheckFailed                   a check on the app failed (also an AssertionError)
    ├── Leak                      expect_none: a tab had a marker it must not have
    ├── UnexpectedEvent           expect_quiet, expect_no_frame: a tab got an event
    ├── ScenarioFailed            a scenario step failed (its run, step and reason ride along)
    ├── GoldenMismatch            a tab's stream differs from its golden file
    └── BrowserErrors             a browser page logged errors the test did not allow
```

`CheckFailed` and its subclasses are also `AssertionError`s, so pytest reports them as failed
assertions and `except AssertionError` still catches them. Protocol errors name the section of
`specs/protocol.md` the server broke and show the bytes it sent, so a failure can be reported
upstream without re-running anything. Everything here is exported from `vt`;
`tests/vt/test_errors.py` checks that this tree is the classes' own and is complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = [
    "hide_frames",
    "BrowserErrors",
    "BrowserNotFound",
    "CheckFailed",
    "ElementNotInteractive",
    "FailedRun",
    "FailedStep",
    "GoldenMismatch",
    "Leak",
    "MalformedEvent",
    "MissingTool",
    "PageBootstrapError",
    "ProtocolError",
    "RefusedInBrowser",
    "ScenarioError",
    "ScenarioFailed",
    "ServerFailed",
    "UnexpectedEvent",
    "UnexpectedResponse",
    "UsageError",
    "VTError",
    "WaitTimeout",
]

# Bytes shown in an error message are cut to this many, so a huge frame stays readable.
_MAX_SHOWN_BYTES = 600
# The scenario-format spec, named by every `ScenarioError`.
SCENARIO_FORMAT = "specs/scenario-format.md"


def show_bytes(raw: bytes | str, limit: int = _MAX_SHOWN_BYTES) -> str:
    """Render raw wire bytes for an error message: Python bytes repr, cut at `limit`."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} bytes in all)"


class VTError(Exception):
    """The base of every exception vt raises on purpose (the tree: `vt.errors`)."""


def hide_frames(excinfo: Any) -> bool:
    """The `__tracebackhide__` of vt's modules: pytest leaves their frames out of a failure's
    traceback when the error is one vt raised on purpose (a `VTError`), so the reason follows
    the test's own line. Any other exception (a bug in vt, an error in a test's condition)
    keeps them."""
    return isinstance(getattr(excinfo, "value", None), VTError)


# -- the server broke the protocol ------------------------------------------------------------


class ProtocolError(VTError):
    """The server did something `specs/protocol.md` forbids.

    `section` is the spec section that was broken (for example ``"6.1"``) and `raw` the bytes
    that broke it; both are part of the message.
    """

    def __init__(self, message: str, *, section: str, raw: bytes | str = b"") -> None:
        self.section = section
        self.raw = raw.encode() if isinstance(raw, str) else raw
        text = f"{message} (specs/protocol.md §{section})"
        if self.raw:
            text += f"\n  bytes: {show_bytes(self.raw)}"
        super().__init__(text)


class MalformedEvent(ProtocolError):
    """An SSE event that is not a well-formed Datastar event (wrong data lines, bad JSON...)."""


class PageBootstrapError(ProtocolError):
    """A page response that a tab cannot start from (no `meta[data-signals]`, no `via_tab`)."""


class UnexpectedResponse(ProtocolError):
    """A protocol request answered with a status or content type the spec does not allow, or
    a response whose body did not arrive within the wait deadline."""


# -- the caller's mistakes, and what vt cannot do -----------------------------------------------


class UsageError(VTError):
    """vt was called in a way it does not support; the message says how to call it instead."""


class RefusedInBrowser(UsageError):
    """A scenario step a person cannot do in a browser (a raw request, cutting only the
    stream, reading a signal nothing shows...): the scenario runs with vt's HTTP client
    instead. The pytest plugin skips a browser item that meets one, naming the step."""


class ScenarioError(VTError):
    """A scenario file that does not follow `specs/scenario-format.md`.

    `path`, `line` and `step` (1-based; None for the `[scenario]` table or the whole file)
    locate the mistake; the message names all three.
    """

    def __init__(self, path: str, line: int | None, step: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.step = step
        self.reason = reason
        where = path + (f":{line}" if line is not None else "")
        what = f" step {step}:" if step is not None else ""
        super().__init__(f"{where}:{what} {reason} (see {SCENARIO_FORMAT})")


class ElementNotInteractive(VTError):
    """`click`, `press` or `type` found the element but not the binding the gesture needs."""


class BrowserNotFound(VTError, RuntimeError):
    """No Chromium to launch; the message gives the reason and the fix."""


class MissingTool(VTError, RuntimeError):
    """A program a cluster or fault test needs (`nats-server`, `toxiproxy-server`) is not
    installed; the message says how to install it."""


class ServerFailed(VTError, RuntimeError):
    """`LiveServer.start()`, or a process of a local cluster (nats-server, a node, Toxiproxy):
    it exited while starting or did not answer in time; the message ends with its log."""


class WaitTimeout(VTError, TimeoutError):
    """A wait's condition did not hold before its deadline.

    The message explains itself: what was awaited, what the page shows now (and the closest
    text seen earlier, when it differs), the tab's timeline since the last action, and where
    the raw transcript was saved.
    """


# -- a check on the app failed: also AssertionErrors, so pytest shows a failed assertion ------


class CheckFailed(VTError, AssertionError):
    """A check vt made on the app failed: a leak, an event where none was expected, a failed
    scenario step, a golden that differs, browser errors. Also an `AssertionError`."""


class Leak(CheckFailed):
    """`expect_none`: a tab had the marker on its page or in the bytes its streams received
    (§8); the message names the tabs and shows their timelines."""


class UnexpectedEvent(CheckFailed):
    """`expect_quiet` or a scenario's `expect_no_frame`: a tab received an event in a window
    that had to stay quiet; the message lists what arrived."""


class FailedStep(Protocol):
    """What a `ScenarioFailed` knows of its step (`vt.Step`)."""

    @property
    def verb(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def line(self) -> int: ...
    def describe(self) -> str:
        """`step N (line L, verb)`."""
        ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...


class FailedRun(Protocol):
    """What a `ScenarioFailed` knows of its run (`vt.ScenarioRun`): the scenario, its tabs by
    name and the times of the steps that ran."""

    @property
    def scenario(self) -> _Named: ...
    @property
    def tabs(self) -> Mapping[str, Any]: ...
    @property
    def steps(self) -> Sequence[Any]: ...


class ScenarioFailed(CheckFailed):
    """A scenario step failed. `run` holds the tabs and step times (for reports), `step` the
    step, `reason` the underlying message (a wait's explanation, a wrong status...)."""

    def __init__(self, run: FailedRun, step: FailedStep, reason: str) -> None:
        self.run = run
        self.step = step
        self.reason = reason
        super().__init__(
            f"scenario {run.scenario.name!r} ({run.scenario.path}) failed at "
            f"{step.describe()}:\n{reason}"
        )


class GoldenMismatch(CheckFailed):
    """A tab's stream differs from its golden file (or a golden is missing without the update
    flag). The message holds a bounded unified diff per tab."""


class BrowserErrors(CheckFailed):
    """A browser page logged console errors or raised uncaught errors that the test did not
    allow."""
