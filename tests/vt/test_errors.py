"""One error tree: every exception vt raises on purpose is a `vt.VTError`, exported from `vt`,
and the tree drawn in `vt/errors.py` (and the README) is the classes' own."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vt
import vt.errors
from reference_impl.examples import chat

ROOT = Path(__file__).resolve().parents[2]
Serve = Callable[[Any], str]

# Exceptions defined outside vt/errors.py on purpose: raised and caught inside vt, never seen
# by a user (a failed morph is undone and logged; an expression vt cannot read becomes a
# console line or an `ElementNotInteractive`).
# Control flow inside one module, never seen by a user: the morph giving up, an expression vt
# cannot evaluate, a browser page that did not fire an action, `vt conformance -x` ending its
# batch (each caught where raised).
INTERNAL = {"MorphError", "ExpressionError", "_NotFired", "_FirstFailure"}


def exported_exceptions() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name in vt.__all__
        if inspect.isclass(obj := getattr(vt, name)) and issubclass(obj, BaseException)
    }


def drawn_tree(text: str) -> dict[str, str | None]:
    """Class name -> parent name, read from the first fenced tree block in `text`."""
    drawn = re.search(r"```(?:text)?\n(VTError\b.*?)```", text, re.S)
    assert drawn is not None, "no tree drawn"
    block = drawn.group(1)
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        found = re.match(r"^([│├└─ ]*)(\w+)", line)
        if found is None:
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def actual_tree() -> dict[str, str | None]:
    tree: dict[str, str | None] = {}
    for name, cls in exported_exceptions().items():
        bases = [b for b in cls.__bases__ if issubclass(b, vt.VTError)]
        tree[name] = bases[0].__name__ if bases else None
    return tree


def test_every_exported_exception_is_a_vt_error() -> None:
    outside = [n for n, cls in exported_exceptions().items() if not issubclass(cls, vt.VTError)]
    assert outside == []
    wanted = {
        "BrowserErrors",
        "BrowserNotFound",
        "CheckFailed",
        "GoldenMismatch",
        "Leak",
        "ScenarioError",
        "ScenarioFailed",
        "UnexpectedEvent",
    }
    assert wanted <= set(exported_exceptions())


def test_the_tree_in_vt_errors_is_the_class_tree() -> None:
    assert drawn_tree(vt.errors.__doc__ or "") == actual_tree()


def test_the_readme_draws_the_same_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert drawn_tree(readme) == actual_tree()


def test_checks_that_fail_are_assertion_errors_and_the_rest_are_not() -> None:
    checks = {n for n, cls in exported_exceptions().items() if issubclass(cls, AssertionError)}
    assert checks == {
        n for n, cls in exported_exceptions().items() if issubclass(cls, vt.CheckFailed)
    }
    assert issubclass(vt.WaitTimeout, TimeoutError)
    assert issubclass(vt.BrowserNotFound, RuntimeError)


def test_no_exception_class_is_defined_outside_vt_errors() -> None:
    errors = {
        name
        for name, obj in vars(vt.errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
    }
    strays = []
    for path in sorted((ROOT / "vt").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "vt":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name in INTERNAL:
                continue
            bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
            if bases & ({"Exception", "RuntimeError", "AssertionError", "ValueError"} | errors):
                strays.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert strays == []


def test_the_browser_modules_raise_the_tree_s_classes() -> None:
    from vt.browser import chromium

    assert chromium.BrowserNotFound is vt.BrowserNotFound
    pytest.importorskip("playwright", reason="vt.browser.users needs playwright (vt[browser])")
    from vt.browser import users

    assert users.BrowserErrors is vt.BrowserErrors


# -- a leak and an unexpected event are VTErrors (and AssertionErrors) -------------------------

pytestmark = pytest.mark.anyio


@pytest.mark.anyio
async def test_a_leak_is_a_vt_error_and_an_assertion(serve: Serve) -> None:
    async with vt.AsyncClient(serve(chat.create_app()), timeout=3) as client:
        alice, bob = await client.open_tabs(2)
        await alice.action("Send", name="a", draft="leak-9")
        await alice.expect_text("article", "leak-9")
        with pytest.raises(vt.VTError) as caught:
            await client.expect_none([bob], "leak-9", window=0.1)
        last = bob.timeline.entries[-1]  # a failure report's timeline ends with the check
        assert (last.kind, last.text) == (
            "failed",
            "received 'leak-9', which no tab of this group should have",
        )
    assert isinstance(caught.value, vt.Leak)
    assert isinstance(caught.value, AssertionError)
    assert "received 'leak-9'" in str(caught.value)


@pytest.mark.anyio
async def test_a_scenario_s_unexpected_frame_and_missing_tab_are_vt_errors(serve: Serve) -> None:
    frame = vt.parse_scenario(
        '[scenario]\nname = "f"\n\n[[step]]\nopen = "a"\n[[step]]\nopen = "b"\n'
        '[[step]]\nready = "*"\n[[step]]\naction = "Send"\ntab = "a"\n'
        'signals = { name = "a", draft = "hi" }\n[[step]]\nexpect_text = "hi"\ntab = "a"\n'
        '[[step]]\nexpect_no_frame = "b"\n',
        path="frame.toml",
    )
    async with vt.AsyncClient(serve(chat.create_app()), timeout=3) as client:
        with pytest.raises(vt.ScenarioFailed) as failed:
            await vt.run_scenario(client, frame)
    assert failed.value.step.verb == "expect_no_frame"
    assert isinstance(failed.value.__cause__, vt.UnexpectedEvent)


def test_a_server_that_does_not_start_is_a_vt_error() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(vt.VTError) as caught:
        vt.LiveServer(app).start()
    assert isinstance(caught.value, vt.ServerFailed)
    assert "exited during startup" in str(caught.value)
