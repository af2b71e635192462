"""The one scenario runner: a parsed `Scenario` executed on vt's public client API.

`vt run`, `vt record` / `vt check`, `vt conformance`, `pytest --vt` and the tests all call
`run_scenario`, so a scenario behaves the same everywhere. A failed step raises
`ScenarioFailed` naming the file, the step (number, line, verb) and the reason; the tabs the
scenario opened ride along on the error for failure reports and goldens.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from ..client.client import AsyncSession
from ..client.tab import AsyncTab
from ..client.waits import is_patch
from ..defaults import QUIET_WINDOW
from ..errors import ScenarioFailed, UnexpectedEvent, UsageError, VTError, hide_frames
from .apps import load_app
from .cluster_verbs import ClusterVerbs, NodeControl
from .format import Scenario, Step, match_tabs, open_names
from .wire_verbs import WireVerbs, chunks

if TYPE_CHECKING:
    from ..client.client import AsyncClient
    from ..wire.events import StreamItem

# Verbs that can make the server write to some tab.
_ACTING = frozenset({"action", "click", "type", "press", "upload", "request"})
# Verbs that are a tab method of the same name, called with no argument on each tab named.
_TAB_METHODS = frozenset({"drop", "stall", "resume", "reconnect", "reload", "close"})
# `{id:NAME}`, `{stale:/route}` and `{forged}` in a request's path, body and JSON strings.
_PLACEHOLDER = re.compile(r"\{(id:[^{}]+|stale:[^{}]+|forged)\}")

__all__ = [
    "BROWSER_REFUSED",
    "ScenarioDriver",
    "ScenarioFailed",
    "ScenarioRun",
    "StepTime",
    "browser_refusal",
    "run_scenario",
    "scenario_app",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

BROWSER_REFUSED = frozenset(
    {
        "request",
        "post",
        "get",
        "drop",
        "stall",
        "resume",
        "reconnect",
        "upload",
        "expect_response",
        "expect_frame",
        "expect_no_frame",
        "expect_quiet",
        "expect_console",
        "expect_script",
        "expect_heartbeat",
        "expect_nonces",
        "expect_end",
    }
)
"""The verbs a browser driver refuses: a person in a browser cannot do them (a raw request,
cutting only the stream...). Every other verb runs the same in both drivers."""


def browser_refusal(scenario: Scenario) -> str | None:
    """Why `scenario` cannot run in browsers (its first step with a `BROWSER_REFUSED` verb),
    or None when it can."""
    for step in scenario.steps:
        if step.verb in BROWSER_REFUSED:
            return f"{step.describe()} is not something a person does in a browser"
    return None


class ScenarioDriver(Protocol):
    """What the runner drives: vt's HTTP client (`AsyncClient`) or real browsers
    (`vt.browser.driver.BrowserDriver`). Sessions open tabs; the tabs carry the verbs (`ready`,
    `click`, `expect_text`, ...); the three waits over several tabs live here."""

    def new_session(self, name: str | None = None) -> Any:
        """A new session (its own cookies) named `name`."""

    async def expect_all(
        self,
        tabs: Sequence[Any],
        selector: str,
        text: str,
        *,
        exact: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Wait until every tab's `selector` shows `text` (with `exact`: as its whole text)."""

    async def expect_converged(
        self, tabs: Sequence[Any], selector: str = "body", *, timeout: float | None = None
    ) -> str:
        """Wait until every tab shows the same text for `selector`."""

    async def expect_none(self, tabs: Sequence[Any], marker: str, window: float = ...) -> None:
        """The leak check (§8) over `tabs`."""


@dataclass(frozen=True, slots=True)
class StepTime:
    """When a step ran (`time.monotonic()` seconds), and whether it passed."""

    step: Step
    started: float
    ended: float
    ok: bool


@dataclass(slots=True)
class ScenarioRun:
    """What a scenario run left behind: its tabs by scenario name (`AsyncTab`s with vt's HTTP
    client, `BrowserTab`s in browsers), each step's times, and its `{run}` token."""

    scenario: Scenario
    tabs: dict[str, Any] = field(default_factory=dict)
    steps: list[StepTime] = field(default_factory=list)
    token: str = ""  # what `{run}` stood for in this run (goldens put `<run>` back)


def scenario_app(scenario: Scenario) -> Any:
    """A fresh instance of the app the scenario names (`app = "chat"`, a bundled example, or
    `"module:factory"`), for runs given no URL; raises `VTError` when it names none or one
    that cannot be loaded."""
    ref = scenario.app_factory
    if ref is None:
        raise VTError(f"scenario {scenario.name!r} names no `app`; give a URL to run it against")
    try:
        return load_app(ref)
    except VTError as exc:
        raise VTError(
            f"scenario {scenario.name!r}: app {scenario.app!r} not found ({exc})"
        ) from None


async def run_scenario(
    client: AsyncClient | ScenarioDriver,
    scenario: Scenario,
    *,
    timeout: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    control: NodeControl | None = None,
) -> ScenarioRun:
    """Run every step of `scenario` on `client`; return the run (its tabs by name).

    `client` is vt's HTTP client, or a `BrowserDriver` (`vt.browser.driver`) to run the same
    steps in real browsers (verbs a person cannot do are refused there with a `UsageError`).

    `timeout` overrides the wait deadline of the client and of the scenario file (a step's
    own `timeout` still wins). `on_step` is called before each step (progress lines).
    `control` is the servers vt started (`vt.cluster.local.LocalCluster`), for the `fault`,
    `kill_node` and `restart_node` steps.

    Raises:
        ScenarioFailed: a step failed; the message names the file, step and reason.
    """
    run = ScenarioRun(scenario)
    state = _State(client, scenario, run, timeout, control)
    for step in scenario.steps:
        if on_step is not None:
            on_step(step)
        started = time.monotonic()
        try:
            await state.do(step)
        except Exception as exc:
            run.steps.append(StepTime(step, started, time.monotonic(), False))
            if isinstance(exc, ScenarioFailed):
                raise
            reason = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, AssertionError | VTError | OSError | TimeoutError):
                # Not a verdict on the server (an HTTP transport error, or a bug in vt): keep
                # the traceback, so the report says where it came from.
                reason = "".join(traceback.format_exception(exc)).rstrip()
            raise ScenarioFailed(run, step, reason) from exc
        run.steps.append(StepTime(step, started, time.monotonic(), True))
    return run


class _State(ClusterVerbs, WireVerbs):
    """The tabs and sessions of one run, and one method per verb."""

    def __init__(
        self,
        client: AsyncClient | ScenarioDriver,
        scenario: Scenario,
        run: ScenarioRun,
        timeout: float | None,
        control: NodeControl | None = None,
    ) -> None:
        self.control = control
        self.watched: set[AsyncTab] = set()  # tabs that reconnect when their stream ends
        self.client = client
        self.scenario = scenario
        self.run = run
        self.timeout = timeout if timeout is not None else scenario.timeout
        self.sessions: dict[str, Any] = {}  # AsyncSession, or a browser context
        self.last: Any = None  # AsyncTab, or a browser page
        # `{run}` in a step's strings: text no earlier run against the same server sent.
        self.token = run.token = uuid.uuid4().hex[:8]
        self.marks: dict[str, int] = {}

    # -- helpers ------------------------------------------------------------------------------

    def wait(self, step: Step) -> float | None:
        value = step.options.get("timeout")
        return float(value) if value is not None else self.timeout

    def one(self, step: Step) -> Any:
        name = step.options.get("tab")
        if name is None:
            if self.last is None:
                raise UsageError("no tab is open")
            return self.last
        return self.run.tabs[str(name)]

    def many(self, step: Step, *, default_all: bool = False) -> list[Any]:
        patterns = step.tab_names()
        if patterns is None:
            return list(self.run.tabs.values()) if default_all else [self.one(step)]
        return [self.run.tabs[n] for n in match_tabs(patterns, list(self.run.tabs))]

    def fail(self, step: Step, reason: str) -> ScenarioFailed:
        return ScenarioFailed(self.run, step, reason)

    def session(self, name: str, node: int | None = None) -> Any:
        if name not in self.sessions:
            node = self.node_for_session(node)
            made = self.client.new_session(name, **({} if node is None else {"node": node}))
            self.sessions[name] = made
        return self.sessions[name]

    # -- verbs --------------------------------------------------------------------------------

    async def do(self, step: Step) -> None:
        argument, options = self.expand(step.argument), self.expand(step.options)
        if argument != step.argument or options != step.options:
            step = dataclasses.replace(step, argument=argument, options=options)
        if step.verb in _ACTING:
            # Where each tab's events stood before this step: `expect_frame` and
            # `expect_no_frame` look from here on, so a frame that came early is not missed.
            self.marks = {
                name: len(tab.events)
                for name, tab in self.run.tabs.items()
                if isinstance(tab, AsyncTab)  # a browser's frames are not read this way
            }
        if step.verb in _TAB_METHODS:  # the tab's method of that name, on each named tab
            for tab in self.many(step):
                await getattr(tab, step.verb)()
            return
        await getattr(self, f"v_{step.verb}")(step)

    def expand(self, value: Any) -> Any:
        """`value` with every `{run}` in its strings replaced by this run's token."""
        if isinstance(value, str):
            return value.replace("{run}", self.token)
        if isinstance(value, list):
            return [self.expand(item) for item in value]
        if isinstance(value, dict):
            return {key: self.expand(item) for key, item in value.items()}
        return value

    def since_mark(self, tab: AsyncTab) -> list[StreamItem]:
        """The patches `tab` received since the last step that could make the server write."""
        name = next(n for n, t in self.run.tabs.items() if t is tab)
        return [e for e in tab.events[self.marks.get(name, 0) :] if is_patch(e)]

    async def v_open(self, step: Step) -> None:
        path = self.expand(str(step.options.get("path", self.scenario.route)))
        connect = bool(step.options.get("connect", True))
        shared = step.options.get("session")
        for name in open_names(step):
            node = step.options.get("node")
            session = self.session(str(shared or name), node)
            encoding = step.options.get("accept_encoding")
            if encoding is not None:  # the session's, so its streams' too (§5.6)
                if not isinstance(session, AsyncSession):
                    raise UsageError("accept_encoding: a browser picks its own encodings")
                session.http.headers["Accept-Encoding"] = str(encoding)
            if node is not None and shared is not None:  # this tab on its own node
                tab = await session.open(path, connect=connect, node=node)
            else:
                tab = await session.open(path, connect=connect)
            self.run.tabs[name] = tab
            self.last = tab

    async def v_ready(self, step: Step) -> None:
        for tab in self.many(step):
            await tab.ready(self.timeout)

    async def v_action(self, step: Step) -> None:
        tabs = self.many(step)
        signals = dict(step.options.get("signals", {}))
        times = int(step.options.get("times", 1))
        results: list[int] = []

        async def fire(tab: AsyncTab) -> None:
            results.append((await tab.action(str(step.argument), **signals)).status)

        if step.options.get("concurrent"):
            # Every tab's `times` actions at once: one tab's are serialised by the server
            # (§4.2.3), so concurrency on one key needs several tabs.
            async with anyio.create_task_group() as group:
                for _ in range(times):
                    for tab in tabs:
                        group.start_soon(fire, tab)
        else:
            for _ in range(times):
                for tab in tabs:
                    await fire(tab)
        self.check_status(step, results, f"sent POST /_action/{step.argument} with {signals}")

    async def v_post(self, step: Step) -> None:
        await self.backend_action(step, "POST")

    async def v_get(self, step: Step) -> None:
        await self.backend_action(step, "GET")

    async def backend_action(self, step: Step, method: str) -> None:
        tab = self.one(step)
        signals = dict(step.options.get("signals", {}))
        statuses = [
            (await tab.fetch(method, str(step.argument), signals)).status
            for _ in range(int(step.options.get("times", 1)))
        ]
        self.check_status(step, statuses)

    def check_status(self, step: Step, statuses: list[int], sent: str = "") -> None:
        wanted = step.options.get("status")
        bad = [s for s in statuses if (s != wanted if wanted is not None else not 200 <= s < 300)]
        if bad:
            expected = str(wanted) if wanted is not None else "2xx"
            said = f"expected status {expected}, the server answered {bad[0]}"
            raise self.fail(step, f"{said} ({sent})" if sent else said)

    async def v_click(self, step: Step) -> None:
        await self.one(step).click(str(step.argument), timeout=self.wait(step))

    async def v_type(self, step: Step) -> None:
        tab = self.one(step)
        await tab.type(
            str(step.argument), str(step.options.get("text", "")), timeout=self.wait(step)
        )

    async def v_press(self, step: Step) -> None:
        tab = self.one(step)
        key = str(step.options.get("key", "Enter"))
        await tab.press(str(step.argument), key, timeout=self.wait(step))

    async def v_upload(self, step: Step) -> None:
        files: dict[str, tuple[str, bytes, str]] = {}
        for field_name, spec in dict(step.options.get("files", {})).items():
            content = spec["content"]
            data = content.encode() if isinstance(content, str) else bytes(content)
            kind = str(spec.get("type", "application/octet-stream"))
            files[field_name] = (str(spec["name"]), data, kind)
        signals = dict(step.options.get("signals", {}))
        result = await self.one(step).upload(str(step.argument), files, **signals)
        self.check_status(step, [result.status])

    def fill(self, text: str) -> str:
        """Replace the tab-id placeholders of a `request` (`specs/scenario-format.md`)."""

        def one(found: re.Match[str]) -> str:
            kind, _, value = found.group(1).partition(":")
            if kind == "id":
                if value not in self.run.tabs:
                    raise UsageError(f"{{id:{value}}} names no open tab")
                return str(self.run.tabs[value].id)
            if kind == "stale":  # well-formed for the route, but minted by no server (§4.3.1)
                return f"{value}_{secrets.token_hex(32)}"
            return f"forged-{secrets.token_hex(4)}"  # neither a route nor HEX64 (§4.3.1)

        return _PLACEHOLDER.sub(one, text)

    async def v_request(self, step: Step) -> None:
        method, path = str(step.argument).split()
        options = step.options
        if "tab" in options:
            tab = self.run.tabs[str(options["tab"])]
            session = tab.session
        else:
            tab, session = None, self.session("request")
        kwargs: dict[str, Any] = {"headers": dict(options.get("headers", {}))}
        payload = (
            {k: self.fill(v) if isinstance(v, str) else v for k, v in options["json"].items()}
            if "json" in options
            else None
        )
        if options.get("via_tab"):
            if tab is None:
                raise self.fail(step, "via_tab = true needs a `tab`")
            payload = {**(payload or {}), "via_tab": tab.id}
        if payload is not None:
            kwargs["json"] = payload
        elif "body" in options:
            repeat = int(options.get("repeat", 1))  # a deep or long body, spelled short
            kwargs["content"] = self.fill(str(options["body"])).encode() * repeat
        elif "body_bytes" in options:  # a body of that many bytes, for the caps of §4.2
            kwargs["content"] = b"x" * int(options["body_bytes"])
        if options.get("chunked"):  # no Content-Length: a cap must hold while reading (§4.2)
            body = kwargs.pop("content", None)
            if body is None:
                body = json.dumps(kwargs.pop("json", {})).encode()
                kwargs["headers"].setdefault("Content-Type", "application/json")
            kwargs["content"] = chunks(body)
        sent = f"{method.upper()} {self.fill(path)}"
        response = await session.request(method.upper(), self.fill(path), **kwargs)
        body = response.text
        got = f"sent {sent} {(kwargs.get('json') or kwargs.get('content') or '')!r:.200}; got "
        got += f"{response.status_code} {body[:300]!r}"
        try:
            self.check_status(step, [response.status_code])
        except ScenarioFailed as exc:
            raise self.fail(step, f"{exc.reason} ({got})") from None
        if "body_contains" in options and str(options["body_contains"]) not in body:
            raise self.fail(step, f"the body lacks {options['body_contains']!r} ({got})")
        if "body_excludes" in options and str(options["body_excludes"]) in body:
            raise self.fail(step, f"the body has {options['body_excludes']!r} ({got})")
        if options.get("body_empty") and body:
            raise self.fail(step, f"the body is not empty ({got})")
        headers = {k.lower(): v for k, v in response.headers.items()}
        self.check_headers(step, headers, sent)

    def check_headers(self, step: Step, headers: Mapping[str, str], sent: str) -> None:
        """The `response_headers` / `headers_absent` / `cookie` options of `step`."""
        options = step.options
        for name, wanted in dict(options.get("response_headers", {})).items():
            value = headers.get(str(name).lower())
            if value is None or str(wanted).lower() not in value.lower():
                raise self.fail(step, f"{sent}: header {name} is {value!r}, wanted {wanted!r}")
        for name in options.get("headers_absent", []):
            if str(name).lower() in headers:
                raise self.fail(step, f"{sent}: header {name} is present: {headers[name]!r}")
        if "cookie" in options:
            cookie = headers.get("set-cookie")
            if cookie is None:
                raise self.fail(step, f"{sent}: no Set-Cookie (headers: {dict(headers)})")
            parts = {p.strip().lower() for p in cookie.split(";")}
            missing = [a for a in options["cookie"] if str(a).lower() not in parts]
            if missing:
                raise self.fail(step, f"{sent}: Set-Cookie {cookie!r} lacks {missing}")
        self.check_patterns(step, headers, sent)

    async def v_expect_response(self, step: Step) -> None:
        tab = self.one(step)
        if step.argument == "page":
            info = tab.page
        else:
            streams = [r for r in tab.responses if tab.stream_url in r.url and r.method == "GET"]
            info = streams[-1] if streams else None
        if info is None:
            raise self.fail(step, f"tab has made no {step.argument} request")
        self.check_headers(step, info.headers, f"{info.method} {info.url} ({info.status})")

    async def v_expect_text(self, step: Step) -> None:
        selector = str(step.options.get("selector", "body"))
        tabs = self.many(step)
        # Passed only when set: a driver without `exact` runs every other scenario.
        exact = {"exact": True} if step.options.get("exact") else {}
        wait = self.wait(step)
        if len(tabs) == 1:
            await tabs[0].expect_text(selector, str(step.argument), timeout=wait, **exact)
        else:
            await self.client.expect_all(tabs, selector, str(step.argument), timeout=wait, **exact)

    async def v_expect_selector(self, step: Step) -> None:
        selector = str(step.argument)
        count = step.options.get("count")
        for tab in self.many(step):
            if not isinstance(tab, AsyncTab):  # a browser page counts for itself
                await tab.expect_count(selector, count, timeout=self.wait(step))
                continue

            def check(tab: AsyncTab = tab) -> bool:
                found = len(tab.select(selector))
                return found == count if count is not None else found > 0

            wanted = f"exactly {count}" if count is not None else "at least one"
            await tab.wait_until(
                check,
                description=f"match {wanted} element(s) for {selector!r}",
                timeout=self.wait(step),
                closest=lambda tab=tab: f"{len(tab.select(selector))} matched",  # type: ignore[misc]
            )

    async def v_expect_signal(self, step: Step) -> None:
        for tab in self.many(step):
            await tab.expect_signal(
                str(step.argument), step.options.get("value"), timeout=self.wait(step)
            )

    async def v_expect_none(self, step: Step) -> None:
        tabs = self.many(step, default_all=True)
        window = float(step.options.get("within", QUIET_WINDOW))
        await self.client.expect_none(tabs, str(step.argument), window)

    async def v_expect_quiet(self, step: Step) -> None:
        for tab in self.many(step):
            await tab.expect_quiet(float(step.argument))

    async def v_expect_no_frame(self, step: Step) -> None:
        window = float(step.options.get("within", QUIET_WINDOW))
        for tab in self.many(step):
            early = self.since_mark(tab)
            if early:
                raise UnexpectedEvent(
                    f"{tab.label} was expected to get no frame, but received "
                    f"{len(early)} since the last action, first: {early[0]!r:.300}"
                )
            await tab.expect_quiet(window)

    async def v_expect_frame(self, step: Step) -> None:
        for tab in self.many(step):
            await tab.wait_until(
                lambda tab=tab: bool(self.since_mark(tab)),
                description="receive a frame (a patch) since the last action",
                timeout=self.wait(step),
            )

    async def v_expect_console(self, step: Step) -> None:
        await self.one(step).expect_console(str(step.argument), timeout=self.wait(step))

    async def v_expect_script(self, step: Step) -> None:
        text = step.options.get("text")
        await self.one(step).expect_script(
            str(step.argument), None if text is None else str(text), timeout=self.wait(step)
        )

    async def v_converge(self, step: Step) -> None:
        tabs = self.many(step, default_all=True)
        await self.client.expect_converged(tabs, str(step.argument), timeout=self.wait(step))
