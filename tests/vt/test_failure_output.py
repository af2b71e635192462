"""What pytest prints for a failed vt call: the test's own line, then the reason, with no vt,
anyio or `concurrent.futures` frames and no source of vt's wait loop in between (issue 17:
about ten such frames and the whole source of `wait_for` came first). A bug in vt (an
exception that is not a `vt.VTError`) and an error in the test's own condition keep their
frames. Inner pytest runs in-process; the e2e level runs them again in subprocesses, as a
user's project runs them (`--runpytest=subprocess`)."""

from __future__ import annotations

import re

import pytest

BASE = ("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly")
TESTS = """
import pytest
import vt
from reference_impl.examples import counter


@pytest.fixture
def client():
    with vt.LiveServer(counter.create_app()) as server, vt.Client(server.url) as c:
        yield c


@pytest.fixture
async def async_client():
    with vt.LiveServer(counter.create_app()) as server:
        async with vt.AsyncClient(server.url) as c:
            yield c


def test_sync_timeout(client):
    tab = client.new_session("a").open("/")
    tab.expect_text("body", "never there", timeout=0.3)  # SYNC-LINE


@pytest.mark.anyio
async def test_async_timeout(async_client):
    tab = await async_client.new_session("a").open("/")
    await tab.expect_text("body", "never there", timeout=0.3)  # ASYNC-LINE


def test_sync_condition_error(client):
    tab = client.new_session("a").open("/")
    tab.wait_until(lambda: 1 / 0)  # CONDITION-LINE


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

INTERNALS = re.compile(r"(anyio/|concurrent/futures|vt/client/|vt/sync/|async def wait_for)")


def failure_section(output: str, test: str) -> str:
    """The part of pytest's output that reports the failure of `test`."""
    start = output.index(f"_ {test} _")
    end = output.find("\n____", start + 1)
    summary = output.find("short test summary", start)
    ends = [e for e in (end, summary) if e != -1]
    return output[start : min(ends)]


# The inner run's output, once per process: every test here reads the same run.
_OUTPUT: list[str] = []


@pytest.fixture
def output(pytester: pytest.Pytester) -> str:
    if not _OUTPUT:
        pytester.makepyfile(test_user=TESTS)
        result = pytester.runpytest(*BASE, "-p", "anyio")
        result.assert_outcomes(failed=3)
        _OUTPUT.append(result.stdout.str())
    return _OUTPUT[0]


@pytest.mark.parametrize(
    ("test", "line"),
    [("test_sync_timeout", "SYNC-LINE"), ("test_async_timeout", "ASYNC-LINE")],
)
def test_a_vt_failure_shows_the_test_line_then_the_reason(
    output: str, test: str, line: str
) -> None:
    section = failure_section(output, test)
    assert INTERNALS.search(section) is None, section
    lines = section.splitlines()
    at = next(i for i, text in enumerate(lines) if line in text)
    reason = next(i for i, text in enumerate(lines) if text.startswith("E "))
    assert lines[reason].startswith("E       vt.WaitTimeout: a/1 did not show 'never there'")
    assert reason - at <= 2, section  # the reason right under the test's line
    assert "now: " in section


def test_an_error_in_the_test_s_own_condition_keeps_its_frame(output: str) -> None:
    section = failure_section(output, "test_sync_condition_error")
    assert "ZeroDivisionError" in section
    assert "lambda: 1 / 0" in section  # the condition's own frame, where it failed
    assert "anyio/" not in section
    assert "concurrent/futures" not in section
