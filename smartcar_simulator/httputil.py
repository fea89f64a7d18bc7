"""Shared HTTP pieces: app/request keys, JSON and error responses, fault responses."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any, Final

from aiohttp import web

from . import endpoints
from .errors import SmartcarError
from .faults import Fault
from .simulator import Simulator

SIMULATOR: Final = web.AppKey("simulator", Simulator)
REQUEST_ID: Final = web.RequestKey("request_id", str)


def simulator(request: web.Request) -> Simulator:
    """The simulator serving this request."""
    return request.app[SIMULATOR]


def request_id(request: web.Request) -> str:
    """The request's `sc-request-id` (set by the middleware for API paths)."""
    value = request.get(REQUEST_ID)
    return value if isinstance(value, str) else ""


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact JSON response."""
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(request: web.Request, error: SmartcarError) -> web.Response:
    """The v2 error object as a response (with `retry-after` when the error has one)."""
    headers = {}
    if (retry_after := error.retry_after_header) is not None:
        headers["retry-after"] = retry_after
    return json_response(error.body(request_id(request)), error.status_code, headers)


def client_credentials(request: web.Request) -> tuple[str, str] | None:
    """(client_id, secret) from an HTTP Basic `Authorization` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except binascii.Error, UnicodeDecodeError:
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def read_json(request: web.Request) -> Any:
    """The JSON body, or None when it is missing or not JSON."""
    if not request.body_exists:
        return None
    try:
        return await request.json(loads=json.loads)
    except ValueError:
        return None


async def apply_fault(
    request: web.Request, fault: Fault, path: str, *, oauth: bool = False
) -> web.Response | None:
    """Carry out a fault: a response to send, or None to go on (after a slow/timeout wait).

    Error faults raise SmartcarError (API paths) or return an OAuth error body (`oauth`).
    """
    if fault.kind in {"slow", "timeout"}:
        await asyncio.sleep(fault.delay)
        return None
    if fault.kind == "non_json":
        return web.Response(text=endpoints.CAPTIVE_PORTAL_HTML, content_type="text/html")
    if fault.kind == "empty":
        return web.Response(body=b"", content_type="application/json")
    if fault.kind == "malformed":
        return json_response(endpoints.malformed(path, request.method))
    assert fault.error is not None
    if oauth:
        error = fault.error
        headers = {}
        if (retry_after := error.retry_after_header) is not None:
            headers["retry-after"] = retry_after
        if error.code:
            name = error.code.lower()
        else:
            name = "server_error" if error.status_code >= 500 else "invalid_request"
        body = {
            "error": name,
            "error_description": error.description or f"Simulated {error.type} error.",
        }
        return json_response(body, error.status_code, headers)
    raise fault.error.copy()
