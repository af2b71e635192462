"""Content-Security-Policy nonces (Via's `mw.CSP`, specs/protocol.md §2.1 and §6.4).

Every response gets a policy with a fresh nonce, except that a page's nonce is derived from
its tab id with a keyed hash. Scripts pushed to a tab later carry its *page* nonce (the only
one its document allows), and a tab re-bootstrapped into a stale document (§5.5) can use that
document's nonce, which Via cannot (a deviation, see specs/deviations.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["page_nonce", "policy", "request_nonce"]


def _b64(raw: bytes) -> str:
    # 16 bytes, base64url without padding: 22 characters, as Via's nonces.
    return base64.urlsafe_b64encode(raw[:16]).rstrip(b"=").decode()


def request_nonce() -> str:
    """A fresh random nonce for a response that is not a page."""
    return _b64(secrets.token_bytes(16))


def page_nonce(secret: bytes, tab_id: str) -> str:
    """The nonce of the page that minted `tab_id`: unpredictable without `secret`."""
    return _b64(hmac.new(secret, tab_id.encode(), hashlib.sha256).digest())


def policy(nonce: str, extra: tuple[str, ...] = ()) -> str:
    """Via's policy; `'unsafe-eval'` because Datastar compiles expressions with Function()."""
    base = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
    )
    return "".join([base, *(f"; {directive}" for directive in extra)])
