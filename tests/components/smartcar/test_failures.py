"""Every kind of Smartcar failure, end to end against the simulator.

Each test injects one failure the way Smartcar (or the network in between) produces it and
checks what the user sees (entity states, repairs, reauthentication, logs) and what reaches
Smartcar afterwards (the simulator's counters), so that a regression in either shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import logging
import socket
from typing import Any

from homeassistant.components.lock import LockState
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import TEST_NOW
from tests.const import EV_ID, PETROL_ID, PHEV_ID

from .conftest import Clock, poll
from .flow_helpers import sign_in
from .helpers import (
    ASLEEP,
    BATTERY,
    CHARGE_LIMIT,
    COUNTERS,
    EV_NAME,
    EV_PATHS,
    HOUR,
    LOCK,
    NOT_CAPABLE,
    ODOMETER,
    PETROL_PATHS,
    PHEV_PATHS,
    RATE_LIMITED,
    TRACKER,
    assert_smartcar_words,
    batches,
    billed_by_vehicle,
    billed_paths as billed,
    billed_since,
    device,
    each,
    expire_access_token,
    http_total,
    reauth_flows,
    recorded_states,
    records,
    refresh,
    repairs,
    set_charge_limit,
    set_destination,
    unlock,
    update,
)

# The simulator's rate-limit window: two hours, so that the hourly polls of these tests reach
# a limit that the setup's requests still count against.
RATE_WINDOW = 7200

# What the simulator's Smartcar says to the user (suggestedUserMessage) per error type.
SERVER_MESSAGE = "Something went wrong on our end. Please try again later."
REAUTH_MESSAGE = "Please reconnect your vehicle to continue."


@pytest.fixture
def polling() -> timedelta:
    """Poll every needed path every hour, so that every poll asks Smartcar something."""
    return timedelta(minutes=60)


@pytest.fixture
def rate_limit() -> int:
    """Smartcar's per-vehicle rate limit (high: only the rate-limit tests want to reach it)."""
    return 100_000


@pytest.fixture
def simulator(rate_limit: int) -> Simulator:
    """The default world, with the rate limit of the test."""
    return Simulator(
        clock=VirtualClock(start=TEST_NOW, frozen=True),
        rate_limit=rate_limit,
        rate_limit_window=RATE_WINDOW,
    )


# --- helpers ---------------------------------------------------------------------------------


def vehicle_entities(hass: HomeAssistant, entry: MockConfigEntry, vehicle_id: str) -> list[str]:
    """Entity ids of one vehicle's enabled entities that show what the car said.

    The request counters are left out: they count, so they change with every request.
    """
    vehicle = device(hass, entry, vehicle_id)
    assert vehicle is not None
    return sorted(
        e.entity_id
        for e in er.async_entries_for_device(er.async_get(hass), vehicle.id)
        if not e.unique_id.endswith(COUNTERS)
    )


def states(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, str | None]:
    """Current state of each entity (None when it has none)."""
    return {e: s.state if (s := hass.states.get(e)) else None for e in entity_ids}


# --- AUTHENTICATION --------------------------------------------------------------------------


@pytest.mark.usefixtures("current_request_with_host")
async def test_401_silences_every_vehicle_until_reauthenticated(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """Smartcar answers 401: reauthentication, and no vehicle sends anything until it is done."""
    simulator.revoke_tokens()
    before = batches(simulator)
    await poll(hass, init_integration, clock, HOUR)
    # Only the first car of the entry learnt it; the others did not even try.
    assert batches(simulator) == before + 1
    assert len(reauth_flows(hass)) == 1

    silent = http_total(simulator)
    for elapsed in (timedelta(minutes=2), HOUR, 5 * HOUR):
        await poll(hass, init_integration, clock, elapsed)
    assert http_total(simulator) == silent
    assert len(reauth_flows(hass)) == 1  # asked once, not once per car or per poll
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE

    # The user signs in again: the entry reloads and the cars are read again.
    flow = reauth_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    result = await sign_in(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED

    before = batches(simulator)
    await poll(hass, init_integration, clock, HOUR)
    assert batches(simulator) == before + 3
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_refused_refresh_token_silences_every_vehicle(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The token endpoint refuses the refresh: one token request, reauth, then silence."""
    expire_access_token(hass, init_integration)
    simulator.revoke_tokens()
    api_before = batches(simulator)
    await poll(hass, init_integration, clock, HOUR)
    assert simulator.counters["token_requests"] == {"refresh_token": 1}
    assert len(reauth_flows(hass)) == 1

    silent = http_total(simulator)
    for _ in range(3):
        await poll(hass, init_integration, clock, HOUR)
    assert http_total(simulator) == silent
    assert simulator.counters["token_requests"] == {"refresh_token": 1}
    assert batches(simulator) == api_before
    assert len(reauth_flows(hass)) == 1


async def test_no_command_is_sent_while_reauthentication_is_pending(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """After a 401 not even a command is sent: it could only be refused again."""
    simulator.revoke_tokens()
    await poll(hass, init_integration, clock, HOUR)
    assert len(reauth_flows(hass)) == 1
    silent = http_total(simulator)
    # Entity actions are skipped by Home Assistant: every entity is unavailable now.
    await unlock(hass)
    assert http_total(simulator) == silent
    # The integration's own action has no entity in between.
    ev = device(hass, init_integration, EV_ID)
    assert ev is not None
    with pytest.raises(HomeAssistantError):
        await set_destination(hass, ev.id)
    assert http_total(simulator) == silent


# --- PERMISSION ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inject", "permission", "path", "refused"),
    [
        (
            lambda sim: sim.deny_permissions(EV_ID, ["read_location"]),
            "read_location",
            "GET /location",
            [TRACKER],
        ),
        (
            lambda sim: sim.inject_fault(
                vehicle_id=EV_ID, path="/odometer", error={"type": "PERMISSION", "status": 403}
            ),
            "read_odometer",
            "GET /odometer",
            [ODOMETER],
        ),
    ],
    ids=["permission_withdrawn", "permission_fault"],
)
async def test_403_on_one_path(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    inject: Callable[[Simulator], Any],
    permission: str,
    path: str,
    refused: list[str],
) -> None:
    """PERMISSION on one path: only its entities go, a repair names it, no reauthentication."""
    entities = vehicle_entities(hass, init_integration, EV_ID)
    inject(simulator)
    await poll(hass, init_integration, clock, HOUR)

    after = states(hass, entities)
    assert [e for e, s in after.items() if s == STATE_UNAVAILABLE] == refused
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert not reauth_flows(hass)

    issues = repairs(hass, "missing_permission")
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {"vehicle": EV_NAME, "permission": permission}

    # The refused path is not asked again; the others are.
    asked = billed(simulator, EV_ID)
    for _ in range(3):
        await poll(hass, init_integration, clock, HOUR)
    now = billed(simulator, EV_ID)
    assert now[path] == asked[path]
    assert now["GET /battery"] == asked["GET /battery"] + 3
    assert not reauth_flows(hass)


# --- COMPATIBILITY ---------------------------------------------------------------------------


async def test_501_mid_life_removes_the_entity_for_good(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
) -> None:
    """The car stops supporting /odometer: its entity leaves the registry and it is not asked."""
    assert entity_registry.async_get(ODOMETER) is not None
    simulator.inject_fault(vehicle_id=EV_ID, path="/odometer", count=1, error=NOT_CAPABLE)
    await poll(hass, init_integration, clock, HOUR)
    assert entity_registry.async_get(ODOMETER) is None
    assert hass.states.get(ODOMETER) is None
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)

    asked = billed(simulator, EV_ID)["GET /odometer"]
    for _ in range(3):
        await poll(hass, init_integration, clock, HOUR)
    # Remembered across a restart too.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await poll(hass, init_integration, clock, HOUR)
    assert billed(simulator, EV_ID)["GET /odometer"] == asked
    assert entity_registry.async_get(ODOMETER) is None


# --- VEHICLE_STATE ---------------------------------------------------------------------------


@pytest.mark.parametrize("paths", [EV_PATHS, ("/batch",)], ids=["every_path", "whole_batch"])
async def test_asleep_car_keeps_its_values(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    paths: tuple[str, ...],
) -> None:
    """Every path, or the batch request itself, answers 409 ASLEEP for several polls: the car
    is asked every hour, its values stay, nothing flaps to unavailable or unknown."""
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    for path in paths:
        simulator.inject_fault(vehicle_id=EV_ID, path=path, error=ASLEEP)
    asked = batches(simulator)
    with recorded_states(hass, entities) as seen:
        for _ in range(4):
            await poll(hass, init_integration, clock, HOUR)
    assert batches(simulator) == asked + 3 * 4  # the car was asked every hour
    assert not [s for s in seen if s[1] in (STATE_UNAVAILABLE, STATE_UNKNOWN)]
    assert states(hass, entities) == before


# --- RATE_LIMIT ------------------------------------------------------------------------------


async def test_429_waits_for_retry_after(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """429 with retry-after 600: nothing goes to the car for 10 minutes; values stay."""
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", count=1, error=RATE_LIMITED)
    asked = batches(simulator)
    with recorded_states(hass, entities) as seen:
        await poll(hass, init_integration, clock, HOUR)
        assert batches(simulator) == asked + 3  # the throttled one included
        throttled = http_total(simulator)

        # The other cars are not due before an hour: any request now would be the Tesla's.
        await poll(hass, init_integration, clock, timedelta(minutes=5))
        assert http_total(simulator) == throttled
        with pytest.raises(HomeAssistantError) as exc_info:
            await unlock(hass)
        assert exc_info.value.translation_key == "rate_limited"
        await poll(hass, init_integration, clock, timedelta(minutes=4, seconds=50))
        assert http_total(simulator) == throttled
        assert simulator.vehicle(EV_ID).state.locked is True
        assert states(hass, entities) == before

        await poll(hass, init_integration, clock, timedelta(seconds=20))
        assert batches(simulator) == asked + 4
    assert not [s for s in seen if s[1] == STATE_UNAVAILABLE]
    assert hass.states.get(BATTERY).state == before[BATTERY]


@pytest.mark.usefixtures("ha_services")
async def test_429_on_one_path_of_a_batch_waits_for_retry_after(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """One item of the batch answers 429 with retry-after 600: every value stays, nothing goes
    to that car for 10 minutes (no poll, command or explicit refresh), then it is read again."""
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    simulator.inject_fault(vehicle_id=EV_ID, path="/battery", count=1, error=RATE_LIMITED)
    spent = billed_by_vehicle(simulator)
    with recorded_states(hass, entities) as seen:
        await poll(hass, init_integration, clock, HOUR)
        # The batch went out whole (the throttled item is billed as Smartcar bills it).
        assert billed_since(simulator, spent)[EV_ID] == each(EV_PATHS)
        assert states(hass, entities) == before
        simulator.vehicle(EV_ID).set(battery=0.42)  # what the next read will find
        throttled = http_total(simulator)

        # Inside retry-after: the other cars are not due before an hour, so any request now
        # would be the Tesla's. Neither polls, a command nor an explicit refresh send one.
        await poll(hass, init_integration, clock, timedelta(minutes=5))
        with pytest.raises(HomeAssistantError) as exc_info:
            await unlock(hass)
        assert exc_info.value.translation_key == "rate_limited"
        with pytest.raises(HomeAssistantError) as exc_info:
            await refresh(hass, BATTERY)
        assert exc_info.value.translation_key == "refresh_rate_limited"
        await update(hass, BATTERY)
        await poll(hass, init_integration, clock, timedelta(minutes=4, seconds=50))
        assert http_total(simulator) == throttled
        assert simulator.vehicle(EV_ID).state.locked is True
        assert states(hass, entities) == before
    assert not [s for s in seen if s[1] in (STATE_UNAVAILABLE, STATE_UNKNOWN)]

    # Past retry-after the car is read again: at once when asked, and by the hourly poll.
    clock.advance(timedelta(seconds=20))
    spent = billed_by_vehicle(simulator)
    await update(hass, BATTERY)
    assert billed_since(simulator, spent) == {EV_ID: {"GET /battery": 1}}
    assert float(hass.states.get(BATTERY).state) == 42
    spent = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, timedelta(minutes=50))
    assert billed_since(simulator, spent)[EV_ID] == each(EV_PATHS)


@pytest.mark.parametrize("rate_limit", [12])
async def test_smartcars_own_rate_limit_is_respected(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Smartcar's real per-vehicle limit: its retry-after header is honoured for every car."""
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    asked = batches(simulator)
    await poll(hass, init_integration, clock, HOUR)  # setup used 10 of 12: every car is refused
    assert batches(simulator) == asked + 3
    throttled = http_total(simulator)
    for _ in range(3):
        await poll(hass, init_integration, clock, timedelta(minutes=19))
    # 57 minutes: the setup's requests are still inside Smartcar's two-hour window.
    assert http_total(simulator) == throttled
    assert states(hass, entities) == before

    await poll(hass, init_integration, clock, timedelta(minutes=4))  # now they left it
    assert batches(simulator) == asked + 6
    # Besides the three batches: the token refresh the two hours made due.
    assert http_total(simulator) == throttled + 3 + 1
    assert simulator.counters["token_requests"]["refresh_token"] == 1
    assert states(hass, entities) == before


# --- BILLING ---------------------------------------------------------------------------------


async def test_430_stops_polling_for_a_day(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """BILLING: no request for 24 h, a repair issue, values kept; cleared by the next success."""
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/batch", count=1, error={"type": "BILLING", "status": 430}
    )
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    await poll(hass, init_integration, clock, HOUR)
    issues = repairs(hass, "billing_limit")
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {"vehicle": EV_NAME}
    assert states(hass, entities) == before

    spent = billed_by_vehicle(simulator)
    for _ in range(23):
        await poll(hass, init_integration, clock, HOUR)
    # Nothing to the Tesla for a day; the others went on every hour.
    assert billed_since(simulator, spent) == {
        PHEV_ID: each(PHEV_PATHS, 23),
        PETROL_ID: each(PETROL_PATHS, 23),
    }
    assert states(hass, entities) == before

    spent = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, HOUR)
    assert billed_since(simulator, spent) == {
        EV_ID: each(EV_PATHS),
        PHEV_ID: each(PHEV_PATHS),
        PETROL_ID: each(PETROL_PATHS),
    }
    assert not repairs(hass, "billing_limit")
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


# --- SERVER, UPSTREAM, timeouts, connection errors, garbage ------------------------------------


def _dead_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _break_with_fault(**fault: Any) -> Callable[[Simulator, MockConfigEntry], Callable[[], None]]:
    def breaker(simulator: Simulator, entry: MockConfigEntry) -> Callable[[], None]:
        simulator.inject_fault(vehicle_id=EV_ID, path="/batch", **fault)
        return simulator.clear_faults

    return breaker


def _break_with_timeout(simulator: Simulator, entry: MockConfigEntry) -> Callable[[], None]:
    client = entry.runtime_data.client
    timeout = client._timeout
    client._timeout = 0.2
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", kind="slow", delay=1.0)

    def repair() -> None:
        simulator.clear_faults()
        client._timeout = timeout

    return repair


def _break_the_network(simulator: Simulator, entry: MockConfigEntry) -> Callable[[], None]:
    client = entry.runtime_data.client
    url = client._api_url
    client._api_url = f"http://127.0.0.1:{_dead_port()}/v2.0"

    def repair() -> None:
        client._api_url = url

    return repair


@pytest.mark.parametrize(
    ("breaker", "only_the_ev"),
    [
        (_break_with_fault(error={"type": "SERVER", "status": 500}), True),
        (_break_with_fault(error={"type": "UPSTREAM", "status": 502}), True),
        (_break_with_fault(error={"type": "UPSTREAM", "status": 504}), True),
        (_break_with_fault(kind="non_json"), True),
        (_break_with_fault(kind="empty"), True),
        (_break_with_fault(kind="malformed"), True),
        (_break_with_timeout, True),
        (_break_the_network, False),
    ],
    ids=[
        "server_500",
        "upstream_502",
        "upstream_504",
        "non_json",
        "empty",
        "malformed",
        "timeout",
        "connection_refused",
    ],
)
async def test_transient_failure_backs_off_and_recovers(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    breaker: Callable[[Simulator, MockConfigEntry], Callable[[], None]],
    only_the_ev: bool,
) -> None:
    """Retried after 2, 4, 8 minutes; unavailable only meanwhile; one error, one recovery line."""
    caplog.set_level(logging.INFO, logger="custom_components.smartcar")
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    entities = vehicle_entities(hass, init_integration, EV_ID)
    before = states(hass, entities)
    repair = breaker(simulator, init_integration)

    await poll(hass, init_integration, clock, HOUR)
    assert set(states(hass, entities).values()) == {STATE_UNAVAILABLE}
    if only_the_ev:
        assert hass.states.get("lock.toyota_rav4_prime").state == LockState.LOCKED
    assert coordinator.update_interval == timedelta(minutes=2)
    for retry in (2, 4):
        await poll(hass, init_integration, clock, timedelta(minutes=retry))
        assert coordinator.update_interval == timedelta(minutes=2 * retry)
        assert set(states(hass, entities).values()) == {STATE_UNAVAILABLE}
    assert coordinator.last_update_success is False
    assert len(records(caplog, logging.ERROR, EV_NAME)) == 1

    repair()
    await poll(hass, init_integration, clock, timedelta(minutes=8))
    assert states(hass, entities) == before
    assert coordinator.update_interval == HOUR
    await poll(hass, init_integration, clock, HOUR)
    assert len(records(caplog, logging.ERROR, EV_NAME)) == 1
    assert len(records(caplog, logging.INFO, EV_NAME, "recovered")) == 1


async def test_retries_are_real_requests(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Each retry asks Smartcar again; the delay stops growing at an hour, resets on success."""
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", error={"type": "SERVER", "status": 500})
    await poll(hass, init_integration, clock, HOUR)
    delays = []
    asked = billed(simulator, EV_ID)["GET /battery"]
    for _ in range(8):
        await poll(hass, init_integration, clock, coordinator.update_interval)
        delays.append(coordinator.update_interval)
    assert billed(simulator, EV_ID)["GET /battery"] == asked + 8
    assert [d.total_seconds() / 60 for d in delays] == [4, 8, 16, 32, 60, 60, 60, 60]

    # A success starts the next failure's backoff afresh.
    simulator.clear_faults()
    await poll(hass, init_integration, clock, coordinator.update_interval)
    assert coordinator.last_update_success
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", error={"type": "SERVER", "status": 500})
    await poll(hass, init_integration, clock, HOUR)
    assert coordinator.update_interval == timedelta(minutes=2)


# --- vehicle removed -------------------------------------------------------------------------


async def test_vehicle_removed_from_account_loses_its_device(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
) -> None:
    """The Ford leaves the account: its batch answers 404 and its device goes, by itself."""
    ford = device(hass, init_integration, PETROL_ID)
    assert ford is not None
    ford_entities = [e.entity_id for e in er.async_entries_for_device(entity_registry, ford.id)]
    assert ford_entities
    connection = next(
        c for c in simulator.accounts.connections.values() if c.vehicle_id == PETROL_ID
    )
    simulator.accounts.disconnect(connection.id)

    await poll(hass, init_integration, clock, HOUR)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert device(hass, init_integration, PETROL_ID) is None
    assert all(entity_registry.async_get(e) is None for e in ford_entities)
    assert set(init_integration.runtime_data.coordinators) == {EV_ID, PHEV_ID}
    assert not reauth_flows(hass)

    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert hass.states.get("lock.toyota_rav4_prime").state == LockState.LOCKED


async def test_404_for_a_vehicle_still_in_the_account_keeps_it(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A stray 404 for a car that is still listed does not remove it."""
    simulator.inject_fault(
        vehicle_id=PETROL_ID,
        path="/batch",
        count=1,
        error={"type": "RESOURCE_NOT_FOUND", "code": "VEHICLE_NOT_FOUND", "status": 404},
    )
    await poll(hass, init_integration, clock, HOUR)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert device(hass, init_integration, PETROL_ID) is not None
    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get("sensor.ford_focus_odometer").state not in (
        STATE_UNAVAILABLE,
        STATE_UNKNOWN,
    )


# --- commands --------------------------------------------------------------------------------


async def test_command_server_error_shows_smartcars_message(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A 500 on a command: translated error with Smartcar's suggestedUserMessage, lock unchanged."""
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/security", method="POST", error={"type": "SERVER", "status": 500}
    )
    with pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    assert_smartcar_words(exc_info.value, "command_failed", "SERVER", SERVER_MESSAGE)
    assert simulator.vehicle(EV_ID).state.locked is True
    assert hass.states.get(LOCK).state == LockState.LOCKED


@pytest.mark.parametrize("kind", ["non_json", "timeout"])
async def test_command_transport_failure(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, kind: str
) -> None:
    """No usable answer to a command: translated error, the lock stays as confirmed."""
    if kind == "timeout":
        init_integration.runtime_data.client._timeout = 0.2
        simulator.inject_fault(
            vehicle_id=EV_ID, path="/security", method="POST", kind="slow", delay=1.0
        )
    else:
        simulator.inject_fault(vehicle_id=EV_ID, path="/security", method="POST", kind=kind)
    with pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    # No answer of Smartcar's API: our identifier, no words of Smartcar's, nothing in English.
    assert exc_info.value.translation_key == "command_failed"
    code = {"timeout": "TIMEOUT", "non_json": "INVALID_RESPONSE"}[kind]
    assert exc_info.value.translation_placeholders == {"code": code}
    assert str(exc_info.value) == (
        f"The vehicle did not carry out the command (Smartcar error {code})"
    )
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_command_401_starts_reauth_and_silences_the_entry(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A command answered 401: Smartcar's message, a reauthentication, no polling after."""
    simulator.inject_fault(
        vehicle_id=EV_ID,
        path="/security",
        method="POST",
        error={"type": "AUTHENTICATION", "status": 401},
    )
    with pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    assert_smartcar_words(exc_info.value, "command_failed", "AUTHENTICATION", REAUTH_MESSAGE)
    await hass.async_block_till_done()
    assert len(reauth_flows(hass)) == 1
    silent = http_total(simulator)
    for _ in range(2):
        await poll(hass, init_integration, clock, HOUR)
    assert http_total(simulator) == silent


async def test_unconfirmed_command_returns_to_the_cars_state(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A command answered with garbage that the car did not carry out: the lock shows the truth.

    Unlocking while the command is in flight, then the expected state as soon as it was
    answered, then the confirmation read puts the real one back.
    """
    simulator.inject_fault(vehicle_id=EV_ID, path="/security", method="POST", kind="malformed")
    with recorded_states(hass, [LOCK]) as seen:
        await unlock(hass)
    assert simulator.vehicle(EV_ID).state.locked is True
    assert [s for _, s in seen] == [LockState.UNLOCKING, LockState.UNLOCKED, LockState.LOCKED]
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_failed_confirmation_keeps_the_commanded_state(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """The command worked but the confirmation read failed: the lock shows the command's result."""
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/batch", count=1, error={"type": "UPSTREAM", "status": 502}
    )
    await unlock(hass)
    assert simulator.vehicle(EV_ID).state.locked is False
    assert hass.states.get(LOCK).state == LockState.UNLOCKED


# --- bad action input ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [49, 49.4, 101, 0, -80, 1000])
async def test_charge_limit_out_of_range_sends_nothing(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, value: float
) -> None:
    """number.set_value outside 50-100 % is a validation error; nothing reaches Smartcar."""
    before = simulator.counters
    with pytest.raises(ServiceValidationError):
        await set_charge_limit(hass, value)
    assert simulator.counters == before
    assert simulator.vehicle(EV_ID).state.charge_limit == pytest.approx(0.8)
    assert hass.states.get(CHARGE_LIMIT).state == "80"


async def test_charge_limit_refused_by_the_entity_itself(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Past Home Assistant's own range check, the entity still refuses and counts nothing."""
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    entity = hass.data["entity_components"][NUMBER_DOMAIN].get_entity(CHARGE_LIMIT)
    before = simulator.counters
    used = coordinator.requests_this_month
    with pytest.raises(ServiceValidationError):
        await entity.async_set_native_value(120)
    assert simulator.counters == before
    assert coordinator.requests_this_month == used
