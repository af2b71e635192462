"""The runtime's configuration: one field per Via option (each named in its comment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FAULTS", "Options"]

DEFAULT_HEARTBEAT = 25.0

# Test-only: deliberately broken variants, for the conformance suite's mutation check. Each
# breaks `specs/protocol.md` (or the conformance app, `specs/conformance-app.md`) in one way.
FAULTS: dict[str, str] = {
    "drop-ready": "the stream never sends `: ready` (§5.3.1)",
    "app-state-per-session": "StateApp values are kept per session, not per app (§8)",
    "bad-json-500": "a malformed action body is answered 500, not 404 (§4.2)",
    "unescaped-markup": "views do not escape text: user input becomes markup",
    "foreign-tab-accepted": "a tab id of another session is accepted (§4.2, §5.1.2)",
    "forget-queued-render": "the render queued before the stream is ready is dropped (§5.4.4)",
    "reorder-chat": "the conformance app's chats show the newest message first",
    "skip-resync": "a reconnecting stream gets no resync (§5.5.2)",
}


@dataclass(slots=True)
class Options:
    """Runtime configuration; every field but the test-only `faults` mirrors a Via option
    (named in its comment).

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
    # WithBackplane: app and session state and event logs on a shared backplane
    # (`reference_impl.backplane.Backplane`: in memory, or NATS JetStream), for a cluster of
    # nodes (specs/cluster.md); None keeps them in this process, as Via without one.
    backplane: Any = None
    # Test-only (no Via option): deliberately broken variants, for the conformance suite's
    # mutation check; names from FAULTS. Never set outside that check.
    faults: frozenset[str] = field(default_factory=frozenset)
