"""The Vehicles API: reads, commands, batch, units, errors."""

from __future__ import annotations

from datetime import timedelta
import re
from typing import Any
import uuid

import aiohttp
import pytest

from smartcar_simulator import EV_ID, PETROL_ID, PHEV_ID, USER_ID, Simulator
from tests.conftest import TEST_NOW
from tests.const import READ_PATHS

from .conftest import bearer, iso_ms

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SUPPORTED = {
    EV_ID: {"/battery", "/charge", "/charge/limit", "/security", "/location", "/odometer",
            "/diagnostics/dtcs"},
    PHEV_ID: set(READ_PATHS),
    PETROL_ID: {"/fuel", "/engine/oil", "/security", "/location", "/odometer",
                "/diagnostics/dtcs"},
}  # fmt: skip


async def _get(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str]
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.get(path, headers=headers) as resp:
        return resp.status, await resp.json(), resp


async def _post(
    http: aiohttp.ClientSession, path: str, headers: dict[str, str], body: Any
) -> tuple[int, Any]:
    async with http.post(path, headers=headers, json=body) as resp:
        return resp.status, await resp.json()


async def test_user_and_vehicle_list(http: aiohttp.ClientSession, auth: dict[str, str]) -> None:
    status, body, resp = await _get(http, "/v2.0/user", auth)
    assert (status, body) == (200, {"id": USER_ID})
    uuid.UUID(resp.headers["sc-request-id"])
    status, body, _ = await _get(http, "/v2.0/vehicles", auth)
    assert body == {"vehicles": [EV_ID, PHEV_ID, PETROL_ID], "paging": {"count": 3, "offset": 0}}
    status, body, _ = await _get(http, "/v2.0/vehicles?limit=1&offset=1", auth)
    assert body == {"vehicles": [PHEV_ID], "paging": {"count": 3, "offset": 1}}
    status, body, _ = await _get(http, "/v2.0/vehicles?limit=abc", auth)
    assert (status, body["type"]) == (400, "VALIDATION")


async def test_attributes_vin_only_with_read_vin(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    status, body, resp = await _get(http, f"/v2.0/vehicles/{EV_ID}", auth)
    assert status == 200
    assert body == {
        "id": EV_ID,
        "make": "Tesla",
        "model": "Model 3",
        "year": 2023,
        "vin": sim.vehicle("ev").spec.vin,
    }
    assert len(body["vin"]) == 17
    assert "sc-data-age" not in resp.headers
    limited = bearer(sim.issue_tokens(["read_vehicle_info"]))
    status, body, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}", limited)
    assert body == {"id": PETROL_ID, "make": "Ford", "model": "Focus", "year": 2019}
    status, body, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}/vin", limited)
    assert (status, body["type"]) == (403, "PERMISSION")
    status, body, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}/vin", auth)
    assert body == {"vin": sim.vehicle("petrol").spec.vin}


@pytest.mark.parametrize("vehicle_id", [EV_ID, PHEV_ID, PETROL_ID])
async def test_every_read_path_by_capability(
    http: aiohttp.ClientSession, auth: dict[str, str], vehicle_id: str
) -> None:
    for path in READ_PATHS:
        status, body, resp = await _get(http, f"/v2.0/vehicles/{vehicle_id}{path}", auth)
        if path not in SUPPORTED[vehicle_id]:
            assert status == 501, path
            assert body["type"] == "COMPATIBILITY"
            assert body["code"] == "VEHICLE_NOT_CAPABLE"
            assert body["statusCode"] == 501
            assert body["requestId"] == resp.headers["sc-request-id"]
            continue
        assert status == 200, (path, body)
        assert ISO_MS.match(resp.headers["sc-data-age"])
        assert resp.headers["sc-fetched-at"] == iso_ms(TEST_NOW)
        assert resp.headers["sc-unit-system"] == "metric"
        _check_body(path, body)


def _check_body(path: str, body: dict[str, Any]) -> None:
    if path == "/battery":
        assert 0 <= body["percentRemaining"] <= 1
        assert body["range"] > 0
    elif path == "/charge":
        assert isinstance(body["isPluggedIn"], bool)
        assert body["state"] in {"CHARGING", "FULLY_CHARGED", "NOT_CHARGING"}
    elif path == "/charge/limit":
        assert 0.5 <= body["limit"] <= 1
    elif path == "/security":
        assert isinstance(body["isLocked"], bool)
        assert {d["status"] for d in body["doors"]} <= {"LOCKED", "UNLOCKED"}
        assert len(body["doors"]) == 4
        for key in ("windows", "sunroof", "storage", "chargingPort"):
            assert isinstance(body[key], list)
    elif path == "/location":
        assert -90 <= body["latitude"] <= 90
        assert -180 <= body["longitude"] <= 180
    elif path == "/odometer":
        assert body["distance"] > 1000
    elif path == "/fuel":
        assert 0 <= body["percentRemaining"] <= 1
        assert body["amountRemaining"] > 0
        assert body["range"] > 0
    elif path == "/engine/oil":
        assert 0 <= body["lifeRemaining"] <= 1
    elif path == "/diagnostics/dtcs":
        for code in body["activeCodes"]:
            assert re.match(r"^[PBCU]\d{4}$", code["code"])
            assert ISO_MS.match(code["timestamp"])


async def test_values_follow_the_true_state(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    _, battery, _ = await _get(http, f"/v2.0/vehicles/{EV_ID}/battery", auth)
    assert battery == {"percentRemaining": 0.62, "range": 300.0}  # 0.62 * 75 kWh / 0.155
    _, fuel, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}/fuel", auth)
    assert fuel["percentRemaining"] == 0.41
    assert fuel["amountRemaining"] == pytest.approx(0.41 * 52, abs=0.05)
    _, dtcs, _ = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/diagnostics/dtcs", auth)
    # The PHEV's code was set 5 days, 47 min 20 s before the simulator's start.
    stamp = (TEST_NOW - timedelta(days=5, minutes=47, seconds=20)).strftime("%Y-%m-%dT%H:%M:%S")
    assert dtcs == {"activeCodes": [{"code": "P0456", "timestamp": f"{stamp}.000Z"}]}
    _, security, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}/security", auth)
    assert security["isLocked"] is False
    assert security["chargingPort"] == []


async def test_imperial_units(http: aiohttp.ClientSession, auth: dict[str, str]) -> None:
    imperial = {**auth, "sc-unit-system": "imperial"}
    _, metric_odo, _ = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/odometer", auth)
    _, odo, resp = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/odometer", imperial)
    assert resp.headers["sc-unit-system"] == "imperial"
    assert odo["distance"] == pytest.approx(metric_odo["distance"] * 0.621371, abs=0.1)
    _, metric_fuel, _ = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/fuel", auth)
    _, fuel, _ = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/fuel", imperial)
    assert fuel["amountRemaining"] == pytest.approx(
        metric_fuel["amountRemaining"] * 0.264172, abs=0.1
    )
    assert fuel["range"] == pytest.approx(metric_fuel["range"] * 0.621371, abs=0.1)
    assert fuel["percentRemaining"] == metric_fuel["percentRemaining"]
    _, battery, _ = await _get(http, f"/v2.0/vehicles/{EV_ID}/battery", imperial)
    assert battery["range"] == pytest.approx(300 * 0.621371, abs=0.1)
    async with http.post(
        f"/v2.0/vehicles/{EV_ID}/batch",
        headers=imperial,
        json={"requests": [{"path": "/odometer"}]},
    ) as resp:
        item = (await resp.json())["responses"][0]
    assert item["headers"]["sc-unit-system"] == "imperial"
    assert item["body"]["distance"] == pytest.approx(18234.5 * 0.621371, abs=0.1)


async def test_signals_lists_what_car_and_token_allow(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    status, body, resp = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/signals", auth)
    assert status == 200
    assert set(body) == {"battery", "charge", "location", "odometer", "fuel"}
    assert ISO_MS.match(resp.headers["sc-data-age"])
    _, body, _ = await _get(http, f"/v2.0/vehicles/{PETROL_ID}/signals", auth)
    assert set(body) == {"location", "odometer", "fuel"}
    limited = bearer(sim.issue_tokens(["read_battery", "read_fuel"]))
    _, body, _ = await _get(http, f"/v2.0/vehicles/{PHEV_ID}/signals", limited)
    assert set(body) == {"battery", "fuel"}
    assert sim.counters["billed"][PHEV_ID]["by_path"] == {"GET /signals": 2}


async def test_auth_and_not_found_errors(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        status, body, _ = await _get(http, f"/v2.0/vehicles/{EV_ID}/battery", headers)
        assert (status, body["type"]) == (401, "AUTHENTICATION")
        assert body["resolution"] == {"type": "REAUTHENTICATE"}
        assert body["docURL"].startswith("https://smartcar.com/docs/errors/api-errors/")
        assert body["suggestedUserMessage"]
    unknown = str(uuid.uuid4())
    status, body, _ = await _get(http, f"/v2.0/vehicles/{unknown}/battery", auth)
    assert (status, body["type"], body["code"]) == (404, "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND")
    status, body, _ = await _get(http, f"/v2.0/vehicles/{EV_ID}/nothing/here", auth)
    assert (status, body["type"]) == (404, "RESOURCE_NOT_FOUND")
    assert sim.counters["billed"] == {}


async def test_commands_change_the_next_read(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    base = f"/v2.0/vehicles/{EV_ID}"
    ok = {"status": "success", "message": "Successfully sent request to vehicle"}
    sim.clock.advance(60)
    assert await _post(http, f"{base}/security", auth, {"action": "UNLOCK"}) == (200, ok)
    _, security, resp = await _get(http, f"{base}/security", auth)
    assert security["isLocked"] is False
    assert {d["status"] for d in security["doors"]} == {"UNLOCKED"}
    # A command is a report: the data age is the command's (virtual) time.
    assert resp.headers["sc-data-age"] == iso_ms(TEST_NOW + timedelta(seconds=60))
    assert await _post(http, f"{base}/security", auth, {"action": "LOCK"}) == (200, ok)
    assert (await _get(http, f"{base}/security", auth))[1]["isLocked"] is True

    status, error = await _post(http, f"{base}/charge", auth, {"action": "START"})
    assert (status, error["type"], error["code"]) == (409, "VEHICLE_STATE", "CHARGE_FAULT")
    sim.vehicle("ev").plug_in()
    sim.vehicle("ev").stop_charge()
    assert (await _get(http, f"{base}/charge", auth))[1] == {
        "isPluggedIn": True,
        "state": "NOT_CHARGING",
    }
    assert await _post(http, f"{base}/charge", auth, {"action": "START"}) == (200, ok)
    assert (await _get(http, f"{base}/charge", auth))[1]["state"] == "CHARGING"
    assert await _post(http, f"{base}/charge", auth, {"action": "STOP"}) == (200, ok)
    assert (await _get(http, f"{base}/charge", auth))[1]["state"] == "NOT_CHARGING"

    assert await _post(http, f"{base}/charge/limit", auth, {"limit": 0.9}) == (200, ok)
    assert (await _get(http, f"{base}/charge/limit", auth))[1] == {"limit": 0.9}
    assert sim.vehicle("ev").state.charge_limit == 0.9

    body = {"latitude": 48.8584, "longitude": 2.2945, "address": "Eiffel Tower"}
    assert await _post(http, f"{base}/commands/set-destination", auth, body) == (200, ok)
    assert sim.vehicle("ev").state.destination == body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/charge", {"action": "FAST"}),
        ("/charge", {}),
        ("/charge", ["START"]),
        ("/charge/limit", {"limit": 0.49}),
        ("/charge/limit", {"limit": 1.01}),
        ("/charge/limit", {"limit": "0.8"}),
        ("/security", {"action": "OPEN"}),
        ("/commands/set-destination", {"latitude": 91, "longitude": 0}),
        ("/commands/set-destination", {"latitude": 0, "longitude": -180.5}),
        ("/commands/set-destination", {"latitude": 1}),
        ("/commands/set-destination", {"latitude": 1, "longitude": 2, "address": 3}),
    ],
)
async def test_command_validation(
    http: aiohttp.ClientSession, auth: dict[str, str], path: str, body: Any
) -> None:
    status, error = await _post(http, f"/v2.0/vehicles/{EV_ID}{path}", auth, body)
    assert (status, error["type"]) == (400, "VALIDATION")
    assert error["statusCode"] == 400


async def test_command_permission_then_compatibility(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    status, error = await _post(
        http, f"/v2.0/vehicles/{PETROL_ID}/charge", auth, {"action": "START"}
    )
    assert (status, error["type"]) == (501, "COMPATIBILITY")
    readonly = bearer(sim.issue_tokens(["read_security"]))
    status, error = await _post(
        http, f"/v2.0/vehicles/{PETROL_ID}/charge", readonly, {"action": "START"}
    )
    assert (status, error["type"]) == (403, "PERMISSION")
    status, error = await _post(
        http, f"/v2.0/vehicles/{EV_ID}/security", readonly, {"action": "UNLOCK"}
    )
    assert (status, error["type"]) == (403, "PERMISSION")
    assert sim.vehicle("ev").state.locked is True


async def test_batch_mixes_item_codes(http: aiohttp.ClientSession, sim: Simulator) -> None:
    headers = bearer(sim.issue_tokens(["read_battery", "read_odometer", "read_fuel"]))
    paths = ["/battery", "/location", "/fuel", "/tires/pressure", "/odometer"]
    async with http.post(
        f"/v2.0/vehicles/{EV_ID}/batch",
        headers=headers,
        json={"requests": [{"path": p} for p in paths]},
    ) as resp:
        assert resp.status == 200
        request_id = resp.headers["sc-request-id"]
        items = (await resp.json())["responses"]
    assert [i["path"] for i in items] == paths
    assert [i["code"] for i in items] == [200, 403, 501, 404, 200]
    assert items[0]["body"] == {"percentRemaining": 0.62, "range": 300.0}
    assert set(items[0]["headers"]) == {"sc-data-age", "sc-fetched-at", "sc-unit-system"}
    assert items[1]["body"]["type"] == "PERMISSION"
    assert items[1]["body"]["requestId"] == request_id
    assert items[2]["body"]["code"] == "VEHICLE_NOT_CAPABLE"
    assert items[3]["body"]["type"] == "RESOURCE_NOT_FOUND"
    assert items[4]["body"] == {"distance": 18234.5}
    # permission is checked before compatibility
    async with http.post(
        f"/v2.0/vehicles/{PETROL_ID}/batch",
        headers=bearer(sim.issue_tokens(["read_fuel"])),
        json={"requests": [{"path": "/battery"}, {"path": "/fuel"}]},
    ) as resp:
        codes = [i["code"] for i in (await resp.json())["responses"]]
    assert codes == [403, 200]


@pytest.mark.parametrize(
    "body", [{}, {"requests": []}, {"requests": [{"url": "/battery"}]}, {"requests": "/battery"}]
)
async def test_batch_validation(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str], body: Any
) -> None:
    status, error = await _post(http, f"/v2.0/vehicles/{EV_ID}/batch", auth, body)
    assert (status, error["type"]) == (400, "VALIDATION")
    assert sim.counters["billed"] == {}


async def test_permissions_endpoint(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    status, body, _ = await _get(http, f"/v2.0/vehicles/{EV_ID}/permissions", auth)
    assert status == 200
    assert len(body["permissions"]) == 16
    assert "control_charge" in body["permissions"]
    assert body["paging"] == {"count": 16, "offset": 0}
    assert sim.counters["billed"] == {}
