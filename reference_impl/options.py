"""The runtime's configuration: one field per Via option (each named in its comment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Options"]

DEFAULT_HEARTBEAT = 25.0


@dataclass(slots=True)
class Options:
    """Runtime configuration; every field mirrors a Via option (named in its comment).

    Sizes are bytes, durations seconds. `App(**overrides)` sets fields by name.
    """

    title: str = "Via"  # WithTitle
    description: str | None = None  # WithDescription
    lang: str | None = None  # <html lang>
    insecure_cookies: bool = False  # WithInsecureCookies: no Secure flag (plain-http dev)
    session_cookie: str = "via_session"  # WithSessionCookieName
    heartbeat: float = DEFAULT_HEARTBEAT  # WithSSEHeartbeat; <= 0 means the default
    context_ttl: float = 15 * 60.0  # WithContextTTL; <= 0 disables the tab sweep
    session_ttl: float = 30 * 60.0  # WithSessionTTL
    max_sessions: int = 0  # WithMaxSessions; 0 = no cap
    max_contexts: int = 0  # WithMaxContexts; 0 = no cap
    max_request_body: int = 1 << 20  # WithMaxRequestBody (JSON actions, close beacon)
    max_upload: int = 32 << 20  # WithMaxUploadSize (multipart actions)
    verbose_errors: bool = False  # WithVerboseErrors: panic text in toasts
    datastar_js: str | Path | None = None  # the client script served at /_datastar.js
    reconnect_manager: bool = True  # WithoutSSEReconnect turns it off
    health_endpoints: bool = True  # WithoutHealthEndpoints turns them off
    compression: bool = True  # brotli on streams when the client accepts `br` (§5.6)
    csp: bool = False  # mw.CSP(): a Content-Security-Policy with a nonce on every response
    csp_extra: tuple[str, ...] = ()  # mw.CSP(extra...): directives appended to the policy
    # Key deriving each page's CSP nonce from its tab id, so a re-bootstrapped tab can use its
    # document's nonce (deviation, specs/deviations.md); random per process when None.
    csp_secret: bytes | None = None
    head: str = ""  # AppendToHead: raw markup added to every page's <head>
