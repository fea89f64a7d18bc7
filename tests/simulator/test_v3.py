"""API v3 over real HTTP: IAM tokens, connections, vehicle, signals, commands, sc-user-id."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from yarl import URL

from smartcar_simulator import EV_ID, PETROL_ID, PHEV_ID, USER_ID, Simulator, TokenSet
from smartcar_simulator.v3 import (
    DEFAULT_V3_CLIENT_ID,
    DEFAULT_V3_CLIENT_SECRET,
    add_user,
    app_of,
    issue_app_token,
)
from tests.conftest import TEST_NOW

from .conftest import bearer, iso_ms

OTHER_USER = "b7c1d2e3-4f50-4a6b-8c7d-9e0f1a2b3c4d"
IDS = {"ev": EV_ID, "phev": PHEV_ID, "petrol": PETROL_ID}
BATTERY_CODES = {
    "tractionbattery-stateofcharge",
    "tractionbattery-range",
    "charge-ischarging",
    "charge-ischargingcableconnected",
    "charge-detailedchargingstatus",
    "charge-chargelimits",
}
FUEL_CODES = {
    "internalcombustionengine-fuellevel",
    "internalcombustionengine-amountremaining",
    "internalcombustionengine-range",
    "internalcombustionengine-oillife",
}
COMMON_CODES = {
    "closure-islocked",
    "closure-doors",
    "closure-windows",
    "closure-reartrunk",
    "location-preciselocation",
    "odometer-traveleddistance",
    "wheel-tires",
    "lowvoltagebattery-stateofcharge",
    "connectivitystatus-isonline",
    "connectivitystatus-isasleep",
    "connectivitysoftware-currentfirmwareversion",
    "climate-internaltemperature",
    "climate-externaltemperature",
    "vehicleidentification-vin",
    "vehicleidentification-make",
    "vehicleidentification-model",
    "vehicleidentification-year",
}


@pytest.fixture
def app_token(sim: Simulator) -> str:
    """An application token (no token endpoint request)."""
    return issue_app_token(sim)


def as_user(token: str, user_id: str | None = USER_ID) -> dict[str, str]:
    """Bearer application token plus `sc-user-id` (None: without the header)."""
    headers = bearer(token)
    if user_id is not None:
        headers["sc-user-id"] = user_id
    return headers


async def _json(resp: aiohttp.ClientResponse, status: int) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _token(http: aiohttp.ClientSession, **kwargs: Any) -> aiohttp.ClientResponse:
    return await http.post("/oauth2/token", **kwargs)


# -- IAM token ----------------------------------------------------------------------------------


async def test_token_grant_and_expiry(http: aiohttp.ClientSession, sim: Simulator) -> None:
    body = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_V3_CLIENT_ID,
        "client_secret": DEFAULT_V3_CLIENT_SECRET,
    }
    async with await _token(http, json=body) as resp:
        granted = await _json(resp, 200)
    assert granted["token_type"] == "Bearer"
    assert granted["expires_in"] == 3600
    assert "refresh_token" not in granted
    async with await _token(http, data=body) as resp:  # form-encoded works too
        assert (await _json(resp, 200))["access_token"] != granted["access_token"]
    assert sim.counters["token_requests"] == {"client_credentials": 2}

    headers = as_user(granted["access_token"])
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=headers) as resp:
        assert resp.status == 200
    sim.clock.advance(3599)
    async with http.get("/v3/connections", headers=headers) as resp:
        assert resp.status == 200
    sim.clock.advance(1)
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=headers) as resp:
        error = await _json(resp, 401)
    assert error["type"] == "AUTHENTICATION"
    assert error["status"] == 401
    async with http.get("/v3/connections", headers=headers) as resp:
        assert (await _json(resp, 401))["type"] == "AUTHENTICATION"


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        (DEFAULT_V3_CLIENT_ID, "wrong-secret"),
        ("sim-client-id", "sim-client-secret"),  # the v2 application's credentials
        ("client_unknown", DEFAULT_V3_CLIENT_SECRET),
    ],
)
async def test_token_rejects_bad_credentials(
    http: aiohttp.ClientSession, client_id: str, secret: str
) -> None:
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    async with await _token(http, json=body) as resp:
        assert (await _json(resp, 401))["error"] == "invalid_client"


async def test_token_rejects_other_grants(http: aiohttp.ClientSession) -> None:
    body = {
        "grant_type": "authorization_code",
        "client_id": DEFAULT_V3_CLIENT_ID,
        "client_secret": DEFAULT_V3_CLIENT_SECRET,
    }
    async with await _token(http, json=body) as resp:
        assert (await _json(resp, 400))["error"] == "unsupported_grant_type"
    async with await _token(http, json={"grant_type": "client_credentials"}) as resp:
        assert (await _json(resp, 400))["error"] == "invalid_request"


# -- Connect ------------------------------------------------------------------------------------


async def test_connect_for_a_v3_application(http: aiohttp.ClientSession, sim: Simulator) -> None:
    """The Application ID as client_id: the redirect carries user_id, state and code."""
    redirect = "http://127.0.0.1:8123/auth/external/callback"
    query = {
        "response_type": "code",
        "client_id": app_of(sim).application_id,
        "redirect_uri": redirect,
        "scope": "read_battery required:read_odometer",
        "state": "s-42",
        "mode": "live",
    }
    async with http.get("/oauth/authorize", params=query) as resp:
        assert resp.status == 200
    form = {**query, "action": "approve"}
    async with http.post("/oauth/authorize", data=form, allow_redirects=False) as resp:
        assert resp.status == 302
        location = URL(resp.headers["Location"])
    assert str(location.with_query(None)) == redirect
    assert location.query["user_id"] == USER_ID
    assert location.query["state"] == "s-42"
    assert location.query["code"]

    # a v2 application's redirect has no user_id; the v3 client id is no Connect client
    async with http.post(
        "/oauth/authorize",
        data={**form, "client_id": "sim-client-id"},
        allow_redirects=False,
    ) as resp:
        assert "user_id" not in URL(resp.headers["Location"]).query
    async with http.get(
        "/oauth/authorize", params={**query, "client_id": DEFAULT_V3_CLIENT_ID}
    ) as resp:
        assert resp.status == 400


# -- connections --------------------------------------------------------------------------------


async def test_connections_filters_and_paging(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    add_user(sim, OTHER_USER, ["petrol"])
    headers = bearer(app_token)  # management calls need no sc-user-id

    async with http.get("/v3/connections", headers=headers) as resp:
        everything = await _json(resp, 200)
    assert everything["meta"]["totalCount"] == 4
    assert everything["meta"]["pageNumber"] == 1
    assert everything["meta"]["pageSize"] == 10
    pairs = {
        (c["attributes"]["user"]["id"], c["relationships"]["vehicle"]["data"]["id"])
        for c in everything["data"]
    }
    assert pairs == {
        (USER_ID, EV_ID),
        (USER_ID, PHEV_ID),
        (USER_ID, PETROL_ID),
        (OTHER_USER, PETROL_ID),
    }
    first = everything["data"][0]
    assert first["type"] == "connection"
    assert first["attributes"]["user"]["id"] == OTHER_USER  # newest first
    assert first["attributes"]["vehicle"]["powertrainType"] == "ICE"
    assert first["relationships"]["user"]["data"] == {"id": OTHER_USER, "type": "user"}
    assert everything["links"]["next"] is None

    params = {"filter[userId]": OTHER_USER}
    async with http.get("/v3/connections", headers=headers, params=params) as resp:
        mine = await _json(resp, 200)
    assert [c["relationships"]["vehicle"]["data"]["id"] for c in mine["data"]] == [PETROL_ID]

    params = {"filter[vehicleId]": PETROL_ID}
    async with http.get("/v3/connections", headers=headers, params=params) as resp:
        shared = await _json(resp, 200)
    assert {c["attributes"]["user"]["id"] for c in shared["data"]} == {USER_ID, OTHER_USER}

    seen = []
    for number, expected in ((1, 3), (2, 1), (3, 0)):
        params = {"page[size]": "3", "page[number]": str(number)}
        async with http.get("/v3/connections", headers=headers, params=params) as resp:
            page = await _json(resp, 200)
        assert len(page["data"]) == expected
        assert page["meta"]["totalCount"] == 4
        seen += [c["id"] for c in page["data"]]
        if number == 1:
            assert "page[number]=2" in page["links"]["next"]
            assert page["links"]["prev"] is None
        if number == 2:
            assert page["links"]["next"] is None
            assert "page[number]=1" in page["links"]["prev"]
    assert len(set(seen)) == 4

    async with http.get("/v3/connections", headers=headers, params={"page[size]": "0"}) as resp:
        assert (await _json(resp, 400))["type"] == "VALIDATION"


async def test_connections_legacy_form_unchanged(
    http: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async with http.get("/v3/connections", headers=auth) as resp:
        body = await _json(resp, 200)
    assert set(body) == {"connections", "paging"}


# -- vehicle and signals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "powertrain"), [("ev", "BEV"), ("phev", "PHEV"), ("petrol", "ICE")]
)
async def test_vehicle(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str, key: str, powertrain: str
) -> None:
    spec = sim.vehicle(key).spec
    async with http.get(f"/v3/vehicles/{spec.id}", headers=as_user(app_token)) as resp:
        body = await _json(resp, 200)
        assert resp.headers["sc-request-id"]
    assert body["data"]["id"] == spec.id
    assert body["data"]["type"] == "vehicle"
    assert body["data"]["attributes"] == {
        "make": spec.make.upper(),
        "model": spec.model,
        "year": spec.year,
        "powertrainType": powertrain,
        "mode": "live",
    }
    assert sim.counters["billed"] == {}  # not billed


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ev", COMMON_CODES | BATTERY_CODES),
        ("phev", COMMON_CODES | BATTERY_CODES | FUEL_CODES),
        ("petrol", COMMON_CODES | FUEL_CODES),
    ],
)
async def test_signals_per_car_kind(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str, key: str, expected: set[str]
) -> None:
    vehicle = sim.vehicle(key)
    state, reported_at = vehicle.reported()
    async with http.get(f"/v3/vehicles/{vehicle.id}/signals", headers=as_user(app_token)) as resp:
        body = await _json(resp, 200)
    by_code = {s["attributes"]["code"]: s for s in body["data"]}
    assert set(by_code) == expected
    assert body["meta"]["totalCount"] == len(expected)
    assert body["included"]["vehicle"]["id"] == vehicle.id
    for code, signal in by_code.items():
        assert signal["id"] == code
        assert signal["type"] == "signal"
        assert signal["attributes"]["status"] == {"value": "SUCCESS"}
        assert signal["meta"] == {
            "oemUpdatedAt": iso_ms(reported_at),
            "retrievedAt": iso_ms(TEST_NOW),
        }
        assert signal["attributes"]["group"].lower() == code.split("-")[0]
        body_ = signal["attributes"]["body"]
        if "unit" in body_ and body_["unit"] == "percent" and "value" in body_:
            assert 0 <= body_["value"] <= 100

    def value(code: str) -> Any:
        return by_code[code]["attributes"]["body"]

    assert value("closure-islocked") == {"value": state.locked}
    assert value("odometer-traveleddistance") == {"value": round(state.odometer, 1), "unit": "km"}
    location = value("location-preciselocation")
    assert (location["latitude"], location["longitude"]) == (state.latitude, state.longitude)
    assert value("vehicleidentification-vin") == {"value": vehicle.spec.vin}
    assert value("vehicleidentification-year") == {"value": vehicle.spec.year}
    assert len(value("wheel-tires")["values"]) == 4
    assert all(not door["isOpen"] for door in value("closure-doors")["values"])
    if state.battery is not None:
        assert value("tractionbattery-stateofcharge") == {
            "value": pytest.approx(state.battery * 100, abs=0.05),
            "unit": "percent",
        }
        assert value("charge-ischargingcableconnected") == {"value": state.plugged}
        assert value("charge-chargelimits")["activeLimit"] == pytest.approx(
            state.charge_limit * 100
        )
    if state.fuel is not None:
        assert value("internalcombustionengine-fuellevel")["value"] == pytest.approx(
            state.fuel * 100, abs=0.05
        )
        assert value("internalcombustionengine-amountremaining")["unit"] == "liters"

    assert sim.counters["billed"][vehicle.id] == {"total": 1, "by_path": {"GET /v3/signals": 1}}


async def test_signals_follow_the_car(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    sim.vehicle("ev").set(battery=0.42)
    sim.clock.advance(60)
    url = f"/v3/vehicles/{EV_ID}/signals/tractionbattery-stateofcharge"
    async with http.get(url, headers=as_user(app_token)) as resp:
        body = await _json(resp, 200)
    _, reported_at = sim.vehicle("ev").reported()
    signal = body["data"]
    assert signal["attributes"]["body"] == {"value": 42.0, "unit": "percent"}
    assert signal["meta"]["oemUpdatedAt"] == iso_ms(reported_at)
    assert signal["meta"]["retrievedAt"] != signal["meta"]["oemUpdatedAt"]


async def test_single_signal(http: aiohttp.ClientSession, sim: Simulator, app_token: str) -> None:
    headers = as_user(app_token)
    url = f"/v3/vehicles/{PETROL_ID}/signals/vehicleidentification-vin"
    async with http.get(url, headers=headers) as resp:
        body = await _json(resp, 200)
    assert body["data"]["attributes"]["body"] == {"value": sim.vehicle("petrol").spec.vin}
    assert body["data"]["attributes"]["name"] == "VIN"
    assert body["included"]["vehicle"]["attributes"]["powertrainType"] == "ICE"

    url = f"/v3/vehicles/{PETROL_ID}/signals/tractionbattery-stateofcharge"
    async with http.get(url, headers=headers) as resp:  # a petrol car has no traction battery
        error = await _json(resp, 501)
    assert (error["type"], error["code"]) == ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")

    async with http.get(f"/v3/vehicles/{PETROL_ID}/signals/no-such", headers=headers) as resp:
        assert (await _json(resp, 404))["code"] == "SIGNAL_NOT_FOUND"
    async with http.get(f"/v3/vehicles/{PETROL_ID}/nothing/here", headers=headers) as resp:
        assert (await _json(resp, 404))["code"] == "PATH_NOT_FOUND"

    assert sim.counters["billed"][PETROL_ID]["by_path"] == {
        "GET /v3/signals/vehicleidentification-vin": 1,
        "GET /v3/signals/tractionbattery-stateofcharge": 1,
    }


# -- sc-user-id ---------------------------------------------------------------------------------


async def test_sc_user_id(http: aiohttp.ClientSession, sim: Simulator, app_token: str) -> None:
    add_user(sim, OTHER_USER, ["petrol"])
    signals = f"/v3/vehicles/{EV_ID}/signals"
    async with http.get(signals, headers=as_user(app_token, None)) as resp:
        error = await _json(resp, 400)
    assert (error["type"], error["code"]) == ("VALIDATION", "MISSING_PARAMETER")
    async with http.post(
        f"/v3/vehicles/{EV_ID}/commands/security/lock", headers=as_user(app_token, None)
    ) as resp:
        assert resp.status == 400
    async with http.get(signals, headers=as_user(app_token, OTHER_USER)) as resp:
        assert (await _json(resp, 404))["code"] == "VEHICLE_NOT_FOUND"
    async with http.get(signals, headers=as_user(app_token, "no-such-user")) as resp:
        assert (await _json(resp, 403))["type"] == "PERMISSION"
    async with http.get(
        f"/v3/vehicles/{PETROL_ID}/signals", headers=as_user(app_token, OTHER_USER)
    ) as resp:
        assert resp.status == 200
    assert sim.counters["billed"] == {PETROL_ID: {"total": 1, "by_path": {"GET /v3/signals": 1}}}


async def test_v2_user_token(http: aiohttp.ClientSession, tokens: TokenSet) -> None:
    """Smartcar's SDK calls v3 with the user's access token and no sc-user-id."""
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=bearer(tokens)) as resp:
        assert resp.status == 200
    headers = {**bearer(tokens), "sc-user-id": OTHER_USER}
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=headers) as resp:
        assert resp.status == 403
    async with http.get(f"/v3/vehicles/{EV_ID}", headers=bearer("nonsense")) as resp:
        assert (await _json(resp, 401))["type"] == "AUTHENTICATION"


# -- commands -----------------------------------------------------------------------------------


async def test_lock_unlock_200(http: aiohttp.ClientSession, sim: Simulator, app_token: str) -> None:
    headers = as_user(app_token)
    assert sim.vehicle("ev").state.locked
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/unlock", headers=headers) as resp:
        body = await _json(resp, 200)
    data = body["data"]
    assert data["type"] == "command-execution"
    assert data["id"].startswith("exec_")
    assert data["attributes"]["commandType"] == "security-unlock"
    assert data["attributes"]["status"] == {"value": "SUCCESS"}
    assert data["meta"]["executedAt"] == iso_ms(TEST_NOW)
    assert data["meta"]["completedAt"] == iso_ms(TEST_NOW)
    assert not sim.vehicle("ev").state.locked

    url = f"/v3/vehicles/{EV_ID}/signals/closure-islocked"
    async with http.get(url, headers=headers) as resp:
        assert (await _json(resp, 200))["data"]["attributes"]["body"] == {"value": False}
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/lock", headers=headers) as resp:
        assert resp.status == 200
    assert sim.vehicle("ev").state.locked
    assert sim.counters["billed"][EV_ID]["by_path"] == {
        "POST /v3/commands/security/unlock": 1,
        "POST /v3/commands/security/lock": 1,
        "GET /v3/signals/closure-islocked": 1,
    }


async def test_command_202_then_execution_status(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    app_of(sim).command_delay = 30
    headers = as_user(app_token)
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/unlock", headers=headers) as resp:
        accepted = await _json(resp, 202)
    execution_id = accepted["data"]["id"]
    assert accepted["data"]["attributes"]["status"] == {"value": "PENDING"}
    assert accepted["data"]["attributes"]["executionMode"] == "async"
    assert accepted["data"]["meta"]["completedAt"] is None
    assert sim.vehicle("ev").state.locked  # nothing happened yet

    status_url = f"/v3/vehicles/{EV_ID}/command-executions/{execution_id}"
    async with http.get(status_url, headers=headers) as resp:
        assert (await _json(resp, 200))["data"]["attributes"]["status"]["value"] == "PENDING"
    sim.clock.advance(30)
    async with http.get(status_url, headers=headers) as resp:
        done = await _json(resp, 200)
    assert done["data"]["attributes"]["status"] == {"value": "SUCCESS"}
    assert done["data"]["meta"]["durationInSeconds"] == 30
    assert not sim.vehicle("ev").state.locked

    # a charge start that cannot happen (unplugged) fails when it runs
    sim.vehicle("ev").unplug()
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/charge/start", headers=headers) as resp:
        failing = await _json(resp, 202)
    sim.clock.advance(30)
    url = f"/v3/vehicles/{EV_ID}/command-executions/{failing['data']['id']}"
    async with http.get(url, headers=headers) as resp:
        status = (await _json(resp, 200))["data"]["attributes"]["status"]
    assert status["value"] == "FAILURE"
    assert status["error"]["code"] == "CHARGE_FAULT"

    async with http.get(
        f"/v3/vehicles/{PHEV_ID}/command-executions/{execution_id}", headers=headers
    ) as resp:
        assert resp.status == 404  # another car's execution
    assert sim.counters["billed"][EV_ID]["total"] == 2  # the commands, not the status reads


async def test_charge_commands(http: aiohttp.ClientSession, sim: Simulator, app_token: str) -> None:
    headers = as_user(app_token)
    base = f"/v3/vehicles/{EV_ID}/commands"
    body = {"data": {"attributes": {"percent": 70}}}
    async with http.post(f"{base}/charge/set-limit", headers=headers, json=body) as resp:
        result = await _json(resp, 200)
    assert result["data"]["attributes"]["parameters"] == {"percent": 70}
    assert sim.vehicle("ev").state.charge_limit == pytest.approx(0.7)
    body = {"data": {"attributes": {"percent": 40}}}
    async with http.post(f"{base}/charge/set-limit", headers=headers, json=body) as resp:
        assert (await _json(resp, 400))["type"] == "VALIDATION"

    sim.vehicle("ev").unplug()
    async with http.post(f"{base}/charge/start", headers=headers) as resp:
        assert (await _json(resp, 409))["code"] == "CHARGE_FAULT"
    sim.vehicle("ev").plug_in()
    async with http.post(f"{base}/charge/stop", headers=headers) as resp:
        assert resp.status == 200
    assert not sim.vehicle("ev").state.charge_enabled

    async with http.post(
        f"/v3/vehicles/{PETROL_ID}/commands/charge/start", headers=headers
    ) as resp:
        assert (await _json(resp, 501))["type"] == "COMPATIBILITY"
    async with http.post(f"{base}/no/such", headers=headers) as resp:
        assert (await _json(resp, 404))["code"] == "PATH_NOT_FOUND"

    destination = {"data": {"attributes": {"latitude": 52.52, "longitude": 13.405}}}
    async with http.post(
        f"{base}/navigation/set-destination", headers=headers, json=destination
    ) as resp:
        assert resp.status == 200
    assert sim.vehicle("ev").state.destination is not None


# -- faults and rate limit ----------------------------------------------------------------------


async def test_injected_fault(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str, auth: dict[str, str]
) -> None:
    sim.inject_fault(path="/v3/signals", error={"type": "VEHICLE_STATE", "code": "ASLEEP"})
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=as_user(app_token)) as resp:
        error = await _json(resp, 409)
    assert (error["type"], error["code"]) == ("VEHICLE_STATE", "ASLEEP")
    assert error["title"] == "Vehicle State"
    assert error["detail"]
    assert error["resolution"] == {"type": "RETRY_LATER"}
    async with http.get(f"/v2.0/vehicles/{EV_ID}/signals", headers=auth) as resp:
        assert resp.status == 200  # a /v3 fault leaves v2 alone
    sim.clear_faults()

    sim.inject_fault(path="/signals", kind="non_json", count=1, vehicle_id=EV_ID)
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=as_user(app_token)) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
    assert sim.counters["billed"][EV_ID]["by_path"] == {
        "GET /v3/signals": 1,  # the 409 reached Smartcar; the captive portal did not
        "GET /signals": 1,
    }


async def test_rate_limit(http: aiohttp.ClientSession, sim: Simulator, app_token: str) -> None:
    sim.meter.rate_limit = 3
    headers = as_user(app_token)
    for _ in range(3):
        async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=headers) as resp:
            assert resp.status == 200
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/lock", headers=headers) as resp:
        error = await _json(resp, 429)
        assert int(resp.headers["retry-after"]) > 0
    assert error["type"] == "RATE_LIMIT"
    assert sim.counters["billed"][EV_ID]["total"] == 3
