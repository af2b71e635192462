"""Sync twins: async objects driven from another thread through an anyio blocking portal.

The machinery of every sync API vt has (`vt.sync.client`'s `Client`/`Session`/`Tab`, and
`vt.browser.users`' `BrowserUsers`/`BrowserUser`): one background event loop runs the async
objects; every sync member is made from the async member of the same name by one wrapper
(`twin`), every property by one descriptor (`Snapshot`). No logic lives in a twin, so sync and
async behave identically, with the async signatures.

* A call from the caller's thread runs in the loop thread, through the portal. A call that
  arrives on the loop thread itself (a sync read inside a wait's condition) runs directly.
* What a call returns crosses to the caller as a snapshot taken in the loop thread: a family
  of twins says how by overriding `Twin._snapshot` (async objects become their twins, mutable
  state becomes copies); lists, tuples and dicts are walked here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from ..errors import ScenarioFailed, UsageError, VTError, hide_frames

__all__ = [
    "Closing",
    "Snapshot",
    "Twin",
    "blocking",
    "blocking_as",
    "direct",
    "start_loop",
    "twin",
    "unwrap",
]

# pytest shows the test's line, then the reason: not vt's own frames (`hide_frames`).
__tracebackhide__ = hide_frames

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", bound="Twin")


def start_loop(stack: ExitStack) -> tuple[BlockingPortal, int]:
    """Start a background event loop (closed with `stack`); return its portal and the loop
    thread's ident."""
    portal = stack.enter_context(start_blocking_portal())
    return portal, portal.call(threading.get_ident)


class Twin:
    """A sync twin of one async object, bound to the portal (and loop thread) that runs it."""

    __slots__ = ("_async", "_loop", "_portal")

    def __init__(self, portal: BlockingPortal, loop: int, target: Any) -> None:
        self._portal = portal
        self._loop = loop  # the loop thread's ident
        self._async = target

    def _twin(self, cls: type[T], target: Any) -> T:
        """A twin of class `cls` for `target`, on this twin's loop (made without `cls`'s
        own constructor, which may build its async object)."""
        made = object.__new__(cls)
        Twin.__init__(made, self._portal, self._loop, target)
        return made

    def _snapshot(self, value: Any) -> Any:
        """`value` as the caller's thread may hold it (runs in the loop thread). Families
        override this for their own types and call it for the rest."""
        if isinstance(value, list | tuple):
            return type(value)(self._snapshot(v) for v in value)
        if isinstance(value, dict):
            return dict(value)
        return value

    def _run(self, fn: Callable[[], Any], coroutine: bool) -> Any:
        """Run `fn` in the loop thread and snapshot its result for the caller."""
        if threading.get_ident() == self._loop:
            if coroutine:
                raise UsageError(
                    "a blocking vt call cannot run inside the event loop (in a wait's "
                    "condition, say); read the tab there, act outside"
                )
            return self._snapshot(fn())
        try:
            if coroutine:
                return self._portal.call(_finish, fn, self)
            return self._portal.call(lambda: self._snapshot(fn()))
        except Exception as exc:
            # Re-raised in the caller's thread without the portal's frames (anyio,
            # concurrent.futures), and for vt's own failures without vt's: the reason
            # follows the caller's line. A test's own condition keeps its frame.
            # Its own cause stays; the context (what vt was handling) goes.
            raise exc.with_traceback(_outside(exc)) from exc.__cause__


_INTERNAL = tuple(
    str(Path(module.__file__).parent) + os.sep
    for module in (anyio, concurrent.futures, asyncio)
    if module.__file__ is not None
)
_VT = str(Path(__file__).parents[1]) + os.sep


def _outside(exc: BaseException) -> TracebackType | None:
    """`exc`'s traceback without the frames of the portal's machinery (and of vt, for a
    `VTError`)."""
    hidden = (*_INTERNAL, _VT) if isinstance(exc, VTError) else _INTERNAL
    frames = []
    entry = exc.__traceback__
    while entry is not None:
        frames.append(entry)
        entry = entry.tb_next
    kept: TracebackType | None = None
    for entry in reversed(frames):
        if not entry.tb_frame.f_code.co_filename.startswith(hidden):
            kept = TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept


class Closing(Twin):
    """A twin that owns what it runs on (a loop, a browser, contexts): `with` closes it."""

    __slots__ = ()

    def close(self) -> None:
        """Close what this twin owns (idempotent)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _finish(fn: Callable[[], Coroutine[Any, Any, Any]], twin: Twin) -> Any:
    try:
        return twin._snapshot(await fn())
    except ScenarioFailed as failed:
        failed.run = twin._snapshot(failed.run)  # its tabs as twins, as a returned run's
        raise


def unwrap(value: Any) -> Any:
    """A twin's async object (also inside a list or tuple), so that sync twins can be passed
    where the async method takes async objects."""
    if isinstance(value, Twin):
        return value._async
    if isinstance(value, list | tuple) and any(isinstance(v, Twin) for v in value):
        return type(value)(unwrap(v) for v in value)
    return value


def call_in_loop(owner: Twin, member: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `member` (a method of the async object, or any callable of its loop) with the
    twins among the arguments unwrapped; the result crosses as `owner`'s snapshot."""
    coroutine = inspect.iscoroutinefunction(member)
    args_ = [unwrap(a) for a in args]
    kwargs_ = {k: unwrap(v) for k, v in kwargs.items()}
    return owner._run(partial(member, *args_, **kwargs_), coroutine)


def twin(method: Callable[..., Any]) -> Callable[..., Any]:
    """The one wrapper: the sync twin of a method of an async class (async or not)."""

    def call(self: Twin, /, *args: Any, **kwargs: Any) -> Any:
        return call_in_loop(self, partial(method, self._async), *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = method.__qualname__
    call.__doc__ = method.__doc__
    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=inspect.Signature.empty
    )
    return call


# Typed faces of `twin` (the result type is what mypy cannot work out from the async one).


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Any, P], R]:
    """The twin of an async method, typed with the method's result."""
    return twin(method)


def direct(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """The twin of a plain method (run in the loop thread too), typed with its result."""
    return twin(method)


def blocking_as(
    kind: Callable[[], type[R]],
) -> Callable[
    [Callable[Concatenate[Any, P], Coroutine[Any, Any, Any]]], Callable[Concatenate[Any, P], R]
]:
    """`blocking`, for an async method whose result crosses as a twin: typed with `kind()`,
    the twin's class (named in a lambda, so a class may name itself in its own body):
    `fork = blocking_as(lambda: Tab)(AsyncTab.fork)`."""

    def face(
        method: Callable[Concatenate[Any, P], Coroutine[Any, Any, Any]],
    ) -> Callable[Concatenate[Any, P], R]:
        return twin(method)

    return face


class Snapshot(Generic[R]):
    """The one snapshot descriptor: a property (or attribute) of the async object, read in
    the loop thread and handed over as a snapshot."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.__doc__ = f"The async object's `{name}`, as a snapshot."

    def __get__(self, proxy: Twin | None, owner: type | None = None) -> R:
        if proxy is None:
            return cast(R, self)
        target, name = proxy._async, self.name
        return cast(R, proxy._run(lambda: getattr(target, name), False))
