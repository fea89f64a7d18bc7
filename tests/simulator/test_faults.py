"""Injected faults: errors, timeouts, slow answers, captive portal, malformed, empty."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from smartcar_simulator import EV_ID, PHEV_ID, Simulator

from .conftest import bearer

ASLEEP = {"type": "VEHICLE_STATE", "code": "ASLEEP", "status": 409}
BATTERY = f"/v2.0/vehicles/{EV_ID}/battery"
BATCH = f"/v2.0/vehicles/{EV_ID}/batch"
TWO = {"requests": [{"path": "/battery"}, {"path": "/odometer"}]}


async def test_error_fault_fires_count_times(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(vehicle_id=EV_ID, path="/battery", error=ASLEEP, count=2)
    for _ in range(2):
        async with http.get(BATTERY, headers=auth) as resp:
            assert resp.status == 409
            error = await resp.json()
            assert error["requestId"] == resp.headers["sc-request-id"]
        assert error["type"] == "VEHICLE_STATE"
        assert error["code"] == "ASLEEP"
        assert error["statusCode"] == 409
        assert error["resolution"] == {"type": "RETRY_LATER"}
        assert error["docURL"].endswith("vehicle-state-errors#asleep")
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200
    assert sim.faults.list() == []
    assert sim.counters["billed"][EV_ID]["total"] == 3  # errors from the car are billed


async def test_path_fault_fires_inside_batch(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(path="/battery", error=ASLEEP)
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert resp.status == 200
        items = (await resp.json())["responses"]
    assert [i["code"] for i in items] == [409, 200]
    assert items[0]["body"]["code"] == "ASLEEP"
    assert items[1]["body"] == {"distance": 18234.5}
    async with http.get(f"/v2.0/vehicles/{PHEV_ID}/odometer", headers=auth) as resp:
        assert resp.status == 200  # other paths are untouched


async def test_batch_fault_fails_whole_request(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(
        path="/batch", error={"type": "RATE_LIMIT", "code": "VEHICLE", "retry_after": 30}, count=1
    )
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert resp.status == 429
        assert resp.headers["retry-after"] == "30"
        assert (await resp.json())["type"] == "RATE_LIMIT"
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("error", "status", "resolution"),
    [
        ({"type": "SERVER", "code": "INTERNAL"}, 500, "RETRY_LATER"),
        ({"type": "UPSTREAM", "code": "UNKNOWN_ISSUE"}, 502, "RETRY_LATER"),
        ({"type": "BILLING", "code": "VEHICLE_REQUEST_LIMIT"}, 430, "CONTACT_SUPPORT"),
        ({"type": "CONNECTED_SERVICES_ACCOUNT", "code": "SUBSCRIPTION"}, 400, "CONTACT_SUPPORT"),
        ({"type": "AUTHENTICATION"}, 401, "REAUTHENTICATE"),
        ({"type": "VEHICLE_STATE", "code": "ASLEEP", "status": 409}, 409, "RETRY_LATER"),
    ],
)
async def test_error_types_have_their_status(
    http: aiohttp.ClientSession,
    sim: Simulator,
    auth: dict[str, str],
    error: dict[str, Any],
    status: int,
    resolution: str,
) -> None:
    sim.inject_fault(error=error)
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["type"] == error["type"]
    assert body["statusCode"] == status
    assert body["resolution"]["type"] == resolution


async def test_fault_filters_vehicle_and_method(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(vehicle_id="phev", method="POST", error=ASLEEP)  # every path, POST only
    async with http.get(f"/v2.0/vehicles/{PHEV_ID}/battery", headers=auth) as resp:
        assert resp.status == 200
    async with http.post(
        f"/v2.0/vehicles/{EV_ID}/security", headers=auth, json={"action": "UNLOCK"}
    ) as resp:
        assert resp.status == 200
    async with http.post(
        f"/v2.0/vehicles/{PHEV_ID}/security", headers=auth, json={"action": "UNLOCK"}
    ) as resp:
        assert resp.status == 409
    assert sim.vehicle("phev").state.locked is True  # the command did not reach the car
    sim.clear_faults()
    async with http.post(
        f"/v2.0/vehicles/{PHEV_ID}/security", headers=auth, json={"action": "UNLOCK"}
    ) as resp:
        assert resp.status == 200
    assert sim.vehicle("phev").state.locked is False


async def test_non_vehicle_paths(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(path="/user", error={"type": "SERVER"}, count=1)
    sim.inject_fault(path="/vehicles", kind="malformed", count=1)
    async with http.get("/v2.0/user", headers=auth) as resp:
        assert resp.status == 500
    async with http.get("/v2.0/vehicles", headers=auth) as resp:
        assert resp.status == 200
        assert (await resp.json())["vehicles"] is None
    sim.inject_fault(path="/oauth/token", error={"type": "SERVER"}, count=1)
    async with http.post("/oauth/token", data={"grant_type": "refresh_token"}) as resp:
        assert resp.status == 500
        assert (await resp.json())["error"] == "server_error"


async def test_timeout_fault(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    """The answer is held far longer than the client waits: the client's timeout fires."""
    sim.inject_fault(path="/battery", kind="timeout", delay=600, count=1)
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            BATTERY, headers=auth, timeout=aiohttp.ClientTimeout(total=0.3)
        ) as resp:
            await resp.read()
    assert time.monotonic() - started < 60  # the client gave up, the fault did not answer
    assert sim.faults.list() == []  # used up: the next request is answered at once
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200


async def test_default_delays(sim: Simulator) -> None:
    """Without a delay, a timeout holds the answer 30 s (longer than clients wait), slow 2 s."""
    assert sim.inject_fault(kind="timeout").delay == 30
    assert sim.inject_fault(kind="slow").delay == 2


async def test_slow_fault(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    """A slow answer comes, after its delay (real time: it is about the network)."""
    sim.inject_fault(path="/battery", kind="slow", delay=0.25, count=1)
    started = time.monotonic()
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200
        assert (await resp.json())["percentRemaining"] == 0.62
    # Never sooner than the delay (the event loop may wake a hair early: 10 ms slack).
    assert time.monotonic() - started >= 0.24


async def test_non_json_fault_is_a_captive_portal(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(path="/batch", kind="non_json", count=1)
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        text = await resp.text()
    assert "<html" in text
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(text)
    assert sim.counters["billed"] == {}  # never reached Smartcar


async def test_malformed_fault(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(path="/battery", kind="malformed")
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert not isinstance(body["percentRemaining"], float)
    assert body["range"] is None
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        items = (await resp.json())["responses"]
    assert items[0]["code"] == 200
    assert items[0]["body"] == body
    assert items[1]["body"] == {"distance": 18234.5}


async def test_empty_fault(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    sim.inject_fault(vehicle_id="ev", kind="empty", count=1)
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert resp.status == 200
        assert await resp.read() == b""
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert len((await resp.json())["responses"]) == 2


async def test_fault_control_endpoints(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    fault = {"vehicle_id": "ev", "path": "/battery", "error": ASLEEP, "count": 1}
    async with http.post("/sim/faults", json=fault) as resp:
        assert resp.status == 201
        created = await resp.json()
    assert created["vehicle_id"] == EV_ID
    async with http.get("/sim/faults") as resp:
        assert [f["id"] for f in (await resp.json())["faults"]] == [created["id"]]
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 409

    async with http.post("/sim/faults", json={"kind": "timeout", "delay": 9}) as resp:
        fault_id = (await resp.json())["id"]
    async with http.delete(f"/sim/faults/{fault_id}") as resp:
        assert resp.status == 200
    async with http.post("/sim/faults", json={"error": ASLEEP}) as resp:
        assert resp.status == 201
    async with http.delete("/sim/faults") as resp:
        assert resp.status == 200
    assert sim.faults.list() == []
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"kind": "explode"},
        {"kind": "slow", "error": ASLEEP},
        {"error": {"code": "ASLEEP"}},
        {"error": ASLEEP, "count": 0},
        {"error": ASLEEP, "path": "battery"},
        {"error": ASLEEP, "bogus": 1},
        {"error": ASLEEP, "vehicle_id": "no-such-car"},
    ],
)
async def test_bad_faults_are_rejected(
    http: aiohttp.ClientSession, sim: Simulator, fault: dict[str, Any]
) -> None:
    async with http.post("/sim/faults", json=fault) as resp:
        assert resp.status in {400, 404}
        assert "error" in await resp.json()
    assert sim.faults.list() == []


async def test_revoke_tokens(http: aiohttp.ClientSession, sim: Simulator) -> None:
    tokens = sim.issue_tokens()
    async with http.post("/sim/tokens/revoke", json={}) as resp:
        assert resp.status == 200
        assert (await resp.json())["revoked"] == 2
    async with http.get("/v2.0/user", headers=bearer(tokens)) as resp:
        assert resp.status == 401
    async with http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        headers={"Authorization": "Basic c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA=="},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_grant"
    fresh = sim.issue_tokens()
    async with http.get("/v2.0/user", headers=bearer(fresh)) as resp:
        assert resp.status == 200
    assert sim.revoke_tokens(user_id="someone-else") == 0
    async with http.get("/v2.0/user", headers=bearer(fresh)) as resp:
        assert resp.status == 200


async def test_deny_permissions_per_vehicle(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    async with http.post(
        f"/sim/vehicles/{EV_ID}/permissions", json={"deny": ["read_battery", "read_vin"]}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["denied"] == ["read_battery", "read_vin"]
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 403
    async with http.get(f"/v2.0/vehicles/{EV_ID}", headers=auth) as resp:
        assert "vin" not in await resp.json()
    async with http.get(f"/v2.0/vehicles/{EV_ID}/permissions", headers=auth) as resp:
        permissions = (await resp.json())["permissions"]
    assert "read_battery" not in permissions
    assert "read_odometer" in permissions
    async with http.get(f"/v2.0/vehicles/{PHEV_ID}/battery", headers=auth) as resp:
        assert resp.status == 200
    async with http.post(BATCH, headers=auth, json=TWO) as resp:
        assert [i["code"] for i in (await resp.json())["responses"]] == [403, 200]
    sim.deny_permissions("ev", [])
    async with http.get(BATTERY, headers=auth) as resp:
        assert resp.status == 200
