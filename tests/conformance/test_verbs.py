"""The verbs and options the conformance suite added to the scenario format
(`specs/scenario-format.md`): each can fail, and says what it saw."""

from __future__ import annotations

from typing import Any

import pytest

import vt
from reference_impl.examples.conformance import create_app

pytestmark = pytest.mark.anyio

HEADER = '[scenario]\nname = "probe"\napp = "conformance"\nroute = "/scopes"\n\n'


@pytest.fixture
def vt_app() -> Any:
    """The conformance app, served by vt's plugin for `vt_async_client`."""
    return create_app()


async def run(client: vt.AsyncClient, steps: str) -> vt.ScenarioRun:
    return await vt.run_scenario(client, vt.parse_scenario(HEADER + steps))


OPEN_TWO = """
[[step]]
open = "a"
[[step]]
open = "b"
[[step]]
ready = "*"
"""


async def test_expect_quiet_fails_on_a_frame_that_came_before_the_step(
    vt_async_client: vt.AsyncClient,
) -> None:
    steps = (
        OPEN_TWO
        + """
[[step]]
action = "IncApp"
tab = "a"
[[step]]
expect_text = "1"
selector = "#app-count"
tabs = ["a", "b"]
[[step]]
expect_quiet = 0.1
tab = "b"
"""
    )
    with pytest.raises(vt.ScenarioFailed, match="expected to get no frame, but received"):
        await run(vt_async_client, steps)


async def test_expect_frame_waits_for_a_frame_and_fails_without_one(
    vt_async_client: vt.AsyncClient,
) -> None:
    ok = OPEN_TWO + '[[step]]\naction = "IncApp"\ntab = "a"\n[[step]]\nexpect_frame = "b"\n'
    await run(vt_async_client, ok)
    quiet = OPEN_TWO + '[[step]]\naction = "IncTab"\ntab = "a"\n[[step]]\nexpect_frame = "b"\n'
    quiet += "timeout = 0.3\n"
    with pytest.raises(vt.ScenarioFailed, match="receive a frame"):
        await run(vt_async_client, quiet)


async def test_placeholders_name_tabs_and_forge_ids(vt_async_client: vt.AsyncClient) -> None:
    steps = (
        OPEN_TWO
        + """
[[step]]
request = "POST /_action/IncTab"
tab = "b"
json = { via_tab = "{id:a}" }
status = 403
body_contains = "session mismatch"
[[step]]
request = "POST /_action/IncTab"
tab = "a"
json = { via_tab = "{stale:/scopes}" }
status = 200
body_contains = "window.location.reload()"
[[step]]
request = "POST /_action/IncTab"
tab = "a"
json = { via_tab = "{forged}" }
status = 404
"""
    )
    await run(vt_async_client, steps)
    wrong = OPEN_TWO + '[[step]]\nrequest = "POST /_action/IncTab"\ntab = "a"\n'
    wrong += 'json = { via_tab = "{id:a}" }\nstatus = 404\n'
    with pytest.raises(vt.ScenarioFailed, match=r"expected status 404, the server answered 200"):
        await run(vt_async_client, wrong)


async def test_response_checks_name_the_missing_attribute(vt_async_client: vt.AsyncClient) -> None:
    steps = """
[[step]]
open = "a"
connect = false
[[step]]
expect_response = "page"
cookie = ["HttpOnly", "SameSite=Strict"]
"""
    with pytest.raises(vt.ScenarioFailed, match=r"lacks \['SameSite=Strict'\]"):
        await run(vt_async_client, steps)
    absent = '[[step]]\nrequest = "GET /scopes"\nheaders_absent = ["set-cookie"]\n'
    with pytest.raises(vt.ScenarioFailed, match="header set-cookie is present"):
        await run(vt_async_client, absent)


def test_expect_response_takes_page_or_stream() -> None:
    with pytest.raises(vt.ScenarioError, match="'page' or 'stream'"):
        vt.parse_scenario(HEADER + '[[step]]\nopen = "a"\n[[step]]\nexpect_response = "x"\n')
