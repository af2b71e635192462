"""The one place that imports the HTTP library, so a switch (say to httpx2) is local.

Also the cookie policy: Via's session cookie is `Secure`, and Python's cookie jar never sends a
Secure cookie over plain http. Browsers treat loopback (`localhost`, 127.0.0.0/8, ::1) as a
secure context and do send it there; vt's jar does the same, and only there.
"""

from __future__ import annotations

import ipaddress
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

__all__ = [
    "AsyncHTTPClient",
    "AsyncHTTPTransport",
    "HTTPError",
    "HTTPResponse",
    "Request",
    "loopback_cookie_jar",
    "new_transport",
    "stream_timeout",
]

AsyncHTTPClient = httpx.AsyncClient
AsyncHTTPTransport = httpx.AsyncHTTPTransport
HTTPResponse = httpx.Response
HTTPError = httpx.HTTPError
Request = httpx.Request


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (with or without a port)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _LoopbackSecurePolicy(DefaultCookiePolicy):
    """The default policy, but Secure cookies also go to loopback hosts over http."""

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        if cookie.secure and is_loopback(request.host):
            return True
        return bool(super().return_ok_secure(cookie, request))


def loopback_cookie_jar() -> CookieJar:
    """A fresh cookie jar with the loopback Secure-cookie policy."""
    return CookieJar(policy=_LoopbackSecurePolicy())


def new_transport() -> httpx.AsyncHTTPTransport:
    """A connection pool with no connection cap: one open stream per tab, thousands of tabs."""
    return httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        trust_env=False,
    )


def request_timeout(seconds: float) -> httpx.Timeout:
    """Timeouts for ordinary requests (page, action, beacon)."""
    return httpx.Timeout(seconds)


def stream_timeout(connect: float) -> httpx.Timeout:
    """Timeouts for an event stream: bounded connect, unbounded reads (heartbeats may be rare)."""
    return httpx.Timeout(connect=connect, read=None, write=connect, pool=connect)
