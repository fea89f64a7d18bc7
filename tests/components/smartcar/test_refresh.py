"""An explicit refresh reads at once, in one batch, or says why not.

Users of connected-car integrations refresh on demand ("when I get home, update the car", a
dashboard button). Whatever the scheduler thinks, `homeassistant.update_entity` (and
`smartcar.refresh`) sends one batch with the paths the named entities show, counted like a
command and never refused for the budget. While Smartcar said to wait (retry-after, BILLING)
or reauthentication is pending it sends nothing: `smartcar.refresh` raises a translated error
that says why and until when; `update_entity`, whose errors Home Assistant swallows, logs that
message as one warning line.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.scheduler import month_bounds
from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID

from .conftest import Clock, poll
from .helpers import (
    BATTERY,
    BILLING_LIMIT,
    FUEL,
    LOCK,
    RATE_LIMITED,
    REQUESTS,
    TRACKER,
    batches,
    billed_by_vehicle,
    billed_since,
    device,
    http_total,
    refresh,
    settle,
    shown_count,
    update,
    warnings,
)

DATA_AGE = "sensor.tesla_model_3_data_age"

pytestmark = pytest.mark.usefixtures("ha_services")


async def test_update_entity_reads_at_once_when_nothing_is_due(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The scheduler would wait; the explicit refresh reads the battery and shows it."""
    await settle(hass, init_integration, clock, simulator)
    simulator.vehicle(EV_ID).set(battery=0.42)
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    usage_before = (coordinator._memory.usage.used, coordinator._memory.usage.commands)
    before = billed_by_vehicle(simulator)

    await update(hass, BATTERY)

    assert billed_since(simulator, before) == {EV_ID: {"GET /battery": 1}}
    assert float(hass.states.get(BATTERY).state) == 42
    # Counted against the budget as a command is.
    assert (coordinator._memory.usage.used, coordinator._memory.usage.commands) == (
        usage_before[0] + 1,
        usage_before[1] + 1,
    )
    assert shown_count(hass, REQUESTS) == usage_before[0] + 1


async def test_several_entities_make_one_request(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Battery, lock and location of one car updated together: one batch of three paths."""
    await settle(hass, init_integration, clock, simulator)
    asked = batches(simulator)
    before = billed_by_vehicle(simulator)

    await update(hass, BATTERY, LOCK, TRACKER, FUEL)

    # One batch per car named: the Tesla's three paths, the Ford's one.
    assert batches(simulator) == asked + 2
    assert billed_since(simulator, before) == {
        EV_ID: {"GET /battery": 1, "GET /security": 1, "GET /location": 1},
        PETROL_ID: {"GET /fuel": 1},
    }


async def test_entities_showing_one_signal_share_its_path(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Battery level and electric range both come from /battery: it is asked for once."""
    await settle(hass, init_integration, clock, simulator)
    before = billed_by_vehicle(simulator)
    await update(hass, BATTERY, "sensor.tesla_model_3_electric_range")
    assert billed_since(simulator, before) == {EV_ID: {"GET /battery": 1}}


async def test_diagnostic_sensors_read_nothing(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The data age and the request count show no signal: updating them costs nothing."""
    await settle(hass, init_integration, clock, simulator)
    asked = batches(simulator)
    await update(hass, DATA_AGE, REQUESTS)
    assert batches(simulator) == asked


@pytest.mark.parametrize("options", [{"monthly_budget": 10}])
async def test_never_refused_for_the_budget(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """With the month's budget spent, the scheduler reads nothing; the user still can."""
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    # Well inside a month (the next one's 10th), whatever TEST_NOW: the hours below stay in it.
    clock.now = month_bounds(clock.now)[1] + timedelta(days=9)
    coordinator._memory.usage.add(clock.now, 10)  # the month's budget is spent
    assert coordinator.budget_remaining == 0
    spent = coordinator.requests_this_month
    await poll(hass, init_integration, clock, timedelta(hours=3))
    before = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, timedelta(hours=3))
    assert EV_ID not in billed_since(simulator, before)  # the scheduler keeps within budget
    simulator.vehicle(EV_ID).set(battery=0.33)

    await update(hass, BATTERY)

    assert billed_since(simulator, before)[EV_ID] == {"GET /battery": 1}
    assert float(hass.states.get(BATTERY).state) == 33
    assert coordinator.requests_this_month == spent + 1


async def test_refused_inside_retry_after(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a 429 with retry-after: nothing is sent, and the error says until when."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", count=1, error=RATE_LIMITED)
    shown = hass.states.get(BATTERY).state
    with pytest.raises(HomeAssistantError) as first:
        await refresh(hass, BATTERY)  # the read itself is throttled: the values stay
    assert first.value.translation_key == "refresh_rate_limited"
    assert hass.states.get(BATTERY).state == shown
    asked = batches(simulator)

    clock.advance(timedelta(minutes=5))
    with pytest.raises(HomeAssistantError) as again:
        await refresh(hass, BATTERY, LOCK)
    assert batches(simulator) == asked
    assert again.value.translation_key == "refresh_rate_limited"
    placeholders = again.value.translation_placeholders
    assert placeholders["vehicle"] == "Tesla Model 3"
    until = (clock.now + timedelta(minutes=5)).astimezone(dt_util.get_default_time_zone())
    assert placeholders["until"].startswith(until.strftime("%Y-%m-%d %H:%M"))
    message = str(again.value)
    assert "Tesla Model 3" in message
    assert placeholders["until"] in message

    # update_entity: nothing sent either, and the same words in one warning line.
    caplog.clear()
    await update(hass, BATTERY)
    assert batches(simulator) == asked
    assert warnings(caplog, placeholders["until"]) == [f"{BATTERY} was not updated: {message}"]
    assert hass.states.get(BATTERY).state == shown

    clock.advance(timedelta(minutes=5, seconds=1))
    await update(hass, BATTERY)
    assert batches(simulator) == asked + 1


async def test_refused_after_a_billing_stop(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After BILLING (430): nothing is sent for a day, and the error says so."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", count=1, error=BILLING_LIMIT)
    with pytest.raises(HomeAssistantError) as first:
        await refresh(hass, BATTERY)
    assert first.value.translation_key == "refresh_billing_limit"
    asked = batches(simulator)
    clock.advance(timedelta(hours=23))
    with pytest.raises(HomeAssistantError) as again:
        await refresh(hass, BATTERY)
    assert again.value.translation_key == "refresh_billing_limit"
    until = (clock.now + timedelta(hours=1)).astimezone(dt_util.get_default_time_zone())
    assert again.value.translation_placeholders["until"].startswith(
        until.strftime("%Y-%m-%d %H:%M")
    )
    caplog.clear()
    await update(hass, BATTERY)
    assert len(warnings(caplog, "request limit")) == 1
    assert batches(simulator) == asked


async def test_refused_while_reauthentication_is_pending(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Revoked access: the refresh that finds out starts reauthentication; later ones send
    nothing and say what to do."""
    simulator.revoke_tokens()
    with pytest.raises(HomeAssistantError) as first:
        await refresh(hass, BATTERY)
    assert first.value.translation_key == "refresh_auth_failed"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    sent = http_total(simulator)

    with pytest.raises(HomeAssistantError) as again:
        await refresh(hass, BATTERY, FUEL)
    assert again.value.translation_key == "refresh_auth_failed"
    caplog.clear()
    await update(hass, BATTERY, FUEL)
    assert len(warnings(caplog, "Sign in again")) == 2  # one line per entity named
    assert http_total(simulator) == sent


async def test_refresh_action_needs_a_smartcar_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """`smartcar.refresh` on something else is a clear, translated validation error."""
    with pytest.raises(ServiceValidationError) as err:
        await refresh(hass, "sun.sun")
    assert err.value.translation_key == "no_smartcar_entity"


async def test_refresh_action_reads_like_update_entity(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """`smartcar.refresh` with a device target: one batch of the device's enabled signals."""
    await settle(hass, init_integration, clock, simulator)
    before = billed_by_vehicle(simulator)
    asked = batches(simulator)
    ford = device(hass, init_integration, PETROL_ID)
    assert ford is not None
    await hass.services.async_call(DOMAIN, "refresh", {"device_id": ford.id}, blocking=True)
    assert batches(simulator) == asked + 1
    # Home Assistant leaves diagnostic entities out of a device target (the trouble codes,
    # and the location tracker, which it files as diagnostic): their paths are not read.
    assert set(billed_since(simulator, before)[PETROL_ID]) == {
        "GET /fuel",
        "GET /odometer",
        "GET /security",
        "GET /engine/oil",
    }
