"""Scenario files (`specs/scenario-format.md`): the loader's errors, and the runner's verbs run
against real reference apps."""

from __future__ import annotations

import pytest

import vt
from reference_impl.examples import chat, counter

pytestmark = pytest.mark.anyio

HEADER = '[scenario]\nname = "t"\napp = "counter"\n\n'


def error_of(text: str) -> vt.ScenarioError:
    with pytest.raises(vt.ScenarioError) as caught:
        vt.parse_scenario(text, path="s.toml")
    return caught.value


@pytest.mark.parametrize(
    ("body", "line", "step", "said"),
    [
        ('[[step]]\nopen = "a"\n\n[[step]]\nwiggle = "x"\n', 8, 2, "exactly one verb"),
        ('[[step]]\nopen = "a"\nsesion = "b"\n', 5, 1, "open has no option 'sesion'"),
        ('[[step]]\nopen = "a"\n\n[[step]]\nready = "b"\n', 8, 2, "no tab named 'b' is open"),
        ('[[step]]\nopen = "a"\n[[step]]\naction = 3\n', 7, 2, "action's argument must be a str"),
        ('[[step]]\nopen = "a"\n[[step]]\nexpect_text = "x"\ntimeout = "1"\n', 7, 2, "timeout"),
        ('[[step]]\nopen = "a"\n[[step]]\nopen = "a"\n', 7, 2, "tab 'a' is already open"),
        ('[[step]]\nclick = "button"\n', 5, 1, "click before any `open`"),
        ('[[step]]\nopen = "a"\n[[step]]\nrequest = "GET"\n', 7, 2, "'METHOD /path'"),
        (
            '[[step]]\nopen = "a"\n[[step]]\nexpect_text = "x"\ntab = "a"\ntabs = "*"\n',
            7,
            2,
            "not both",
        ),
    ],
)
def test_a_wrong_step_names_file_line_and_step(body: str, line: int, step: int, said: str) -> None:
    error = error_of(HEADER + body)
    assert (error.path, error.line, error.step) == ("s.toml", line, step)
    assert said in str(error)
    assert str(error).startswith(f"s.toml:{line}: step {step}: ")
    assert "specs/scenario-format.md" in str(error)


def test_invalid_toml_names_its_line() -> None:
    error = error_of(HEADER + '[[step]]\nopen = "a\n')
    assert error.line == 6
    assert "not valid TOML" in str(error)


def test_header_and_file_level_errors() -> None:
    assert "at least one [[step]]" in str(error_of(HEADER))
    assert "unknown [scenario] key 'lvl'" in str(error_of('[scenario]\nlvl = "x"\n'))
    assert "unknown top-level keys ['steps']" in str(error_of('[[steps]]\nopen = "a"\n'))


def test_defaults_globs_and_counts() -> None:
    scenario = vt.parse_scenario(
        '[[step]]\nopen = "r"\ncount = 3\n[[step]]\nready = "r*"\n', path="dir/two.toml"
    )
    assert scenario.name == "two"
    assert scenario.level == "core"
    assert scenario.tab_names == ("r1", "r2", "r3")
    assert scenario.app_factory is None
    assert [s.line for s in scenario.steps] == [1, 4]


def test_every_bundled_scenario_loads_and_names_its_app() -> None:
    scenarios = vt.bundled_scenarios()
    assert {s.name for s in scenarios} >= {
        "chat-fan-out",
        "chat-order",
        "chat-escaping",
        "chat-leak",
        "chat-converge",
    }
    plain = [s for s in scenarios if s.level == "datastar-chat"]
    assert plain, "the plain-Datastar chat level is bundled"
    # Written for any Datastar server (targets/README.md's chat): no reference app to serve.
    assert all(s.app is None for s in plain)
    # the chat level runs on the chat example, the cluster and faults levels on the cluster app
    # (specs/cluster.md §C8), the suite on `conformance` or one of its variants (§23-§24)
    apps = {"chat": "chat", "cluster": "cluster", "faults": "cluster"}
    for s in scenarios:
        if s.level in apps:
            assert s.app_factory == f"reference_impl.examples.{apps[s.level]}:create_app", s.path
        elif s.level != "datastar-chat":
            assert s.conformance is not None, s.path


async def test_gestures_reload_drop_reconnect_and_close_on_the_counter() -> None:
    text = HEADER + "\n".join(
        [
            '[[step]]\nopen = "a"\n[[step]]\nready = "a"',
            '[[step]]\nclick = "#inc"',
            '[[step]]\nexpect_text = "1"\nselector = "#count"',
            '[[step]]\ntype = "input[data-bind=step]"\ntext = "5"',
            '[[step]]\nclick = "#inc"',
            '[[step]]\nexpect_text = "6"\nselector = "#count"',
            '[[step]]\nexpect_signal = "step"\nvalue = 5',
            '[[step]]\naction = "Dec"\ntimes = 2\nsignals = { step = 1 }',
            '[[step]]\nexpect_text = "4"\nselector = "#count"',
            '[[step]]\ndrop = "a"\n[[step]]\nreconnect = "a"\n[[step]]\nready = "a"',
            '[[step]]\nreload = "a"\n[[step]]\nexpect_text = "0"\nselector = "#count"',
            '[[step]]\nrequest = "GET /readyz"\nstatus = 200',
            # After a request that writes nothing to the stream, nothing arrives.
            "[[step]]\nexpect_quiet = 0.2",
            '[[step]]\nrequest = "POST /_action/Inc"\ntab = "a"\nbody = "{"\nstatus = 404',
            '[[step]]\nrequest = "POST /_action/Inc"\ntab = "a"\nvia_tab = true\nstatus = 200',
            '[[step]]\nexpect_text = "1"\nselector = "#count"',
            '[[step]]\nexpect_selector = "button"\ncount = 2',
            '[[step]]\nclose = "a"',
        ]
    )
    scenario = vt.parse_scenario(text, path="counter.toml")
    with vt.LiveServer(vt.scenario_app(scenario)) as server:
        async with vt.AsyncClient(server.url) as client:
            run = await vt.run_scenario(client, scenario, timeout=3)
    assert len(run.steps) == len(scenario.steps)
    assert all(s.ok for s in run.steps)
    assert not run.tabs["a"].connected


async def test_a_wrong_status_fails_naming_the_step() -> None:
    scenario = vt.parse_scenario(
        HEADER + '[[step]]\nopen = "a"\n[[step]]\naction = "NoSuchAction"\n', path="x.toml"
    )
    with vt.LiveServer(counter.create_app()) as server:
        async with vt.AsyncClient(server.url) as client:
            with pytest.raises(vt.ScenarioFailed) as failed:
                await vt.run_scenario(client, scenario)
    assert "failed at step 2 (line 7): action 'NoSuchAction'" in str(failed.value)
    assert "expected status 2xx, the server answered 404" in str(failed.value)
    assert [s.ok for s in failed.value.run.steps] == [True, False]


async def test_the_leak_check_fails_when_a_marker_reaches_another_tab() -> None:
    scenario = vt.parse_scenario(
        '[[step]]\nopen = "a"\n[[step]]\nopen = "b"\n[[step]]\nready = "*"\n'
        '[[step]]\naction = "Send"\ntab = "a"\nsignals = { draft = "secret" }\n'
        '[[step]]\nexpect_none = "secret"\ntabs = ["b"]\nwithin = 1.0\n',
        path="leak.toml",
    )
    with vt.LiveServer(chat.create_app()) as server:
        async with vt.AsyncClient(server.url) as client:
            with pytest.raises(vt.ScenarioFailed) as failed:
                await vt.run_scenario(client, scenario)
    assert failed.value.step.verb == "expect_none"


def test_the_sync_run_scenario_hands_back_sync_tabs() -> None:
    # Issue 17: `vt.Client.run_scenario` returned a run whose tabs were `AsyncTab`s, useless
    # (and unsafe) on the test thread.
    scenario = vt.parse_scenario(
        HEADER + '[[step]]\nopen = "a"\n[[step]]\nready = "a"\n[[step]]\nclick = "#inc"\n'
        '[[step]]\nexpect_text = "1"\nselector = "#count"\n',
        path="sync.toml",
    )
    failing = vt.parse_scenario(
        HEADER + '[[step]]\nopen = "b"\n[[step]]\nexpect_text = "9"\nselector = "#count"\n'
        "timeout = 0.2\n",
        path="failing.toml",
    )
    with vt.LiveServer(vt.scenario_app(scenario)) as server, vt.Client(server.url) as client:
        run = client.run_scenario(scenario)
        tab = run.tabs["a"]
        assert isinstance(tab, vt.Tab)
        tab.click("#inc")  # usable from the test thread, as any sync tab
        tab.expect_text("#count", "2")
        assert [s.ok for s in run.steps] == [True] * 4
        with pytest.raises(vt.ScenarioFailed) as failed:
            client.run_scenario(failing)
        assert isinstance(failed.value.run.tabs["b"], vt.Tab)
        assert failed.value.run.tabs["b"].text("#count") == "0"
