"""Finding the app a scenario runs against: `module:factory` references, as uvicorn reads them.

Used by `vt.scenario_app` (a scenario's own `app`), the command line (`--app`, `vt serve`) and
the pytest plugin, so one spelling works everywhere.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, cast

from ..errors import VTError

__all__ = ["app_maker", "load_app"]


def load_app(ref: str) -> Any:
    """A fresh app from `module:name` (see `app_maker`)."""
    return app_maker(ref)()


def app_maker(ref: str) -> Callable[[], Any]:
    """What makes the ASGI app named by `module:name`, as uvicorn reads it: `name` is a
    factory taking no argument (each call makes a fresh app), or the app itself (each call
    returns that one object). The module is imported from `sys.path` (the `vt` command puts
    the current directory first, as uvicorn's `--app-dir .` does).

    Raises:
        VTError: not `module:name`, the module is not found, or it has no such name.
    """
    module_name, sep, attribute = ref.partition(":")
    if not sep or not module_name or not attribute:
        raise VTError(f"{ref!r} is not `module:factory` (e.g. myapp.main:create_app)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise VTError(f"cannot import {module_name!r} for {ref!r}: {exc}") from None
    found = getattr(module, attribute, None)
    if found is None:
        raise VTError(f"module {module_name!r} has no {attribute!r} (for {ref!r})")
    if inspect.isfunction(found) and not _required_parameters(found):
        return cast(Callable[[], Any], found)  # a factory (an ASGI callable takes 3 arguments)
    return lambda: found


def _required_parameters(fn: Callable[..., Any]) -> list[str]:
    return [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
