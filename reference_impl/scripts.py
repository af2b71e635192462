"""The scripts the runtime pushes to a tab: script events, toasts and redirects (§6.4).

Each is a self-removing `<script>` appended to `body`, as Via sends them; none of them does I/O.
"""

from __future__ import annotations

from .jsonenc import encode_json
from .sse import patch_elements, script_tag

__all__ = ["redirect_script", "safe_redirect", "script_event", "toast_script"]


def script_event(body: str, nonce: str | None) -> str:
    """A script as Via sends it: a self-removing `<script>` appended to `body` (§6.4)."""
    return patch_elements(script_tag(body, nonce), selector="body", mode="append")


def safe_redirect(url: str) -> bool:
    """Via's rule (§6.4.3): only http, https and relative URLs; never `//host`, `\\\\host`
    or blank."""
    stripped = "".join(ch for ch in url if ord(ch) > 0x20).lower()
    if not stripped or stripped.startswith(("//", "\\\\", "/\\", "\\/")):
        return False
    scheme, colon, _ = stripped.partition(":")
    if colon and scheme.isalnum() and "/" not in scheme and "?" not in scheme:
        return scheme in ("http", "https")
    return True


def redirect_script(url: str) -> str:
    """The script that navigates to `url` (already checked with `safe_redirect`)."""
    return f"setTimeout(() => window.location.href = {encode_json(url)})"


def toast_script(message: str) -> str:
    """Via's toast: `#via-toast-root` (role=status, aria-live=polite) with the text set safely."""
    msg = encode_json(message)
    return (
        "(()=>{let r=document.getElementById('via-toast-root');"
        "if(!document.getElementById('via-toast-css')){let s=document.createElement('style');"
        "s.id='via-toast-css';s.textContent='#via-toast-root{position:fixed;bottom:1rem;"
        "right:1rem;z-index:9999}.via-toast{background:#333;color:#fff;padding:.5rem 1rem;"
        "margin-top:.5rem;border-radius:.25rem}';document.head.appendChild(s)}"
        "if(!r){r=document.createElement('div');r.id='via-toast-root';"
        "r.setAttribute('role','status');r.setAttribute('aria-live','polite');"
        "document.body.appendChild(r)}"
        "let t=document.createElement('div');t.className='via-toast';"
        f"t.textContent={msg};r.appendChild(t);setTimeout(()=>t.remove(),4000)}})()"
    )
