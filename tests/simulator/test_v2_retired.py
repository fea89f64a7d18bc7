"""API v2.0 retired (`sim.v2_retired`, `/sim/v2`): every /v2.0 request answers 410, v3 and
OAuth go on."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from smartcar_simulator import (
    EV_ID,
    PHEV_ID,
    USER_ID,
    Simulator,
    SimulatorServer,
    TokenSet,
    VirtualClock,
)
from smartcar_simulator.simulator import DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
from smartcar_simulator.v3 import DEFAULT_V3_CLIENT_ID, DEFAULT_V3_CLIENT_SECRET, issue_app_token

from .conftest import bearer

V2_APP = {"Authorization": "Basic " + base64.b64encode(b"sim-client-id:sim-client-secret").decode()}
AMT_BASIC = {
    "Authorization": "Basic "
    + base64.b64encode(f"default:{DEFAULT_MANAGEMENT_TOKEN}".encode()).decode()
}


def retired(request_id: str) -> dict[str, Any]:
    """The 410 body (written out: the test checks the simulator's)."""
    return {
        "type": "VERSION",
        "code": "API_VERSION_RETIRED",
        "description": "API v2.0 is no longer served for this application. Use API v3 credentials.",
        "docURL": "https://smartcar.com/docs/errors/api-errors/version-errors#api-version-retired",
        "statusCode": 410,
        "resolution": {"type": "CONTACT_SUPPORT"},
        "suggestedUserMessage": "Please contact the app developer.",
        "requestId": request_id,
    }


# (method, path, which credentials, JSON body, the status when v2 is served)
V2_REQUESTS: list[tuple[str, str, str, Any, int]] = [
    ("GET", "/v2.0/user", "user", None, 200),
    ("GET", "/v2.0/vehicles", "user", None, 200),
    ("GET", f"/v2.0/vehicles/{EV_ID}", "user", None, 200),
    ("GET", f"/v2.0/vehicles/{EV_ID}/battery", "user", None, 200),
    ("GET", f"/v2.0/vehicles/{EV_ID}/signals", "user", None, 200),
    ("GET", f"/v2.0/vehicles/{EV_ID}/permissions", "user", None, 200),
    ("POST", f"/v2.0/vehicles/{EV_ID}/batch", "user", {"requests": [{"path": "/battery"}]}, 200),
    ("POST", f"/v2.0/vehicles/{EV_ID}/security", "user", {"action": "UNLOCK"}, 200),
    ("POST", f"/v2.0/vehicles/{PHEV_ID}/charge/limit", "user", {"limit": 0.6}, 200),
    ("POST", f"/v2.0/vehicles/{EV_ID}/webhooks/{DEFAULT_WEBHOOK_ID}", "user", None, 200),
    ("DELETE", f"/v2.0/vehicles/{EV_ID}/application", "user", None, 200),
    ("GET", "/v2.0/management/connections", "amt", None, 200),
    ("DELETE", f"/v2.0/management/connections?vehicle_id={EV_ID}", "amt", None, 200),
    ("GET", "/v2.0/user", "none", None, 401),  # 410 comes before authentication
    ("GET", "/v2.0/compatibility", "user", None, 404),  # and for paths not served at all
]


def _world(sim: Simulator) -> tuple[Any, ...]:
    """What a v2 request could change: lock, charge limit, subscriptions, connections."""
    return (
        sim.vehicle("ev").state.locked,
        sim.vehicle("phev").state.charge_limit,
        sim.subscriptions("ev"),
        sim.accounts.vehicles_of(USER_ID),
    )


def _headers(kind: str, tokens: TokenSet) -> dict[str, str]:
    return {"user": bearer(tokens), "amt": AMT_BASIC, "none": {}}[kind]


async def _set_retired(http: aiohttp.ClientSession, value: bool) -> None:
    async with http.post("/sim/v2", json={"retired": value}) as resp:
        assert resp.status == 200
        assert await resp.json() == {"retired": value}


async def test_control_endpoint(http: aiohttp.ClientSession, sim: Simulator) -> None:
    async with http.get("/sim/v2") as resp:
        assert await resp.json() == {"retired": False}
    assert sim.state()["v2_retired"] is False
    await _set_retired(http, True)
    assert sim.v2_retired is True
    async with http.get("/sim/v2") as resp:
        assert await resp.json() == {"retired": True}
    async with http.get("/sim/state") as resp:
        assert (await resp.json())["v2_retired"] is True
    for bad, message in (
        ({}, "'retired' must be true or false"),
        ({"retired": "yes"}, "'retired' must be true or false"),
        ({"retired": True, "when": "now"}, "unknown fields: when"),
    ):
        async with http.post("/sim/v2", json=bad) as resp:
            assert resp.status == 400
            assert await resp.json() == {"error": message}
    assert sim.v2_retired is True


@pytest.mark.parametrize(("method", "path", "credentials", "body", "served"), V2_REQUESTS)
async def test_every_v2_request_answers_410(
    http: aiohttp.ClientSession,
    sim: Simulator,
    tokens: TokenSet,
    method: str,
    path: str,
    credentials: str,
    body: Any,
    served: int,
) -> None:
    headers = _headers(credentials, tokens)
    sim.v2_retired = True
    before = _world(sim)
    async with http.request(method, path, headers=headers, json=body) as resp:
        assert resp.status == 410, await resp.text()
        assert await resp.json() == retired(resp.headers["sc-request-id"])
    assert sim.counters["billed"] == {}
    assert _world(sim) == before  # nothing ran

    sim.v2_retired = False  # the same request, served
    async with http.request(method, path, headers=headers, json=body) as resp:
        assert resp.status == served, await resp.text()


async def test_retired_is_not_billed_and_hides_faults(
    http: aiohttp.ClientSession, sim: Simulator, tokens: TokenSet
) -> None:
    sim.inject_fault(path="/battery", error={"type": "VEHICLE_STATE", "code": "ASLEEP"})
    await _set_retired(http, True)
    for _ in range(3):
        async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=bearer(tokens)) as resp:
            assert (await resp.json())["code"] == "API_VERSION_RETIRED"
    counters = sim.counters
    assert counters["billed"] == {}
    assert counters["http_requests"]["GET /v2.0/vehicles/{id}/battery"] == 3

    await _set_retired(http, False)  # served again
    sim.clear_faults()
    async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=bearer(tokens)) as resp:
        assert resp.status == 200
    assert sim.counters["billed"][EV_ID]["by_path"] == {"GET /battery": 1}


async def test_v3_and_oauth_are_unaffected(
    http: aiohttp.ClientSession, sim: Simulator, tokens: TokenSet
) -> None:
    await _set_retired(http, True)
    credentials = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_V3_CLIENT_ID,
        "client_secret": DEFAULT_V3_CLIENT_SECRET,
    }
    async with http.post("/oauth2/token", json=credentials) as resp:
        app_token = (await resp.json())["access_token"]
    v3 = {**bearer(app_token), "sc-user-id": USER_ID}
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=v3) as resp:
        assert resp.status == 200
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/unlock", headers=v3) as resp:
        assert resp.status == 200
    assert sim.vehicle("ev").state.locked is False
    async with http.get("/v3/connections", headers=bearer(app_token)) as resp:
        assert len((await resp.json())["data"]) == 3
    async with http.get("/v3/connections", headers=V2_APP) as resp:
        assert resp.status == 200

    async with http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        headers=V2_APP,
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["refresh_token"] != tokens.refresh_token
    query = {
        "response_type": "code",
        "client_id": "sim-client-id",
        "redirect_uri": "http://127.0.0.1:8123/auth/external/callback",
        "scope": "read_battery",
    }
    async with http.get("/oauth/authorize", params=query) as resp:
        assert resp.status == 200
    assert sim.counters["billed"][EV_ID]["by_path"] == {
        "GET /v3/signals": 1,
        "POST /v3/commands/security/unlock": 1,
    }


async def test_constructor_switch() -> None:
    sim = Simulator(
        clock=VirtualClock(start=datetime(2026, 11, 2, 8, 0, tzinfo=UTC), frozen=True),
        v2_retired=True,
    )
    assert sim.state()["v2_retired"] is True
    tokens = sim.issue_tokens()
    async with (
        SimulatorServer(sim) as server,
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/v2.0/user", headers=bearer(tokens)) as resp,
    ):
        assert resp.status == 410
        assert (await resp.json())["code"] == "API_VERSION_RETIRED"
    assert issue_app_token(sim)  # v3 credentials still work
