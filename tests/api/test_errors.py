"""Errors over real HTTP: injected faults, real failures, timeouts, broken answers, secrets."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeLimit,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    Odometer,
    Resolution,
    Security,
    Signal,
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarClient,
    SmartcarCompatibilityError,
    SmartcarConnectedServicesAccountError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarNotFoundError,
    SmartcarOAuth,
    SmartcarOAuthError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarTimeoutError,
    SmartcarUpstreamError,
    SmartcarValidationError,
    SmartcarVehicleStateError,
    StaticAuth,
    _v2,
)
from smartcar_simulator import Simulator, VirtualClock
from smartcar_simulator.errors import ERROR_TYPES
from tests.conftest import TEST_NOW
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, PETROL_ID, PHEV_ID, USER_ID

from .conftest import ClientFactory, billed, is_uuid, read

# type, HTTP status, exception class, resolution
ERROR_TABLE: list[tuple[str, int, type[SmartcarApiError], Resolution | None]] = [
    ("AUTHENTICATION", 401, SmartcarAuthenticationError, Resolution.REAUTHENTICATE),
    ("PERMISSION", 403, SmartcarPermissionError, Resolution.REAUTHENTICATE),
    ("RESOURCE_NOT_FOUND", 404, SmartcarNotFoundError, None),
    ("VEHICLE_STATE", 409, SmartcarVehicleStateError, Resolution.RETRY_LATER),
    ("RATE_LIMIT", 429, SmartcarRateLimitError, Resolution.RETRY_LATER),
    ("BILLING", 430, SmartcarBillingError, Resolution.CONTACT_SUPPORT),
    ("SERVER", 500, SmartcarServerError, Resolution.RETRY_LATER),
    ("COMPATIBILITY", 501, SmartcarCompatibilityError, None),
    ("UPSTREAM", 502, SmartcarUpstreamError, Resolution.RETRY_LATER),
    ("VALIDATION", 400, SmartcarValidationError, None),
    (
        "CONNECTED_SERVICES_ACCOUNT",
        400,
        SmartcarConnectedServicesAccountError,
        Resolution.CONTACT_SUPPORT,
    ),
]


@pytest.mark.parametrize("path", ["/battery", "/batch"], ids=["item", "request"])
@pytest.mark.parametrize(("type_", "status", "cls", "resolution"), ERROR_TABLE)
async def test_injected_error_maps_to_its_class(
    client: SmartcarClient,
    simulator: Simulator,
    path: str,
    type_: str,
    status: int,
    cls: type[SmartcarApiError],
    resolution: Resolution | None,
) -> None:
    """Every error type, on a batch item or the whole request: the right class and every field
    of Smartcar's error object."""
    error: dict[str, Any] = {
        "type": type_,
        "code": "SIMULATED_CODE",
        "status": status,
        "description": f"Simulated {type_} failure.",
    }
    if type_ == "RATE_LIMIT":
        error["retry_after"] = 30
    simulator.inject_fault(vehicle_id="ev", path=path, error=error, count=1)
    with pytest.raises(SmartcarApiError) as caught:
        await read(client, EV_ID, Signal.BATTERY, Battery)
    err = caught.value
    assert type(err) is cls
    assert err.status == status
    assert err.type == type_
    assert err.code == "SIMULATED_CODE"
    assert err.description == f"Simulated {type_} failure."
    assert is_uuid(err.request_id)
    assert err.resolution is resolution
    assert err.suggested_user_message == ERROR_TYPES[type_][2]
    assert err.doc_url == (
        "https://smartcar.com/docs/errors/api-errors/"
        f"{type_.lower().replace('_', '-')}-errors#simulated-code"
    )
    assert err.retry_after == (30.0 if type_ == "RATE_LIMIT" else None)
    assert str(err) == f"Smartcar {type_}:SIMULATED_CODE ({status}): Simulated {type_} failure."
    # count=1: the next request succeeds.
    assert isinstance(await read(client, EV_ID, Signal.BATTERY, Battery), Battery)


@pytest.mark.parametrize(("type_", "status", "cls", "resolution"), ERROR_TABLE)
async def test_injected_error_on_a_command(
    client: SmartcarClient,
    simulator: Simulator,
    type_: str,
    status: int,
    cls: type[SmartcarApiError],
    resolution: Resolution | None,
) -> None:
    """Commands map errors the same way (and the car is not changed)."""
    simulator.inject_fault(path="/security", method="POST", error={"type": type_})
    with pytest.raises(cls) as caught:
        await client.async_unlock(EV_ID)
    assert caught.value.status == status
    assert caught.value.resolution is resolution
    assert caught.value.code is None
    assert caught.value.description
    assert simulator.vehicle("ev").state.locked is True


async def test_real_rate_limit(make_client: ClientFactory, serve, socket_enabled: None) -> None:
    """The simulator's own per-vehicle limit: 429 with retry-after parsed to seconds."""
    sim = Simulator(
        clock=VirtualClock(start=TEST_NOW, frozen=True), rate_limit=2, rate_limit_window=600
    )
    client = make_client(token=sim.issue_tokens().access_token, base_url=await serve(sim))
    await read(client, EV_ID, Signal.ODOMETER, Odometer)
    sim.clock.advance(100)
    await read(client, EV_ID, Signal.ODOMETER, Odometer)
    with pytest.raises(SmartcarRateLimitError) as caught:
        await read(client, EV_ID, Signal.ODOMETER, Odometer)
    assert caught.value.retry_after == 500.0
    assert caught.value.resolution is Resolution.RETRY_LATER
    # Another vehicle has its own budget.
    assert (await read(client, PHEV_ID, Signal.ODOMETER, Odometer)).distance == 41877.0


async def test_unknown_vehicle(client: SmartcarClient) -> None:
    """A vehicle that is not the user's: RESOURCE_NOT_FOUND / VEHICLE_NOT_FOUND."""
    with pytest.raises(SmartcarNotFoundError) as caught:
        await read(client, "00000000-0000-0000-0000-000000000000", Signal.BATTERY, Battery)
    assert caught.value.code == "VEHICLE_NOT_FOUND"
    assert caught.value.status == 404


async def test_not_capable(client: SmartcarClient, simulator: Simulator) -> None:
    """The petrol car has no battery and no navigation: 501 VEHICLE_NOT_CAPABLE."""
    with pytest.raises(SmartcarCompatibilityError) as caught:
        await read(client, PETROL_ID, Signal.BATTERY, Battery)
    assert caught.value.code == "VEHICLE_NOT_CAPABLE"
    with pytest.raises(SmartcarCompatibilityError):
        await client.async_set_destination(PETROL_ID, 1.0, 2.0)
    assert billed(simulator, PETROL_ID) == {
        "GET /battery": 1,
        "POST /navigation/destination": 1,
    }


async def test_permission_missing(make_client: ClientFactory) -> None:
    """A token without read_battery: 403 PERMISSION, resolution REAUTHENTICATE."""
    client = make_client(scope=["read_odometer"])
    with pytest.raises(SmartcarPermissionError) as caught:
        await read(client, EV_ID, Signal.BATTERY, Battery)
    assert caught.value.resolution is Resolution.REAUTHENTICATE
    with pytest.raises(SmartcarPermissionError):
        await client.async_lock(EV_ID)


async def test_start_charging_unplugged(client: SmartcarClient) -> None:
    """START while unplugged: 409 VEHICLE_STATE / CHARGE_FAULT, retry later."""
    with pytest.raises(SmartcarVehicleStateError) as caught:
        await client.async_start_charging(EV_ID)
    assert caught.value.code == "CHARGE_FAULT"
    assert caught.value.resolution is Resolution.RETRY_LATER


@pytest.mark.parametrize("token", ["not-a-token", ""])
async def test_invalid_token(make_client: ClientFactory, token: str) -> None:
    """An unknown or empty token: 401 AUTHENTICATION."""
    client = make_client(token=token)
    with pytest.raises(SmartcarAuthenticationError) as caught:
        await client.async_get_user()
    assert caught.value.resolution is Resolution.REAUTHENTICATE


async def test_expired_and_revoked_tokens(client: SmartcarClient, simulator: Simulator) -> None:
    """The access token expires after 7200 s of virtual time; a revoked one fails at once."""
    simulator.clock.advance(7199)
    assert (await client.async_get_user()).id == USER_ID
    simulator.clock.advance(1)
    with pytest.raises(SmartcarAuthenticationError):
        await client.async_get_user()


async def test_revoked_tokens(client: SmartcarClient, simulator: Simulator) -> None:
    """`revoke_tokens` invalidates the client's token."""
    simulator.revoke_tokens()
    with pytest.raises(SmartcarAuthenticationError):
        await client.async_get_vehicle_ids()


# -- transport failures -------------------------------------------------------------------------


async def test_timeout(make_client: ClientFactory, simulator: Simulator) -> None:
    """A slow answer beyond the client's timeout is a SmartcarTimeoutError."""
    client = make_client(timeout=0.2)
    # Held far beyond the timeout, so only the client's timeout can end the wait.
    simulator.inject_fault(path="/battery", kind="slow", delay=600, count=1)
    with pytest.raises(SmartcarTimeoutError) as caught:
        await read(client, EV_ID, Signal.BATTERY, Battery)
    assert isinstance(caught.value, SmartcarConnectionError)
    assert str(caught.value) == "/batch: Smartcar did not answer in 0.2 s"
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_timeout_names_the_attributes_request(
    make_client: ClientFactory, simulator: Simulator
) -> None:
    """The attributes request has a name in messages too (no vehicle id, no URL)."""
    client = make_client(timeout=0.2)
    simulator.inject_fault(path="/", kind="timeout", delay=600, count=1)
    with pytest.raises(SmartcarTimeoutError) as caught:
        await client.async_get_attributes(EV_ID)
    assert str(caught.value) == "/vehicles/{id}: Smartcar did not answer in 0.2 s"


async def test_slow_but_in_time(make_client: ClientFactory, simulator: Simulator) -> None:
    """A slow answer within the timeout is fine."""
    client = make_client(timeout=60)  # generous: the answer comes after 0.1 s
    simulator.inject_fault(path="/odometer", kind="slow", delay=0.1, count=1)
    assert (await read(client, EV_ID, Signal.ODOMETER, Odometer)).distance == 18234.5


async def test_connection_refused(session: aiohttp.ClientSession, closed_port: int) -> None:
    """Nobody listening: SmartcarConnectionError (not a timeout), no URL or token inside."""
    client = SmartcarClient(
        session,
        StaticAuth("secret-access-token"),
        api_url=f"http://127.0.0.1:{closed_port}/v2.0",
        timeout=5,
    )
    with pytest.raises(SmartcarConnectionError) as caught:
        await client.async_get_user()
    assert not isinstance(caught.value, SmartcarTimeoutError)
    assert str(caught.value) == "/user: cannot reach Smartcar (ClientConnectorError)"
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_connection_refused_token_endpoint(
    session: aiohttp.ClientSession, closed_port: int
) -> None:
    """The token endpoint maps transport failures the same way."""
    oauth = SmartcarOAuth(
        session,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_url=f"http://127.0.0.1:{closed_port}/oauth/token",
    )
    with pytest.raises(SmartcarConnectionError) as caught:
        await oauth.async_refresh("some-refresh-token")
    assert "some-refresh-token" not in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.async_get_attributes(EV_ID),
        lambda c: c.async_get_user(),
        lambda c: c.async_lock(EV_ID),
        lambda c: c.async_batch(EV_ID, [Signal.BATTERY]),
    ],
    ids=["attributes", "user", "command", "batch"],
)
async def test_non_json_answer(client: SmartcarClient, simulator: Simulator, call: Any) -> None:
    """A captive portal page (200 text/html) is a SmartcarResponseError."""
    simulator.inject_fault(kind="non_json")
    with pytest.raises(SmartcarResponseError, match=r"answer is not JSON \(HTTP 200\)"):
        await call(client)


async def test_empty_answer(client: SmartcarClient, simulator: Simulator) -> None:
    """An empty 200: no body to read for attributes; a command without body still succeeded."""
    simulator.inject_fault(path="/", kind="empty")
    with pytest.raises(
        SmartcarResponseError, match=r"^/vehicles/\{id\}: body is not a JSON object"
    ):
        await client.async_get_attributes(EV_ID)
    simulator.inject_fault(path="/security", method="POST", kind="empty")
    result = await client.async_lock(EV_ID)
    assert (result.status, result.message) == (None, None)
    assert is_uuid(result.meta.request_id)


# -- malformed bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        (Signal.BATTERY, Battery(issues=("percentRemaining",))),
        (Signal.CHARGE, Charge(issues=("isPluggedIn",))),
        (Signal.CHARGE_LIMIT, ChargeLimit(issues=("limit",))),
        (Signal.SECURITY, Security(issues=("doors",))),
        (Signal.LOCATION, Location(issues=("longitude",))),
        (Signal.ODOMETER, Odometer(issues=("distance",))),
        (Signal.FUEL, Fuel(issues=("amountRemaining", "range"))),
        (Signal.ENGINE_OIL, EngineOil(issues=("lifeRemaining",))),
        (Signal.DIAGNOSTICS, Diagnostics(issues=())),
    ],
)
async def test_malformed_signal(
    client: SmartcarClient, simulator: Simulator, signal: Signal, expected: Any
) -> None:
    """Wrong types and nulls become None; the malformed fields are named in `issues`."""
    simulator.inject_fault(path=_v2.PATHS[signal], kind="malformed")
    reading = await read(client, PHEV_ID, signal, type(expected))
    assert reading == type(expected)(meta=reading.meta, issues=expected.issues)
    assert is_uuid(reading.meta.request_id)


@pytest.mark.parametrize(
    ("path", "call", "message"),
    [
        ("/user", lambda c: c.async_get_user(), "/user: no user id"),
        ("/vehicles", lambda c: c.async_get_vehicle_ids(), "/vehicles: no vehicle list"),
        ("/", lambda c: c.async_get_attributes(EV_ID), "/vehicles/{id}: no vehicle id"),
        (
            "/permissions",
            lambda c: c.async_get_permissions(EV_ID),
            "/permissions: no permission list",
        ),
        (
            "/batch",
            lambda c: c.async_batch(EV_ID, [Signal.BATTERY]),
            "/batch: no responses list",
        ),
        (
            "/connections",
            lambda c: c.async_list_connections(),
            "/connections: no connection list",
        ),
    ],
)
async def test_malformed_structure(
    client: SmartcarClient, simulator: Simulator, path: str, call: Any, message: str
) -> None:
    """Without the one field that gives an answer meaning, it is a SmartcarResponseError."""
    simulator.inject_fault(path=path, kind="malformed")
    with pytest.raises(SmartcarResponseError) as caught:
        await call(client)
    assert str(caught.value) == message


async def test_malformed_connection(client: SmartcarClient, simulator: Simulator) -> None:
    """A connection object without an id is a SmartcarResponseError."""
    connection = (await client.async_list_connections())[0]
    simulator.inject_fault(path="/connections", kind="malformed")
    with pytest.raises(SmartcarResponseError, match="no connection id"):
        await client.async_get_connection(connection.id)


async def test_malformed_command(client: SmartcarClient, simulator: Simulator) -> None:
    """A command answer with wrong types keeps the meta and drops the fields."""
    simulator.inject_fault(path="/security", method="POST", kind="malformed")
    result = await client.async_lock(EV_ID)
    assert (result.status, result.message) == (None, None)


# -- no secret in any message ------------------------------------------------------------------


async def test_no_secret_in_error_messages(
    make_client: ClientFactory, simulator: Simulator, oauth: SmartcarOAuth, sim_url: str
) -> None:
    """Tokens and the client secret never appear in str() or repr() of an error."""
    tokens = simulator.issue_tokens()
    secrets = [tokens.access_token, tokens.refresh_token, CLIENT_SECRET]
    client = make_client(token=tokens.access_token, timeout=0.2)
    caught: list[SmartcarError] = []

    async def collect(awaitable: Any) -> None:
        try:
            await awaitable
        except SmartcarError as err:
            caught.append(err)
        else:
            pytest.fail("no error raised")

    simulator.inject_fault(path="/battery", error={"type": "SERVER"}, count=1)
    await collect(read(client, EV_ID, Signal.BATTERY, Battery))
    simulator.inject_fault(path="/odometer", kind="slow", delay=600, count=1)
    await collect(read(client, EV_ID, Signal.ODOMETER, Odometer))
    simulator.inject_fault(path="/location", kind="non_json", count=1)
    await collect(read(client, EV_ID, Signal.LOCATION, Location))
    await collect(read(client, PETROL_ID, Signal.BATTERY, Battery))
    wrong = SmartcarOAuth(
        oauth._session,
        client_id=CLIENT_ID,
        client_secret="wrong-" + CLIENT_SECRET,
        token_url=f"{sim_url}/oauth/token",
    )
    secrets.append("wrong-" + CLIENT_SECRET)
    await collect(wrong.async_refresh(tokens.refresh_token))
    fresh = await oauth.async_refresh(tokens.refresh_token)
    secrets += [fresh.access_token, fresh.refresh_token]
    simulator.clock.advance(61)
    await collect(oauth.async_refresh(tokens.refresh_token))
    simulator.revoke_tokens()
    await collect(client.async_get_user())
    await collect(oauth.async_refresh(fresh.refresh_token))

    assert [type(err) for err in caught] == [
        SmartcarServerError,
        SmartcarTimeoutError,
        SmartcarResponseError,
        SmartcarCompatibilityError,
        SmartcarOAuthError,
        SmartcarOAuthError,
        SmartcarAuthenticationError,
        SmartcarOAuthError,
    ]
    for err in caught:
        for text in (str(err), repr(err), *(str(a) for a in err.args)):
            for secret in secrets:
                assert secret not in text
