"""HTTP transport: one place that sends, times out, and turns failures into SmartcarErrors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import json
from typing import Any

import aiohttp

from .errors import (
    SmartcarConnectionError,
    SmartcarError,
    SmartcarResponseError,
    SmartcarTimeoutError,
    error_from_response,
    parse_retry_after,
)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A decoded JSON answer with its headers."""

    status: int
    headers: Mapping[str, str]
    body: Any


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    data: Mapping[str, str] | None = None,
    params: Mapping[str, str | int] | None = None,
    what: str,
    error_factory: Callable[[int, Any], SmartcarError] | None = None,
) -> RawResponse:
    """Send one request; raise the matching SmartcarError for anything but a JSON 2xx.

    `what` names the request in error messages (a path, never a URL with ids or a token).
    `error_factory` builds the error for a 4xx/5xx answer when it is no Smartcar error object.
    """
    try:
        async with session.request(
            method,
            url,
            headers=headers,
            json=json_body,
            data=data,
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            # A broken charset must not escape as UnicodeDecodeError: it is "not JSON".
            text = await response.text(errors="replace")
            status = response.status
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
    except TimeoutError as err:
        raise SmartcarTimeoutError(f"{what}: Smartcar did not answer in {timeout:g} s") from err
    except asyncio.CancelledError:
        raise
    except aiohttp.ClientError as err:
        raise SmartcarConnectionError(
            f"{what}: cannot reach Smartcar ({type(err).__name__})"
        ) from err

    body: Any = None
    decoded = False
    if text.strip():
        try:
            body = json.loads(text)
            decoded = True
        except ValueError:
            decoded = False
    request_id = resp_headers.get("sc-request-id")
    if status >= 400:
        if error_factory is not None:
            raise error_factory(status, body)
        # A proxy page instead of an error object still maps by its status.
        raise error_from_response(
            status,
            body,
            request_id=request_id,
            retry_after=parse_retry_after(resp_headers.get("retry-after")),
        )
    if not decoded and text.strip():
        raise SmartcarResponseError(f"{what}: answer is not JSON (HTTP {status})")
    return RawResponse(status=status, headers=resp_headers, body=body)
