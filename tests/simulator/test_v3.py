"""API v3 over real HTTP: IAM tokens, connections, vehicle, signals, commands, sc-user-id,
webhook subscription and the `/sim/v3` control."""

from __future__ import annotations

from datetime import timedelta
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
    subscribe,
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
    "charge-ischargingportflapopen",
    "charge-chargerate",
    "charge-timetocomplete",
    "charge-energyadded",
    "charge-wattage",
}
# In ERROR `NOT_CHARGING` (no body) unless energy flows.
WHILE_CHARGING = {"charge-chargerate", "charge-timetocomplete", "charge-wattage"}
NOT_CHARGING = {
    "value": "ERROR",
    "error": {
        "type": "VEHICLE_STATE",
        "code": "NOT_CHARGING",
        "title": "Vehicle State",
        "detail": "The vehicle is not charging.",
    },
}
EV_ONLY_CODES = {"closure-fronttrunk"}
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
    "diagnostics-dtclist",
    "diagnostics-dtccount",
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
        ("ev", COMMON_CODES | BATTERY_CODES | EV_ONLY_CODES),
        ("phev", COMMON_CODES | BATTERY_CODES | FUEL_CODES),
        ("petrol", COMMON_CODES | FUEL_CODES),
    ],
)
async def test_signals_per_car_kind(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str, key: str, expected: set[str]
) -> None:
    vehicle = sim.vehicle(key)
    state, reported_at = vehicle.reported()
    assert not state.charging  # no car charges at the start
    async with http.get(f"/v3/vehicles/{vehicle.id}/signals", headers=as_user(app_token)) as resp:
        body = await _json(resp, 200)
    by_code = {s["attributes"]["code"]: s for s in body["data"]}
    assert set(by_code) == expected
    assert body["meta"]["totalCount"] == len(expected)
    assert body["included"]["vehicle"]["id"] == vehicle.id
    for code, signal in by_code.items():
        assert signal["id"] == code
        assert signal["type"] == "signal"
        assert signal["meta"] == {
            "oemUpdatedAt": iso_ms(reported_at),
            "retrievedAt": iso_ms(TEST_NOW),
        }
        assert signal["attributes"]["group"].lower() == code.split("-")[0]
        if code in WHILE_CHARGING:
            assert signal["attributes"]["status"] == NOT_CHARGING
            assert "body" not in signal["attributes"]
            continue
        assert signal["attributes"]["status"] == {"value": "SUCCESS"}
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


# -- new signals: charging, front trunk, trouble codes -------------------------------------------


async def _signal(
    http: aiohttp.ClientSession, token: str, vehicle_id: str, code: str, status: int = 200
) -> Any:
    url = f"/v3/vehicles/{vehicle_id}/signals/{code}"
    async with http.get(url, headers=as_user(token)) as resp:
        body = await _json(resp, status)
    return body["data"]["attributes"] if status == 200 else body


def _stamp(age: timedelta) -> str:
    """A trouble code's timestamp, `age` before the start, as the fleet writes it."""
    return (TEST_NOW - age).strftime("%Y-%m-%dT%H:%M:%S.000Z")


PHEV_DTC = {"code": "P0456", "timestamp": _stamp(timedelta(days=5, minutes=47, seconds=20))}
PETROL_DTC = {
    "code": "P0420",
    "timestamp": _stamp(timedelta(days=48, hours=15, minutes=56, seconds=49)),
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "ev",
            {
                "charge-ischargingportflapopen": {"value": False},
                "charge-energyadded": {"value": 0.0, "unit": "kWh"},
                "closure-fronttrunk": {"isOpen": False, "isLocked": True},
                "diagnostics-dtclist": {"values": []},
                "diagnostics-dtccount": {"value": 0, "unit": "count"},
            },
        ),
        (
            "phev",
            {
                "charge-ischargingportflapopen": {"value": False},
                "charge-energyadded": {"value": 0.0, "unit": "kWh"},
                "diagnostics-dtclist": {"values": [PHEV_DTC]},
                "diagnostics-dtccount": {"value": 1, "unit": "count"},
            },
        ),
        (
            "petrol",
            {
                "diagnostics-dtclist": {"values": [PETROL_DTC]},
                "diagnostics-dtccount": {"value": 1, "unit": "count"},
            },
        ),
    ],
)
async def test_new_signals_parked(
    http: aiohttp.ClientSession,
    sim: Simulator,
    app_token: str,
    auth: dict[str, str],
    key: str,
    expected: dict[str, Any],
) -> None:
    """Unplugged cars: bodies of the new signals, ERROR for the charging-only ones, 501 where absent."""
    vehicle_id = sim.vehicle(key).id
    async with http.get(f"/v3/vehicles/{vehicle_id}/signals", headers=as_user(app_token)) as resp:
        listed = {s["id"]: s["attributes"] for s in (await _json(resp, 200))["data"]}
    for code, body in expected.items():
        assert listed[code]["status"] == {"value": "SUCCESS"}, code
        assert listed[code]["body"] == body, code
        single = await _signal(http, app_token, vehicle_id, code)
        assert (single["status"], single["body"]) == ({"value": "SUCCESS"}, body)

    has_battery = key != "petrol"
    for code in sorted(WHILE_CHARGING):
        if has_battery:
            assert listed[code] == {
                "code": code,
                "name": {
                    "charge-chargerate": "ChargeRate",
                    "charge-timetocomplete": "TimeToComplete",
                    "charge-wattage": "Wattage",
                }[code],
                "group": "Charge",
                "status": NOT_CHARGING,
            }
            single = await _signal(http, app_token, vehicle_id, code)  # 200, in ERROR
            assert single["status"] == NOT_CHARGING
            assert "body" not in single
        else:
            assert code not in listed
            error = await _signal(http, app_token, vehicle_id, code, 501)
            assert error["code"] == "VEHICLE_NOT_CAPABLE"
    if key != "ev":
        assert "closure-fronttrunk" not in listed
        error = await _signal(http, app_token, vehicle_id, "closure-fronttrunk", 501)
        assert error["type"] == "COMPATIBILITY"

    # the trouble codes are the ones v2 serves
    async with http.get(f"/v2.0/vehicles/{vehicle_id}/diagnostics/dtcs", headers=auth) as resp:
        v2_codes = (await _json(resp, 200))["activeCodes"]
    assert listed["diagnostics-dtclist"]["body"]["values"] == v2_codes
    billed = sim.counters["billed"][vehicle_id]["by_path"]
    # the list, each single read (ERROR and 501 too) and the v2 read
    assert billed["GET /v3/signals/charge-wattage"] == 1
    assert sum(billed.values()) == 1 + len(expected) + 3 + (key != "ev") + 1


async def test_trouble_codes_follow_the_car(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    sim.vehicle("ev").set(
        dtcs=["P0300", {"code": "U0100", "timestamp": "2026-10-01T12:00:00.000Z"}]
    )
    codes = await _signal(http, app_token, EV_ID, "diagnostics-dtclist")
    assert codes["body"] == {
        "values": [
            {"code": "P0300", "timestamp": iso_ms(TEST_NOW)},
            {"code": "U0100", "timestamp": "2026-10-01T12:00:00.000Z"},
        ]
    }
    count = await _signal(http, app_token, EV_ID, "diagnostics-dtccount")
    assert count["body"] == {"value": 2, "unit": "count"}


async def test_charging_signals_ev_session(http: aiohttp.ClientSession, sim: Simulator) -> None:
    """EV 11 kW into 75 kWh at 0.155 kWh/km, from 62 % to the 80 % limit."""
    ev = sim.vehicle("ev")
    ev.plug_in()

    async def bodies() -> dict[str, Any]:
        headers = as_user(issue_app_token(sim))  # the session outlasts a token's hour
        async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=headers) as resp:
            data = (await _json(resp, 200))["data"]
        return {s["id"]: s["attributes"].get("body", s["attributes"]["status"]) for s in data}

    now = await bodies()
    assert now["charge-ischarging"] == {"value": True}
    assert now["charge-ischargingportflapopen"] == {"value": True}
    assert now["charge-chargerate"] == {"value": 71.0, "unit": "km/h"}  # 11 / 0.155 = 70.97
    assert now["charge-wattage"] == {"value": 11000.0, "unit": "watts"}
    assert now["charge-timetocomplete"] == {"value": 74, "unit": "minutes"}  # 13.5 kWh / 11 kW
    assert now["charge-energyadded"] == {"value": 0.0, "unit": "kWh"}

    sim.clock.advance(600)  # the car reports after 10 minutes: 1.83 kWh more
    now = await bodies()
    assert now["tractionbattery-stateofcharge"] == {"value": 64.4, "unit": "percent"}
    assert now["charge-energyadded"] == {"value": 1.83, "unit": "kWh"}
    assert now["charge-timetocomplete"] == {"value": 64, "unit": "minutes"}  # 11.67 kWh left
    assert now["charge-chargerate"] == {"value": 71.0, "unit": "km/h"}

    sim.clock.advance(300)  # between reports: the API still serves the 10-minute report
    assert (await bodies())["charge-energyadded"] == {"value": 1.83, "unit": "kWh"}

    sim.clock.advance(4500)  # limit reached: the last session stays readable
    now = await bodies()
    assert now["charge-detailedchargingstatus"] == {"value": "FULLY_CHARGED"}
    assert now["charge-energyadded"] == {"value": 13.5, "unit": "kWh"}  # 18 % of 75 kWh
    for code in WHILE_CHARGING:
        assert now[code] == NOT_CHARGING, code
    assert now["charge-ischargingportflapopen"] == {"value": True}  # still plugged in

    ev.unplug()
    now = await bodies()
    assert now["charge-ischargingportflapopen"] == {"value": False}
    assert now["charge-energyadded"] == {"value": 13.5, "unit": "kWh"}

    ev.plug_in()
    ev.set_charge_limit(0.9)  # energy flows again: a new session
    now = await bodies()
    assert now["charge-energyadded"] == {"value": 0.0, "unit": "kWh"}
    assert now["charge-timetocomplete"] == {"value": 41, "unit": "minutes"}  # 7.5 kWh / 11 kW


async def test_charging_signals_phev(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    """PHEV 3.6 kW into 18 kWh at 0.26 kWh/km, from 45 % to 100 %."""
    sim.vehicle("phev").plug_in()
    rate = await _signal(http, app_token, PHEV_ID, "charge-chargerate")
    assert (rate["status"], rate["body"]) == ({"value": "SUCCESS"}, {"value": 13.8, "unit": "km/h"})
    watts = await _signal(http, app_token, PHEV_ID, "charge-wattage")
    assert watts["body"] == {"value": 3600.0, "unit": "watts"}
    minutes = await _signal(http, app_token, PHEV_ID, "charge-timetocomplete")
    assert minutes["body"] == {"value": 165, "unit": "minutes"}  # 9.9 kWh / 3.6 kW
    assert sim.counters["billed"][PHEV_ID]["by_path"] == {
        "GET /v3/signals/charge-chargerate": 1,
        "GET /v3/signals/charge-wattage": 1,
        "GET /v3/signals/charge-timetocomplete": 1,
    }


# -- webhook subscription -------------------------------------------------------------------------


def _signals_not_found(request_id: str) -> dict[str, Any]:
    return {
        "type": "RESOURCE_NOT_FOUND",
        "code": "SIGNALS_NOT_FOUND",
        "description": "No signals are available for this vehicle.",
        "docURL": "https://smartcar.com/docs/errors/api-errors/resource-not-found-errors"
        "#signals-not-found",
        "statusCode": 404,
        "resolution": {"type": None},
        "suggestedUserMessage": "The requested resource could not be found.",
        "requestId": request_id,
        "title": "Resource Not Found",
        "detail": "No signals are available for this vehicle.",
        "status": 404,
    }


async def test_signals_need_a_subscription(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    app = app_of(sim)
    assert (app.auto_subscribe, app.subscribed) == (True, set())
    app.auto_subscribe = False
    headers = as_user(app_token)
    for path in ("signals", "signals/closure-islocked", "signals/no-such-signal"):
        async with http.get(f"/v3/vehicles/{EV_ID}/{path}", headers=headers) as resp:
            error = await _json(resp, 404)
            assert error == _signals_not_found(resp.headers["sc-request-id"]), path
    # other v3 calls are not affected
    async with http.get(f"/v3/vehicles/{EV_ID}", headers=headers) as resp:
        assert resp.status == 200
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/unlock", headers=headers) as resp:
        assert resp.status == 200
    async with http.get("/v3/connections", headers=bearer(app_token)) as resp:
        assert resp.status == 200
    assert sim.counters["billed"] == {
        EV_ID: {"total": 1, "by_path": {"POST /v3/commands/security/unlock": 1}}
    }

    subscribe(sim, "ev")  # nothing else needed
    async with http.get(f"/v3/vehicles/{EV_ID}/signals/closure-islocked", headers=headers) as resp:
        assert (await _json(resp, 200))["data"]["attributes"]["body"] == {"value": False}
    async with http.get(f"/v3/vehicles/{PHEV_ID}/signals", headers=headers) as resp:
        assert (await _json(resp, 404))["code"] == "SIGNALS_NOT_FOUND"

    app.auto_subscribe = True  # the Dashboard switch: every car
    async with http.get(f"/v3/vehicles/{PHEV_ID}/signals", headers=headers) as resp:
        assert resp.status == 200
    assert sim.counters["billed"][PHEV_ID] == {"total": 1, "by_path": {"GET /v3/signals": 1}}


async def test_subscription_checked_after_auth_and_vehicle(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    app_of(sim).auto_subscribe = False
    async with http.get(f"/v3/vehicles/{EV_ID}/signals", headers=bearer("nonsense")) as resp:
        assert (await _json(resp, 401))["type"] == "AUTHENTICATION"
    add_user(sim, OTHER_USER, ["petrol"])
    async with http.get(
        f"/v3/vehicles/{EV_ID}/signals", headers=as_user(app_token, OTHER_USER)
    ) as resp:
        assert (await _json(resp, 404))["code"] == "VEHICLE_NOT_FOUND"


# -- /sim/v3 ------------------------------------------------------------------------------------


async def test_control_v3_settings(
    http: aiohttp.ClientSession, sim: Simulator, app_token: str
) -> None:
    defaults = {
        "client_id": DEFAULT_V3_CLIENT_ID,
        "application_id": app_of(sim).application_id,
        "auto_subscribe": True,
        "subscribed": [],
        "command_delay": 0.0,
        "token_ttl": 3600,
    }
    async with http.get("/sim/v3") as resp:
        text = await resp.text()
        assert await _json(resp, 200) == defaults
    assert DEFAULT_V3_CLIENT_SECRET not in text

    async with http.post("/sim/v3", json={"auto_subscribe": False}) as resp:
        assert await _json(resp, 200) == {**defaults, "auto_subscribe": False}
    headers = as_user(app_token)
    async with http.get(f"/v3/vehicles/{PHEV_ID}/signals", headers=headers) as resp:
        assert (await _json(resp, 404))["code"] == "SIGNALS_NOT_FOUND"
    async with http.post("/sim/v3", json={"subscribed": ["phev", EV_ID]}) as resp:
        changed = await _json(resp, 200)
    assert changed["subscribed"] == sorted([PHEV_ID, EV_ID])
    assert changed["auto_subscribe"] is False  # a partial update keeps the rest
    async with http.get(f"/v3/vehicles/{PHEV_ID}/signals", headers=headers) as resp:
        assert resp.status == 200
    async with http.get(f"/v3/vehicles/{PETROL_ID}/signals", headers=headers) as resp:
        assert resp.status == 404

    async with http.post("/sim/v3", json={"command_delay": 30, "token_ttl": 600}) as resp:
        changed = await _json(resp, 200)
    assert (changed["command_delay"], changed["token_ttl"]) == (30.0, 600)
    async with http.post(f"/v3/vehicles/{EV_ID}/commands/security/unlock", headers=headers) as resp:
        assert (await _json(resp, 202))["data"]["attributes"]["status"] == {"value": "PENDING"}
    body = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_V3_CLIENT_ID,
        "client_secret": DEFAULT_V3_CLIENT_SECRET,
    }
    async with await _token(http, json=body) as resp:
        assert (await _json(resp, 200))["expires_in"] == 600

    async with http.post("/sim/v3", json={"auto_subscribe": True, "subscribed": []}) as resp:
        assert await _json(resp, 200) == {**defaults, "command_delay": 30.0, "token_ttl": 600}
    async with http.get(f"/v3/vehicles/{PETROL_ID}/signals", headers=headers) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"auto_subscribe": "yes"}, "'auto_subscribe' must be true or false"),
        ({"subscribed": "ev"}, "'subscribed' must be a list of vehicle ids"),
        ({"subscribed": ["ev", "no-such-car"]}, "unknown vehicle no-such-car"),
        ({"command_delay": -1}, "'command_delay' must be zero or more"),
        ({"command_delay": True}, "'command_delay' must be a number of seconds"),
        ({"token_ttl": 0}, "'token_ttl' must be a positive whole number of seconds"),
        ({"token_ttl": 1.5}, "'token_ttl' must be a positive whole number of seconds"),
        ({"client_secret": "x"}, "unknown fields: client_secret"),
    ],
)
async def test_control_v3_rejects(
    http: aiohttp.ClientSession, sim: Simulator, body: dict[str, Any], message: str
) -> None:
    """A bad field changes nothing, not even the good fields beside it."""
    sent = {"auto_subscribe": False, "command_delay": 5, **body}  # good fields, unless overridden
    async with http.post("/sim/v3", json=sent) as resp:
        assert await _json(resp, 400) == {"error": message}
    app = app_of(sim)
    assert (app.auto_subscribe, app.subscribed, app.command_delay, app.token_ttl) == (
        True,
        set(),
        0.0,
        3600,
    )
    async with http.post("/sim/v3", data="not json") as resp:
        assert resp.status == 400


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
