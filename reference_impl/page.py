"""The page document (specs/protocol.md §2): head metadata, the signal seed, the view container."""

from __future__ import annotations

from .html import escape

__all__ = ["beacon_script", "render_page"]

# Opens the tab's stream once Datastar loads (§2.1).
_STREAM_INIT = "@get('/_sse')"

# The client half of Via's reconnect manager (§5.5): it reflects Datastar's `datastar-fetch`
# events in `<html data-via-connection>` and a banner, and reloads after retries fail.
RECONNECT_MANAGER = (
    "if(!window.__viaRC){window.__viaRC=1;"
    "const K='__via_rc_reloads',root=document.documentElement;let b;"
    "const banner=(t)=>{if(!b){b=document.createElement('div');b.id='via-reconnect-banner';"
    "b.setAttribute('role','status');b.setAttribute('aria-live','polite');"
    "b.style.cssText='position:fixed;top:0;left:0;right:0;padding:.5rem;text-align:center;"
    "background:#fde68a;color:#000;z-index:9999';document.body.appendChild(b)}"
    "b.textContent=t;b.hidden=false};"
    "const online=()=>{root.dataset.viaConnection='online';if(b)b.hidden=true};"
    "root.dataset.viaConnection='online';"
    "setTimeout(()=>sessionStorage.removeItem(K),5000);"
    "document.addEventListener('datastar-fetch',(e)=>{const t=e.detail&&e.detail.type;"
    "if(t==='retrying'){root.dataset.viaConnection='connecting';banner('Reconnecting...')}"
    "else if(t==='started'||t==='finished'||t==='datastar-patch-elements'"
    "||t==='datastar-patch-signals'){online()}"
    "else if(t==='retries-failed'){root.dataset.viaConnection='offline';"
    "const n=+(sessionStorage.getItem(K)||0);"
    "if(n<3){sessionStorage.setItem(K,n+1);banner('Connection lost - reconnecting...');"
    "setTimeout(()=>location.reload(),500+Math.random()*1500)}"
    "else{banner('Connection lost. Please refresh the page.')}}})}"
)


def beacon_script(tab_id: str) -> str:
    """The script that sends the close beacon for `tab_id` when the page unloads (§4.4)."""
    return (
        "window.addEventListener('beforeunload',()=>navigator.sendBeacon('/_sse/close',"
        f"{_js_string(tab_id)}))"
    )


def render_page(
    *,
    title: str,
    seed_json: str,
    tab_id: str,
    view_html: str,
    reconnect_manager: bool,
    head: str = "",
    lang: str | None = None,
    description: str | None = None,
) -> str:
    """The whole HTML document for a new tab (`view_html` is the rendered `<div id=TAB>`)."""
    beacon = beacon_script(tab_id)
    parts = [
        "<!doctype html>",
        f'<html lang="{escape(lang)}">' if lang else "<html>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f'<meta name="description" content="{escape(description)}">' if description else "",
        f'<meta data-signals="{escape(seed_json)}">',
        f'<meta data-init="{escape(_STREAM_INIT)}">',
        f'<meta data-init="{escape(beacon)}">',
    ]
    if reconnect_manager:
        parts.append(f'<meta data-init="{escape(RECONNECT_MANAGER)}">')
    parts += [
        head,
        '<script type="module" src="/_datastar.js"></script>',
        "</head><body>",
        view_html,
        "</body></html>",
    ]
    return "".join(parts)


def _js_string(value: str) -> str:
    out = ["'"]
    for ch in value:
        if ch in "'\\":
            out.append("\\" + ch)
        elif ch < " " or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)
