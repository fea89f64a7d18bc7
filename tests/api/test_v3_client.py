"""The API v3 client against the simulator over real HTTP: version, token, connections, reads.

Commands are in test_v3_commands.py, errors and odd answers in test_v3_errors.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import dataclasses
from datetime import timedelta

import aiohttp
import pytest

from custom_components.smartcar.api import (
    ApiVersion,
    ApplicationToken,
    Battery,
    ChargeDetails,
    ChargeLimit,
    ChargeState,
    Climate,
    Closures,
    Connectivity,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    LowVoltageBattery,
    Odometer,
    Opening,
    Security,
    Signal,
    SignalReading,
    SmartcarAuthenticationError,
    SmartcarCompatibilityError,
    SmartcarError,
    SmartcarNotFoundError,
    SmartcarOAuthError,
    SmartcarPermissionError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarV3Client,
    Tires,
    UnitSystem,
    async_application_token,
    async_detect_api_version,
)
from custom_components.smartcar.api.oauth import parse_application_token
from smartcar_simulator import Simulator, VirtualClock, v3 as sim_v3
from smartcar_simulator.tokens import ALL_PERMISSIONS
from tests.conftest import TEST_NOW
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, PETROL_ID, PHEV_ID, USER_ID

from .conftest import StubServer, V3ClientFactory, billed, http_requests, make_v3_auth

MILE = 1.609344
GALLON = 3.785411784
EV_VIN = "5YJ3E1EA0PF419273"
PETROL_VIN = "1FADP3F29KL236418"
EV_GROUPS = {
    Signal.BATTERY,
    Signal.CHARGE,
    Signal.CHARGE_LIMIT,
    Signal.SECURITY,
    Signal.LOCATION,
    Signal.ODOMETER,
    Signal.DIAGNOSTICS,
    Signal.CLOSURES,
    Signal.CHARGE_DETAILS,
    Signal.TIRES,
    Signal.LOW_VOLTAGE_BATTERY,
    Signal.CONNECTIVITY,
    Signal.CLIMATE,
}
PHEV_GROUPS = set(Signal)
PETROL_GROUPS = set(Signal) - {
    Signal.BATTERY,
    Signal.CHARGE,
    Signal.CHARGE_LIMIT,
    Signal.CHARGE_DETAILS,
}


def token_requests(simulator: Simulator) -> int:
    """Client credentials grants the simulator answered."""
    return int(simulator.counters["token_requests"].get("client_credentials", 0))


# -- version detection and the application token ----------------------------------------------


async def test_detect_v3_credentials(
    simulator: Simulator, sim_url: str, session: aiohttp.ClientSession
) -> None:
    """The v3 application's credentials are accepted by the IAM token endpoint: V3."""
    app = sim_v3.app_of(simulator)
    version = await async_detect_api_version(
        session,
        client_id=app.client_id,
        client_secret=app.client_secret,
        iam_url=f"{sim_url}/oauth2/token",
    )
    assert version is ApiVersion.V3
    assert token_requests(simulator) == 1


async def test_detect_v2_credentials(sim_url: str, session: aiohttp.ClientSession) -> None:
    """The v2 application's credentials are refused (invalid_client): V2."""
    version = await async_detect_api_version(
        session, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, iam_url=f"{sim_url}/oauth2/token"
    )
    assert version is ApiVersion.V2


async def test_detect_fails_on_server_error(
    simulator: Simulator, sim_url: str, session: aiohttp.ClientSession
) -> None:
    """A 500 from the token endpoint tells nothing: it raises instead of guessing."""
    simulator.inject_fault(path="/oauth2/token", error={"type": "SERVER", "status": 500})
    app = sim_v3.app_of(simulator)
    with pytest.raises(SmartcarServerError) as caught:
        await async_detect_api_version(
            session,
            client_id=app.client_id,
            client_secret=app.client_secret,
            iam_url=f"{sim_url}/oauth2/token",
        )
    assert caught.value.status == 500
    assert not isinstance(caught.value, SmartcarOAuthError)


async def test_detect_fails_on_stub_500(stub: StubServer, session: aiohttp.ClientSession) -> None:
    """A proxy's 500 page (no JSON) also raises."""
    stub.add(
        "POST", "/oauth2/token", text="<html>oops</html>", status=500, content_type="text/html"
    )
    with pytest.raises(SmartcarServerError):
        await async_detect_api_version(
            session, client_id="id", client_secret="secret", iam_url=f"{stub.url}/oauth2/token"
        )


async def test_application_token_request(stub: StubServer, session: aiohttp.ClientSession) -> None:
    """Client credentials grant as a form, the answer parsed; the token stays out of repr."""
    stub.add(
        "POST",
        "/oauth2/token",
        {"access_token": "app-token-123", "token_type": "Bearer", "expires_in": 1800},
    )
    token = await async_application_token(
        session, client_id="cid", client_secret="csecret", iam_url=f"{stub.url}/oauth2/token"
    )
    assert token.access_token == "app-token-123"
    assert token.expires_in == 1800.0
    assert "app-token-123" not in repr(token)
    sent = stub.requests[0]
    assert sent.body.decode() == (
        "grant_type=client_credentials&client_id=cid&client_secret=csecret"
    )


def test_parse_application_token() -> None:
    """No expires_in means an hour; no token or another token type is no answer."""
    assert parse_application_token({"access_token": "t"}) == ApplicationToken(
        access_token="t", expires_in=3600.0
    )
    with pytest.raises(SmartcarResponseError):
        parse_application_token({"token_type": "Bearer", "expires_in": 10})
    with pytest.raises(SmartcarResponseError):
        parse_application_token({"access_token": "t", "token_type": "mac"})
    with pytest.raises(SmartcarResponseError):
        parse_application_token(["t"])


async def test_one_token_for_many_requests(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """Reads of several cars and the connections list share one application token."""
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    await client.async_get_vehicle_ids()
    for vehicle_id in (EV_ID, PHEV_ID, PETROL_ID):
        await client.async_batch(vehicle_id, [])
    assert auth.fetched == 1
    assert token_requests(simulator) == 1


async def test_token_fetched_again_margin_before_expiry(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """The token (3600 s) is used until 300 s before it expires, then fetched again."""
    auth = make_v3_auth(simulator, sim_url, session, margin=300.0)
    client = make_v3_client(auth=auth)
    first = await auth.async_get_access_token()
    simulator.set_clock(advance=3299)
    await client.async_batch(EV_ID, [])
    assert auth.fetched == 1
    assert await auth.async_get_access_token() == first
    simulator.set_clock(advance=1)
    await client.async_batch(EV_ID, [])
    assert auth.fetched == 2
    assert await auth.async_get_access_token() != first
    assert token_requests(simulator) == 2


async def test_refused_token_fetched_again_once(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """A 401 on a vehicle call (token revoked) fetches a new token and retries once."""
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    old = await auth.async_get_access_token()
    sim_v3.app_of(simulator).tokens.clear()  # Smartcar forgot every application token
    result = await client.async_batch(EV_ID, [Signal.BATTERY])
    battery = result.results[Signal.BATTERY].reading
    assert isinstance(battery, Battery)
    assert battery.percent_remaining == 0.62
    assert auth.fetched == 2
    assert await auth.async_get_access_token() != old
    assert http_requests(simulator)["GET /v3/vehicles/{id}/signals"] == 2
    assert billed(simulator, EV_ID) == {"GET /v3/signals": 1}


async def test_expired_token_on_connections_fetched_again(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """An application token expired at Smartcar (its clock ran ahead) is replaced on 401."""
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    token = await auth.async_get_access_token()
    app = sim_v3.app_of(simulator)
    app.tokens[token] = simulator.clock.timestamp() - 1  # expired for the simulator only
    assert set(await client.async_get_vehicle_ids()) == {EV_ID, PHEV_ID, PETROL_ID}
    assert auth.fetched == 2
    assert http_requests(simulator)["GET /v3/connections"] == 2


async def test_401_twice_raises(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """Refused again with the new token: SmartcarAuthenticationError, after one retry only."""
    simulator.inject_fault(
        path="/signals",
        error={"type": "AUTHENTICATION", "status": 401, "description": "Token refused."},
    )
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    with pytest.raises(SmartcarAuthenticationError) as caught:
        await client.async_batch(EV_ID, [])
    assert caught.value.status == 401
    assert caught.value.type == "AUTHENTICATION"
    assert caught.value.description == "Token refused."
    assert auth.fetched == 2
    assert http_requests(simulator)["GET /v3/vehicles/{id}/signals"] == 2


async def test_refused_client_raises_oauth_error(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """A wrong secret: SmartcarOAuthError (invalid_client), an authentication error."""
    auth = make_v3_auth(simulator, sim_url, session, client_secret="wrong")
    client = make_v3_client(auth=auth)
    with pytest.raises(SmartcarOAuthError) as caught:
        await client.async_get_vehicle_ids()
    assert isinstance(caught.value, SmartcarAuthenticationError)
    assert caught.value.status == 401
    assert caught.value.error == "invalid_client"
    assert caught.value.code == "invalid_client"
    assert auth.fetched == 0
    assert "GET /v3/connections" not in http_requests(simulator)


async def test_concurrent_calls_share_one_fetch(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """Five reads started together wait for one token request."""
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    results = await asyncio.gather(*(client.async_batch(EV_ID, []) for _ in range(5)))
    assert len(results) == 5
    assert auth.fetched == 1
    assert token_requests(simulator) == 1


async def test_concurrent_token_requests_share_one_fetch(
    stub: StubServer, session: aiohttp.ClientSession
) -> None:
    """While a slow token request runs, the other callers wait for it."""
    from custom_components.smartcar.api import ApplicationTokenAuth

    stub.add(
        "POST",
        "/oauth2/token",
        {"access_token": "slow-token", "expires_in": 3600},
        delay=0.2,
    )
    auth = ApplicationTokenAuth(
        session, client_id="cid", client_secret="cs", iam_url=f"{stub.url}/oauth2/token"
    )
    tokens = await asyncio.gather(*(auth.async_get_access_token() for _ in range(4)))
    assert tokens == ["slow-token"] * 4
    assert len(stub.requests) == 1
    assert auth.fetched == 1


async def test_token_never_in_repr(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    make_v3_client: V3ClientFactory,
) -> None:
    """Neither the token source nor the client print the token (or the secret)."""
    auth = make_v3_auth(simulator, sim_url, session)
    client = make_v3_client(auth=auth)
    token = await auth.async_get_access_token()
    secret = sim_v3.app_of(simulator).client_secret
    for text in (repr(auth), str(auth), repr(client), str(client)):
        assert token not in text
        assert secret not in text


# -- users and connections --------------------------------------------------------------------


async def test_vehicle_ids_of_the_user(v3_client: SmartcarV3Client) -> None:
    """The user's three cars, from the application's connections."""
    assert set(await v3_client.async_get_vehicle_ids()) == {EV_ID, PHEV_ID, PETROL_ID}
    assert await v3_client.async_is_connected(EV_ID) is True
    assert await v3_client.async_is_connected("00000000-0000-0000-0000-000000000000") is False


async def test_sc_user_id_selects_the_user(
    simulator: Simulator, make_v3_client: V3ClientFactory
) -> None:
    """A client for another user sees that user's cars only, and cannot read the others."""
    sim_v3.add_user(simulator, "other-user", ["petrol"])
    other = make_v3_client(user_id="other-user")
    assert await other.async_get_vehicle_ids() == [PETROL_ID]
    result = await other.async_batch(PETROL_ID, [Signal.ODOMETER])
    odometer = result.results[Signal.ODOMETER].reading
    assert isinstance(odometer, Odometer)
    assert odometer.distance == 96310.2
    with pytest.raises(SmartcarNotFoundError) as caught:
        await other.async_batch(EV_ID, [])
    assert caught.value.code == "VEHICLE_NOT_FOUND"
    assert billed(simulator, EV_ID) == {}


async def test_unknown_user_is_refused(make_v3_client: V3ClientFactory) -> None:
    """A user the application does not know: 403."""
    stranger = make_v3_client(user_id="nobody")
    with pytest.raises(SmartcarPermissionError) as caught:
        await stranger.async_batch(EV_ID, [])
    assert caught.value.status == 403


async def test_sc_user_id_header_sent(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """`sc-user-id` and the bearer token go with vehicle calls; the connections list has none."""
    stub.add(
        "GET",
        f"/v3/vehicles/{EV_ID}/signals",
        {
            "data": [
                {
                    "id": "odometer-traveleddistance",
                    "attributes": {
                        "code": "odometer-traveleddistance",
                        "status": {"value": "SUCCESS"},
                        "body": {"value": 10, "unit": "km"},
                    },
                }
            ]
        },
    )
    stub.add("GET", "/v3/connections", {"data": [], "links": {"next": None}})
    await v3_stub_client.async_batch(EV_ID, [])
    await v3_stub_client.async_get_vehicle_ids()
    vehicle_call, connections_call = stub.requests
    assert vehicle_call.headers["sc-user-id"] == USER_ID
    assert vehicle_call.headers["Authorization"] == "Bearer stub-app-token"
    assert "sc-user-id" not in connections_call.headers
    assert connections_call.headers["Authorization"] == "Bearer stub-app-token"
    assert connections_call.query == {
        "page[number]": "1",
        "page[size]": "100",
        "filter[userId]": USER_ID,
    }


async def test_connections_filters(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """`filter[vehicleId]` and `filter[userId]` select connections; each names its user."""
    sim_v3.add_user(simulator, "other-user", ["ev"])
    by_car = await v3_client.async_list_connections(vehicle_id=EV_ID)
    assert {(c.user_id, c.vehicle_id) for c in by_car} == {
        (USER_ID, EV_ID),
        ("other-user", EV_ID),
    }
    by_user = await v3_client.async_list_connections(user_id="other-user")
    assert [(c.user_id, c.vehicle_id) for c in by_user] == [("other-user", EV_ID)]
    both = await v3_client.async_list_connections(user_id=USER_ID, vehicle_id=PETROL_ID)
    assert [(c.user_id, c.vehicle_id) for c in both] == [(USER_ID, PETROL_ID)]
    everything = await v3_client.async_list_connections()
    assert len(everything) == 4
    assert all(c.permissions == frozenset(ALL_PERMISSIONS) for c in everything)
    # The user's own cars are still three.
    assert set(await v3_client.async_get_vehicle_ids()) == {EV_ID, PHEV_ID, PETROL_ID}


async def test_connections_paging_over_the_simulator(
    serve: Callable[[Simulator], Awaitable[str]],
    session: aiohttp.ClientSession,
    socket_enabled: None,
) -> None:
    """103 cars: two pages of 100 are read, every car is found."""
    big = Simulator(extra_vehicles=100, clock=VirtualClock(start=TEST_NOW, frozen=True))
    url = await serve(big)
    auth = make_v3_auth(big, url, session)
    client = SmartcarV3Client(
        session, auth, user_id=USER_ID, api_url=f"{url}/v3", management_url=f"{url}/v3"
    )
    ids = await client.async_get_vehicle_ids()
    assert len(ids) == 103
    assert len(set(ids)) == 103
    assert {EV_ID, PHEV_ID, PETROL_ID} <= set(ids)
    assert http_requests(big)["GET /v3/connections"] == 2


def _connection(number: int, vehicle: str, user: str = USER_ID) -> dict[str, object]:
    return {
        "id": f"conn-{number}",
        "type": "connection",
        "attributes": {"permissions": ["read_battery", f"perm_{number}"], "user": {"id": user}},
        "relationships": {
            "vehicle": {"data": {"id": vehicle, "type": "vehicle"}},
            "user": {"data": {"id": user, "type": "user"}},
        },
        "meta": {"createdAt": "2026-01-02T03:04:05.000Z"},
    }


async def test_connections_paging_follows_next(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """`links.next` asks for the next page; a null `next` ends; permissions are merged by car."""
    stub.add(
        "GET",
        "/v3/connections",
        {"data": [_connection(1, "car-a"), _connection(2, "car-b")], "links": {"next": "x"}},
    )
    stub.add(
        "GET",
        "/v3/connections",
        {
            "data": [_connection(3, "car-a"), _connection(4, "car-c", user="someone-else")],
            "links": {"next": None},
        },
    )
    assert await v3_stub_client.async_get_vehicle_ids() == ["car-a", "car-b"]
    assert [r.query["page[number]"] for r in stub.requests] == ["1", "2"]
    assert await v3_stub_client.async_get_permissions("car-a") == {
        "read_battery",
        "perm_1",
        "perm_3",
    }
    assert await v3_stub_client.async_get_permissions("car-b") == {"read_battery", "perm_2"}
    assert len(stub.requests) == 2  # permissions came from what was read


async def test_connections_not_a_list(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """An answer without a `data` list is no answer."""
    stub.add("GET", "/v3/connections", {"connections": []})
    with pytest.raises(SmartcarResponseError):
        await v3_stub_client.async_list_connections()


async def test_permissions_from_the_connection(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """What the user granted, from the connection (not billed); unknown car -> not found."""
    assert await v3_client.async_get_permissions(EV_ID) == frozenset(ALL_PERMISSIONS)
    with pytest.raises(SmartcarNotFoundError) as caught:
        await v3_client.async_get_permissions("00000000-0000-0000-0000-000000000000")
    assert caught.value.code == "VEHICLE_NOT_FOUND"
    assert simulator.counters["billed"] == {}


# -- attributes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vehicle_id", "make", "model", "year", "vin"),
    [
        (EV_ID, "Tesla", "Model 3", 2023, EV_VIN),
        (PETROL_ID, "Ford", "Focus", 2019, PETROL_VIN),
    ],
)
async def test_attributes(
    simulator: Simulator,
    v3_client: SmartcarV3Client,
    vehicle_id: str,
    make: str,
    model: str,
    year: int,
    vin: str,
) -> None:
    """Make title-cased, model and year from the vehicle, the VIN from its signal; billed once."""
    attributes = await v3_client.async_get_attributes(vehicle_id)
    assert attributes.id == vehicle_id
    assert (attributes.make, attributes.model, attributes.year, attributes.vin) == (
        make,
        model,
        year,
        vin,
    )
    assert billed(simulator, vehicle_id) == {"GET /v3/signals/vehicleidentification-vin": 1}


async def test_attributes_short_make_kept(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """A short capitalised make stays (BMW); a VIN signal in ERROR is no VIN."""
    stub.add(
        "GET",
        "/v3/vehicles/car-1",
        {"data": {"id": "car-1", "attributes": {"make": "BMW", "model": "i4", "year": 2024}}},
    )
    stub.add(
        "GET",
        "/v3/vehicles/car-1/signals/vehicleidentification-vin",
        {
            "data": {
                "id": "vehicleidentification-vin",
                "attributes": {
                    "code": "vehicleidentification-vin",
                    "status": {"value": "ERROR", "error": {"type": "COMPATIBILITY"}},
                },
            }
        },
    )
    attributes = await v3_stub_client.async_get_attributes("car-1")
    assert (attributes.make, attributes.model, attributes.year, attributes.vin) == (
        "BMW",
        "i4",
        2024,
        None,
    )


async def test_attributes_without_signals(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """A car not subscribed yet (signals 404) still has make, model and year; no VIN."""
    sim_v3.configure(simulator, auto_subscribe=False)
    attributes = await v3_client.async_get_attributes(EV_ID)
    assert (attributes.make, attributes.model, attributes.year, attributes.vin) == (
        "Tesla",
        "Model 3",
        2023,
        None,
    )


# -- reading every signal ---------------------------------------------------------------------


def _reading[R](result: object, signal: Signal, kind: type[R]) -> R:
    reading = result.results[signal].reading  # type: ignore[attr-defined]
    assert isinstance(reading, kind), result.results[signal]  # type: ignore[attr-defined]
    return reading


async def test_batch_ev(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """An EV: every group it has, in fractions and km; fuel wanted -> compatibility error."""
    result = await v3_client.async_batch(EV_ID, [Signal.BATTERY, Signal.FUEL, Signal.ENGINE_OIL])
    assert {s for s, r in result.results.items() if r.reading is not None} == EV_GROUPS
    for missing in (Signal.FUEL, Signal.ENGINE_OIL):
        error = result.results[missing].error
        assert isinstance(error, SmartcarCompatibilityError)
        assert error.code == "VEHICLE_NOT_CAPABLE"
    battery = _reading(result, Signal.BATTERY, Battery)
    assert (battery.percent_remaining, battery.range) == (0.62, 300.0)
    assert battery.issues == ()
    assert battery.meta.unit_system is UnitSystem.METRIC
    assert battery.meta.request_id == result.meta.request_id
    assert battery.meta.data_age is not None
    # The EV last reported 7 minutes before the test's start; retrieved now.
    assert battery.meta.data_age == TEST_NOW - timedelta(minutes=7)
    assert battery.meta.fetched_at == TEST_NOW
    charge = result.results[Signal.CHARGE].reading
    assert charge is not None
    assert (charge.is_plugged_in, charge.state) == (False, ChargeState.NOT_CHARGING)  # type: ignore[union-attr]
    assert _reading(result, Signal.CHARGE_LIMIT, ChargeLimit).limit == 0.8
    security = _reading(result, Signal.SECURITY, Security)
    assert security.is_locked is True
    assert security.doors == tuple(
        Opening(type=p, status="LOCKED")
        for p in ("frontLeft", "frontRight", "backLeft", "backRight")
    )
    assert security.storage == (Opening("front", "CLOSED"), Opening("rear", "CLOSED"))
    assert security.charging_port == (Opening("chargingPort", "CLOSED"),)
    location = _reading(result, Signal.LOCATION, Location)
    assert (location.latitude, location.longitude) == (52.3676, 4.9041)
    assert _reading(result, Signal.ODOMETER, Odometer).distance == 18234.5
    assert _reading(result, Signal.DIAGNOSTICS, Diagnostics).active_codes == ()
    closures = _reading(result, Signal.CLOSURES, Closures)
    assert (
        closures.doors_open,
        closures.windows_open,
        closures.trunk_open,
        closures.frunk_open,
        closures.sunroof_open,
        closures.charge_port_open,
    ) == (False, False, False, False, None, False)
    tires = _reading(result, Signal.TIRES, Tires)
    assert (tires.front_left, tires.front_right, tires.back_left, tires.back_right) == (
        250.0,
        250.0,
        250.0,
        250.0,
    )
    assert _reading(result, Signal.LOW_VOLTAGE_BATTERY, LowVoltageBattery).percent_remaining == 0.88
    connectivity = _reading(result, Signal.CONNECTIVITY, Connectivity)
    assert (connectivity.is_online, connectivity.is_asleep, connectivity.firmware_version) == (
        True,
        True,
        "2026.32.6",
    )
    climate = _reading(result, Signal.CLIMATE, Climate)
    assert (climate.cabin_temperature, climate.outside_temperature) == (18.0, 12.0)
    assert billed(simulator, EV_ID) == {"GET /v3/signals": 1}


async def test_batch_phev(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """A PHEV has every group: battery and fuel, oil life, a trouble code."""
    result = await v3_client.async_batch(PHEV_ID, list(Signal))
    assert {s for s, r in result.results.items() if r.reading is not None} == PHEV_GROUPS
    battery = _reading(result, Signal.BATTERY, Battery)
    assert (battery.percent_remaining, battery.range) == (0.45, 31.2)
    fuel = _reading(result, Signal.FUEL, Fuel)
    assert (fuel.percent_remaining, fuel.amount_remaining, fuel.range) == (0.7, 38.5, 592.3)
    assert _reading(result, Signal.ENGINE_OIL, EngineOil).life_remaining == 0.82
    assert _reading(result, Signal.CHARGE_LIMIT, ChargeLimit).limit == 1.0
    codes = _reading(result, Signal.DIAGNOSTICS, Diagnostics).active_codes
    assert codes is not None
    assert [c.code for c in codes] == ["P0456"]
    assert codes[0].timestamp is not None
    # The simulator's trouble codes are ages, not dates.
    assert codes[0].timestamp == TEST_NOW - timedelta(days=5, minutes=47, seconds=20)
    assert _reading(result, Signal.CONNECTIVITY, Connectivity).firmware_version == "5.1.2"
    assert billed(simulator, PHEV_ID) == {"GET /v3/signals": 1}


async def test_batch_petrol(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """A petrol car: no battery or charge groups; wanting them -> compatibility errors."""
    wanted = [Signal.BATTERY, Signal.CHARGE, Signal.CHARGE_LIMIT, Signal.FUEL]
    result = await v3_client.async_batch(PETROL_ID, wanted)
    assert {s for s, r in result.results.items() if r.reading is not None} == PETROL_GROUPS
    for missing in (Signal.BATTERY, Signal.CHARGE, Signal.CHARGE_LIMIT):
        assert isinstance(result.results[missing].error, SmartcarCompatibilityError)
    assert Signal.CHARGE_DETAILS not in result.results  # not wanted, not reported
    fuel = _reading(result, Signal.FUEL, Fuel)
    assert (fuel.percent_remaining, fuel.amount_remaining, fuel.range) == (0.41, 21.3, 343.9)
    assert _reading(result, Signal.ENGINE_OIL, EngineOil).life_remaining == 0.37
    security = _reading(result, Signal.SECURITY, Security)
    assert security.is_locked is False
    assert security.charging_port == ()
    assert security.storage == (Opening("rear", "CLOSED"),)
    closures = _reading(result, Signal.CLOSURES, Closures)
    assert (closures.frunk_open, closures.charge_port_open) == (None, None)
    assert billed(simulator, PETROL_ID) == {"GET /v3/signals": 1}


async def test_batch_imperial(make_v3_client: V3ClientFactory) -> None:
    """Imperial: km -> miles (odometer, ranges), liters -> US gallons; fractions unchanged."""
    client = make_v3_client(unit_system=UnitSystem.IMPERIAL)
    ev = await client.async_batch(EV_ID, [])
    assert ev.meta.unit_system is UnitSystem.IMPERIAL
    battery = _reading(ev, Signal.BATTERY, Battery)
    assert battery.range == pytest.approx(300.0 / MILE)
    assert battery.percent_remaining == 0.62
    assert battery.meta.unit_system is UnitSystem.IMPERIAL
    assert _reading(ev, Signal.ODOMETER, Odometer).distance == pytest.approx(18234.5 / MILE)
    petrol = await client.async_batch(PETROL_ID, [])
    fuel = _reading(petrol, Signal.FUEL, Fuel)
    assert fuel.amount_remaining == pytest.approx(21.3 / GALLON)
    assert fuel.range == pytest.approx(343.9 / MILE)
    assert fuel.percent_remaining == 0.41
    # Temperatures and pressures keep one unit.
    assert _reading(petrol, Signal.CLIMATE, Climate).cabin_temperature == 18.0
    assert _reading(petrol, Signal.TIRES, Tires).front_left == 250.0


async def test_charging_details_while_charging(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """Charging: rate (11 kW / 0.155 kWh/km), minutes to the limit and power have values."""
    simulator.vehicle("ev").plug_in()
    result = await v3_client.async_batch(EV_ID, [])
    charge = result.results[Signal.CHARGE].reading
    assert charge is not None
    assert (charge.is_plugged_in, charge.state) == (True, ChargeState.CHARGING)  # type: ignore[union-attr]
    details = _reading(result, Signal.CHARGE_DETAILS, ChargeDetails)
    assert details.rate == pytest.approx(round(11 / 0.155, 1))
    # (0.8 - 0.62) * 75 kWh / 11 kW = 73.6 min, rounded up
    assert details.time_to_complete == 74.0
    assert details.power == 11.0
    assert details.energy_added == 0.0
    assert details.issues == ()


async def test_not_charging_is_no_error(v3_client: SmartcarV3Client) -> None:
    """NOT_CHARGING signals (rate, time, power) are missing values, not an error."""
    result = await v3_client.async_batch(EV_ID, [Signal.CHARGE_DETAILS])
    item = result.results[Signal.CHARGE_DETAILS]
    assert item.error is None
    details = item.reading
    assert isinstance(details, ChargeDetails)
    assert (details.rate, details.time_to_complete, details.power) == (None, None, None)
    assert details.energy_added == 0.0
    assert details.issues == ()


# -- restoring stored readings ----------------------------------------------------------------


def _without_request_id(reading: SignalReading) -> SignalReading:
    return dataclasses.replace(reading, meta=dataclasses.replace(reading.meta, request_id=None))


@pytest.mark.parametrize("unit_system", [UnitSystem.METRIC, UnitSystem.IMPERIAL])
@pytest.mark.parametrize("vehicle_id", [EV_ID, PHEV_ID, PETROL_ID])
async def test_restore_reading_round_trip(
    simulator: Simulator, make_v3_client: V3ClientFactory, vehicle_id: str, unit_system: UnitSystem
) -> None:
    """Every group's `raw` gives back the reading (all but the request id, not kept)."""
    simulator.vehicle("ev").plug_in()  # charge details with values too
    client = make_v3_client(unit_system=unit_system)
    result = await client.async_batch(vehicle_id, [])
    restored = 0
    for signal, item in result.results.items():
        assert item.reading is not None
        assert item.raw is not None
        again = client.restore_reading(signal, item.raw)
        assert again == _without_request_id(item.reading), signal
        restored += 1
    assert restored == {EV_ID: 13, PHEV_ID: 15, PETROL_ID: 11}[vehicle_id]


async def test_restore_in_another_unit_system(make_v3_client: V3ClientFactory) -> None:
    """A stored raw keeps its units: restored by an imperial client it converts again."""
    metric = await make_v3_client().async_batch(EV_ID, [])
    imperial = make_v3_client(unit_system=UnitSystem.IMPERIAL)
    raw = metric.results[Signal.ODOMETER].raw
    assert raw is not None
    odometer = imperial.restore_reading(Signal.ODOMETER, raw)
    assert isinstance(odometer, Odometer)
    assert odometer.distance == pytest.approx(18234.5 / MILE)


def test_restore_v2_raw_raises(v3_client: SmartcarV3Client) -> None:
    """A reading stored by the v2 client cannot be restored by the v3 one."""
    v2_raw = {
        "body": {"percentRemaining": 0.5, "range": 200.0},
        "headers": {"sc-unit-system": "metric"},
    }
    with pytest.raises(SmartcarError):
        v3_client.restore_reading(Signal.BATTERY, v2_raw)
    with pytest.raises(SmartcarError):
        v3_client.restore_reading(Signal.BATTERY, {"v3": []})
    with pytest.raises(SmartcarError):
        v3_client.restore_reading(Signal.BATTERY, {"v3": "nope"})


def test_cost_and_signals(v3_client: SmartcarV3Client) -> None:
    """One request for any number of groups (none for none); every group is readable."""
    assert v3_client.cost([Signal.BATTERY, Signal.FUEL, Signal.TIRES]) == 1
    assert v3_client.cost([]) == 0
    assert v3_client.signals == frozenset(Signal)
    assert v3_client.reads_all is True
    assert v3_client.api_version is ApiVersion.V3
