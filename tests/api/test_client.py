"""Every client operation against the simulator, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeLimit,
    ChargeState,
    CommandResult,
    ConnectionStatus,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    Odometer,
    Opening,
    Security,
    Signal,
    SmartcarAuthenticationError,
    SmartcarClient,
    SmartcarNotFoundError,
    UnitSystem,
    VehicleIds,
    client as client_module,
)
from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import TEST_NOW
from tests.const import EV_ID, PETROL_ID, PHEV_ID, USER_ID

from .conftest import (
    VEHICLE_IDS,
    ClientFactory,
    batch_errors,
    batch_readings,
    billed,
    http_requests,
    is_uuid,
    read,
)

KM_TO_MILES = 0.621371192237334
ALL_SCOPE = [
    "read_vehicle_info",
    "read_vin",
    "read_battery",
    "read_charge",
    "control_charge",
    "read_security",
    "control_security",
    "read_location",
    "read_odometer",
    "read_fuel",
    "read_engine_oil",
    "read_diagnostics",
    "control_navigation",
    "read_tires",
    "read_thermometer",
    "read_extended_vehicle_info",
]


# -- user and vehicles ------------------------------------------------------------------------


async def test_get_user(client: SmartcarClient, simulator: Simulator) -> None:
    """`GET /user` gives the token's user and the request id; it is not billed."""
    user = await client.async_get_user()
    assert user.id == USER_ID
    assert is_uuid(user.meta.request_id)
    assert http_requests(simulator) == {"GET /v2.0/user": 1}
    assert simulator.counters["billed"] == {}


async def test_vehicle_ids_single_page(client: SmartcarClient, simulator: Simulator) -> None:
    """The three vehicles, in order, in one page."""
    assert await client.async_get_vehicle_ids() == VEHICLE_IDS
    page = await client.async_get_vehicle_ids_page(limit=2, offset=1)
    assert page == VehicleIds(vehicle_ids=(PHEV_ID, PETROL_ID), count=3, offset=1)
    assert http_requests(simulator)["GET /v2.0/vehicles"] == 2


async def test_vehicle_ids_follow_pages(
    make_client: ClientFactory, serve, socket_enabled: None
) -> None:
    """63 vehicles take two pages of 50; every id comes back once, in order."""
    big = Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), extra_vehicles=60)
    url = await serve(big)
    client = make_client(token=big.issue_tokens().access_token, base_url=url)
    ids = await client.async_get_vehicle_ids()
    assert ids == [vehicle.id for vehicle in big.vehicles]
    assert len(ids) == 63
    assert http_requests(big)["GET /v2.0/vehicles"] == 2
    page = await client.async_get_vehicle_ids_page(limit=10, offset=55)
    assert page.vehicle_ids == tuple(ids[55:63])
    assert (page.count, page.offset) == (63, 55)


async def test_attributes_with_vin(client: SmartcarClient, simulator: Simulator) -> None:
    """Make, model, year and (with read_vin) the VIN; billed as `GET /`."""
    attributes = await client.async_get_attributes(EV_ID)
    assert attributes.id == EV_ID
    assert (attributes.make, attributes.model, attributes.year) == ("Tesla", "Model 3", 2023)
    assert attributes.vin == simulator.vehicle("ev").spec.vin
    assert is_uuid(attributes.meta.request_id)
    assert billed(simulator, EV_ID) == {"GET /": 1}


async def test_attributes_without_read_vin(make_client: ClientFactory) -> None:
    """Without read_vin the VIN is not sent, so it is None."""
    client = make_client(scope=["read_vehicle_info"])
    attributes = await client.async_get_attributes(PETROL_ID)
    assert (attributes.make, attributes.model, attributes.year) == ("Ford", "Focus", 2019)
    assert attributes.vin is None


async def test_permissions(make_client: ClientFactory, simulator: Simulator) -> None:
    """The granted permissions; not billed."""
    scope = ["read_battery", "read_location", "control_security"]
    client = make_client(scope=scope)
    assert await client.async_get_permissions(EV_ID) == frozenset(scope)
    assert simulator.counters["billed"] == {}


async def test_permissions_follow_pages(
    client: SmartcarClient, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 permissions in pages of 5 take four requests and lose none."""
    monkeypatch.setattr(client_module, "_PAGE_SIZE", 5)
    assert await client.async_get_permissions(PHEV_ID) == frozenset(ALL_SCOPE)
    assert http_requests(simulator)["GET /v2.0/vehicles/{id}/permissions"] == 4


async def test_permissions_reflect_denials(client: SmartcarClient, simulator: Simulator) -> None:
    """A permission withheld on one vehicle is missing there only."""
    simulator.deny_permissions("ev", ["read_location"])
    assert "read_location" not in await client.async_get_permissions(EV_ID)
    assert "read_location" in await client.async_get_permissions(PHEV_ID)


# -- signals ----------------------------------------------------------------------------------


async def test_read_every_signal(client: SmartcarClient, simulator: Simulator) -> None:
    """Every signal of the PHEV (it has them all) in one batch matches the simulated truth."""
    result = await client.async_batch(PHEV_ID, sorted(SmartcarClient.signals))
    assert batch_errors(result) == {}
    readings = batch_readings(result)
    data_age = TEST_NOW - timedelta(seconds=780)

    battery = readings[Signal.BATTERY]
    assert isinstance(battery, Battery)
    assert battery.percent_remaining == pytest.approx(0.45)
    assert battery.range == pytest.approx(round(0.45 * 18 / 0.26, 1))

    charge = readings[Signal.CHARGE]
    assert charge == Charge(
        is_plugged_in=False, state=ChargeState.NOT_CHARGING, meta=charge.meta, issues=()
    )

    limit = readings[Signal.CHARGE_LIMIT]
    assert isinstance(limit, ChargeLimit)
    assert limit.limit == 1.0

    security = readings[Signal.SECURITY]
    assert isinstance(security, Security)
    assert security.is_locked is True
    assert {door.type for door in security.doors} == {
        "frontLeft",
        "frontRight",
        "backLeft",
        "backRight",
    }
    assert {door.status for door in security.doors} == {"LOCKED"}
    assert security.windows[0] == Opening(type="frontLeft", status="CLOSED")
    assert security.sunroof == (Opening(type="sunroof", status="CLOSED"),)
    assert security.storage == (Opening(type="rear", status="CLOSED"),)
    assert security.charging_port == (Opening(type="chargingPort", status="CLOSED"),)

    location = readings[Signal.LOCATION]
    assert isinstance(location, Location)
    assert (location.latitude, location.longitude) == (52.3702, 4.8952)

    odometer = readings[Signal.ODOMETER]
    assert isinstance(odometer, Odometer)
    assert odometer.distance == 41877.0

    fuel = readings[Signal.FUEL]
    assert isinstance(fuel, Fuel)
    assert fuel.percent_remaining == pytest.approx(0.7)
    assert fuel.amount_remaining == pytest.approx(38.5)
    assert fuel.range == pytest.approx(round(0.7 * 55 / 0.065, 1))

    oil = readings[Signal.ENGINE_OIL]
    assert isinstance(oil, EngineOil)
    assert oil.life_remaining == pytest.approx(0.82)

    diagnostics = readings[Signal.DIAGNOSTICS]
    assert isinstance(diagnostics, Diagnostics)
    assert diagnostics.active_codes is not None
    assert [code.code for code in diagnostics.active_codes] == ["P0456"]
    assert diagnostics.active_codes[0].timestamp is not None
    assert diagnostics.active_codes[0].timestamp == TEST_NOW - timedelta(
        days=5, minutes=47, seconds=20
    )

    for reading in readings.values():
        assert reading.issues == ()
        assert reading.meta.data_age == data_age
        assert reading.meta.fetched_at == TEST_NOW
        assert reading.meta.unit_system is UnitSystem.METRIC
        assert reading.meta.request_id == result.meta.request_id
    assert is_uuid(result.meta.request_id)
    assert http_requests(simulator)["POST /v2.0/vehicles/{id}/batch"] == 1
    assert billed(simulator, PHEV_ID) == {
        "GET /battery": 1,
        "GET /charge": 1,
        "GET /charge/limit": 1,
        "GET /security": 1,
        "GET /location": 1,
        "GET /odometer": 1,
        "GET /fuel": 1,
        "GET /engine/oil": 1,
        "GET /diagnostics/dtcs": 1,
    }


async def test_readings_follow_the_car(client: SmartcarClient, simulator: Simulator) -> None:
    """After driving and charging (virtual time), reads show the new report and data age."""
    ev = simulator.vehicle("ev")
    ev.drive_to(52.40, 4.95, speed_kmh=60)
    simulator.clock.advance(1800)  # within the access token lifetime (7200 s)
    location = await read(client, EV_ID, Signal.LOCATION, Location)
    assert (location.latitude, location.longitude) == pytest.approx((52.40, 4.95))
    odometer = await read(client, EV_ID, Signal.ODOMETER, Odometer)
    assert odometer.distance is not None
    assert odometer.distance > 18234.5
    assert location.meta.data_age is not None
    assert location.meta.data_age > TEST_NOW


# -- unit system --------------------------------------------------------------------------------


async def test_imperial_units(make_client: ClientFactory) -> None:
    """An imperial client gets miles and gallons and meta.unit_system IMPERIAL."""
    client = make_client(unit_system=UnitSystem.IMPERIAL)
    result = await client.async_batch(PETROL_ID, [Signal.ODOMETER, Signal.FUEL])
    odometer = batch_readings(result)[Signal.ODOMETER]
    assert isinstance(odometer, Odometer)
    assert odometer.distance == pytest.approx(round(96310.2 * KM_TO_MILES, 1))
    assert odometer.meta.unit_system is UnitSystem.IMPERIAL
    fuel = batch_readings(result)[Signal.FUEL]
    assert isinstance(fuel, Fuel)
    assert fuel.amount_remaining == pytest.approx(round(0.41 * 52 * 0.264172052358148, 1))
    assert fuel.meta.unit_system is UnitSystem.IMPERIAL


async def test_metric_units_by_default(client: SmartcarClient) -> None:
    """The default client asks for (and gets) kilometres."""
    assert client.unit_system is UnitSystem.METRIC
    odometer = await read(client, PETROL_ID, Signal.ODOMETER, Odometer)
    assert odometer.distance == 96310.2
    assert odometer.meta.unit_system is UnitSystem.METRIC


# -- commands -----------------------------------------------------------------------------------


def _assert_success(result: CommandResult) -> None:
    assert result.status == "success"
    assert result.message == "Successfully sent request to vehicle"
    assert is_uuid(result.meta.request_id)


async def test_start_and_stop_charging(client: SmartcarClient, simulator: Simulator) -> None:
    """STOP then START change what the car does and what the next read says."""
    ev = simulator.vehicle("ev")
    ev.plug_in()
    assert ev.state.charge_state == "CHARGING"
    _assert_success(await client.async_stop_charging(EV_ID))
    assert ev.state.charge_state == "NOT_CHARGING"
    assert (await read(client, EV_ID, Signal.CHARGE, Charge)).state is ChargeState.NOT_CHARGING
    _assert_success(await client.async_start_charging(EV_ID))
    assert ev.state.charge_state == "CHARGING"
    charge = await read(client, EV_ID, Signal.CHARGE, Charge)
    assert (charge.is_plugged_in, charge.state) == (True, ChargeState.CHARGING)
    assert billed(simulator, EV_ID)["POST /charge"] == 2


async def test_set_charge_limit(client: SmartcarClient, simulator: Simulator) -> None:
    """The limit is sent as a fraction and the car keeps it."""
    _assert_success(await client.async_set_charge_limit(EV_ID, 0.9))
    assert simulator.vehicle("ev").state.charge_limit == 0.9
    assert (await read(client, EV_ID, Signal.CHARGE_LIMIT, ChargeLimit)).limit == 0.9
    _assert_success(await client.async_set_charge_limit(EV_ID, 1))
    assert simulator.vehicle("ev").state.charge_limit == 1.0
    assert billed(simulator, EV_ID)["POST /charge/limit"] == 2


async def test_lock_and_unlock(client: SmartcarClient, simulator: Simulator) -> None:
    """UNLOCK then LOCK change the lock status."""

    def locked() -> bool:
        return simulator.vehicle("ev").state.locked

    assert locked()
    _assert_success(await client.async_unlock(EV_ID))
    assert not locked()
    assert (await read(client, EV_ID, Signal.SECURITY, Security)).is_locked is False
    _assert_success(await client.async_lock(EV_ID))
    assert locked()
    assert billed(simulator, EV_ID)["POST /security"] == 2


async def test_set_destination(client: SmartcarClient, simulator: Simulator) -> None:
    """The destination reaches the car (Smartcar's API takes coordinates, no address)."""
    _assert_success(await client.async_set_destination(EV_ID, 52.5, 13.4))
    assert simulator.vehicle("ev").state.destination == {
        "latitude": 52.5,
        "longitude": 13.4,
        "address": None,
    }
    _assert_success(await client.async_set_destination(PHEV_ID, -90, 180))
    assert simulator.vehicle("phev").state.destination == {
        "latitude": -90.0,
        "longitude": 180.0,
        "address": None,
    }
    assert billed(simulator, EV_ID) == {"POST /navigation/destination": 1}


# -- management API -----------------------------------------------------------------------------


async def test_list_and_get_connections(client: SmartcarClient) -> None:
    """Three active connections of the user; each one can be fetched by id."""
    connections = await client.async_list_connections()
    assert [c.vehicle_id for c in connections] == VEHICLE_IDS
    for connection in connections:
        assert connection.user_id == USER_ID
        assert connection.status is ConnectionStatus.ACTIVE
        assert connection.created == TEST_NOW - timedelta(days=30)
        assert await client.async_get_connection(connection.id) == connection


async def test_remove_connection(client: SmartcarClient) -> None:
    """A removed connection is revoked and its vehicle leaves the user's list."""
    connections = await client.async_list_connections()
    ev = next(c for c in connections if c.vehicle_id == EV_ID)
    await client.async_remove_connection(ev.id)
    assert (await client.async_get_connection(ev.id)).status is ConnectionStatus.REVOKED
    assert await client.async_get_vehicle_ids() == [PHEV_ID, PETROL_ID]
    with pytest.raises(SmartcarNotFoundError) as err:
        await client.async_get_attributes(EV_ID)
    assert err.value.code == "VEHICLE_NOT_FOUND"


async def test_get_unknown_connection(client: SmartcarClient) -> None:
    """An unknown connection id is a 404."""
    with pytest.raises(SmartcarNotFoundError) as err:
        await client.async_get_connection("no-such-connection")
    assert err.value.status == 404


async def test_remove_user(client: SmartcarClient, simulator: Simulator) -> None:
    """Removing the user revokes every connection and the user's tokens."""
    await client.async_remove_user(USER_ID)
    state = simulator.state()
    assert {c["status"] for c in state["connections"]} == {"REVOKED"}
    with pytest.raises(SmartcarAuthenticationError):
        await client.async_get_user()
    assert http_requests(simulator)["DELETE /v3/users/{id}"] == 1
