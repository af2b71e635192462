"""The one place that imports the HTTP library, so a switch (say to httpx2) is local.

Also the cookie policy: Via's session cookie is `Secure`, and Python's cookie jar never sends a
Secure cookie over plain http. Browsers treat loopback (`localhost`, 127.0.0.0/8, ::1) as a
secure context and do send it there; vt's jar does the same, and only there.

httpx copies a client's cookies into a fresh jar with the default policy for every request,
which would drop that rule; so a session's client keeps no cookies itself, and its jar is
applied by an auth flow (`_JarAuth`) that sets `Cookie` on each request and stores each
response's `Set-Cookie`, redirects included.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from collections.abc import AsyncIterator, Generator, Mapping
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import anyio
import brotli
import httpx

from ..defaults import KEEPALIVE_EXPIRY

if TYPE_CHECKING:
    from ..page.requests import Outgoing

__all__ = [
    "AsyncHTTPClient",
    "HTTPError",
    "HTTPResponse",
    "Request",
    "body_chunks",
    "build",
    "loopback_cookie_jar",
    "new_tls_context",
    "read_bounded",
    "session_client",
    "stream_timeout",
]

AsyncHTTPClient = httpx.AsyncClient
HTTPResponse = httpx.Response
HTTPError = httpx.HTTPError
Request = httpx.Request


@functools.lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (with or without a port)."""
    # Cached: the cookie policy asks for every cookie of every request.
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host[1:]  # [::1]:80
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # host:port, or ::1
    name = name.lower()
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


class _RefuseAll(DefaultCookiePolicy):
    """A policy that stores nothing: the session client's own jar stays empty."""

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


class _JarAuth(httpx.Auth):
    """Applies a session's cookie jar (with its loopback policy) to every request."""

    def __init__(self, jar: CookieJar) -> None:
        self.cookies = httpx.Cookies(jar)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.cookies.set_cookie_header(request)
        response = yield request
        self.cookies.extract_cookies(response)


@functools.cache
def new_tls_context() -> ssl.SSLContext:
    """The TLS context every session shares: loading the CA bundle (about 50 ms) is the
    costliest part of making an HTTP client, so it is done once per process, on first use.
    An `SSLContext` is safe to share between clients and threads once configured, and this
    one is never changed after it is made."""
    return ssl.create_default_context()


def session_client(
    tls: ssl.SSLContext,
    jar: CookieJar,
    *,
    headers: Mapping[str, str],
    timeout: float,
) -> httpx.AsyncClient:
    """An httpx client for one session: its own connection pool, this session's jar, no
    redirects. The caller closes it (which closes its pool).

    A pool per session rather than one for the whole client: a pool looks through every
    connection it holds for each new request, so a shared pool makes opening N tabs with open
    streams cost O(N^2). The pool has no connection cap (each tab holds one open stream), and
    idle connections expire before a server's usual 5 s keep-alive does, so a request is not
    sent on a connection the server is closing ("Server disconnected without sending a
    response").
    """
    transport = httpx.AsyncHTTPTransport(
        verify=tls,
        limits=httpx.Limits(
            max_connections=None, max_keepalive_connections=16, keepalive_expiry=KEEPALIVE_EXPIRY
        ),
        trust_env=False,
    )
    return httpx.AsyncClient(
        transport=transport,
        auth=_JarAuth(jar),
        cookies=CookieJar(policy=_RefuseAll()),
        headers=dict(headers),
        timeout=request_timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )


def build(
    client: httpx.AsyncClient, outgoing: Outgoing, *, timeout: httpx.Timeout | None = None
) -> httpx.Request:
    """The HTTP request for one request a page sends (with the client's default timeout
    unless `timeout` is given)."""
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    return client.build_request(
        outgoing.method,
        outgoing.url,
        headers=outgoing.headers,
        content=outgoing.content,
        data=outgoing.data,
        files=outgoing.files,
        **extra,
    )


def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """A streamed body's bytes as they arrive. Without a content encoding the raw body is
    the stream, so httpx's decoders are skipped; a brotli one is decoded here (§5.6)."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "br":
        return _brotli_chunks(response)
    return response.aiter_bytes() if encoding != "identity" else response.aiter_raw()


async def _brotli_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    # httpx's decoder (with Google's `brotli`) never checks that a body reached brotli's end
    # marker, so a stream cut short would pass for one the server ended cleanly (§5.5.4).
    decoder = brotli.Decompressor()
    async for raw in response.aiter_raw():
        try:
            data: bytes = decoder.process(raw)
        except brotli.error as exc:
            raise httpx.DecodingError(f"brotli: {exc}", request=response.request) from exc
        if data:
            yield data
    if not decoder.is_finished():
        raise httpx.DecodingError(
            "brotli: the stream ended before its end marker (a server ending a compressed "
            "stream finishes it: a clean end, §5.5.4)",
            request=response.request,
        )


async def read_bounded(response: httpx.Response, seconds: float, limit: int = 4096) -> bytes:
    """At most `limit` bytes of a streamed body, read for at most `seconds` (for an error
    message: the body of a refused stream may never end)."""
    data = bytearray()
    with anyio.move_on_after(seconds):
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= limit:
                break
    return bytes(data[:limit])


def request_timeout(seconds: float) -> httpx.Timeout:
    """Timeouts for ordinary requests (page, action, beacon)."""
    return httpx.Timeout(seconds)


def stream_timeout(connect: float) -> httpx.Timeout:
    """Timeouts for an event stream: bounded connect, unbounded reads (heartbeats may be rare)."""
    return httpx.Timeout(connect=connect, read=None, write=connect, pool=connect)
