"""Reading request bodies and decoding action payloads (specs/protocol.md §4.1, §4.2).

Bodies are read with a cap checked while reading, so an oversized body is refused (413) without
being buffered. Any non-multipart body is parsed as JSON whatever its Content-Type, as Via does;
a multipart body gives text fields (first value of a repeated field) and files by field name.
Nothing here raises for client mistakes: a body that cannot be decoded is `None` (404 upstream).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

__all__ = ["Payload", "TooLarge", "decode_action", "is_multipart", "read_capped"]

Payload = dict[str, Any]


class TooLarge(Exception):
    """The body is over its cap (413)."""


def is_multipart(request: Request) -> bool:
    """True for `multipart/form-data` requests (the upload cap applies to them)."""
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_capped(request: Request, cap: int) -> bytes:
    """The whole body; raises `TooLarge` as soon as it passes `cap` bytes.

    May raise starlette's `ClientDisconnect` when the client goes away mid-body.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes) -> Payload | None:
    """A JSON object, or None for anything else (malformed, not an object, bad UTF-8)."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


async def decode_action(
    request: Request, body: bytes, max_upload: int
) -> tuple[Payload | None, dict[str, list[UploadFile]]]:
    """The action's signals and files, or `(None, {})` when the body cannot be decoded."""
    if not is_multipart(request):
        return decode_json(body), {}

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_part_size=max_upload)
    except Exception:  # python-multipart's errors for malformed bodies are varied
        return None, {}
    fields: Payload = {}
    files: dict[str, list[UploadFile]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.setdefault(key, []).append(value)
        elif key not in fields:
            fields[key] = value
    return fields, files
