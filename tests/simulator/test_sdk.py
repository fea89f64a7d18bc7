"""The simulator held to Smartcar's own client: every v2 call of the official Python SDK.

`smartcar` (pinned in requirements_test.txt) talks to the simulator exactly as it talks to
Smartcar. It is synchronous (requests), so the simulator runs in a thread of its own with its
own event loop and the tests are plain functions. The answers are checked against the
simulated cars (their reported state, their specs, the simulator's records), never against
values a test has just put somewhere.

The v3 calls (`smartcar.get_vehicle`, `Vehicle.get_signals`, `Vehicle.get_signal`) go to
another origin, pointed at the simulator too (they send the user's access token, no
`sc-user-id`). Not covered here: `Vehicle.set_unit_system` (no request); `hash_challenge` /
`verify_payload` check the simulator's webhook deliveries in `test_webhooks.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
import threading
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import smartcar
import smartcar.config

from smartcar_simulator import (
    EV_ID,
    PETROL_ID,
    PHEV_ID,
    USER_ID,
    Simulator,
    SimulatorServer,
    TokenSet,
    VirtualClock,
)
from smartcar_simulator.clock import isoformat_ms
from smartcar_simulator.simulator import DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
from smartcar_simulator.tokens import DEFAULT_ACCESS_TTL

try:
    from tests.conftest import TEST_NOW
except ImportError:  # before the rename
    from tests.conftest import SIM_START as TEST_NOW

CLIENT_ID = "sim-client-id"
CLIENT_SECRET = "sim-client-secret"
REDIRECT = "http://127.0.0.1:8123/auth/external/callback"
KM_PER_MILE = 1.609344

# The SDK's AuthClient computes expiry with datetime.utcnow(), deprecated since Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")


class _ServedInThread:
    """The simulator on 127.0.0.1 (a free port), served by a thread with its own event loop."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdk-simulator", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.url = ""

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = SimulatorServer(self._sim, host="127.0.0.1", port=0)
        try:
            await server.start()
        except Exception as err:  # handed to the test thread
            self._error = err
            self._ready.set()
            return
        self.url = server.url
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the simulator thread did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the simulator thread did not stop"


@pytest.fixture
def sim(sim_options: dict[str, Any]) -> Simulator:
    """The simulated world, its clock frozen at the suite's start instant."""
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), **sim_options)


@pytest.fixture
def api(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The simulator's URL; the SDK's origins point at it."""
    with _ServedInThread(sim) as served:
        # smartcar.config reads SMARTCAR_API_ORIGIN, SMARTCAR_AUTH_ORIGIN (the token URL),
        # SMARTCAR_CONNECT_ORIGIN and SMARTCAR_MANAGEMENT_API_ORIGIN once, at import; every
        # call reads the module's attributes, so those are what is set here.
        monkeypatch.setattr(smartcar.config, "API_ORIGIN", served.url)
        monkeypatch.setattr(smartcar.config, "AUTH_ORIGIN", f"{served.url}/oauth/token")
        monkeypatch.setattr(smartcar.config, "CONNECT_ORIGIN", served.url)
        monkeypatch.setattr(smartcar.config, "MANAGEMENT_API_ORIGIN", served.url)
        for name in ("NO_PROXY", "no_proxy"):  # requests honours proxy variables
            monkeypatch.setenv(name, "127.0.0.1")
        yield served.url


@pytest.fixture
def token(api: str, tokens: TokenSet) -> str:
    """An access token with every permission (the simulator already serving)."""
    return tokens.access_token


def _raises(call: Callable[[], object]) -> smartcar.SmartcarException:
    with pytest.raises(smartcar.SmartcarException) as caught:
        call()
    return caught.value


def _billed(sim: Simulator, vehicle_id: str) -> dict[str, int]:
    return dict(sim.counters["billed"].get(vehicle_id, {}).get("by_path", {}))


# -- Connect and the token endpoint (AuthClient) ---------------------------------------------


class _ConsentForm(HTMLParser):
    """The consent page's form: its action and hidden fields, as a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes.get("name") or ""] = attributes.get("value") or ""


def _approve(auth_url: str, base: str) -> dict[str, list[str]]:
    """Open the Connect URL, press Approve; the redirect's query."""
    page = requests.get(auth_url, timeout=10)
    assert page.status_code == 200
    form = _ConsentForm()
    form.feed(page.text)
    assert form.action
    answer = requests.post(
        base + form.action,
        data={**form.fields, "action": "approve"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


SCOPE = ["read_vehicle_info", "read_battery", "read_odometer", "control_security"]


def test_connect_code_exchange_and_refresh(api: str, sim: Simulator) -> None:
    """get_auth_url -> consent -> exchange_code -> exchange_refresh_token, with real codes."""
    client = smartcar.AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, mode="simulated")
    auth_url = client.get_auth_url(SCOPE, {"state": "s-1", "force_prompt": True})
    assert auth_url.startswith(f"{api}/oauth/authorize?")
    page = requests.get(auth_url, timeout=10).text
    assert '<span id="mode">simulated</span>' in page
    for permission in SCOPE:
        assert f'data-permission="{permission}"' in page

    query = _approve(auth_url, api)
    assert query["state"] == ["s-1"]
    code = query["code"][0]

    access = client.exchange_code(code)
    assert access.token_type == "Bearer"
    assert access.expires_in == DEFAULT_ACCESS_TTL
    grant = sim.tokens.authenticate(access.access_token)
    assert grant is not None
    assert grant.user_id == USER_ID
    assert grant.permissions == frozenset(SCOPE)
    # The SDK works out the expiry itself (from expires_in).
    assert access.expiration is not None
    assert access.refresh_expiration is not None

    # A code is single use: Smartcar's OAuth error, in the SDK's form.
    used = _raises(lambda: client.exchange_code(code))
    assert used.status_code == 400
    assert used.type == "invalid_grant"

    renewed = client.exchange_refresh_token(access.refresh_token)
    assert renewed.access_token != access.access_token
    assert renewed.refresh_token != access.refresh_token  # refresh tokens rotate
    renewed_grant = sim.tokens.authenticate(renewed.access_token)
    assert renewed_grant is not None
    assert renewed_grant.permissions == frozenset(SCOPE)
    assert smartcar.get_user(renewed.access_token).id == USER_ID
    assert sim.counters["token_requests"] == {"authorization_code": 2, "refresh_token": 1}

    wrong_secret = smartcar.AuthClient(CLIENT_ID, "not-the-secret", REDIRECT)
    refused = _raises(lambda: wrong_secret.exchange_refresh_token(renewed.refresh_token))
    assert refused.status_code == 401
    assert refused.type == "invalid_client"

    # What the consent granted is what the vehicle says it may do.
    permissions = smartcar.Vehicle(EV_ID, renewed.access_token).permissions()
    assert sorted(permissions.permissions) == sorted(SCOPE)


def test_connect_deny(api: str, sim: Simulator) -> None:
    """Deny on the consent page: access_denied comes back, no code, no token."""
    client = smartcar.AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT)
    form = _ConsentForm()
    form.feed(requests.get(client.get_auth_url(SCOPE, {"state": "s-2"}), timeout=10).text)
    answer = requests.post(
        api + form.action, data={**form.fields, "action": "deny"}, allow_redirects=False, timeout=10
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s-2"]
    assert "code" not in query
    assert sim.counters["token_requests"] == {}


# -- user, vehicles, attributes, permissions --------------------------------------------------


def test_user_and_vehicles(token: str, sim: Simulator) -> None:
    """get_user and get_vehicles (with paging) list the simulator's user and cars."""
    user = smartcar.get_user(token)
    assert user.id == sim.user_id
    assert user.meta.request_id

    vehicles = smartcar.get_vehicles(token)
    assert vehicles.vehicles == sim.accounts.vehicles_of(sim.user_id)
    assert vehicles.paging.count == len(sim.accounts.vehicles_of(sim.user_id))
    assert vehicles.paging.offset == 0

    page = smartcar.get_vehicles(token, {"limit": 1, "offset": 2})
    assert page.vehicles == sim.accounts.vehicles_of(sim.user_id)[2:3]
    assert page.paging.offset == 2


@pytest.mark.parametrize("key", ["ev", "phev", "petrol"])
def test_attributes_and_vin(token: str, sim: Simulator, key: str) -> None:
    """attributes() asks for /vehicles/{id}/ (trailing slash); vin() for /vin."""
    car = sim.vehicle(key)
    vehicle = smartcar.Vehicle(car.id, token)
    attributes = vehicle.attributes()
    assert (attributes.id, attributes.make, attributes.model, attributes.year) == (
        car.spec.id,
        car.spec.make,
        car.spec.model,
        car.spec.year,
    )
    assert vehicle.vin().vin == car.spec.vin
    assert sim.counters["http_requests"]["GET /v2.0/vehicles/{id}/"] == 1
    assert _billed(sim, car.id) == {"GET /": 1, "GET /vin": 1}


def test_permissions_with_paging(token: str, sim: Simulator) -> None:
    """permissions() with and without paging: what the token may do on that car."""
    grant = sim.tokens.authenticate(token)
    assert grant is not None
    expected = sorted(sim.accounts.effective(grant.permissions, PHEV_ID))
    vehicle = smartcar.Vehicle(PHEV_ID, token)
    everything = vehicle.permissions({"limit": 100})
    assert everything.permissions == expected
    assert everything.paging.count == len(expected)
    page = vehicle.permissions({"limit": 3, "offset": 2})
    assert page.permissions == expected[2:5]
    assert page.paging.offset == 2
    assert _billed(sim, PHEV_ID) == {}  # not billed


# -- every read -------------------------------------------------------------------------------


def test_reads_match_the_reported_state(token: str, sim: Simulator) -> None:
    """Every read the PHEV (it has them all) answers equals what the car last reported."""
    car = sim.vehicle("phev")
    vehicle = smartcar.Vehicle(car.id, token)
    state, reported_at = car.reported()
    data_age = isoformat_ms(reported_at)

    battery = vehicle.battery()
    assert battery.percent_remaining == pytest.approx(state.battery, abs=1e-4)
    assert battery.range == pytest.approx(car.battery_range_km(state), abs=0.05)
    assert battery.meta.data_age == data_age
    assert battery.meta.unit_system == "metric"
    assert battery.meta.fetched_at == isoformat_ms(sim.clock.now())

    charge = vehicle.charge()
    assert charge.is_plugged_in is state.plugged
    assert charge.state == (state.charge_state or "NOT_CHARGING")
    assert vehicle.get_charge_limit().limit == pytest.approx(state.charge_limit, abs=1e-4)

    fuel = vehicle.fuel()
    assert fuel.percent_remaining == pytest.approx(state.fuel, abs=1e-4)
    assert fuel.amount_remaining == pytest.approx(car.fuel_amount_l(state), abs=0.05)
    assert fuel.range == pytest.approx(car.fuel_range_km(state), abs=0.05)

    assert vehicle.engine_oil().life_remaining == pytest.approx(state.oil_life, abs=1e-4)

    location = vehicle.location()
    assert (location.latitude, location.longitude) == pytest.approx(state.location, abs=1e-6)
    assert vehicle.odometer().distance == pytest.approx(state.odometer, abs=0.05)

    security = vehicle.lock_status()
    assert security.is_locked is state.locked
    assert {door["status"] for door in security.doors} == {"LOCKED" if state.locked else "UNLOCKED"}
    assert security.charging_port == [
        {"type": "chargingPort", "status": "OPEN" if state.plugged else "CLOSED"}
    ]
    assert security.windows
    assert security.meta.data_age == data_age

    codes = vehicle.diagnostic_trouble_codes().active_codes
    assert [(c.code, c.timestamp) for c in codes] == [
        (d["code"], d["timestamp"]) for d in state.dtcs
    ]
    assert codes  # the PHEV has a stored code, so the comparison above is not empty

    assert set(_billed(sim, car.id)) == {
        "GET /battery",
        "GET /charge",
        "GET /charge/limit",
        "GET /fuel",
        "GET /engine/oil",
        "GET /location",
        "GET /odometer",
        "GET /security",
        "GET /diagnostics/dtcs",
    }


def test_reads_follow_the_car(token: str, sim: Simulator) -> None:
    """Driving changes what the SDK reads: location, odometer, battery (the simulated physics)."""
    car = sim.vehicle("ev")
    vehicle = smartcar.Vehicle(car.id, token)
    before = vehicle.odometer().distance
    battery_before = vehicle.battery().percent_remaining
    car.drive_to(52.3731, 4.8922, speed_kmh=60)
    sim.clock.advance(3600)  # long enough to arrive
    state, reported_at = car.reported()
    assert not state.driving

    location = vehicle.location()
    assert (location.latitude, location.longitude) == pytest.approx((52.3731, 4.8922), abs=1e-6)
    odometer = vehicle.odometer()
    assert odometer.distance == pytest.approx(state.odometer, abs=0.05)
    assert odometer.distance > before
    assert odometer.meta.data_age == isoformat_ms(reported_at)
    assert vehicle.battery().percent_remaining < battery_before


def test_imperial_units(token: str, sim: Simulator) -> None:
    """Vehicle(options={"unit_system": "imperial"}) gets miles and US gallons."""
    car = sim.vehicle("petrol")
    state, _ = car.reported()
    vehicle = smartcar.Vehicle(car.id, token, {"unit_system": "imperial"})
    odometer = vehicle.odometer()
    assert odometer.meta.unit_system == "imperial"
    assert odometer.distance * KM_PER_MILE == pytest.approx(state.odometer, abs=0.1)
    fuel = vehicle.fuel()
    # Served in gallons to 0.1: within 0.05 gal (0.19 L) of the truth.
    assert fuel.amount_remaining * 3.785411784 == pytest.approx(car.fuel_amount_l(state), abs=0.2)


# -- batch ------------------------------------------------------------------------------------


def test_batch(token: str, sim: Simulator) -> None:
    """batch(): every item parsed like its own call; a failing item raises when asked for."""
    car = sim.vehicle("ev")
    state, reported_at = car.reported()
    paths = ["/", "/battery", "/charge", "/charge/limit", "/security", "/location", "/odometer"]
    paths += ["/diagnostics/dtcs", "/fuel"]
    batch = smartcar.Vehicle(car.id, token).batch(paths)

    assert batch.attributes().make == car.spec.make
    battery = batch.battery()
    assert battery.percent_remaining == pytest.approx(state.battery, abs=1e-4)
    assert battery.meta.data_age == isoformat_ms(reported_at)
    assert battery.meta.request_id == batch.meta.request_id
    assert batch.charge().is_plugged_in is state.plugged
    assert batch.get_charge_limit().limit == pytest.approx(state.charge_limit, abs=1e-4)
    assert batch.lock_status().is_locked is state.locked
    assert (batch.location().latitude, batch.location().longitude) == pytest.approx(
        state.location, abs=1e-6
    )
    assert batch.odometer().distance == pytest.approx(state.odometer, abs=0.05)
    codes = batch.diagnostic_trouble_codes().active_codes
    assert [(c.code, c.timestamp) for c in codes] == [
        (d["code"], d["timestamp"]) for d in state.dtcs
    ]
    no_fuel = _raises(batch.fuel)  # the EV has no tank
    assert (no_fuel.status_code, no_fuel.type, no_fuel.code) == (
        501,
        "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE",
    )
    # Every path is one billed request, the failed one included.
    assert _billed(sim, car.id) == {f"GET {path}": 1 for path in paths}


def test_batch_item_rate_limited(token: str, sim: Simulator) -> None:
    """A rate-limited item raises RATE_LIMIT; the other items still answer."""
    sim.inject_fault(
        vehicle_id="ev",
        path="/odometer",
        count=1,
        error={"type": "RATE_LIMIT", "code": "VEHICLE", "status": 429, "retry_after": 30},
    )
    batch = smartcar.Vehicle(EV_ID, token).batch(["/battery", "/odometer"])
    limited = _raises(batch.odometer)
    assert (limited.status_code, limited.type, limited.code) == (429, "RATE_LIMIT", "VEHICLE")
    # The SDK looks for "Retry-After" in the item's headers with that exact case; the
    # simulator sends "retry-after" there (as every other batch header, lower case), so the
    # SDK's exception carries no retry_after for a batch item.
    assert batch.battery().percent_remaining == pytest.approx(
        sim.vehicle("ev").reported()[0].battery, abs=1e-4
    )


# -- every command ----------------------------------------------------------------------------


def test_lock_and_unlock(token: str, sim: Simulator) -> None:
    """lock()/unlock() change the car; lock_status() reads it back."""
    car = sim.vehicle("ev")
    vehicle = smartcar.Vehicle(car.id, token)
    assert car.state.locked is True
    unlocked = vehicle.unlock()
    assert unlocked.status == "success"
    assert unlocked.message
    assert car.state.locked is False
    assert vehicle.lock_status().is_locked is False
    assert vehicle.lock().status == "success"
    assert car.state.locked is True
    assert vehicle.lock_status().is_locked is True
    assert _billed(sim, car.id) == {"POST /security": 2, "GET /security": 2}


def test_charging_commands(token: str, sim: Simulator) -> None:
    """start_charge / stop_charge / set_charge_limit, and the charge fault when unplugged."""
    car = sim.vehicle("ev")
    vehicle = smartcar.Vehicle(car.id, token)
    assert not car.state.plugged
    fault = _raises(vehicle.start_charge)
    assert (fault.status_code, fault.type, fault.code) == (409, "VEHICLE_STATE", "CHARGE_FAULT")
    assert fault.resolution == {"type": "RETRY_LATER", "url": None}
    assert not car.state.charging

    car.plug_in()
    assert vehicle.stop_charge().status == "success"
    assert not car.state.charging
    assert vehicle.charge().state == (car.reported()[0].charge_state or "NOT_CHARGING")
    assert vehicle.charge().state != "CHARGING"
    assert vehicle.start_charge().status == "success"
    assert car.state.charging
    charge = vehicle.charge()
    assert charge.is_plugged_in is True
    assert charge.state == "CHARGING"

    assert vehicle.set_charge_limit(0.9).status == "success"
    assert car.state.charge_limit == pytest.approx(0.9)
    assert vehicle.get_charge_limit().limit == pytest.approx(0.9)
    invalid = _raises(lambda: vehicle.set_charge_limit(0.2))
    assert (invalid.status_code, invalid.type) == (400, "VALIDATION")
    assert car.state.charge_limit == pytest.approx(0.9)


def test_send_destination(token: str, sim: Simulator) -> None:
    """send_destination posts {latitude, longitude} to /navigation/destination."""
    car = sim.vehicle("ev")
    result = smartcar.Vehicle(car.id, token).send_destination(52.3731, 4.8922)
    assert result.status == "success"
    assert car.state.destination == {"latitude": 52.3731, "longitude": 4.8922, "address": None}
    assert _billed(sim, car.id) == {"POST /navigation/destination": 1}

    petrol = _raises(lambda: smartcar.Vehicle(PETROL_ID, token).send_destination(1.0, 2.0))
    assert (petrol.status_code, petrol.type, petrol.code) == (
        501,
        "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE",
    )
    off_globe = _raises(lambda: smartcar.Vehicle(PHEV_ID, token).send_destination(91, 0))
    assert (off_globe.status_code, off_globe.type) == (400, "VALIDATION")
    assert sim.vehicle("phev").state.destination is None


def test_generic_request(token: str, sim: Simulator) -> None:
    """request(): any method and path; here the seed spec's destination path and a read."""
    car = sim.vehicle("phev")
    vehicle = smartcar.Vehicle(car.id, token)
    sent = vehicle.request(
        "POST",
        "commands/set-destination",
        {"latitude": -33.8568, "longitude": 151.2153, "address": "Sydney Opera House"},
        {},
    )
    assert sent.body["status"] == "success"
    assert car.state.destination == {
        "latitude": -33.8568,
        "longitude": 151.2153,
        "address": "Sydney Opera House",
    }
    read = vehicle.request("GET", "odometer", {}, {"sc-unit-system": "imperial"})
    assert read.body["distance"] * KM_PER_MILE == pytest.approx(car.state.odometer, abs=0.1)
    assert read.meta.unit_system == "imperial"
    assert _billed(sim, car.id) == {"POST /commands/set-destination": 1, "GET /odometer": 1}


def test_disconnect(token: str, sim: Simulator) -> None:
    """disconnect(): the car leaves the user's list and answers 404 afterwards."""
    vehicle = smartcar.Vehicle(PETROL_ID, token)
    assert vehicle.disconnect().status == "success"
    assert not sim.accounts.has_vehicle(USER_ID, PETROL_ID)
    assert PETROL_ID not in smartcar.get_vehicles(token).vehicles
    gone = _raises(vehicle.odometer)
    assert (gone.status_code, gone.type, gone.code) == (
        404,
        "RESOURCE_NOT_FOUND",
        "VEHICLE_NOT_FOUND",
    )


# -- webhooks and the management API -----------------------------------------------------------


def test_webhook_subscribe_and_unsubscribe(token: str, sim: Simulator) -> None:
    """subscribe(webhook) with the user's token; unsubscribe(amt, webhook) with the AMT."""
    vehicle = smartcar.Vehicle(EV_ID, token)
    subscribed = vehicle.subscribe(DEFAULT_WEBHOOK_ID)
    assert (subscribed.webhook_id, subscribed.vehicle_id) == (DEFAULT_WEBHOOK_ID, EV_ID)
    assert sim.subscriptions("ev") == [DEFAULT_WEBHOOK_ID]
    assert sim.subscriptions("phev") == []

    unknown = _raises(lambda: vehicle.subscribe("00000000-0000-0000-0000-000000000000"))
    assert (unknown.status_code, unknown.type, unknown.code) == (
        404,
        "RESOURCE_NOT_FOUND",
        "WEBHOOK_NOT_FOUND",
    )
    # The user's access token is not the application management token.
    not_amt = _raises(lambda: vehicle.unsubscribe(token, DEFAULT_WEBHOOK_ID))
    assert (not_amt.status_code, not_amt.type) == (401, "AUTHENTICATION")
    assert sim.subscriptions("ev") == [DEFAULT_WEBHOOK_ID]

    assert vehicle.unsubscribe(DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID).status == "success"
    assert sim.subscriptions("ev") == []
    assert sim.counters["billed"] == {}  # subscriptions never reach the car


def test_management_connections(api: str, sim: Simulator) -> None:
    """get_connections / delete_connections (v2 management API, the AMT as Basic auth)."""
    listed = smartcar.get_connections(DEFAULT_MANAGEMENT_TOKEN)
    expected = {(c.vehicle_id, c.user_id) for c in sim.accounts.connections.values()}
    assert {(c.vehicle_id, c.user_id) for c in listed.connections} == expected
    assert all(c.connected_at for c in listed.connections)
    assert listed.paging.cursor is None

    first = smartcar.get_connections(DEFAULT_MANAGEMENT_TOKEN, paging={"limit": 2})
    assert len(first.connections) == 2
    rest = smartcar.get_connections(
        DEFAULT_MANAGEMENT_TOKEN, paging={"limit": 2, "cursor": first.paging.cursor}
    )
    assert {c.vehicle_id for c in first.connections + rest.connections} == set(sim.fleet)
    only_ev = smartcar.get_connections(DEFAULT_MANAGEMENT_TOKEN, filter={"vehicle_id": EV_ID})
    assert [c.vehicle_id for c in only_ev.connections] == [EV_ID]

    deleted = smartcar.delete_connections(DEFAULT_MANAGEMENT_TOKEN, {"vehicle_id": PETROL_ID})
    assert [(c.vehicle_id, c.user_id) for c in deleted.connections] == [(PETROL_ID, USER_ID)]
    assert not sim.accounts.has_vehicle(USER_ID, PETROL_ID)
    assert sim.accounts.has_vehicle(USER_ID, EV_ID)

    refused = _raises(lambda: smartcar.get_connections("not-the-amt"))
    assert (refused.status_code, refused.type) == (401, "AUTHENTICATION")


# -- errors -----------------------------------------------------------------------------------


def test_invalid_expired_and_revoked_tokens(token: str, sim: Simulator) -> None:
    """A token Smartcar does not know, one that expired, one revoked: 401 AUTHENTICATION."""
    invalid = _raises(smartcar.Vehicle(EV_ID, "not-a-token").battery)
    assert (invalid.status_code, invalid.type, invalid.code) == (401, "AUTHENTICATION", None)
    assert invalid.resolution == {"type": "REAUTHENTICATE", "url": None}
    assert invalid.request_id
    assert invalid.doc_url.startswith("https://smartcar.com/docs/errors/")
    assert invalid.suggested_user_message
    assert str(invalid).startswith("AUTHENTICATION - ")
    assert _raises(lambda: smartcar.get_user("not-a-token")).status_code == 401

    assert smartcar.get_user(token).id == USER_ID
    sim.clock.advance(DEFAULT_ACCESS_TTL)
    expired = _raises(lambda: smartcar.get_vehicles(token))
    assert (expired.status_code, expired.type) == (401, "AUTHENTICATION")

    fresh = sim.issue_tokens().access_token
    assert smartcar.get_user(fresh).id == USER_ID
    sim.revoke_tokens()
    revoked = _raises(lambda: smartcar.get_user(fresh))
    assert (revoked.status_code, revoked.type) == (401, "AUTHENTICATION")
    assert sim.counters["billed"] == {}


def test_permission_and_compatibility_errors(api: str, sim: Simulator) -> None:
    """403 PERMISSION for what was not granted; 501 COMPATIBILITY for what the car lacks."""
    token = sim.issue_tokens(scope=["read_odometer", "read_battery"]).access_token
    refused = _raises(smartcar.Vehicle(EV_ID, token).location)
    assert (refused.status_code, refused.type) == (403, "PERMISSION")
    assert refused.resolution == {"type": "REAUTHENTICATE", "url": None}
    incapable = _raises(smartcar.Vehicle(PETROL_ID, token).battery)
    assert (incapable.status_code, incapable.type, incapable.code) == (
        501,
        "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE",
    )
    assert str(incapable).startswith("COMPATIBILITY:VEHICLE_NOT_CAPABLE - ")


def test_injected_rate_limit_and_vehicle_state(token: str, sim: Simulator) -> None:
    """Injected faults reach the SDK as Smartcar's errors, retry-after included."""
    vehicle = smartcar.Vehicle(EV_ID, token)
    sim.inject_fault(
        vehicle_id="ev",
        path="/battery",
        count=1,
        error={"type": "RATE_LIMIT", "code": "VEHICLE", "status": 429, "retry_after": 30},
    )
    limited = _raises(vehicle.battery)
    assert (limited.status_code, limited.type, limited.code) == (429, "RATE_LIMIT", "VEHICLE")
    assert limited.retry_after == "30"
    assert limited.resolution == {"type": "RETRY_LATER", "url": None}
    # The fault fired once; the next read reaches the car.
    assert vehicle.battery().percent_remaining == pytest.approx(
        sim.vehicle("ev").reported()[0].battery, abs=1e-4
    )

    sim.inject_fault(
        vehicle_id="ev",
        path="/security",
        method="POST",
        count=1,
        error={"type": "VEHICLE_STATE", "code": "ASLEEP"},
    )
    asleep = _raises(vehicle.unlock)
    assert (asleep.status_code, asleep.type, asleep.code) == (409, "VEHICLE_STATE", "ASLEEP")
    assert sim.vehicle("ev").state.locked is True  # the command never reached the car


@pytest.mark.parametrize("sim_options", [{"rate_limit": 2, "rate_limit_window": 600}])
def test_real_rate_limit(token: str, sim: Simulator) -> None:
    """The simulator's own per-vehicle limit: 429 with the seconds until a slot frees."""
    vehicle = smartcar.Vehicle(EV_ID, token)
    vehicle.odometer()
    sim.clock.advance(100)
    vehicle.odometer()
    limited = _raises(vehicle.odometer)
    assert (limited.status_code, limited.type) == (429, "RATE_LIMIT")
    assert limited.retry_after == "500"  # the first request leaves the window then
    sim.clock.advance(500)
    assert vehicle.odometer().distance == pytest.approx(sim.vehicle("ev").state.odometer, abs=0.05)


# -- what the simulator does not simulate -----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda v: v.tire_pressure(), "/tires/pressure"),
        (lambda v: v.battery_capacity(), "/battery/capacity"),
        (lambda v: v.nominal_capacity(), "/battery/nominal_capacity"),
        (lambda v: v.service_history(), "/service/history"),
        (lambda v: v.diagnostic_system_status(), "/diagnostics/system_status"),
    ],
)
def test_reads_the_simulator_does_not_have(
    token: str, sim: Simulator, call: Callable[[smartcar.Vehicle], object], path: str
) -> None:
    """SDK reads with no simulated data: a clean 404 PATH_NOT_FOUND, not billed."""
    missing = _raises(lambda: call(smartcar.Vehicle(PHEV_ID, token)))
    assert (missing.status_code, missing.type, missing.code) == (
        404,
        "RESOURCE_NOT_FOUND",
        "PATH_NOT_FOUND",
    )
    assert path in missing.description
    assert sim.counters["billed"] == {}


def test_compatibility_api_is_not_simulated(api: str) -> None:
    """get_compatibility / get_compatibility_matrix: not simulated, a clean 404."""
    credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    missing = _raises(
        lambda: smartcar.get_compatibility("5YJ3E1EA0PF419273", ["read_battery"], "US", credentials)
    )
    assert (missing.status_code, missing.type) == (404, "RESOURCE_NOT_FOUND")
    matrix = _raises(lambda: smartcar.smartcar.get_compatibility_matrix("US", "TESLA", credentials))
    assert (matrix.status_code, matrix.type) == (404, "RESOURCE_NOT_FOUND")


# -- v3 (another origin: SMARTCAR_VEHICLE_API_V3_ORIGIN, read into smartcar.config) -----------


@pytest.fixture
def v3_token(token: str, monkeypatch: pytest.MonkeyPatch, api: str) -> str:
    """The user's access token, the SDK's v3 origin pointing at the simulator.

    The SDK's v3 calls send only `Authorization: Bearer` (no `sc-user-id`), so they are made
    with the user's access token, which the simulator accepts on /v3/vehicles.
    """
    monkeypatch.setattr(smartcar.config, "VEHICLE_API_ORIGIN", api)
    return token


@pytest.mark.parametrize(("key", "powertrain"), [("ev", "BEV"), ("petrol", "ICE")])
def test_v3_get_vehicle(v3_token: str, sim: Simulator, key: str, powertrain: str) -> None:
    """smartcar.smartcar.get_vehicle (not re-exported by the package): GET /v3/vehicles/{id}, not billed."""
    car = sim.vehicle(key)
    response = smartcar.smartcar.get_vehicle(v3_token, car.id)
    data = response["body"]["data"]
    assert data["id"] == car.id
    assert data["attributes"]["make"] == car.spec.make.upper()
    assert (data["attributes"]["model"], data["attributes"]["year"]) == (
        car.spec.model,
        car.spec.year,
    )
    assert data["attributes"]["powertrainType"] == powertrain
    assert response["headers"]["sc-request-id"]
    assert sim.counters["billed"] == {}


def test_v3_get_signals_and_signal(v3_token: str, sim: Simulator) -> None:
    """Vehicle.get_signals and Vehicle.get_signal read the car's last report."""
    phev, petrol = sim.vehicle("phev"), sim.vehicle("petrol")
    state, reported_at = phev.reported()
    signals = smartcar.Vehicle(PHEV_ID, v3_token).get_signals()["body"]
    by_code = {s["attributes"]["code"]: s for s in signals["data"]}
    assert by_code["odometer-traveleddistance"]["attributes"]["body"]["value"] == round(
        state.odometer, 1
    )
    assert by_code["tractionbattery-stateofcharge"]["meta"]["oemUpdatedAt"] == isoformat_ms(
        reported_at
    )
    assert "internalcombustionengine-fuellevel" in by_code

    petrol_codes = {
        s["attributes"]["code"]
        for s in smartcar.Vehicle(PETROL_ID, v3_token).get_signals()["body"]["data"]
    }
    assert not any(code.startswith("tractionbattery-") for code in petrol_codes)

    vin = smartcar.Vehicle(PETROL_ID, v3_token).get_signal("vehicleidentification-vin")
    assert vin["body"]["data"]["attributes"]["body"] == {"value": petrol.spec.vin}
    missing = _raises(
        lambda: smartcar.Vehicle(PETROL_ID, v3_token).get_signal("tractionbattery-stateofcharge")
    )
    assert (missing.status_code, missing.type, missing.code) == (
        501,
        "COMPATIBILITY",
        "VEHICLE_NOT_CAPABLE",
    )
    assert _billed(sim, PHEV_ID) == {"GET /v3/signals": 1}
    assert _billed(sim, PETROL_ID) == {
        "GET /v3/signals": 1,
        "GET /v3/signals/vehicleidentification-vin": 1,
        "GET /v3/signals/tractionbattery-stateofcharge": 1,
    }


def test_v2_retired(v3_token: str, sim: Simulator) -> None:
    """With v2.0 retired the SDK's v2 calls raise the 410 VERSION error; its v3 calls go on."""
    sim.v2_retired = True
    for call in (
        lambda: smartcar.get_user(v3_token),
        lambda: smartcar.get_vehicles(v3_token),
        lambda: smartcar.Vehicle(EV_ID, v3_token).battery(),
        lambda: smartcar.Vehicle(EV_ID, v3_token).unlock(),
    ):
        error = _raises(call)
        assert (error.status_code, error.type, error.code) == (
            410,
            "VERSION",
            "API_VERSION_RETIRED",
        )
        assert error.resolution == {"type": "CONTACT_SUPPORT", "url": None}
    assert sim.vehicle("ev").state.locked  # the unlock never reached the car
    signals = smartcar.Vehicle(EV_ID, v3_token).get_signals()["body"]["data"]
    assert len(signals) > 0
    assert _billed(sim, EV_ID) == {"GET /v3/signals": 1}
