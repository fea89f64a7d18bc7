"""Smartcar Connect (consent page) and the token endpoint."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from smartcar_simulator import Simulator
from tests.conftest import TEST_NOW

from .conftest import bearer, iso_ms


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


CLIENT = basic("sim-client-id", "sim-client-secret")
REDIRECT = "http://127.0.0.1:8123/auth/external/callback"
AUTHORIZE = {
    "response_type": "code",
    "client_id": "sim-client-id",
    "redirect_uri": REDIRECT,
    "scope": "read_vehicle_info read_battery read_odometer required:read_location bogus",
    "state": "xyz-123",
    "mode": "simulated",
    "approval_prompt": "force",
}
APPROVE = '<button id="approve" name="action" value="approve">Approve</button>'


async def _code(http: aiohttp.ClientSession, **overrides: str) -> str:
    form = {**AUTHORIZE, **overrides, "action": "approve"}
    async with http.post("/oauth/authorize", data=form, allow_redirects=False) as resp:
        assert resp.status == 302
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    return query["code"][0]


async def _token(
    http: aiohttp.ClientSession, form: dict[str, str], auth: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    async with http.post("/oauth/token", data=form, headers=auth or CLIENT) as resp:
        assert resp.headers["Cache-Control"] == "no-store"
        return resp.status, await resp.json()


async def _exchange(http: aiohttp.ClientSession, code: str) -> dict[str, Any]:
    status, body = await _token(
        http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert status == 200, body
    return body


async def _refresh(http: aiohttp.ClientSession, token: str) -> tuple[int, dict[str, Any]]:
    return await _token(http, {"grant_type": "refresh_token", "refresh_token": token})


async def test_consent_page_lists_app_vehicles_and_permissions(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/oauth/authorize", params=AUTHORIZE) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assert APPROVE in page
    assert 'value="deny"' in page
    assert "Home Assistant" in page
    for car in ("Tesla Model 3 2023", "Toyota RAV4 Prime 2022", "Ford Focus 2019"):
        assert car in page
    for permission in ("read_vehicle_info", "read_battery", "read_odometer", "read_location"):
        assert f'data-permission="{permission}"' in page
    assert "bogus" not in page.split('id="permissions"')[1].split("</ul>")[0]
    assert '<input type="hidden" name="state" value="xyz-123">' in page
    assert f'<input type="hidden" name="redirect_uri" value="{REDIRECT}">' in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_id": "someone-else"}, "Invalid client_id"),
        ({"redirect_uri": ""}, "Missing redirect_uri"),
        ({"response_type": "token"}, "response_type"),
        ({"scope": "nothing_known"}, "scope"),
    ],
)
async def test_consent_page_rejects_bad_requests(
    http: aiohttp.ClientSession, change: dict[str, str], message: str
) -> None:
    async with http.get("/oauth/authorize", params={**AUTHORIZE, **change}) as resp:
        assert resp.status == 400
        page = await resp.text()
    assert message in page
    assert APPROVE not in page


async def test_approve_redirects_with_code_and_state(http: aiohttp.ClientSession) -> None:
    form = {**AUTHORIZE, "redirect_uri": REDIRECT + "?keep=1", "action": "approve"}
    async with http.post("/oauth/authorize", data=form, allow_redirects=False) as resp:
        assert resp.status == 302
        location = urlsplit(resp.headers["Location"])
    assert location.netloc == "127.0.0.1:8123"
    assert location.path == "/auth/external/callback"
    query = parse_qs(location.query)
    assert query["state"] == ["xyz-123"]
    assert query["keep"] == ["1"]
    assert len(query["code"][0]) >= 32


async def test_deny_redirects_with_access_denied(http: aiohttp.ClientSession) -> None:
    form = {**AUTHORIZE, "action": "deny"}
    async with http.post("/oauth/authorize", data=form, allow_redirects=False) as resp:
        assert resp.status == 302
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["error_description"]
    assert query["state"] == ["xyz-123"]
    assert "code" not in query


async def test_code_exchange_grants_requested_scope(
    http: aiohttp.ClientSession, sim: Simulator
) -> None:
    body = await _exchange(http, await _code(http))
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200
    assert body["refresh_expires_in"] == 5184000
    # Expirations follow the simulator's clock (frozen at TEST_NOW), not the wall clock.
    assert body["expiration"] == iso_ms(TEST_NOW + timedelta(seconds=7200))
    assert body["refresh_expiration"] == iso_ms(TEST_NOW + timedelta(days=60))
    assert body["access_token"] != body["refresh_token"]

    headers = bearer(body["access_token"])
    ev = sim.vehicle("ev").id
    async with http.get(f"/v2.0/vehicles/{ev}/permissions", headers=headers) as resp:
        granted = (await resp.json())["permissions"]
    assert granted == ["read_battery", "read_location", "read_odometer", "read_vehicle_info"]
    async with http.get(f"/v2.0/vehicles/{ev}/location", headers=headers) as resp:
        assert resp.status == 200
    async with http.get(f"/v2.0/vehicles/{ev}/security", headers=headers) as resp:
        assert resp.status == 403
        assert (await resp.json())["type"] == "PERMISSION"


async def test_tire_thermometer_and_extended_info_permissions(
    http: aiohttp.ClientSession, sim: Simulator
) -> None:
    """Smartcar's read_tires, read_thermometer and read_extended_vehicle_info can be asked for."""
    scope = "read_tires read_thermometer required:read_extended_vehicle_info"
    async with http.get("/oauth/authorize", params={**AUTHORIZE, "scope": scope}) as resp:
        page = await resp.text()
    for permission, text in (
        ("read_tires", "Read tire pressure"),
        ("read_thermometer", "Read temperatures"),
        ("read_extended_vehicle_info", "Read extended vehicle information"),
    ):
        assert f'<li data-permission="{permission}">{text} <code>{permission}</code></li>' in page
    body = await _exchange(http, await _code(http, scope=scope))
    async with http.get(
        f"/v2.0/vehicles/{sim.vehicle('ev').id}/permissions", headers=bearer(body["access_token"])
    ) as resp:
        granted = (await resp.json())["permissions"]
    assert granted == ["read_extended_vehicle_info", "read_thermometer", "read_tires"]


async def test_code_is_single_use_and_bound_to_redirect_uri(http: aiohttp.ClientSession) -> None:
    code = await _code(http)
    status, body = await _token(
        http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT + "x"}
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    await _exchange(http, code)
    status, body = await _token(
        http, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_code_expires_after_ten_minutes(http: aiohttp.ClientSession, sim: Simulator) -> None:
    """A code is worth 600 s of virtual time: still good at 599 s, gone at 601 s."""
    early, late = await _code(http), await _code(http)
    sim.clock.advance(599)
    await _exchange(http, early)
    sim.clock.advance(2)
    status, body = await _token(
        http, {"grant_type": "authorization_code", "code": late, "redirect_uri": REDIRECT}
    )
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "auth",
    [
        {},
        basic("sim-client-id", "wrong"),
        basic("other-client", "sim-client-secret"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer sim-client-secret"},
    ],
)
async def test_token_endpoint_requires_basic_client_auth(
    http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    code = await _code(http)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "sim-client-id",
        "client_secret": "sim-client-secret",
    }
    async with http.post("/oauth/token", data=form, headers=auth) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
        body = await resp.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"]


async def test_refresh_rotates_with_grace_window(
    http: aiohttp.ClientSession, sim: Simulator
) -> None:
    first = await _exchange(http, await _code(http))
    status, second = await _refresh(http, first["refresh_token"])
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    sim.clock.advance(30)  # inside the 60 s grace: the used token still works
    status, again = await _refresh(http, first["refresh_token"])
    assert status == 200
    assert again["refresh_token"] not in {first["refresh_token"], second["refresh_token"]}

    sim.clock.advance(31)  # 61 s after its first use
    status, body = await _refresh(http, first["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")

    status, third = await _refresh(http, second["refresh_token"])
    assert status == 200
    async with http.get("/v2.0/user", headers=bearer(third["access_token"])) as resp:
        assert resp.status == 200


async def test_access_token_expires_with_virtual_time(
    http: aiohttp.ClientSession, sim: Simulator
) -> None:
    body = await _exchange(http, await _code(http))
    headers = bearer(body["access_token"])
    sim.clock.advance(7199)
    async with http.get("/v2.0/user", headers=headers) as resp:
        assert resp.status == 200
        assert (await resp.json()) == {"id": sim.user_id}
    sim.clock.advance(1)
    async with http.get("/v2.0/user", headers=headers) as resp:
        assert resp.status == 401
        error = await resp.json()
    assert error["type"] == "AUTHENTICATION"
    assert error["statusCode"] == 401
    assert error["resolution"] == {"type": "REAUTHENTICATE"}
    assert error["requestId"] == resp.headers["sc-request-id"]
    status, refreshed = await _refresh(http, body["refresh_token"])
    assert status == 200
    async with http.get("/v2.0/user", headers=bearer(refreshed["access_token"])) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "refresh_token", "refresh_token": "not-a-token"}, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT}, "invalid_grant"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "password", "username": "a"}, "unsupported_grant_type"),
    ],
)  # fmt: skip
async def test_token_errors(http: aiohttp.ClientSession, form: dict[str, str], error: str) -> None:
    status, body = await _token(http, form)
    assert (status, body["error"]) == (400, error)


async def test_token_requests_are_counted_not_billed(
    http: aiohttp.ClientSession, sim: Simulator
) -> None:
    body = await _exchange(http, await _code(http))
    await _refresh(http, body["refresh_token"])
    await _refresh(http, "unknown")
    counters = sim.counters
    assert counters["token_requests"] == {"authorization_code": 1, "refresh_token": 2}
    assert counters["billed"] == {}
    assert counters["http_requests"]["POST /oauth/token"] == 3
    assert counters["http_requests"]["POST /oauth/authorize"] == 1
