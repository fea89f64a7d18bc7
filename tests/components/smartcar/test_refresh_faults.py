"""Faults reached through an explicit refresh get what the README promises.

After setup the scheduler settles (nothing is due for an hour: every car is polled hourly), a
fault is injected at the simulator, and `homeassistant.update_entity` reads the named entities
at once. Then: a malformed item shows unknown and leaves the other entities alone; a 403 on one
path makes only that path's entities unavailable and raises a repair; a 429 keeps every value
and nothing is sent before retry-after; a 430 raises a repair and nothing is sent for a day;
revoked tokens start one reauthentication and nothing is sent after.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID, PHEV_ID

from .conftest import Clock, poll
from .helpers import (
    BATTERY,
    BILLING_LIMIT,
    COUNTERS,
    EV_NAME,
    FUEL,
    HOUR,
    LOCK,
    ODOMETER,
    PETROL_PATHS,
    PHEV_PATHS,
    RANGE,
    RATE_LIMITED,
    batches,
    billed_by_vehicle,
    billed_since,
    each,
    expire_access_token,
    http_total,
    reauth_flows,
    refresh,
    repairs,
    settle,
    unlock,
    update,
    warnings,
)

pytestmark = pytest.mark.usefixtures("ha_services")


@pytest.fixture
def polling() -> timedelta:
    """Every car polled hourly: between polls, any request is the explicit refresh's."""
    return timedelta(minutes=60)


# --- helpers ---------------------------------------------------------------------------------


def shown(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """The state of every enabled entity of the entry that shows what a car said."""
    result: dict[str, str] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.disabled_by is not None or entity.unique_id.endswith(COUNTERS):
            continue
        state = hass.states.get(entity.entity_id)
        assert state is not None, entity.entity_id
        result[entity.entity_id] = state.state
    return result


def changed(before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """The entities whose state differs, with their new state."""
    assert set(after) == set(before)
    return {e: s for e, s in after.items() if s != before[e]}


# --- malformed -------------------------------------------------------------------------------


async def test_malformed_item_shows_unknown_and_leaves_the_rest(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/battery answers wrong types: its two sensors show unknown, nothing else changes."""
    await settle(hass, init_integration, clock, simulator)
    before = shown(hass, init_integration)
    simulator.inject_fault(vehicle_id=EV_ID, path="/battery", count=1, kind="malformed")
    spent = billed_by_vehicle(simulator)
    asked = batches(simulator)

    await update(hass, BATTERY, RANGE, LOCK, ODOMETER)

    assert batches(simulator) == asked + 1
    assert billed_since(simulator, spent) == {EV_ID: each(("/battery", "/security", "/odometer"))}
    assert changed(before, shown(hass, init_integration)) == {
        BATTERY: STATE_UNKNOWN,
        RANGE: STATE_UNKNOWN,
    }
    assert len(warnings(caplog, "malformed", "battery")) == 1
    assert not repairs(hass, "missing_permission")

    # The next good answer shows the value again.
    simulator.vehicle(EV_ID).set(battery=0.42)
    await update(hass, BATTERY)
    assert float(hass.states.get(BATTERY).state) == 42
    assert hass.states.get(RANGE).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


# --- PERMISSION ------------------------------------------------------------------------------


async def test_403_on_one_path_makes_only_its_entities_unavailable(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """/odometer answers 403: the odometer is unavailable, a repair names the permission,
    no reauthentication; the path is not asked again, the others are."""
    await settle(hass, init_integration, clock, simulator)
    before = shown(hass, init_integration)
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/odometer", error={"type": "PERMISSION", "status": 403}
    )
    spent = billed_by_vehicle(simulator)

    await update(hass, ODOMETER, BATTERY)

    assert billed_since(simulator, spent) == {EV_ID: each(("/odometer", "/battery"))}
    assert changed(before, shown(hass, init_integration)) == {ODOMETER: STATE_UNAVAILABLE}
    issues = repairs(hass, "missing_permission")
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {
        "vehicle": EV_NAME,
        "permission": "read_odometer",
    }
    assert not reauth_flows(hass)

    # Refused: not asked again until the entry reloads (a reauthentication may grant it).
    asked = http_total(simulator)
    await update(hass, ODOMETER)
    assert http_total(simulator) == asked
    spent = billed_by_vehicle(simulator)
    await update(hass, ODOMETER, BATTERY)
    assert billed_since(simulator, spent) == {EV_ID: {"GET /battery": 1}}
    assert hass.states.get(ODOMETER).state == STATE_UNAVAILABLE
    assert hass.states.get(BATTERY).state == before[BATTERY]
    assert not reauth_flows(hass)


# --- RATE_LIMIT ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/batch", "/battery"], ids=["whole_batch", "one_path"])
async def test_429_keeps_every_value_and_sends_nothing_before_retry_after(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A 429 with retry-after 600 (on the batch, or on one of its paths): no value changes,
    nothing is sent to the car for 10 minutes whatever asks, then it is read again."""
    await settle(hass, init_integration, clock, simulator)
    before = shown(hass, init_integration)
    simulator.inject_fault(vehicle_id=EV_ID, path=path, count=1, error=RATE_LIMITED)
    asked = batches(simulator)

    await update(hass, BATTERY, LOCK)

    assert batches(simulator) == asked + 1
    assert changed(before, shown(hass, init_integration)) == {}
    # update_entity tells why in one warning line per entity it named.
    assert len(warnings(caplog, "was not updated", "slow down")) == 2
    simulator.vehicle(EV_ID).set(battery=0.42)  # what the next read will find
    sent = http_total(simulator)

    # Inside retry-after nothing is sent: not for update_entity, smartcar.refresh, a command
    # or the scheduler.
    clock.advance(timedelta(minutes=5))
    await update(hass, BATTERY)
    with pytest.raises(HomeAssistantError) as err:
        await refresh(hass, BATTERY)
    assert err.value.translation_key == "refresh_rate_limited"
    with pytest.raises(HomeAssistantError) as err:
        await unlock(hass)
    assert err.value.translation_key == "rate_limited"
    await poll(hass, init_integration, clock, timedelta(minutes=4, seconds=50))
    await update(hass, BATTERY)
    assert http_total(simulator) == sent
    assert simulator.vehicle(EV_ID).state.locked is True
    assert changed(before, shown(hass, init_integration)) == {}

    # Past it, the car is read again.
    clock.advance(timedelta(seconds=20))
    spent = billed_by_vehicle(simulator)
    await update(hass, BATTERY)
    assert billed_since(simulator, spent) == {EV_ID: {"GET /battery": 1}}
    assert float(hass.states.get(BATTERY).state) == 42


# --- BILLING ---------------------------------------------------------------------------------


async def test_430_raises_a_repair_and_sends_nothing_for_a_day(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """BILLING on the read: a repair, values kept, nothing to that car for 24 hours (the other
    cars go on); the next read after that clears the repair."""
    await settle(hass, init_integration, clock, simulator)
    before = shown(hass, init_integration)
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", count=1, error=BILLING_LIMIT)
    asked = batches(simulator)

    await update(hass, BATTERY)

    assert batches(simulator) == asked + 1
    issues = repairs(hass, "billing_limit")
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {"vehicle": EV_NAME}
    assert changed(before, shown(hass, init_integration)) == {}
    assert len(warnings(caplog, "was not updated", "request limit")) == 1
    simulator.vehicle(EV_ID).set(battery=0.42)

    # A day of hourly polls and explicit refreshes: nothing to the Tesla, the others go on.
    spent = billed_by_vehicle(simulator)
    for _ in range(23):
        await poll(hass, init_integration, clock, HOUR)
        await update(hass, BATTERY, LOCK)
    await poll(hass, init_integration, clock, timedelta(minutes=58))
    await update(hass, BATTERY)
    assert billed_since(simulator, spent) == {
        PHEV_ID: each(PHEV_PATHS, 23),
        PETROL_ID: each(PETROL_PATHS, 23),
    }
    assert changed(before, shown(hass, init_integration)) == {}
    assert len(repairs(hass, "billing_limit")) == 1

    clock.advance(timedelta(minutes=2))
    spent = billed_by_vehicle(simulator)
    await update(hass, BATTERY)
    assert billed_since(simulator, spent) == {EV_ID: {"GET /battery": 1}}
    assert float(hass.states.get(BATTERY).state) == 42
    assert not repairs(hass, "billing_limit")


# --- AUTHENTICATION --------------------------------------------------------------------------


@pytest.mark.parametrize("expired", [False, True], ids=["api_401", "refresh_refused"])
async def test_revoked_tokens_start_reauthentication(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    expired: bool,
) -> None:
    """Smartcar revoked the tokens: the refresh that finds out (a 401 from the API, or the
    token endpoint refusing the refresh) starts one reauthentication; then nothing is sent."""
    await settle(hass, init_integration, clock, simulator)
    simulator.revoke_tokens()
    if expired:
        expire_access_token(hass, init_integration)
    asked = batches(simulator)

    await update(hass, BATTERY)

    if expired:
        assert simulator.counters["token_requests"] == {"refresh_token": 1}
        assert batches(simulator) == asked
    else:
        assert "refresh_token" not in simulator.counters["token_requests"]
        assert batches(simulator) == asked + 1
    assert len(reauth_flows(hass)) == 1
    assert len(warnings(caplog, "was not updated", "Sign in again")) == 1

    # Nothing more reaches Smartcar, whatever asks; still one reauthentication.
    sent = http_total(simulator)
    caplog.clear()
    await update(hass, BATTERY, LOCK, FUEL)
    assert len(warnings(caplog, "was not updated", "Sign in again")) == 3
    for _ in range(3):
        await poll(hass, init_integration, clock, HOUR)
    await update(hass, BATTERY, FUEL)
    assert http_total(simulator) == sent
    assert len(reauth_flows(hass)) == 1
    # The entities stay (not removed), unavailable until the user signs in again.
    after = shown(hass, init_integration)
    assert set(after.values()) == {STATE_UNAVAILABLE}
