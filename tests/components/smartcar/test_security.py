"""Credentials and access: token rotation, the unlock PIN, entry isolation, nothing in the logs.

Tokens rotate on every refresh and the old refresh token dies a minute later, so the new one
must be on the entry before it is used, refreshed once per account however many cars ask,
and survive a restart. Commands reach only the cars of the entry whose device was named. A
whole session at DEBUG level leaves no token, secret, VIN, user id or position in the log.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import re
from typing import Any

from homeassistant.components.lock import (
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_CODE,
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    EVENT_LOGGING_CHANGED,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator, VirtualClock
from smartcar_simulator.accounts import Accounts
from smartcar_simulator.tokens import OAuthError, TokenSet
from tests.conftest import TEST_NOW, token_data
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, PETROL_ID, PHEV_ID, USER_ID

from .conftest import Clock, add_credentials, poll, setup_entry
from .helpers import (
    BATTERY,
    HOUR,
    LOCK,
    batches,
    billed_by_vehicle as billed,
    billed_since,
    device,
    expire_access_token,
    refresh_accepted,
    set_charge_limit,
    set_destination,
    set_destination_refused,
    unlock,
    update,
)

PIN = "2468"
OTHER_USER = "3c9e1f52-8a7d-4b6e-a0c1-9d2e3f4a5b6c"


@pytest.fixture
def polling() -> timedelta:
    """Poll every needed path every hour."""
    return HOUR


@pytest.fixture
def extra_vehicles() -> int:
    """Generated vehicles added to the default three."""
    return 0


@pytest.fixture
def simulator(extra_vehicles: int) -> Simulator:
    """The default world (plus generated cars when a test asks for them)."""
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), extra_vehicles=extra_vehicles)


def record_refreshes(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, TokenSet]]:
    """Every successful refresh at the token endpoint: (the refresh token used, what it got)."""
    seen: list[tuple[str, TokenSet]] = []
    original = simulator.tokens.refresh

    def refresh(client_id: str, token: str) -> TokenSet:
        tokens = original(client_id, token)
        seen.append((token, tokens))
        return tokens

    monkeypatch.setattr(simulator.tokens, "refresh", refresh)
    return seen


# --- token rotation --------------------------------------------------------------------------


async def test_rotated_refresh_token_is_stored_before_the_new_access_token_is_used(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When Smartcar first sees the new access token, the entry already holds the new pair."""
    refreshes = record_refreshes(simulator, monkeypatch)
    on_entry_at_first_use: list[dict[str, Any]] = []
    authenticate = simulator.tokens.authenticate

    def spy(token: str) -> Any:
        if refreshes and token == refreshes[-1][1].access_token and not on_entry_at_first_use:
            on_entry_at_first_use.append(dict(init_integration.data["token"]))
        return authenticate(token)

    monkeypatch.setattr(simulator.tokens, "authenticate", spy)
    old = init_integration.data["token"]["refresh_token"]
    expire_access_token(hass, init_integration)
    await poll(hass, init_integration, clock, HOUR)

    assert len(refreshes) == 1
    used, new = refreshes[0]
    assert used == old
    assert on_entry_at_first_use, "the new access token was never used"
    assert on_entry_at_first_use[0]["refresh_token"] == new.refresh_token
    assert on_entry_at_first_use[0]["access_token"] == new.access_token
    assert init_integration.data["token"]["refresh_token"] == new.refresh_token

    # A minute later the old refresh token is dead; the stored one still works.
    simulator.clock.advance(simulator.tokens.refresh_grace + 1)
    with pytest.raises(OAuthError):
        simulator.tokens.refresh(CLIENT_ID, old)
    expire_access_token(hass, init_integration)
    await poll(hass, init_integration, clock, HOUR)
    assert simulator.counters["token_requests"]["refresh_token"] == 2
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_cars_refreshing_together_make_one_token_request(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """Three cars find the token expired at the same moment: exactly one refresh."""
    coordinators = list(init_integration.runtime_data.coordinators.values())
    assert len(coordinators) == 3
    expire_access_token(hass, init_integration)
    clock.now += HOUR
    before = batches(simulator)
    await asyncio.gather(*(c.async_refresh() for c in coordinators))
    await hass.async_block_till_done()
    assert simulator.counters["token_requests"]["refresh_token"] == 1
    assert batches(simulator) == before + 3
    assert all(c.last_update_success for c in coordinators)
    assert refresh_accepted(simulator, init_integration.data["token"]["refresh_token"])


async def test_restart_right_after_a_rotation_loses_nothing(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rotate, shut down at once, come back after the grace period: the stored token works."""
    refreshes = record_refreshes(simulator, monkeypatch)
    old = init_integration.data["token"]["refresh_token"]
    expire_access_token(hass, init_integration)
    await poll(hass, init_integration, clock, HOUR)
    assert len(refreshes) == 1
    newest = refreshes[0][1].refresh_token

    # Shutdown: Home Assistant writes what is pending, then the entry unloads.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    stored = next(
        e
        for e in hass_storage["core.config_entries"]["data"]["entries"]
        if e["entry_id"] == init_integration.entry_id
    )
    assert stored["data"]["token"]["refresh_token"] == newest
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    # Down long enough for the old refresh token to die and the access token to expire.
    simulator.clock.advance(7200)
    assert not refresh_accepted(simulator, old)
    token = {**stored["data"]["token"], "expires_at": dt_util.utcnow().timestamp() - 60}
    hass.config_entries.async_update_entry(
        init_integration, data={**stored["data"], "token": token}
    )
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert len(refreshes) == 2
    assert refreshes[1][0] == newest
    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert refresh_accepted(simulator, init_integration.data["token"]["refresh_token"])


# --- unlock PIN ------------------------------------------------------------------------------

PIN_OPTIONS = pytest.mark.parametrize("options", [{"unlock_pin": PIN}])


@PIN_OPTIONS
async def test_pin_gives_the_lock_a_code_format(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With a PIN, the lock asks for a code (UIs and Assist show a keypad)."""
    state = hass.states.get(LOCK)
    # Optional, so that locking needs no code; unlocking is checked against the PIN.
    assert state.attributes["code_format"] == r"^(?:\d{4,8})?$"
    assert PIN not in str(state.attributes)


@PIN_OPTIONS
@pytest.mark.parametrize("code", [None, "", "1357", "24680", "12", "abcd"])
async def test_unlock_without_the_right_pin_sends_nothing(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, code: str | None
) -> None:
    """No code, a wrong one or one of the wrong shape: refused, nothing reaches the car."""
    data: dict[str, Any] = {ATTR_ENTITY_ID: LOCK}
    if code is not None:
        data[ATTR_CODE] = code
    before = simulator.counters
    with pytest.raises(ServiceValidationError) as exc_info:
        await hass.services.async_call(LOCK_DOMAIN, SERVICE_UNLOCK, data, blocking=True)
    if code in ("1357", "24680"):
        # Of the right shape: the integration itself says the PIN was wrong.
        assert exc_info.value.translation_domain == DOMAIN
        assert exc_info.value.translation_key == "wrong_pin"
    # Otherwise Home Assistant's own code_format check answers first (lock.add_default_code).
    assert simulator.counters == before
    assert simulator.vehicle(EV_ID).state.locked is True
    assert hass.states.get(LOCK).state == LockState.LOCKED


@PIN_OPTIONS
async def test_lock_entity_refuses_a_missing_pin_by_itself(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Even when Home Assistant's format check is bypassed, no PIN means no unlock."""
    entity = hass.data["entity_components"][LOCK_DOMAIN].get_entity(LOCK)
    before = simulator.counters
    with pytest.raises(ServiceValidationError) as exc_info:
        await entity.async_unlock()
    assert exc_info.value.translation_key == "wrong_pin"
    assert simulator.counters == before


@PIN_OPTIONS
async def test_unlock_with_the_pin(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """The right PIN unlocks: one command, one confirmation read."""
    before = billed(simulator)
    await unlock(hass, code=PIN)
    assert simulator.vehicle(EV_ID).state.locked is False
    assert hass.states.get(LOCK).state == LockState.UNLOCKED
    assert billed_since(simulator, before) == {EV_ID: {"POST /security": 1, "GET /security": 1}}


@PIN_OPTIONS
async def test_locking_needs_no_pin(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Locking is always safe: no PIN needed."""
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: "lock.ford_focus"}, blocking=True
    )
    assert simulator.vehicle(PETROL_ID).state.locked is True


# --- entries are isolated --------------------------------------------------------------------


@pytest.mark.parametrize("extra_vehicles", [1])
async def test_commands_only_reach_the_vehicles_of_their_entry(
    hass: HomeAssistant,
    simulator: Simulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """Two Smartcar users, two entries: an action on one's car never reaches the other's."""
    leaf = simulator.vehicle("sim-000")
    simulator.accounts = Accounts(
        {USER_ID: [EV_ID, PHEV_ID, PETROL_ID], OTHER_USER: [leaf.id]}, simulator.clock
    )
    other_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Smartcar",
        unique_id=OTHER_USER,
        version=1,
        data={
            "auth_implementation": DOMAIN,
            "token": token_data(simulator, user_id=OTHER_USER),
            "mode": "live",
        },
        options=options,
    )
    await setup_entry(hass, config_entry)
    await setup_entry(hass, other_entry)
    assert set(config_entry.runtime_data.coordinators) == {EV_ID, PHEV_ID, PETROL_ID}
    assert set(other_entry.runtime_data.coordinators) == {leaf.id}

    leaf_device = device(hass, other_entry, leaf.id)
    ev_device = device(hass, config_entry, EV_ID)
    assert leaf_device is not None
    assert ev_device is not None

    before = billed(simulator)
    await set_destination(hass, leaf_device.id, 52.1, 5.1)
    assert billed_since(simulator, before) == {leaf.id: {"POST /navigation/destination": 1}}
    assert leaf.state.destination == {"latitude": 52.1, "longitude": 5.1, "address": None}
    for vehicle_id in (EV_ID, PHEV_ID, PETROL_ID):
        assert simulator.vehicle(vehicle_id).state.destination is None

    before = billed(simulator)
    await set_destination(hass, ev_device.id, 52.2, 5.2)
    assert billed_since(simulator, before) == {EV_ID: {"POST /navigation/destination": 1}}
    assert leaf.state.destination == {"latitude": 52.1, "longitude": 5.1, "address": None}

    # With the other entry unloaded its car is out of reach, and nothing goes elsewhere.
    assert await hass.config_entries.async_unload(other_entry.entry_id)
    await hass.async_block_till_done()
    err = await set_destination_refused(hass, simulator, leaf_device.id, 52.3, 5.3)
    assert err.translation_key == "unknown_vehicle"


# --- nothing secret in the logs --------------------------------------------------------------


def _formatted(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


async def test_debug_session_logs_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: Simulator,
    sim_url: str,
    config_entry: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Setup, polls, failures, a rotation, commands, diagnostics, options, a 401 at DEBUG level.

    Nothing our code logs holds a token, the client secret, a VIN, the user id, the PIN or a
    car's position. Home Assistant core's own debug output is checked and reported separately.
    """
    caplog.set_level(logging.DEBUG, logger="custom_components.smartcar")
    caplog.set_level(logging.DEBUG, logger="homeassistant")
    hass.bus.async_fire(EVENT_LOGGING_CHANGED)  # what the logger integration does
    await hass.async_block_till_done()
    refreshes = record_refreshes(simulator, monkeypatch)
    first_token = dict(config_entry.data["token"])

    # Setup, as configuration.yaml and the credentials dialog would.
    await add_credentials(hass, sim_url)
    await setup_entry(hass, config_entry)

    # Polls, with a failing path, a failing batch, malformed values and a recovery.
    await poll(hass, config_entry, clock, HOUR)
    simulator.inject_fault(vehicle_id=EV_ID, path="/location", count=1, error={"type": "SERVER"})
    simulator.inject_fault(vehicle_id=PHEV_ID, path="/batch", count=1, error={"type": "UPSTREAM"})
    simulator.inject_fault(vehicle_id=PETROL_ID, path="/location", count=1, kind="malformed")
    await poll(hass, config_entry, clock, HOUR)
    await poll(hass, config_entry, clock, HOUR)

    # Two rotations forced (besides the ones the hours so far brought on their own).
    rotated = len(refreshes)
    for _ in range(2):
        expire_access_token(hass, config_entry)
        await poll(hass, config_entry, clock, HOUR)
    assert len(refreshes) == rotated + 2

    # Commands, one refused.
    await unlock(hass)
    await hass.services.async_call(LOCK_DOMAIN, SERVICE_LOCK, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    await set_charge_limit(hass, 90)
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: "switch.tesla_model_3_charging"},
            blocking=True,
        )
    ev_device = device(hass, config_entry, EV_ID)
    assert ev_device is not None
    await set_destination(hass, ev_device.id, 48.8584, 2.2945)

    # Diagnostics.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    assert diagnostics["vehicles"]

    # Options (with a PIN), which reloads the entry; then an unlock with the PIN.
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"unit_system": "metric", "monthly_budget": 500, "min_interval": 30, "unlock_pin": PIN},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    await unlock(hass, code=PIN)

    # Smartcar stops accepting the tokens: reauthentication.
    simulator.revoke_tokens()
    await poll(hass, config_entry, clock, 25 * HOUR)

    secrets: dict[str, str] = {
        "first access token": first_token["access_token"],
        "first refresh token": first_token["refresh_token"],
        "client secret": CLIENT_SECRET,
        "user id": USER_ID,
        "unlock PIN": PIN,
    }
    for number, (_, tokens) in enumerate(refreshes, 1):
        secrets[f"access token {number}"] = tokens.access_token
        secrets[f"refresh token {number}"] = tokens.refresh_token
    for car in simulator.vehicles:
        secrets[f"VIN {car.key}"] = car.spec.vin
        latitude, longitude = car.state.latitude, car.state.longitude
        secrets[f"latitude {car.key}"] = repr(latitude)
        secrets[f"longitude {car.key}"] = repr(longitude)
        secrets[f"latitude {car.key} 4 decimals"] = f"{latitude:.4f}"
        secrets[f"longitude {car.key} 4 decimals"] = f"{longitude:.4f}"

    ours: dict[str, set[str]] = {}
    core: dict[str, set[str]] = {}
    for record in caplog.records:
        if record.name.startswith("pytest_homeassistant_custom_component"):
            # The test harness's mock Store logs every write in full (our storage file holds
            # the last answers, VIN included, as any .storage file may); Home Assistant's
            # real Store logs no data.
            continue
        text = _formatted(record)
        found = {name for name, value in secrets.items() if value in text}
        if "unlock PIN" in found and not re.search(rf"(?<![0-9A-Za-z]){PIN}(?![0-9A-Za-z])", text):
            # Four digits also turn up inside memory addresses and ports ("0x7f57c5246830"):
            # the PIN counts only where it stands as a number of its own.
            found.discard("unlock PIN")
        if not found:
            continue
        mine = record.name == "custom_components.smartcar" or record.name.startswith(
            "custom_components.smartcar."
        )
        for name in found:
            (ours if mine else core).setdefault(name, set()).add(record.name)
    # The session really was logged at DEBUG level by both.
    assert any(
        r.levelno == logging.DEBUG and r.name.startswith("custom_components.smartcar")
        for r in caplog.records
    )
    assert any(r.name == "homeassistant.core" for r in caplog.records)

    assert not ours, f"our code logged secrets: {ours}"
    # Home Assistant core's DEBUG output of the event bus prints entity attributes and action
    # data verbatim: "Bus:Handling <Event state_changed ...>" holds the device trackers'
    # latitude/longitude and "Bus:Handling <Event call_service ...: domain=lock,
    # service=unlock, service_data=..., code=2468>" holds the unlock PIN. That is core
    # behaviour for every integration, not this one's code, so the strict assertion above is
    # scoped to our loggers; here we pin that core leaks nothing more than that (no token,
    # secret, VIN or user id) and only through its event bus logger.
    allowed = {name for name in secrets if "itude" in name} | {"unlock PIN"}
    assert set(core) <= allowed, f"Home Assistant core logged: {core}"
    assert all(loggers == {"homeassistant.core"} for loggers in core.values()), core


@pytest.mark.usefixtures("ha_services")
@pytest.mark.parametrize("found_by", ["poll", "update_entity"])
async def test_refused_refresh_logs_no_token(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    found_by: str,
) -> None:
    """The token endpoint refuses the refresh token, at DEBUG level everywhere: the refusal is
    logged (and reauthentication starts), but no log record holds a token or the secret."""
    caplog.set_level(logging.DEBUG)
    hass.bus.async_fire(EVENT_LOGGING_CHANGED)
    await hass.async_block_till_done()
    refused = dict(init_integration.data["token"])
    expire_access_token(hass, init_integration)
    simulator.revoke_tokens()
    caplog.clear()

    if found_by == "poll":
        await poll(hass, init_integration, clock, HOUR)
    else:
        await update(hass, BATTERY)

    # The refused refresh really happened, and was logged at DEBUG level by our code.
    assert simulator.counters["token_requests"] == {"refresh_token": 1}
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert [
        r.getMessage()
        for r in caplog.records
        if r.name == "custom_components.smartcar" and "refused the token request" in r.getMessage()
    ] == ["Smartcar refused the token request: invalid_grant"]

    secrets = {
        "refused refresh token": refused["refresh_token"],
        "access token": refused["access_token"],
        "client secret": CLIENT_SECRET,
    }
    leaked = {
        (record.name, name)
        for record in caplog.records
        for name, value in secrets.items()
        if value in _formatted(record)
    }
    assert not leaked, f"secrets in the log: {leaked}"
