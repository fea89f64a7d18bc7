"""`POST /batch` against the simulator: every item keeps its own outcome and meta."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from custom_components.smartcar.api import (
    Battery,
    Location,
    Odometer,
    Signal,
    SmartcarClient,
    SmartcarCompatibilityError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarVehicleStateError,
    UnitSystem,
)
from smartcar_simulator import Simulator
from tests.conftest import TEST_NOW
from tests.const import EV_ID, PHEV_ID

from .conftest import ClientFactory, batch_errors, batch_readings, billed, http_requests


async def test_batch_partial_failure(make_client: ClientFactory, simulator: Simulator) -> None:
    """One item 403, one 501, one injected 409: the others are still parsed."""
    client = make_client(scope=["read_battery", "read_fuel", "read_odometer", "read_charge"])
    simulator.inject_fault(
        vehicle_id="ev",
        path="/charge",
        error={"type": "VEHICLE_STATE", "code": "ASLEEP", "description": "Zzz."},
    )
    result = await client.async_batch(
        EV_ID,
        [Signal.BATTERY, Signal.FUEL, Signal.LOCATION, Signal.ODOMETER, Signal.CHARGE],
    )
    assert list(result.results) == [
        Signal.BATTERY,
        Signal.FUEL,
        Signal.LOCATION,
        Signal.ODOMETER,
        Signal.CHARGE,
    ]
    readings = batch_readings(result)
    assert set(readings) == {Signal.BATTERY, Signal.ODOMETER}
    battery = readings[Signal.BATTERY]
    assert isinstance(battery, Battery)
    assert battery.percent_remaining == pytest.approx(0.62)
    assert battery.meta.data_age == TEST_NOW - timedelta(seconds=420)
    assert battery.meta.unit_system is UnitSystem.METRIC
    assert battery.meta.request_id == result.meta.request_id
    odometer = readings[Signal.ODOMETER]
    assert isinstance(odometer, Odometer)
    assert odometer.distance == 18234.5

    errors = batch_errors(result)
    assert set(errors) == {Signal.FUEL, Signal.LOCATION, Signal.CHARGE}
    fuel = errors[Signal.FUEL]
    assert isinstance(fuel, SmartcarCompatibilityError)  # the EV has no tank
    assert (fuel.status, fuel.code) == (501, "VEHICLE_NOT_CAPABLE")
    location = errors[Signal.LOCATION]
    assert isinstance(location, SmartcarPermissionError)  # read_location not granted
    assert location.status == 403
    assert location.request_id == result.meta.request_id
    charge = errors[Signal.CHARGE]
    assert isinstance(charge, SmartcarVehicleStateError)
    assert (charge.code, charge.description) == ("ASLEEP", "Zzz.")
    for signal in errors:
        assert result.results[signal].reading is None
        assert result.results[signal].raw is None
    assert billed(simulator, EV_ID) == {
        "GET /battery": 1,
        "GET /fuel": 1,
        "GET /location": 1,
        "GET /odometer": 1,
        "GET /charge": 1,
    }


async def test_batch_item_rate_limit_keeps_retry_after(
    client: SmartcarClient, simulator: Simulator
) -> None:
    """A rate-limited item carries `retry-after` in its own headers; it is parsed."""
    simulator.inject_fault(path="/odometer", error={"type": "RATE_LIMIT", "retry_after": 42})
    result = await client.async_batch(EV_ID, [Signal.ODOMETER, Signal.LOCATION])
    error = batch_errors(result)[Signal.ODOMETER]
    assert isinstance(error, SmartcarRateLimitError)
    assert error.retry_after == 42.0
    assert isinstance(batch_readings(result)[Signal.LOCATION], Location)


async def test_batch_items_with_broken_bodies(client: SmartcarClient, simulator: Simulator) -> None:
    """Item faults: a captive page or nothing is an item error; a malformed body has issues."""
    simulator.inject_fault(path="/battery", kind="non_json")
    simulator.inject_fault(path="/charge", kind="empty")
    simulator.inject_fault(path="/odometer", kind="malformed")
    result = await client.async_batch(
        EV_ID, [Signal.BATTERY, Signal.CHARGE, Signal.ODOMETER, Signal.LOCATION]
    )
    assert isinstance(batch_errors(result)[Signal.BATTERY], SmartcarResponseError)
    assert isinstance(batch_errors(result)[Signal.CHARGE], SmartcarResponseError)
    odometer = batch_readings(result)[Signal.ODOMETER]
    assert odometer == Odometer(meta=odometer.meta, issues=("distance",))
    assert odometer.meta.data_age == TEST_NOW - timedelta(seconds=420)
    assert isinstance(batch_readings(result)[Signal.LOCATION], Location)


async def test_batch_request_fault(client: SmartcarClient, simulator: Simulator) -> None:
    """A fault on `/batch` itself fails the whole request."""
    simulator.inject_fault(path="/batch", error={"type": "SERVER", "code": "INTERNAL"})
    with pytest.raises(SmartcarServerError) as caught:
        await client.async_batch(EV_ID, [Signal.BATTERY])
    assert caught.value.code == "INTERNAL"


async def test_batch_without_signals_sends_nothing(
    client: SmartcarClient, simulator: Simulator
) -> None:
    """No signals: an empty result, no request."""
    result = await client.async_batch(EV_ID, [])
    assert result.results == {}
    assert batch_readings(result) == {}
    assert batch_errors(result) == {}
    assert http_requests(simulator) == {}


async def test_batch_asks_each_signal_once(client: SmartcarClient, simulator: Simulator) -> None:
    """Duplicates are asked (and billed) once."""
    result = await client.async_batch(
        EV_ID, iter([Signal.ODOMETER, Signal.ODOMETER, Signal.LOCATION])
    )
    assert list(result.results) == [Signal.ODOMETER, Signal.LOCATION]
    assert billed(simulator, EV_ID) == {"GET /odometer": 1, "GET /location": 1}


async def test_batch_raw_restores_the_reading(client: SmartcarClient) -> None:
    """The stored `raw` of each item gives the same reading back."""
    result = await client.async_batch(PHEV_ID, sorted(SmartcarClient.signals))
    for signal, item in result.results.items():
        assert item.raw is not None
        assert set(item.raw) == {"body", "headers"}
        assert item.reading is not None
        restored = SmartcarClient.restore_reading(signal, item.raw)
        # Everything but the request id (which is no header of the item) comes back.
        assert restored == replace(item.reading, meta=replace(item.reading.meta, request_id=None))
        assert restored.meta.data_age == TEST_NOW - timedelta(seconds=780)
        assert restored.meta.unit_system is UnitSystem.METRIC


def test_restore_reading_without_headers() -> None:
    """A stored raw without headers still gives the values (meta empty)."""
    restored = SmartcarClient.restore_reading(
        Signal.ODOMETER, {"body": {"distance": 12.5}, "headers": None}
    )
    assert restored == Odometer(distance=12.5)
