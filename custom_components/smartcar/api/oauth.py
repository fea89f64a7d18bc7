"""Smartcar Connect and the token endpoint (HTTP Basic client authentication, form body)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import math
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ._http import send
from .auth import AbstractAuth
from .const import (
    DEFAULT_CONNECT_URL,
    DEFAULT_IAM_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_URL,
    ApiVersion,
    Mode,
)
from .errors import SmartcarError, SmartcarOAuthError, SmartcarResponseError, error_from_response
from .models import ApplicationToken, TokenSet


def build_authorize_url(
    *,
    client_id: str,
    redirect_uri: str,
    scope: Iterable[str],
    state: str,
    mode: Mode = Mode.LIVE,
    approval_prompt: str = "auto",
    connect_url: str = DEFAULT_CONNECT_URL,
) -> str:
    """The Smartcar Connect URL to send the user to.

    Home Assistant builds the integration's own URL (`extra_authorize_data`); this one lets the
    client's tests go through Connect for a code to exchange, without Home Assistant.
    """
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scope),
        "state": state,
        "mode": Mode(mode).value,
        "approval_prompt": approval_prompt,
    }
    separator = "&" if "?" in connect_url else "?"
    return f"{connect_url}{separator}{urlencode(query)}"


def parse_token(body: Any) -> TokenSet:
    """A TokenSet from the token endpoint's JSON."""
    if not isinstance(body, Mapping):
        raise SmartcarResponseError("token endpoint: body is not a JSON object")
    access = body.get("access_token")
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise SmartcarResponseError("token endpoint: tokens missing from the answer")
    lifetime = _seconds(expires_in)
    if lifetime is None:
        raise SmartcarResponseError("token endpoint: expires_in missing from the answer")
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_in=lifetime,
        token_type=str(body.get("token_type") or "Bearer"),
        refresh_expires_in=_seconds(body.get("refresh_expires_in")),
        raw=dict(body),
    )


def _seconds(value: Any) -> float | None:
    """A finite, non-negative JSON number of seconds, else None (bool, NaN, inf, huge int)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _token_error(status: int, body: Any) -> SmartcarError:
    """Errors of the token endpoint: OAuth's `error` for 400/401, else by status."""
    fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    if status in (400, 401):
        error = fields.get("error")
        description = fields.get("error_description")
        return SmartcarOAuthError(
            status=status,
            error=error if isinstance(error, str) and error else "invalid_request",
            description=description if isinstance(description, str) else None,
        )
    return error_from_response(status, body)


class SmartcarOAuth:
    """Exchanges codes and refreshes tokens for one Smartcar application."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        token_url: str = DEFAULT_TOKEN_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Keep the application's credentials."""
        self._session = session
        self._basic = aiohttp.encode_basic_auth(client_id, client_secret)
        self._token_url = token_url
        self._timeout = timeout

    async def _token(self, form: dict[str, str]) -> TokenSet:
        raw = await send(
            self._session,
            "POST",
            self._token_url,
            timeout=self._timeout,
            data=form,
            headers={"Accept": "application/json", "Authorization": self._basic},
            what="token endpoint",
            error_factory=_token_error,
        )
        return parse_token(raw.body)

    async def async_exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade an authorization code for tokens."""
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    async def async_refresh(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for new tokens (Smartcar rotates the refresh token)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})


def parse_application_token(body: Any) -> ApplicationToken:
    """An ApplicationToken from the IAM token endpoint's JSON (no refresh token)."""
    if not isinstance(body, Mapping):
        raise SmartcarResponseError("token endpoint: body is not a JSON object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise SmartcarResponseError("token endpoint: no access token in the answer")
    token_type = body.get("token_type")
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        raise SmartcarResponseError("token endpoint: not a bearer token")
    lifetime = _seconds(body.get("expires_in"))
    return ApplicationToken(
        access_token=access, expires_in=3600.0 if lifetime is None else lifetime
    )


async def async_application_token(
    session: aiohttp.ClientSession,
    *,
    client_id: str,
    client_secret: str,
    iam_url: str = DEFAULT_IAM_URL,
    timeout: float = DEFAULT_TIMEOUT,
) -> ApplicationToken:
    """API v3: an application token by the client credentials grant.

    A refused client (401 `invalid_client`: v2 credentials, or a rotated secret) is a
    `SmartcarOAuthError`.
    """
    raw = await send(
        session,
        "POST",
        iam_url,
        timeout=timeout,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
        headers={"Accept": "application/json"},
        what="token endpoint",
        error_factory=_token_error,
    )
    return parse_application_token(raw.body)


async def async_detect_api_version(
    session: aiohttp.ClientSession,
    *,
    client_id: str,
    client_secret: str,
    iam_url: str = DEFAULT_IAM_URL,
) -> ApiVersion:
    """v3 when the IAM token endpoint accepts these credentials, v2 when it refuses them.

    Anything else (no answer, 5xx) raises: the version cannot be told.
    """
    try:
        await async_application_token(
            session, client_id=client_id, client_secret=client_secret, iam_url=iam_url
        )
    except SmartcarOAuthError:
        return ApiVersion.V2
    return ApiVersion.V3


class ApplicationTokenAuth(AbstractAuth):
    """API v3 access: one application token for every car of the application's user.

    Fetched when first needed, again `margin` seconds before it expires and after Smartcar
    refused it (`async_invalidate`); concurrent callers share one fetch.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        iam_url: str = DEFAULT_IAM_URL,
        clock: Callable[[], float] = time.time,
        margin: float = 300.0,
    ) -> None:
        """Keep the application's credentials."""
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self._iam_url = iam_url
        self._clock = clock
        self._margin = margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.fetched = 0

    async def async_get_access_token(self) -> str:
        """A token valid for at least `margin` more seconds."""
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                token = await async_application_token(
                    self._session,
                    client_id=self._client_id,
                    client_secret=self._client_secret,
                    iam_url=self._iam_url,
                )
                self.fetched += 1
                self._token = token.access_token
                self._expires_at = self._clock() + token.expires_in
            return self._token

    async def async_invalidate(self, access_token: str) -> None:
        """Smartcar refused this token: the next request fetches another."""
        async with self._lock:
            if self._token == access_token:
                self._token = None
