"""The request budget through Home Assistant: never exceeded, across restarts and months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.scheduler import month_bounds
from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID

from .conftest import Clock, poll
from .helpers import REMAINING, REQUESTS, billed_total, shown_count

BUDGET = 60


@pytest.fixture
def options() -> dict[str, Any]:
    """A small budget, so that a few simulated days reach it."""
    return {"monthly_budget": BUDGET, "min_interval": 30}


async def test_budget_is_never_exceeded_commands_included(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Days of polling plus commands stay within each month's budget; the count is shown.

    Started near a month's end (SMARTCAR_TEST_NOW), the six days cross into the next month:
    each month is held to its own budget.
    """
    cars = (EV_ID, PETROL_ID)
    month = usage_month(clock.now)
    at_month_start = dict.fromkeys(cars, 0)
    for step in range(6 * 48):  # six days of half-hour ticks
        before = {v: billed_total(simulator, v) for v in cars}
        await poll(hass, init_integration, clock, timedelta(minutes=30))
        if usage_month(clock.now) != month:
            # The refresh at the turn of the month already counts for the new month.
            month, at_month_start = usage_month(clock.now), before
        if step % 96 == 0:  # the owner locks and unlocks from Home Assistant every other day
            await hass.services.async_call(
                "lock", "unlock", {"entity_id": "lock.tesla_model_3"}, blocking=True
            )
            await hass.services.async_call(
                "lock", "lock", {"entity_id": "lock.tesla_model_3"}, blocking=True
            )
        for vehicle_id in cars:
            assert billed_total(simulator, vehicle_id) - at_month_start[vehicle_id] <= BUDGET
    counted = shown_count(hass, REQUESTS)
    assert counted >= billed_total(simulator, EV_ID) - at_month_start[EV_ID]
    assert 0 < counted <= BUDGET
    assert shown_count(hass, REMAINING) == BUDGET - counted


async def test_count_survives_a_restart_and_resets_with_the_month(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A restart keeps the month's count and what was learnt; the next month starts afresh."""
    end = month_bounds(clock.now)[1]
    if end - clock.now < timedelta(hours=17):
        # Count in one month: start right at the beginning of the next one.
        clock.now = end + timedelta(minutes=5)
        end = month_bounds(clock.now)[1]
    for _ in range(8):
        await poll(hass, init_integration, clock, timedelta(hours=2))
    before = shown_count(hass, REQUESTS)
    assert before > 0
    learnt = init_integration.runtime_data.coordinators[EV_ID].scheduler.policy.export()
    assert learnt["last_use"] is not None

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert shown_count(hass, REQUESTS) == before
    # What the scheduler learnt comes back with it.
    assert init_integration.runtime_data.coordinators[EV_ID].scheduler.policy.export() == learnt

    clock.now = end + timedelta(minutes=30)
    await poll(hass, init_integration, clock, timedelta(minutes=1))
    assert shown_count(hass, REQUESTS) < before


def usage_month(moment: datetime) -> str:
    """The month Smartcar bills a request at `moment` in (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


@pytest.mark.parametrize("options", [{}])  # the default budget
async def test_paths_follow_the_situation(
    hass: HomeAssistant, simulator: Simulator, clock: Clock, init_integration: MockConfigEntry
) -> None:
    """A plug-in is noticed by the heartbeat; the charge's rate is learnt from two readings and
    its end is read when expected; the parked petrol car's slow signals are left alone."""
    car = simulator.vehicle(EV_ID)
    car.set(battery=0.1)  # a long charge (0.1 -> 0.8: about 5 hours)
    car.plug_in()
    steps = 0
    while hass.states.get("binary_sensor.tesla_model_3_charging_in_progress").state != "on":
        steps += 1
        assert steps <= 24, "the plug-in was not noticed within 12 hours"
        await poll(hass, init_integration, clock, timedelta(minutes=30))
    assert hass.states.get("binary_sensor.tesla_model_3_plugged_in").state == "on"

    def billed(vehicle_id: str, path: str) -> int:
        return int(simulator.counters["billed"][vehicle_id]["by_path"].get(path, 0))

    before_ev = billed(EV_ID, "GET /battery")
    before_petrol = billed(PETROL_ID, "GET /odometer") + billed(PETROL_ID, "GET /location")
    ended_at = shown_at = None
    for step in range(36):  # ten-minute steps, six hours
        await poll(hass, init_integration, clock, timedelta(minutes=10))
        if ended_at is None and not car.state.charging:
            ended_at = step
        if (
            shown_at is None
            and hass.states.get("binary_sensor.tesla_model_3_charging_in_progress").state == "off"
        ):
            shown_at = step
    assert ended_at is not None
    assert shown_at is not None
    assert shown_at - ended_at <= 3  # seen within half an hour of the end
    assert float(hass.states.get("sensor.tesla_model_3_battery").state) == 80
    # One reading to learn the rate, one at the expected end (maybe one more if early).
    assert 2 <= billed(EV_ID, "GET /battery") - before_ev <= 3
    after_petrol = billed(PETROL_ID, "GET /odometer") + billed(PETROL_ID, "GET /location")
    assert after_petrol == before_petrol
