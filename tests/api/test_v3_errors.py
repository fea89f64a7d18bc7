"""API v3 errors: HTTP errors by class, signals in ERROR, odd bodies, no signals, v2 retired."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.smartcar.api import (
    Battery,
    Fuel,
    Odometer,
    Resolution,
    Signal,
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarClient,
    SmartcarCompatibilityError,
    SmartcarNotFoundError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarSignalsUnavailableError,
    SmartcarUpstreamError,
    SmartcarV3Client,
    SmartcarVehicleStateError,
    SmartcarVersionRetiredError,
)
from smartcar_simulator import Simulator, v3 as sim_v3
from tests.const import EV_ID, PETROL_ID

from .conftest import (
    ClientFactory,
    StubServer,
    V3ClientFactory,
    billed,
    is_uuid,
    v3_signal,
    v3_signals,
)

SIGNALS = f"/v3/vehicles/{EV_ID}/signals"

# -- HTTP errors of vehicle calls --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "type_", "code", "cls"),
    [
        (403, "PERMISSION", None, SmartcarPermissionError),
        (404, "RESOURCE_NOT_FOUND", "VEHICLE_NOT_FOUND", SmartcarNotFoundError),
        (409, "VEHICLE_STATE", "ASLEEP", SmartcarVehicleStateError),
        (430, "BILLING", "VEHICLE_LIMIT", SmartcarBillingError),
        (500, "SERVER", "INTERNAL", SmartcarServerError),
        (501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE", SmartcarCompatibilityError),
        (502, "UPSTREAM", "UNKNOWN_ISSUE", SmartcarUpstreamError),
    ],
)
async def test_signals_errors(
    simulator: Simulator,
    v3_client: SmartcarV3Client,
    status: int,
    type_: str,
    code: str | None,
    cls: type[SmartcarApiError],
) -> None:
    """Each injected error is its class, with Smartcar's type, code, description, request id."""
    simulator.inject_fault(
        path="/signals",
        error={"type": type_, "code": code, "status": status, "description": f"Failed {status}."},
    )
    with pytest.raises(cls) as caught:
        await v3_client.async_batch(EV_ID, [Signal.BATTERY])
    err = caught.value
    assert type(err) is cls
    assert (err.status, err.type, err.code, err.description) == (
        status,
        type_,
        code,
        f"Failed {status}.",
    )
    assert is_uuid(err.request_id)


async def test_rate_limit_with_retry_after(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """429: retry_after from the header."""
    simulator.inject_fault(
        path="/signals",
        error={"type": "RATE_LIMIT", "code": "VEHICLE", "status": 429, "retry_after": 42},
    )
    with pytest.raises(SmartcarRateLimitError) as caught:
        await v3_client.async_batch(EV_ID, [])
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (
        429,
        "VEHICLE",
        42.0,
    )


async def test_rate_limit_of_the_simulator(
    make_v3_client: V3ClientFactory, simulator: Simulator
) -> None:
    """The real limit (shared with v2): the 121st read in the window is refused."""
    client = make_v3_client()
    for _ in range(120):
        await client.async_batch(PETROL_ID, [])
    with pytest.raises(SmartcarRateLimitError) as caught:
        await client.async_batch(PETROL_ID, [])
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    assert billed(simulator, PETROL_ID) == {"GET /v3/signals": 120}


async def test_errors_of_commands_and_vehicle(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """Faults on a command and on `GET /vehicles/{id}` map the same way."""
    simulator.inject_fault(
        path="/commands/security/lock", error={"type": "UPSTREAM", "code": "OEM", "status": 502}
    )
    with pytest.raises(SmartcarUpstreamError):
        await v3_client.async_lock(EV_ID)
    simulator.inject_fault(path="/vehicle", error={"type": "SERVER", "status": 500})
    with pytest.raises(SmartcarServerError):
        await v3_client.async_get_attributes(EV_ID)


async def test_connections_error(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """A failing connections list raises (no empty list instead)."""
    simulator.inject_fault(path="/connections", error={"type": "SERVER", "status": 500})
    with pytest.raises(SmartcarServerError):
        await v3_client.async_get_vehicle_ids()


async def test_spec_error_form(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """The v3 form with `detail` and a deprecated `description`: the detail is the message."""
    stub.add(
        "GET",
        SIGNALS,
        {
            "type": "PERMISSION",
            "code": "UNKNOWN",
            "title": "Unknown",
            "detail": "Insufficient permissions.",
            "description": "Deprecated. Use detail",
            "resolution": {"type": "REAUTHENTICATE"},
            "status": 403,
        },
        status=403,
        headers={"sc-request-id": "req-1"},
    )
    with pytest.raises(SmartcarPermissionError) as caught:
        await v3_stub_client.async_batch(EV_ID, [])
    assert caught.value.description == "Insufficient permissions."
    assert caught.value.resolution is Resolution.REAUTHENTICATE
    assert caught.value.request_id == "req-1"


# -- signals that are not there ----------------------------------------------------------------


async def test_not_subscribed_car_is_signals_unavailable(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """A connected car without a webhook subscription: 404 -> SmartcarSignalsUnavailableError."""
    sim_v3.configure(simulator, auto_subscribe=False)
    with pytest.raises(SmartcarSignalsUnavailableError) as caught:
        await v3_client.async_batch(EV_ID, [Signal.BATTERY])
    assert caught.value.status == 404
    assert caught.value.code == "SIGNALS_NOT_FOUND"
    assert isinstance(caught.value.__cause__, SmartcarNotFoundError)
    sim_v3.subscribe(simulator, "ev")
    result = await v3_client.async_batch(EV_ID, [Signal.BATTERY])
    battery = result.results[Signal.BATTERY].reading
    assert isinstance(battery, Battery)
    assert battery.percent_remaining == 0.62


async def test_not_connected_car_is_not_found(
    simulator: Simulator, make_v3_client: V3ClientFactory
) -> None:
    """A car the user has not connected: SmartcarNotFoundError, not signals unavailable."""
    sim_v3.add_user(simulator, "other-user", ["petrol"])
    sim_v3.configure(simulator, auto_subscribe=False)
    other = make_v3_client(user_id="other-user")
    with pytest.raises(SmartcarNotFoundError) as caught:
        await other.async_batch(EV_ID, [])
    assert not isinstance(caught.value, SmartcarSignalsUnavailableError)
    assert caught.value.code == "VEHICLE_NOT_FOUND"


async def test_404_other_code_for_a_car_gone(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """A 404 whose code does not say why, for a car not in the user's connections: not found."""
    stub.add(
        "GET", SIGNALS, {"type": "RESOURCE_NOT_FOUND", "code": "SIGNALS_NOT_FOUND"}, status=404
    )
    stub.add("GET", "/v3/connections", {"data": [], "links": {"next": None}})
    with pytest.raises(SmartcarNotFoundError) as caught:
        await v3_stub_client.async_batch(EV_ID, [])
    assert not isinstance(caught.value, SmartcarSignalsUnavailableError)
    assert caught.value.code == "SIGNALS_NOT_FOUND"


async def test_empty_signal_list(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """`data: []`: SmartcarSignalsUnavailableError."""
    stub.add("GET", SIGNALS, {"data": [], "meta": {"totalCount": 0}})
    with pytest.raises(SmartcarSignalsUnavailableError) as caught:
        await v3_stub_client.async_batch(EV_ID, [Signal.BATTERY])
    assert caught.value.code == "NO_SIGNALS"


@pytest.mark.parametrize("body", [{"signals": []}, {"data": {"id": "x"}}, ["x"]])
async def test_no_signal_list(
    stub: StubServer, v3_stub_client: SmartcarV3Client, body: Any
) -> None:
    """An answer without a `data` list: SmartcarResponseError."""
    stub.add("GET", SIGNALS, body)
    with pytest.raises(SmartcarResponseError):
        await v3_stub_client.async_batch(EV_ID, [])


# -- signals in ERROR and malformed bodies (stub) ---------------------------------------------

NOT_CHARGING = {"type": "VEHICLE_STATE", "code": "NOT_CHARGING", "detail": "Not charging."}


@pytest.mark.parametrize(
    ("error", "cls", "status"),
    [
        ({"type": "PERMISSION", "code": "UNKNOWN", "detail": "No permission."}, SmartcarPermissionError, 403),
        ({"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE", "detail": "Cannot."}, SmartcarCompatibilityError, 501),
        ({"type": "UPSTREAM", "code": "UNKNOWN_ISSUE", "detail": "OEM down."}, SmartcarUpstreamError, 502),
        ({"type": "VEHICLE_STATE", "code": "ASLEEP", "detail": "Asleep."}, SmartcarVehicleStateError, 409),
        ({"type": "AUTHENTICATION", "code": None, "detail": "Who?"}, SmartcarAuthenticationError, 401),
        ({"type": "SOMETHING_NEW", "code": "X", "detail": "New."}, SmartcarServerError, 500),
    ],
    ids=["permission", "compatibility", "upstream", "state", "auth", "unknown"],
)  # fmt: skip
async def test_group_error_when_every_signal_failed(
    stub: StubServer,
    v3_stub_client: SmartcarV3Client,
    error: dict[str, Any],
    cls: type[SmartcarApiError],
    status: int,
) -> None:
    """Every signal of a group in ERROR: the group carries that error; the others read on."""
    stub.add(
        "GET",
        SIGNALS,
        v3_signals(
            v3_signal("tractionbattery-stateofcharge", error=error),
            v3_signal("tractionbattery-range", error=error),
            v3_signal("odometer-traveleddistance", {"value": 1200, "unit": "km"}),
        ),
        headers={"sc-request-id": "req-7"},
    )
    result = await v3_stub_client.async_batch(EV_ID, [Signal.BATTERY, Signal.ODOMETER])
    err = result.results[Signal.BATTERY].error
    assert type(err) is cls
    assert isinstance(err, SmartcarApiError)
    assert (err.status, err.type, err.code, err.description, err.request_id) == (
        status,
        error["type"],
        error["code"],
        error["detail"],
        "req-7",
    )
    assert result.results[Signal.BATTERY].reading is None
    odometer = result.results[Signal.ODOMETER].reading
    assert isinstance(odometer, Odometer)
    assert odometer.distance == 1200.0


async def test_one_failed_signal_is_a_missing_field(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """One signal of a group in ERROR: that field is None, the group is read."""
    stub.add(
        "GET",
        SIGNALS,
        v3_signals(
            v3_signal("tractionbattery-stateofcharge", {"value": 55, "unit": "percent"}),
            v3_signal("tractionbattery-range", error={"type": "UPSTREAM", "code": "X"}),
        ),
    )
    result = await v3_stub_client.async_batch(EV_ID, [Signal.BATTERY])
    battery = result.results[Signal.BATTERY].reading
    assert isinstance(battery, Battery)
    assert (battery.percent_remaining, battery.range, battery.issues) == (0.55, None, ())


async def test_not_charging_everywhere_is_no_error(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """Every charge detail NOT_CHARGING: a reading of Nones, no error."""
    stub.add(
        "GET",
        SIGNALS,
        v3_signals(
            v3_signal("charge-chargerate", error=NOT_CHARGING),
            v3_signal("charge-timetocomplete", error=NOT_CHARGING),
            v3_signal("charge-wattage", error=NOT_CHARGING),
        ),
    )
    result = await v3_stub_client.async_batch(EV_ID, [Signal.CHARGE_DETAILS])
    item = result.results[Signal.CHARGE_DETAILS]
    assert item.error is None
    assert item.reading is not None
    assert (
        item.reading.rate,  # type: ignore[union-attr]
        item.reading.time_to_complete,  # type: ignore[union-attr]
        item.reading.energy_added,  # type: ignore[union-attr]
        item.reading.power,  # type: ignore[union-attr]
    ) == (None, None, None, None)


@pytest.mark.parametrize(
    ("signals", "group", "field", "good"),
    [
        (
            [
                v3_signal("tractionbattery-stateofcharge", {"value": "57%", "unit": "percent"}),
                v3_signal("tractionbattery-range", {"value": 250, "unit": "km"}),
            ],
            Signal.BATTERY,
            "tractionbattery-stateofcharge",
            {"range": 250.0, "percent_remaining": None},
        ),
        (
            [
                v3_signal("tractionbattery-stateofcharge", {"value": 140, "unit": "percent"}),
                v3_signal("tractionbattery-range", {"value": 250, "unit": "furlongs"}),
            ],
            Signal.BATTERY,
            None,
            {"range": None, "percent_remaining": None},
        ),
        (
            [
                v3_signal("internalcombustionengine-fuellevel", {"value": 41, "unit": "percent"}),
                v3_signal("internalcombustionengine-amountremaining", {"value": True}),
                v3_signal("internalcombustionengine-range", {"value": -5, "unit": "km"}),
            ],
            Signal.FUEL,
            None,
            {"percent_remaining": 0.41, "amount_remaining": None, "range": None},
        ),
        (
            [
                v3_signal("closure-islocked", {"value": "yes"}),
                v3_signal("closure-doors", {"values": "all shut"}),
                v3_signal("closure-reartrunk", {"isOpen": False, "isLocked": True}),
            ],
            Signal.SECURITY,
            None,
            {"is_locked": None, "doors": ()},
        ),
        (
            [v3_signal("location-preciselocation", {"latitude": 95.0, "longitude": 4.0})],
            Signal.LOCATION,
            "location-preciselocation",
            {"latitude": None, "longitude": None},
        ),
        (
            [v3_signal("wheel-tires", {"values": [{"row": 0, "column": 0, "tirePressure": "x"}, {"row": 0, "column": 1, "tirePressure": 36, }], "unit": "psi"})],
            Signal.TIRES,
            "wheel-tires",
            {"front_left": None, "front_right": pytest.approx(36 * 6.894757)},
        ),
        (
            [v3_signal("climate-internaltemperature", {"value": 68, "unit": "fahrenheit"}), v3_signal("climate-externaltemperature", {"value": 20, "unit": "kelvin"})],
            Signal.CLIMATE,
            "climate-externaltemperature",
            {"cabin_temperature": pytest.approx(20.0), "outside_temperature": None},
        ),
        (
            [v3_signal("connectivitystatus-isonline", {"value": 1}), v3_signal("connectivitysoftware-currentfirmwareversion", {"value": "1.2"})],
            Signal.CONNECTIVITY,
            "connectivitystatus-isonline",
            {"is_online": None, "firmware_version": "1.2"},
        ),
    ],
    ids=["soc", "soc-range", "fuel", "security", "location", "tires", "climate", "connectivity"],
)  # fmt: skip
async def test_malformed_fields(
    stub: StubServer,
    v3_stub_client: SmartcarV3Client,
    signals: list[dict[str, Any]],
    group: Signal,
    field: str | None,
    good: dict[str, Any],
) -> None:
    """A malformed field is None and named in `issues`; its good neighbours are kept."""
    stub.add("GET", SIGNALS, v3_signals(*signals))
    result = await v3_stub_client.async_batch(EV_ID, [group])
    reading = result.results[group].reading
    assert reading is not None, result.results[group]
    for name, value in good.items():
        assert getattr(reading, name) == value, name
    bad = {s["id"] for s in signals} if field is None else {field}
    if group is Signal.SECURITY:
        bad = {"closure-islocked", "closure-doors"}
    if group is Signal.FUEL:
        bad = {"internalcombustionengine-amountremaining", "internalcombustionengine-range"}
    assert set(reading.issues) == bad


async def test_malformed_items_left_out(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """Items that are no signal are skipped; the others are read."""
    stub.add(
        "GET",
        SIGNALS,
        v3_signals(
            "not a signal",  # type: ignore[arg-type]
            {"id": 12, "attributes": {"code": None}},
            v3_signal("internalcombustionengine-fuellevel", {"value": 25, "unit": "percent"}),
        ),
    )
    result = await v3_stub_client.async_batch(EV_ID, [Signal.FUEL])
    fuel = result.results[Signal.FUEL].reading
    assert isinstance(fuel, Fuel)
    assert fuel.percent_remaining == 0.25


# -- v2 retired ---------------------------------------------------------------------------------


async def test_v2_retired_410(simulator: Simulator, make_client: ClientFactory) -> None:
    """A retired v2.0 answers 410 everywhere: SmartcarVersionRetiredError."""
    client: SmartcarClient = make_client()
    simulator.v2_retired = True
    with pytest.raises(SmartcarVersionRetiredError) as caught:
        await client.async_get_vehicle_ids()
    assert caught.value.status == 410
    assert caught.value.code == "API_VERSION_RETIRED"
    with pytest.raises(SmartcarVersionRetiredError):
        await client.async_batch(EV_ID, [Signal.BATTERY])


async def test_v2_retired_does_not_touch_v3(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """v3 keeps working when v2.0 is retired."""
    simulator.v2_retired = True
    result = await v3_client.async_batch(EV_ID, [Signal.ODOMETER])
    odometer = result.results[Signal.ODOMETER].reading
    assert isinstance(odometer, Odometer)
    assert odometer.distance == 18234.5


async def test_v2_version_code_400(simulator: Simulator, make_client: ClientFactory) -> None:
    """A 400 whose code names the version: SmartcarVersionRetiredError too."""
    client: SmartcarClient = make_client()
    simulator.inject_fault(
        path="/vehicles",
        error={"type": "VALIDATION", "code": "API_VERSION_NOT_SUPPORTED", "status": 400},
    )
    with pytest.raises(SmartcarVersionRetiredError) as caught:
        await client.async_get_vehicle_ids()
    assert (caught.value.status, caught.value.code) == (400, "API_VERSION_NOT_SUPPORTED")


async def test_v2_version_code_over_stub(stub: StubServer, stub_client: SmartcarClient) -> None:
    """The same from a canned body; a 400 without VERSION stays a validation error."""
    stub.add("GET", "/v2.0/vehicles", {"type": "VALIDATION", "code": "VERSION_RETIRED"}, status=400)
    with pytest.raises(SmartcarVersionRetiredError):
        await stub_client.async_get_vehicle_ids()
    stub.add("GET", "/v2.0/user", {"type": "VALIDATION", "code": "PARAMETER"}, status=400)
    with pytest.raises(SmartcarApiError) as caught:
        await stub_client.async_get_user()
    assert not isinstance(caught.value, SmartcarVersionRetiredError)
