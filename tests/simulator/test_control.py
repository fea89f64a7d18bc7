"""`/sim` control endpoints, the v3 management API, and a 100-vehicle load over HTTP."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
import time
from typing import Any

import aiohttp
import pytest

from smartcar_simulator import EV_ID, PETROL_ID, PHEV_ID, USER_ID, Simulator, SimulatorServer
from tests.conftest import TEST_NOW

from .conftest import bearer, iso_ms

APP = {"Authorization": "Basic " + base64.b64encode(b"sim-client-id:sim-client-secret").decode()}


async def _advance(http: aiohttp.ClientSession, seconds: float) -> None:
    async with http.post("/sim/clock", json={"advance": seconds}) as resp:
        assert resp.status == 200


async def test_state_and_clock(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    async with http.get("/sim/state") as resp:
        state = await resp.json()
    assert state["clock"]["now"] == iso_ms(TEST_NOW)
    assert state["clock"]["frozen"] is True
    assert list(state["vehicles"]) == [EV_ID, PHEV_ID, PETROL_ID]
    ev = state["vehicles"][EV_ID]
    assert (ev["key"], ev["make"], ev["state"]["battery"]) == ("ev", "Tesla", 0.62)
    assert ev["reported_at"] == iso_ms(TEST_NOW - timedelta(minutes=7))  # its last report
    assert state["users"] == {USER_ID: {"vehicles": [EV_ID, PHEV_ID, PETROL_ID]}}

    async with http.post("/sim/clock", json={"advance": 3600}) as resp:
        assert (await resp.json())["now"] == iso_ms(TEST_NOW + timedelta(hours=1))
    # Set (in the token's lifetime): the API answers on the new time, the cars' reports stay.
    moment = TEST_NOW + timedelta(minutes=90)
    async with http.post("/sim/clock", json={"set": iso_ms(moment)}) as resp:
        assert resp.status == 200
    async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=auth) as resp:
        assert resp.status == 200
        assert resp.headers["sc-fetched-at"] == iso_ms(moment)
        assert resp.headers["sc-data-age"] == iso_ms(TEST_NOW - timedelta(minutes=7))
    for bad in ({}, {"advance": -5}, {"advance": "soon"}, {"set": "not a time"}):
        async with http.post("/sim/clock", json=bad) as resp:
            assert resp.status == 400, bad
    async with http.post("/sim/clock", data="not json") as resp:
        assert resp.status == 400


async def test_vehicle_actions(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    async with http.post("/sim/vehicles/ev/actions", json={"action": "plug"}) as resp:
        body = await resp.json()
    assert body["state"]["plugged"] is True
    assert body["state"]["charge_state"] == "CHARGING"
    async with http.get(f"/v2.0/vehicles/{EV_ID}/charge", headers=auth) as resp:
        assert await resp.json() == {"isPluggedIn": True, "state": "CHARGING"}
    await _advance(http, 5400)  # less than the 2 h token lifetime
    async with http.get(f"/v2.0/vehicles/{EV_ID}/charge", headers=auth) as resp:
        assert (await resp.json())["state"] == "FULLY_CHARGED"
    async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=auth) as resp:
        assert (await resp.json())["percentRemaining"] == 0.8

    drive = {"action": "drive", "latitude": 52.3676, "longitude": 5.0, "speed_kmh": 40}
    async with http.post(f"/sim/vehicles/{PETROL_ID}/actions", json=drive) as resp:
        assert (await resp.json())["state"]["driving"] is True
    await _advance(http, 600)
    async with http.post("/sim/vehicles/petrol/actions", json={"action": "park"}) as resp:
        parked = (await resp.json())["state"]
    assert parked["driving"] is False
    assert parked["odometer"] == pytest.approx(96310.2 + 40 / 6)
    async with http.get(f"/v2.0/vehicles/{PETROL_ID}/odometer", headers=auth) as resp:
        assert (await resp.json())["distance"] == pytest.approx(96310.2 + 40 / 6, abs=0.1)

    action = {"action": "set", "locked": True, "fuel": 0.05, "oil_life": 0.1}
    async with http.post("/sim/vehicles/petrol/actions", json=action) as resp:
        assert resp.status == 200
    # What the API derives from the new state: litres and range from the 52 l tank.
    async with http.get(f"/v2.0/vehicles/{PETROL_ID}/fuel", headers=auth) as resp:
        fuel = await resp.json()
    assert fuel["percentRemaining"] == 0.05
    assert fuel["amountRemaining"] == pytest.approx(0.05 * 52, abs=0.05)
    assert fuel["range"] == pytest.approx(0.05 * 52 / 0.062, abs=0.1)
    async with http.get(f"/v2.0/vehicles/{PETROL_ID}/security", headers=auth) as resp:
        security = await resp.json()
    assert security["isLocked"] is True
    assert {door["status"] for door in security["doors"]} == {"LOCKED"}
    async with http.get(f"/v2.0/vehicles/{PETROL_ID}/engine/oil", headers=auth) as resp:
        assert await resp.json() == {"lifeRemaining": 0.1}

    for bad in ({}, {"action": "fly"}, {"action": "set", "battery": 2}, {"action": "drive"}):
        async with http.post("/sim/vehicles/ev/actions", json=bad) as resp:
            assert resp.status == 400, bad
    async with http.post("/sim/vehicles/petrol/actions", json={"action": "plug"}) as resp:
        assert resp.status == 400
    async with http.get("/sim/vehicles/nope") as resp:
        assert resp.status == 404
    async with http.post("/sim/vehicles/nope/actions", json={"action": "plug"}) as resp:
        assert resp.status == 404


async def test_issue_tokens_endpoint(http: aiohttp.ClientSession) -> None:
    async with http.post("/sim/tokens", json={"scope": "read_odometer"}) as resp:
        tokens = await resp.json()
    assert tokens["expires_in"] == 7200
    headers = bearer(tokens["access_token"])
    async with http.get(f"/v2.0/vehicles/{EV_ID}/odometer", headers=headers) as resp:
        assert resp.status == 200
    async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=headers) as resp:
        assert resp.status == 403
    # The lifetime is virtual time: the token dies when the simulator's clock says so.
    await _advance(http, 7199)
    async with http.get(f"/v2.0/vehicles/{EV_ID}/odometer", headers=headers) as resp:
        assert resp.status == 200
    await _advance(http, 1)
    async with http.get(f"/v2.0/vehicles/{EV_ID}/odometer", headers=headers) as resp:
        assert resp.status == 401


async def test_v3_connections(http: aiohttp.ClientSession, sim: Simulator) -> None:
    tokens = sim.issue_tokens()
    user = bearer(tokens)
    async with http.get("/v3/connections") as resp:
        assert resp.status == 401
        assert (await resp.json())["type"] == "AUTHENTICATION"
    async with http.get("/v3/connections", headers=APP) as resp:
        assert resp.headers["sc-request-id"]
        connections = (await resp.json())["connections"]
    assert [c["vehicleId"] for c in connections] == [EV_ID, PHEV_ID, PETROL_ID]
    assert {c["status"] for c in connections} == {"ACTIVE"}
    assert {c["userId"] for c in connections} == {USER_ID}
    async with http.get("/v3/connections", headers=user, params={"vehicle_id": PHEV_ID}) as resp:
        (phev,) = (await resp.json())["connections"]
    async with http.get(f"/v3/connections/{phev['id']}", headers=APP) as resp:
        assert await resp.json() == phev

    async with http.delete(f"/v3/connections/{phev['id']}", headers=APP) as resp:
        assert (await resp.json())["status"] == "REVOKED"
    async with http.get("/v2.0/vehicles", headers=user) as resp:
        assert (await resp.json())["vehicles"] == [EV_ID, PETROL_ID]
    async with http.get(f"/v2.0/vehicles/{PHEV_ID}/battery", headers=user) as resp:
        assert (resp.status, (await resp.json())["code"]) == (404, "VEHICLE_NOT_FOUND")
    async with http.get("/v3/connections/unknown", headers=APP) as resp:
        assert resp.status == 404

    async with http.delete(f"/v3/users/{USER_ID}", headers=user) as resp:
        removed = (await resp.json())["connections"]
    assert {c["status"] for c in removed} == {"REVOKED"}
    async with http.get("/v2.0/user", headers=user) as resp:
        assert resp.status == 401  # the user's tokens went with the connections
    async with http.delete("/v3/users/someone-else", headers=APP) as resp:
        assert resp.status == 404

    # connecting again (issuing tokens) brings every vehicle back
    async with http.get("/v2.0/vehicles", headers=bearer(sim.issue_tokens())) as resp:
        assert (await resp.json())["paging"]["count"] == 3


async def test_disconnect_application(http: aiohttp.ClientSession, sim: Simulator) -> None:
    headers = bearer(sim.issue_tokens())
    async with http.delete(f"/v2.0/vehicles/{EV_ID}/application", headers=headers) as resp:
        assert await resp.json() == {"status": "success"}
    async with http.get("/v2.0/vehicles", headers=headers) as resp:
        assert (await resp.json())["vehicles"] == [PHEV_ID, PETROL_ID]


class TestHundredVehicles:
    """The default fleet plus 97 generated vehicles."""

    @pytest.fixture
    def sim_options(self) -> dict[str, Any]:
        return {"extra_vehicles": 97}

    async def test_thousands_of_requests(
        self, http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
    ) -> None:
        await _hundred_vehicles(http, sim, auth)


async def _hundred_vehicles(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    ids: list[str] = []
    offset = 0
    while True:
        async with http.get(
            "/v2.0/vehicles", headers=auth, params={"limit": 50, "offset": offset}
        ) as resp:
            page = await resp.json()
        ids += page["vehicles"]
        offset += len(page["vehicles"])
        if offset >= page["paging"]["count"]:
            break
    assert len(ids) == 100
    async with http.get("/v2.0/vehicles", headers=auth) as resp:
        assert len((await resp.json())["vehicles"]) == 10  # Smartcar's default page size
    sim.vehicle(ids[3]).plug_in()
    batch = {"requests": [{"path": p} for p in ("/battery", "/odometer", "/location")]}

    async def poll(vehicle_id: str) -> None:
        for _ in range(10):
            async with http.post(
                f"/v2.0/vehicles/{vehicle_id}/batch", headers=auth, json=batch
            ) as resp:
                assert resp.status == 200
                await resp.read()

    started = time.perf_counter()
    await asyncio.gather(*(poll(vehicle_id) for vehicle_id in ids))
    elapsed = time.perf_counter() - started
    counters = sim.counters
    assert sum(v["total"] for v in counters["billed"].values()) == 3000
    assert counters["http_requests"]["POST /v2.0/vehicles/{id}/batch"] == 1000
    assert elapsed < 60  # about a second normally; only a pathological slowdown fails this


async def test_server_binds_loopback_only(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimulatorServer(sim, host="0.0.0.0")  # noqa: S104
    server = SimulatorServer(sim, host="localhost", port=0)
    async with server:
        assert server.url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = server.url
