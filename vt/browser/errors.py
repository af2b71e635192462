"""The errors of `vt.browser`, in one place (so that each has one definition to point at).

Kept free of Playwright: the pytest plugin imports it in every run.
"""

from __future__ import annotations

from ..errors import UsageError

__all__ = ["BrowserErrors", "BrowserNotFound", "RefusedInBrowser"]


class BrowserNotFound(RuntimeError):
    """No Chromium to launch; the message gives the reason and the fix."""


class BrowserErrors(AssertionError):
    """A page logged console errors or raised uncaught errors that the test did not allow."""


class RefusedInBrowser(UsageError):
    """A scenario step a person cannot do in a browser (a raw request, cutting only the
    stream, reading a signal nothing shows...): the scenario runs with vt's HTTP client
    instead. The pytest plugin skips a browser item that meets one, naming the step."""
