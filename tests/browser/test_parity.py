"""HTTP-vs-browser parity: each chat scenario file, run by vt's HTTP client and by Chromium
users running the real Datastar client, leaves every tab with the same patch events.

Both runs go through the one harness (`vt.scenario.harness.run_and_take`: run, settle, take
the goldens); only the driver and its recorder differ. A tab's events are compared as golden
text (`vt record`'s format, heartbeats left out), normalised the same way on both sides: each
tab's own id and session cookie become its label, the run's `{run}` token `<run>`, then the
named normalisers (tab ids, session ids, nonces, ports, timestamps) run.

Where a browser could legitimately differ, the spec decides what is compared: a browser sends
its signals only with an action (§4.1; typing into a bound input sends nothing in Via's chat),
and `action` in a browser is the gesture (fill the bound inputs, click the element that posts
the action), so the action's body and the patches it causes are the same. Heartbeats are
timing, not app (§5.5.1), and are left out of both. None of the chat scenarios needs any other
exception: a difference is a failure.

Each run serves a fresh app on its own port; the HTTP run's async work runs in a loop of its
own thread (an anyio portal), the browser run's in the loop of the worker's one Chromium
(`vt_browser`), in contexts of its own.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

import vt
from vt.browser import Chromium, RefusedInBrowser
from vt.browser.driver import run_in_browsers
from vt.scenario.harness import Take, run_and_take

T = TypeVar("T")

CHAT = [s for s in vt.bundled_scenarios() if s.app == "chat" and s.level == "chat"]


def in_own_loop(fn: Callable[[str], Awaitable[T]], scenario: vt.Scenario) -> T:
    """`fn(url)` on a fresh app of the scenario, in an event loop of its own thread."""
    with start_blocking_portal() as portal, vt.LiveServer(vt.scenario_app(scenario)) as server:
        return portal.call(fn, server.url)


def texts_of(take: Take) -> dict[str, str]:
    """The take's golden texts, or its failure raised."""
    if take.failure is not None:
        raise take.failure
    assert take.texts is not None
    return take.texts


def http_goldens(scenario: vt.Scenario) -> dict[str, str]:
    """Per tab, the golden text of the scenario run with vt's HTTP client."""

    async def run(url: str) -> dict[str, str]:
        async with vt.AsyncClient(url) as client:
            return texts_of(await run_and_take(client, scenario, texts=True))

    return in_own_loop(run, scenario)


def browser_goldens(scenario: vt.Scenario, chromium: Chromium) -> dict[str, str]:
    """Per tab, the golden text of the scenario run by Chromium users (in `chromium`)."""
    with vt.LiveServer(vt.scenario_app(scenario)) as server:
        _, goldens = chromium.call(run_in_browsers, server.url, scenario, browser=chromium.browser)
    return goldens


def test_the_chat_scenarios_are_there() -> None:
    # The parity test below is only as good as its inputs: the chat files must be found.
    assert {s.name for s in CHAT} >= {"chat-fan-out", "chat-leak", "chat-order"}, CHAT


@pytest.mark.parametrize("scenario", CHAT, ids=[s.name for s in CHAT])
def test_each_tab_gets_the_same_patch_events_over_http_and_in_browsers(
    scenario: vt.Scenario, vt_browser: Chromium
) -> None:
    over_http = http_goldens(scenario)
    in_browsers = browser_goldens(scenario, vt_browser)

    assert list(in_browsers) == list(over_http), "the two runs opened different tabs"
    differ = {
        name: "\n".join(
            difflib.unified_diff(
                over_http[name].splitlines(),
                in_browsers[name].splitlines(),
                "over HTTP",
                "in browsers",
                lineterm="",
            )
        )
        for name in over_http
        if over_http[name] != in_browsers[name]
    }
    assert not differ, "\n\n".join(f"tab {n}:\n{d}" for n, d in differ.items())
    # Every tab was really compared on something (an empty golden proves nothing), except
    # a tab opened without its stream, which by design receives nothing.
    opened_bare = {
        s.argument
        for s in scenario.steps
        if s.verb == "open" and not s.options.get("connect", True)
    }
    assert all("patch-" in t for n, t in over_http.items() if n not in opened_bare), over_http


def scenario(text: str) -> vt.Scenario:
    """A chat scenario from its steps."""
    return vt.parse_scenario('[scenario]\nname = "t"\napp = "chat"\n' + text)


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        ('[[step]]\nrequest = "GET /"\n', "`request` is not something a person does"),
        ('[[step]]\nopen = "a"\n[[step]]\ndrop = "a"\n', "`drop` is not something a person"),
    ],
    ids=["request", "drop"],
)
def test_a_verb_no_person_does_is_refused_before_any_browser_starts(
    steps: str, said: str, tmp_path: Path
) -> None:
    # No Chromium is there to launch: a refusal that needed one would say BrowserNotFound.
    with pytest.raises(vt.ScenarioFailed) as failed:
        anyio.run(
            partial(
                run_in_browsers,
                "http://127.0.0.1:9",  # nothing listens: the check needs no server either
                scenario(steps),
                executable=tmp_path / "no-chromium",
            )
        )
    assert said in failed.value.reason
    assert "run this scenario with vt's HTTP client" in failed.value.reason
    assert isinstance(failed.value.__cause__, RefusedInBrowser)


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        (
            '[[step]]\nopen = "a"\n[[step]]\naction = "Send"\nsignals = { nope = "x" }\n',
            "0 inputs bind it",
        ),
        (
            '[[step]]\nopen = "a"\n[[step]]\naction = "Vanish"\n',
            "no element's click posts /_action/Vanish",
        ),
    ],
    ids=["unbound-signal", "no-trigger"],
)
def test_what_a_person_cannot_do_on_the_page_is_refused_by_name(
    steps: str, said: str, vt_browser: Chromium
) -> None:
    with pytest.raises(vt.ScenarioFailed) as failed:
        browser_goldens(scenario(steps), vt_browser)
    assert said in failed.value.reason
    assert "run this scenario with vt's HTTP client" in failed.value.reason
    assert isinstance(failed.value.__cause__, RefusedInBrowser)


def test_a_browser_failure_names_the_step_and_what_the_page_showed(vt_browser: Chromium) -> None:
    steps = (
        '[[step]]\nopen = "a"\n[[step]]\nexpect_text = "never said"\nselector = "article"\n'
        "timeout = 0.5\n"
    )
    with pytest.raises(vt.ScenarioFailed) as failed:
        browser_goldens(scenario(steps), vt_browser)
    assert failed.value.step.verb == "expect_text"
    assert "never said" in failed.value.reason
    assert "within 0.5s" in failed.value.reason  # the step's own timeout, not the default


SCENARIOS = {
    "typed.toml": """
[scenario]
name = "typed"
app = "chat"
[[step]]
open = "a"
[[step]]
open = "b"
[[step]]
type = "input[data-bind=draft]"
tab = "a"
text = "typed by a"
[[step]]
press = "input[data-bind=draft]"
tab = "a"
[[step]]
expect_text = "Anon: typed by a"
selector = "article"
tabs = "*"
""",
    "raw.toml": """
[scenario]
name = "raw"
app = "chat"
[[step]]
request = "GET /"
status = 200
""",
    "wrong.toml": """
[scenario]
name = "wrong"
app = "chat"
[[step]]
open = "a"
[[step]]
expect_text = "not on the page"
selector = "h1"
timeout = 0.5
""",
}


def test_pytest_vt_browser_runs_each_scenario_in_browsers_too(
    pytester: pytest.Pytester, vt_browser_path: Path
) -> None:
    folder = pytester.path / "scenarios"
    folder.mkdir()
    for name, text in SCENARIOS.items():
        (folder / name).write_text(text)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-rs",
        "-v",
        f"--vt-scenarios={folder}",
        "--vt-browser",
        f"--vt-browser-path={vt_browser_path}",
    )
    # Over HTTP: typed and raw pass, wrong fails; in browsers: typed passes, raw is skipped
    # (a raw request is not a person's), wrong fails there too.
    result.assert_outcomes(passed=3, failed=2, skipped=1)
    result.stdout.fnmatch_lines_random(
        [
            "*scenarios/typed.toml::typed PASSED*",
            "*scenarios/typed.toml::typed[[]browser[]] PASSED*",
            "*scenarios/raw.toml::raw PASSED*",
            "*scenarios/raw.toml::raw[[]browser[]] SKIPPED*",
            "*scenarios/wrong.toml::wrong[[]browser[]] FAILED*",
            "*raw: step 1 (line *): request 'GET /' is not something a person does in a browser*",
            "*in browsers: scenario 'wrong'*failed at step 2*expect_text*",
        ]
    )
    # The failed browser item left what the page showed and received.
    (folder,) = (pytester.path / "test-results").glob("*wrong-browser*")
    assert (folder / "screenshot-a.png").read_bytes().startswith(b"\x89PNG")
    record = json.loads((folder / "sse-a.json").read_text())
    assert any(r["stream"] for r in record["requests"]), record
