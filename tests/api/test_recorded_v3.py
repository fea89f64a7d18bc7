"""Real API v3 payloads (tests/fixtures/wbyoung_smartcar, see its NOTICE.md) through the client.

Each recorded signals answer is parsed by `_v3.parse_signals` and replayed over HTTP (stub
server) through `SmartcarV3Client.async_batch`; the connections and VIN answers likewise.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeDetails,
    ChargeLimit,
    ChargeState,
    Closures,
    EngineOil,
    Fuel,
    Location,
    Odometer,
    Opening,
    Security,
    Signal,
    SignalResult,
    SmartcarCompatibilityError,
    SmartcarV3Client,
    UnitSystem,
    _v3,
)

from .conftest import StubServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wbyoung_smartcar"
VW_ID4 = "vw_id_4.ok.v3.json"
UNKNOWN_MAKE = "unknown_make.ok.v3.json"
RECORDED_SIGNALS = [VW_ID4, UNKNOWN_MAKE]
INCAPABLE = "The vehicle is incapable of performing your request."

# Which field of which group each known code fills (a SUCCESS signal must fill it).
FIELDS: dict[str, list[tuple[Signal, str]]] = {
    "tractionbattery-stateofcharge": [(Signal.BATTERY, "percent_remaining")],
    "tractionbattery-range": [(Signal.BATTERY, "range")],
    "charge-ischargingcableconnected": [(Signal.CHARGE, "is_plugged_in")],
    "charge-detailedchargingstatus": [(Signal.CHARGE, "state")],
    "charge-ischarging": [(Signal.CHARGE, "state")],
    "charge-chargelimits": [(Signal.CHARGE_LIMIT, "limit")],
    "charge-chargerate": [(Signal.CHARGE_DETAILS, "rate")],
    "charge-timetocomplete": [(Signal.CHARGE_DETAILS, "time_to_complete")],
    "charge-wattage": [(Signal.CHARGE_DETAILS, "power")],
    "closure-islocked": [(Signal.SECURITY, "is_locked")],
    "closure-doors": [(Signal.SECURITY, "doors"), (Signal.CLOSURES, "doors_open")],
    "closure-windows": [(Signal.SECURITY, "windows"), (Signal.CLOSURES, "windows_open")],
    "closure-reartrunk": [(Signal.SECURITY, "storage"), (Signal.CLOSURES, "trunk_open")],
    "location-preciselocation": [(Signal.LOCATION, "latitude"), (Signal.LOCATION, "longitude")],
    "odometer-traveleddistance": [(Signal.ODOMETER, "distance")],
    "internalcombustionengine-fuellevel": [(Signal.FUEL, "percent_remaining")],
    "internalcombustionengine-oillife": [(Signal.ENGINE_OIL, "life_remaining")],
}
KNOWN_CODES = {code for codes in _v3.CODES.values() for code in codes}


def load(name: str) -> Any:
    """A fixture file's JSON."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def recorded_answer(name: str) -> dict[str, Any]:
    """The recorded `GET /vehicles/{id}/signals` body (the file wraps it with the request)."""
    (exchange,) = load(f"api/{name}")
    assert (exchange["method"], exchange["vehicle_path"]) == ("get", "/signals")
    response: dict[str, Any] = exchange["response"]
    return response


def webhook_signals() -> list[dict[str, Any]]:
    """The signals of the recorded VEHICLE_STATE webhook."""
    signals: list[dict[str, Any]] = load("webhooks/vw_id7_vehicle_state.json")["data"]["signals"]
    return signals


def parse(body: Any, wanted: list[Signal] | None = None) -> dict[Signal, SignalResult]:
    """`parse_signals` in metric, without a request id."""
    return _v3.parse_signals(body, wanted or [], UnitSystem.METRIC, None)


def reading[R](results: dict[Signal, SignalResult], signal: Signal, kind: type[R]) -> R:
    """The group's reading, which must be there and of that kind."""
    value = results[signal].reading
    assert isinstance(value, kind), results[signal]
    return value


def at(text: str) -> datetime:
    """An ISO 8601 UTC time."""
    return datetime.fromisoformat(text).astimezone(UTC)


def success_codes(items: list[dict[str, Any]]) -> list[str]:
    """Codes of the signals in SUCCESS (or with no status at all, as some recorded ones)."""
    codes = []
    for item in items:
        fields = item.get("attributes", item)
        status = fields.get("status")
        if status is None or status.get("value") == "SUCCESS":
            codes.append(fields["code"])
    return codes


# -- the VW ID.4 ------------------------------------------------------------------------------


def test_vw_id4_values() -> None:
    """Concrete values of every group the ID.4 reports."""
    results = parse(recorded_answer(VW_ID4))
    battery = reading(results, Signal.BATTERY, Battery)
    assert (battery.percent_remaining, battery.range, battery.issues) == (0.57, 253.0, ())
    assert battery.meta.data_age == at("2026-06-29T23:55:53.000+00:00")
    assert battery.meta.fetched_at == at("2026-06-30T00:03:53.743+00:00")
    charge = reading(results, Signal.CHARGE, Charge)
    assert (charge.is_plugged_in, charge.state) == (False, ChargeState.NOT_CHARGING)
    assert reading(results, Signal.CHARGE_LIMIT, ChargeLimit).limit == 0.8
    security = reading(results, Signal.SECURITY, Security)
    positions = ("frontLeft", "frontRight", "backLeft", "backRight")
    assert security.is_locked is True
    assert security.doors == tuple(Opening(p, "LOCKED") for p in positions)
    assert security.windows == tuple(Opening(p, "CLOSED") for p in positions)
    # Front trunk in ERROR (PERMISSION), sunroof in ERROR (not capable): only the rear one.
    assert security.storage == (Opening("rear", "CLOSED"),)
    assert (security.sunroof, security.charging_port, security.issues) == ((), (), ())
    location = reading(results, Signal.LOCATION, Location)
    assert (location.latitude, location.longitude) == (37.4292, 122.1381)
    assert location.meta.data_age == at("2026-06-29T23:46:50.695+00:00")
    assert reading(results, Signal.ODOMETER, Odometer).distance == 52891.0
    closures = reading(results, Signal.CLOSURES, Closures)
    assert (
        closures.doors_open,
        closures.windows_open,
        closures.trunk_open,
        closures.frunk_open,
        closures.sunroof_open,
        closures.charge_port_open,
    ) == (False, False, False, None, None, None)


def test_vw_id4_error_signals() -> None:
    """Signals in ERROR: NOT_CHARGING is no error; a group all in ERROR carries the first."""
    results = parse(recorded_answer(VW_ID4), [Signal.TIRES, Signal.ENGINE_OIL])
    details = results[Signal.CHARGE_DETAILS]
    assert details.error is None
    assert isinstance(details.reading, ChargeDetails)
    assert (
        details.reading.rate,
        details.reading.time_to_complete,
        details.reading.energy_added,
        details.reading.power,
    ) == (None, None, None, None)  # the bodies next to NOT_CHARGING (53 km/h, 8 kW) are old
    for group in (Signal.FUEL, Signal.CONNECTIVITY):
        error = results[group].error
        assert isinstance(error, SmartcarCompatibilityError), group
        assert (error.status, error.code, error.description) == (
            501,
            "VEHICLE_NOT_CAPABLE",
            INCAPABLE,
        )
        assert error.resolution is None  # UNKNOWN_RESOLUTION_TYPE
        assert results[group].reading is None
    # Wanted but never listed: not capable either.
    for group in (Signal.TIRES, Signal.ENGINE_OIL):
        assert isinstance(results[group].error, SmartcarCompatibilityError)
    assert set(results) == {
        Signal.BATTERY,
        Signal.CHARGE,
        Signal.CHARGE_LIMIT,
        Signal.SECURITY,
        Signal.LOCATION,
        Signal.ODOMETER,
        Signal.FUEL,
        Signal.CLOSURES,
        Signal.CHARGE_DETAILS,
        Signal.CONNECTIVITY,
        Signal.TIRES,
        Signal.ENGINE_OIL,
    }


def test_vw_id4_vehicle_and_vin() -> None:
    """The included vehicle gives make, model and year; the VIN signal is in the list."""
    body = recorded_answer(VW_ID4)
    vin_item = next(s for s in body["data"] if s["id"] == _v3.VIN_CODE)
    vin = _v3.parse_vin(vin_item)
    assert vin == "VIWP1AB29P15LA85784N"
    vehicle = _v3.parse_vehicle({"data": body["included"]["vehicle"]}, vin)
    assert (vehicle.id, vehicle.make, vehicle.model, vehicle.year, vehicle.vin) == (
        "a1d50709-3502-4faa-ba43-a5c7565e6a09",
        "Volkswagen",
        "ID.4",
        2023,
        "VIWP1AB29P15LA85784N",
    )


# -- the "unknown make" car ---------------------------------------------------------------------


def test_unknown_make_values() -> None:
    """Plugged in and full, unlocked with a door open; no range signal."""
    results = parse(recorded_answer(UNKNOWN_MAKE))
    battery = reading(results, Signal.BATTERY, Battery)
    assert (battery.percent_remaining, battery.range) == (0.3, None)
    charge = reading(results, Signal.CHARGE, Charge)
    assert (charge.is_plugged_in, charge.state) == (True, ChargeState.FULLY_CHARGED)
    assert reading(results, Signal.CHARGE_LIMIT, ChargeLimit).limit == 0.8
    security = reading(results, Signal.SECURITY, Security)
    assert security.is_locked is False
    # The doors say isLocked true while the car says unlocked: both kept as reported.
    assert {o.status for o in security.doors} == {"LOCKED"}
    closures = reading(results, Signal.CLOSURES, Closures)
    assert (closures.doors_open, closures.windows_open, closures.trunk_open) == (True, False, False)
    assert reading(results, Signal.ODOMETER, Odometer).distance == 37829.0
    location = reading(results, Signal.LOCATION, Location)
    assert (location.latitude, location.longitude) == (37.4292, 122.1381)


def test_unknown_make_signals_without_status() -> None:
    """Signals without `status` and with times (epoch ms) inside `attributes.meta` are read.

    Their values are as written: 0..100 percent (0.3 and 0.35 are 0.3 % and 0.35 %).
    """
    results = parse(recorded_answer(UNKNOWN_MAKE))
    fuel = reading(results, Signal.FUEL, Fuel)
    assert fuel.percent_remaining == pytest.approx(0.003)
    assert (fuel.amount_remaining, fuel.range, fuel.issues) == (None, None, ())
    assert fuel.meta.data_age == datetime.fromtimestamp(1758238233, UTC)
    assert fuel.meta.fetched_at == datetime.fromtimestamp(1758238783.086, UTC)
    oil = reading(results, Signal.ENGINE_OIL, EngineOil)
    assert oil.life_remaining == pytest.approx(0.0035)
    assert oil.meta.data_age == datetime.fromtimestamp(1758238233, UTC)


def test_unknown_make_vehicle_without_attributes() -> None:
    """The included vehicle has only `mode`: make, model and year are None."""
    included = recorded_answer(UNKNOWN_MAKE)["included"]["vehicle"]
    vehicle = _v3.parse_vehicle({"data": included}, None)
    assert (vehicle.make, vehicle.model, vehicle.year) == (None, None, None)


# -- every recorded answer ----------------------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED_SIGNALS)
def test_no_success_signal_lost(name: str) -> None:
    """Every SUCCESS signal the client knows fills its field(s)."""
    body = recorded_answer(name)
    results = parse(body)
    known = [c for c in success_codes(body["data"]) if c in KNOWN_CODES]
    assert known  # the fixture has something to check
    assert set(known) <= set(FIELDS), set(known) - set(FIELDS)
    for code in known:
        for group, field in FIELDS[code]:
            value = getattr(results[group].reading, field)
            assert value not in (None, ()), (code, group, field)


def test_webhook_signals() -> None:
    """The VEHICLE_STATE webhook's bare signals (epoch ms times) parse the same way."""
    signals = webhook_signals()
    results = parse({"data": signals})
    battery = reading(results, Signal.BATTERY, Battery)
    assert (battery.percent_remaining, battery.range) == (0.8, 472.0)
    assert battery.meta.data_age == datetime.fromtimestamp(1780222506, UTC)
    assert battery.meta.fetched_at == datetime.fromtimestamp(1780222662.364, UTC)
    charge = reading(results, Signal.CHARGE, Charge)
    assert (charge.is_plugged_in, charge.state) == (True, ChargeState.FULLY_CHARGED)
    assert reading(results, Signal.ODOMETER, Odometer).distance == 16342.0
    details = reading(results, Signal.CHARGE_DETAILS, ChargeDetails)
    # Rate in ERROR NOT_CHARGING; time to complete (no unit: minutes) and power are zero.
    assert (details.rate, details.time_to_complete, details.power, details.energy_added) == (
        None,
        0.0,
        0.0,
        None,
    )
    assert set(results) == {Signal.BATTERY, Signal.CHARGE, Signal.ODOMETER, Signal.CHARGE_DETAILS}
    for code in success_codes(signals):
        for group, field in FIELDS.get(code, []):
            assert getattr(results[group].reading, field) is not None, code
    vin = next(s for s in signals if s["code"] == _v3.VIN_CODE)
    assert _v3.parse_vin(vin) == "1XKYP49X1RJ701910"
    parsed = _v3.parse_signal(vin)
    assert parsed is not None
    assert (parsed.updated, parsed.retrieved) == (None, None)  # 0 is "no time", not 1970


@pytest.mark.parametrize("name", RECORDED_SIGNALS)
async def test_recorded_over_http(
    stub: StubServer, v3_stub_client: SmartcarV3Client, name: str
) -> None:
    """Replayed by the stub server: the client's batch gives what the parser gives."""
    body = recorded_answer(name)
    vehicle_id = body["included"]["vehicle"]["id"]
    stub.add(
        "GET",
        f"/v3/vehicles/{vehicle_id}/signals",
        body,
        headers={"sc-request-id": "recorded-request"},
    )
    result = await v3_stub_client.async_batch(vehicle_id, [Signal.BATTERY, Signal.FUEL])
    expected = _v3.parse_signals(
        body, [Signal.BATTERY, Signal.FUEL], UnitSystem.METRIC, "recorded-request"
    )
    assert set(result.results) == set(expected)
    for group, item in result.results.items():
        assert item.reading == expected[group].reading, group
        assert type(item.error) is type(expected[group].error), group
    battery = result.results[Signal.BATTERY].reading
    assert isinstance(battery, Battery)
    assert battery.percent_remaining == {VW_ID4: 0.57, UNKNOWN_MAKE: 0.3}[name]
    assert battery.meta.request_id == "recorded-request"
    # Readings restore from what would be stored.
    for group, item in result.results.items():
        if item.reading is not None:
            assert item.raw is not None
            restored = v3_stub_client.restore_reading(group, item.raw)
            assert restored.__class__ is item.reading.__class__
            assert restored.issues == item.reading.issues


# -- connections and the VIN --------------------------------------------------------------------


def test_connections_fixtures() -> None:
    """One page each (`links.next` null): ids, users, permissions, creation time."""
    (only,), more = _v3.parse_connections(load("api/list_connections.json"))
    assert more is False
    assert (only.id, only.vehicle_id, only.user_id) == (
        "553c49e4-08b0-4d28-b83c-fe9d539af4aa",
        "36ab27d0-fd9d-4455-823a-ce30af709ffc",
        "218eda3b-0656-49a8-8f3d-360cdad07334",
    )
    assert only.created == at("2025-05-03T02:45:45.349+00:00")
    assert only.permissions == {
        "control_charge",
        "read_battery",
        "read_charge",
        "read_location",
        "read_odometer",
        "read_security",
        "read_vehicle_info",
        "read_vin",
    }
    assert _v3.parse_connections(load("api/list_connections_empty.json")) == ([], False)
    several, more = _v3.parse_connections(load("api/list_connections_with_multiple_users.json"))
    assert more is False
    assert [(c.vehicle_id, c.user_id) for c in several] == [
        ("36ab27d0-fd9d-4455-823a-ce30af709ffc", "218eda3b-0656-49a8-8f3d-360cdad07334"),
        ("b3014ded-85db-4f12-8923-7a231354d8d0", "d24686bb-8cda-42bc-832b-c894efd64d84"),
    ]


async def test_connections_over_http(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """The client keeps its own user's cars from a list holding several users."""
    stub.add("GET", "/v3/connections", load("api/list_connections_with_multiple_users.json"))
    v3_stub_client.user_id = "d24686bb-8cda-42bc-832b-c894efd64d84"
    assert await v3_stub_client.async_get_vehicle_ids() == ["b3014ded-85db-4f12-8923-7a231354d8d0"]
    permissions = await v3_stub_client.async_get_permissions("b3014ded-85db-4f12-8923-7a231354d8d0")
    assert "read_vin" in permissions
    assert len(permissions) == 8
    assert len(stub.requests) == 1


async def test_no_connections_over_http(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """An empty list: no cars."""
    stub.add("GET", "/v3/connections", load("api/list_connections_empty.json"))
    assert await v3_stub_client.async_get_vehicle_ids() == []


def test_vin_fixtures() -> None:
    """The VIN signal, the same in ERROR (null value), and a 404 body."""
    assert _v3.parse_vin(load("api/get_vin_signal.json")) == "5YJSA1CN5DFP00101"
    assert _v3.parse_vin(load("api/get_vin_signal_missing.json")) is None
    assert _v3.parse_vin(load("api/get_vin_signal_404.json")) is None


@pytest.mark.parametrize(
    ("fixture", "status", "vin"),
    [
        ("api/get_vin_signal.json", 200, "5YJSA1CN5DFP00101"),
        ("api/get_vin_signal_missing.json", 200, None),
        ("api/get_vin_signal_404.json", 404, None),
    ],
)
async def test_attributes_over_http(
    stub: StubServer, v3_stub_client: SmartcarV3Client, fixture: str, status: int, vin: str | None
) -> None:
    """Make, model and year from the vehicle; the VIN when its signal has one."""
    vehicle = load("api/get_vin_signal.json")["included"]["vehicle"]
    path = f"/v3/vehicles/{vehicle['id']}"
    stub.add("GET", path, {"data": vehicle})
    stub.add("GET", f"{path}/signals/{_v3.VIN_CODE}", load(fixture), status=status)
    attributes = await v3_stub_client.async_get_attributes(vehicle["id"])
    assert (attributes.make, attributes.model, attributes.year, attributes.vin) == (
        "Tesla",
        "Model S",
        2014,
        vin,
    )
