"""A tab's gestures and what its page runs by itself, performed (a base of `AsyncTab`).

The rules live in `vt.page.gestures` (sans-IO flows); this module drives them: it records
each listener that ran, takes the signals expressions left, sends the requests their actions
send (a `text/event-stream` answer is read in the background, as the browser reads it, so a
gesture returns once every request has its response headers), runs timing modifiers' timers
and `data-on-interval` on the client's clock (real time: a test waits for what they do with
`expect_*`), and toggles `data-indicator` signals while an element's request is in flight.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import anyio

from ..page import gestures as _gestures
from ..page.flows import Fired, Flow, GestureState, Later, Log, Send, SetSignals
from ..page.requests import ActionResult, gesture_request
from ..replica.dom import Element
from .calls import ActionCalls

__all__ = ["Gestures"]


class Gestures(ActionCalls):
    """Gestures (`click`, `press`, `type`, `fill`, `check`, `uncheck`, `select_option`,
    `submit`, `focus`, `blur`, `hover`) and the page's own runs (`data-init`,
    `data-on-interval`, requests from `data-effect`)."""

    gestures: GestureState
    _busy: int = 0

    @property
    def busy(self) -> int:
        """How many timers (timing modifiers) and background requests (`data-effect`,
        `data-init` in added content) are not done yet; 0 when the page is idle, as far as
        its own clock goes (streams it reads are not counted)."""
        return self._busy

    async def _find(self, selector: str, verb: str, timeout: float | None) -> Element:
        raise NotImplementedError  # AsyncTab waits for the element (a `Watched` tab)

    # -- gestures ---------------------------------------------------------------------------

    async def click(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Click the first element matching `selector`, as a user would (waiting up to
        `timeout` for it to appear).

        Fires what Chromium fires for a click, in its order: the pointer moves onto the
        element, `pointerdown`, `mousedown`, focus moves, `pointerup`, `mouseup`, `click`;
        then the default action (a checkbox or radio toggles and fires `input` and `change`;
        a submit button submits its form). Every listener on the way runs in the JavaScript
        engine (`__stop`, `__once`, `__outside`, `__window`, `__prevent` honoured; timing
        modifiers on the client's clock). `confirm(...)` is answered OK.

        Returns the responses of the requests the click sent (once their headers arrived; an
        event stream is read on in the background).

        Raises:
            ElementNotInteractive: the element is disabled, or nothing reacts to a click (or
                everything that ran threw), or the browser would submit a form natively.
        """
        target = await self._find(selector, "click", timeout)
        return await self._drive(
            _gestures.click(
                self.replica,
                target,
                label=self.label,
                state=self.gestures,
                name=f"click {selector}",
            )
        )

    async def press(
        self, selector: str, key: str, *, timeout: float | None = None
    ) -> list[ActionResult]:
        """Press one key (a `KeyboardEvent.key`: ``"Enter"``, ``"a"``) on an element, focused
        first: `keydown`, `keypress`, the key's default action (a character is typed into a
        text field; Enter submits a field's form or clicks a button; Space clicks a button),
        `keyup`. Key filters are the expressions' own (`evt.key === 'Enter' && ...`).

        Raises:
            ElementNotInteractive: nothing reacts to the key.
        """
        target = await self._find(selector, f"press {key!r} on", timeout)
        name = f"press {key!r} on {selector}"
        flow = _gestures.press(
            self.replica, target, key, label=self.label, state=self.gestures, name=name
        )
        return await self._drive(flow)

    async def type(
        self, selector: str, text: str, *, append: bool = False, timeout: float | None = None
    ) -> list[ActionResult]:
        """Type `text` into a field, key by key as `press` does (the field emptied first,
        unless `append`); the bound signal follows each key; then `change` fires, as when
        the field is left.

        Raises:
            ElementNotInteractive: the element is not a field, or has no `data-bind` and no
                listener reacts to typing.
        """
        target = await self._find(selector, "type into", timeout)
        flow = _gestures.type_text(
            self.replica,
            target,
            text,
            label=self.label,
            state=self.gestures,
            append=append,
            name=f"type {text!r} into {selector}",
        )
        return await self._drive(flow)

    async def fill(
        self, selector: str, text: str, *, timeout: float | None = None
    ) -> list[ActionResult]:
        """Replace a field's value at once, as Playwright's `fill` does: focus, the value
        set, one `input` event (no keys, no `change` until the field is left)."""
        target = await self._find(selector, "fill", timeout)
        flow = _gestures.fill(self.replica, target, text, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def check(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Tick a checkbox or radio: a click, unless it is ticked already."""
        target = await self._find(selector, "check", timeout)
        flow = _gestures.check(self.replica, target, True, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def uncheck(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Untick a checkbox: a click, unless it is unticked already."""
        target = await self._find(selector, "uncheck", timeout)
        flow = _gestures.check(self.replica, target, False, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def select_option(
        self, selector: str, value: str, *, timeout: float | None = None
    ) -> list[ActionResult]:
        """Pick an option of a `<select>` by its value (or text): `input`, then `change`.

        Raises:
            ElementNotInteractive: the element is not a select, or has no such option.
        """
        target = await self._find(selector, "select an option of", timeout)
        flow = _gestures.select_option(
            self.replica, target, value, label=self.label, state=self.gestures
        )
        return await self._drive(flow)

    async def submit(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Submit a form (`selector` names it or an element in it), as `requestSubmit()`:
        the `submit` event, with no submitter.

        Raises:
            ElementNotInteractive: no listener prevents the submit, so a browser would
                submit the form natively (a page load), which vt does not perform.
        """
        target = await self._find(selector, "submit", timeout)
        flow = _gestures.submit(self.replica, target, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def focus(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Move focus to an element: `blur`/`focusout` on the focused one (`change` first if
        it was edited), then `focus`/`focusin`."""
        target = await self._find(selector, "focus", timeout)
        flow = _gestures.focus(self.replica, target, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def blur(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Take focus from an element (if it has it): `change` if it was edited, `blur`,
        `focusout`."""
        target = await self._find(selector, "blur", timeout)
        flow = _gestures.blur(self.replica, target, label=self.label, state=self.gestures)
        return await self._drive(flow)

    async def hover(self, selector: str, *, timeout: float | None = None) -> list[ActionResult]:
        """Move the pointer onto an element: `pointerover`, `pointerenter`, `mouseover`,
        `mouseenter`, `pointermove`, `mousemove` (and the leave events on the last one)."""
        target = await self._find(selector, "hover", timeout)
        flow = _gestures.hover(self.replica, target, label=self.label, state=self.gestures)
        return await self._drive(flow)

    # -- driving ----------------------------------------------------------------------------

    async def _drive(
        self, flow: Flow, send: Callable[[Send], Awaitable[ActionResult | None]] | None = None
    ) -> list[ActionResult]:
        """Run a flow: record what ran, take its signals, send its requests (with `send`, if
        given), set its timers."""
        try:
            step = next(flow)
            while True:
                reply: ActionResult | None = None
                if isinstance(step, Fired):
                    what = f"{step.event} -> {step.binding.attr}"
                    if step.ran.requests:
                        what += ": " + "; ".join(
                            f"@{r['method'].lower()}({r['url']!r})" for r in step.ran.requests
                        )
                    self.timeline.add("gesture", what, step.binding)
                elif isinstance(step, SetSignals):
                    self.replica.set_signals(step.store)
                    self._changed()
                elif isinstance(step, Log):
                    if step.text.startswith("vt: "):  # vt's own note (confirm answered OK)
                        self.timeline.add("gesture", step.text[4:])
                    else:
                        self.replica.console.append(step.text)
                elif isinstance(step, Later):
                    self._later(step)
                else:
                    reply = await (send or self._request)(step)
                step = flow.send(reply)
        except StopIteration as stop:
            results: list[ActionResult] = stop.value
            await self._pump()
            return results

    async def _request(self, send: Send, *, opening: bool = False) -> ActionResult:
        """Send a request an expression made (`opening`: one that opens the tab's stream)."""
        outgoing = gesture_request(
            send.request,
            self.url_of(send.url),
            referer=self.page_url,
            form=send.form,
            multipart=send.multipart,
        )
        name = f"{send.method} {send.url}"
        return await self._send(
            outgoing, name, background=True, element=send.element, opening=opening
        )

    def _later(self, step: Later) -> None:
        delay = step.delay if math.isfinite(step.delay) and step.delay > 0 else 0.0

        async def due() -> None:
            try:
                await anyio.sleep(delay)
                await self._drive(
                    _gestures.fire_timer(
                        self.replica,
                        self.gestures,
                        step.key,
                        step.stage,
                        step.token,
                        label=self.label,
                    )
                )
            finally:
                self._busy -= 1
                self._changed()

        self._busy += 1
        self.hub.start(due)

    async def _pump(self) -> None:
        """Send the requests expressions made while events were applied (`data-effect`,
        `data-init` in added content): in the background, as the browser does."""
        while self.replica.requests:
            request, element = self.replica.requests.pop(0)
            pending = Send(request, Element(element))

            async def background(send: Send = pending) -> None:
                await self._background(send)

            self.hub.start(background)

    async def _background(self, send: Send) -> None:
        self._busy += 1
        try:
            await self._request(send)
        except Exception as exc:  # logged as the browser logs a failed fetch
            self.replica.console.append(f"FetchFailed: {send.method} {send.url}: {exc}")
        finally:
            self._busy -= 1
            self._changed()

    def _run_page(self, element: Element, expression: str, what: str) -> Flow:
        return _gestures.perform(
            self.replica, self.gestures, element, expression, label=self.label, what=what
        )

    async def _interval(
        self, element: Element, expression: str, seconds: float, *, leading: bool = False
    ) -> None:
        """`data-on-interval`: run the expression every `seconds` (first at once with
        `leading`) while the element is in the page (it stops when a patch removes it)."""
        if leading:
            await self._drive(self._run_page(element, expression, "data-on-interval"))
        while element.node.getroottree().getroot() is self.replica.document.root:
            await anyio.sleep(seconds)
            await self._drive(self._run_page(element, expression, "data-on-interval"))
