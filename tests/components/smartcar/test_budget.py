"""The request budget through Home Assistant: never exceeded, across restarts and months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import SIM_START

from .conftest import EV_ID, PETROL_ID, Clock, poll
from .helpers import billed_total

BUDGET = 60
REQUESTS = "sensor.tesla_model_3_api_requests_this_month"
REMAINING = "sensor.tesla_model_3_request_budget_remaining"


@pytest.fixture
def simulator() -> Simulator:
    """Days of simulated time: tokens that outlive them (HA's token clock is the real one)."""
    return Simulator(
        clock=VirtualClock(start=SIM_START, frozen=True), access_token_ttl=90 * 24 * 3600
    )


@pytest.fixture
def options() -> dict[str, Any]:
    """A small budget, so that a few simulated days reach it."""
    return {"monthly_budget": BUDGET, "min_interval": 30}


async def test_budget_is_never_exceeded_commands_included(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Days of polling plus commands stay within the monthly budget; the count is shown."""
    for step in range(6 * 48):  # six days of half-hour ticks
        simulator.clock.advance(1800)
        await poll(hass, init_integration, clock, timedelta(minutes=30))
        if step % 96 == 0:  # the owner locks and unlocks from Home Assistant every other day
            await hass.services.async_call(
                "lock", "unlock", {"entity_id": "lock.tesla_model_3"}, blocking=True
            )
            await hass.services.async_call(
                "lock", "lock", {"entity_id": "lock.tesla_model_3"}, blocking=True
            )
        for vehicle_id in (EV_ID, PETROL_ID):
            assert billed_total(simulator, vehicle_id) <= BUDGET
    counted = int(hass.states.get(REQUESTS).state)
    assert counted >= billed_total(simulator, EV_ID)
    assert counted <= BUDGET
    assert int(hass.states.get(REMAINING).state) == BUDGET - counted


async def test_count_survives_a_restart_and_resets_with_the_month(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A restart keeps the month's count and what was learnt; the next month starts afresh."""
    for _ in range(8):
        await poll(hass, init_integration, clock, timedelta(hours=2))
    before = int(hass.states.get(REQUESTS).state)
    assert before > 0
    learnt = init_integration.runtime_data.coordinators[EV_ID].policy.export()
    assert learnt["last_use"] is not None

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert int(hass.states.get(REQUESTS).state) == before
    # What the scheduler learnt comes back with it.
    assert init_integration.runtime_data.coordinators[EV_ID].policy.export() == learnt

    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC) + (clock.now - clock.now)
    if clock.now < dt_now(hass):
        pytest.skip("the test machine's clock is past December 2026")
    await poll(hass, init_integration, clock, timedelta(minutes=1))
    assert int(hass.states.get(REQUESTS).state) < before


def dt_now(hass: HomeAssistant) -> datetime:
    """The real time (the patched clock aside)."""
    return datetime.now(UTC)


@pytest.mark.parametrize("options", [{}])  # the default budget
async def test_paths_follow_the_situation(
    hass: HomeAssistant, simulator: Simulator, clock: Clock, init_integration: MockConfigEntry
) -> None:
    """A plug-in is noticed by the heartbeat; the charge's rate is learnt from two readings and
    its end is read when expected; the parked petrol car's slow signals are left alone."""
    car = simulator.vehicle(EV_ID)
    simulator.clock.set(clock.now)  # one time for the car's reports and the integration
    car.set(battery=0.1)  # a long charge (0.1 -> 0.8: about 5 hours)
    car.plug_in()
    steps = 0
    while hass.states.get("binary_sensor.tesla_model_3_charging").state != "on":
        steps += 1
        assert steps <= 24, "the plug-in was not noticed within 12 hours"
        simulator.clock.advance(1800)
        await poll(hass, init_integration, clock, timedelta(minutes=30))
    assert hass.states.get("binary_sensor.tesla_model_3_plugged_in").state == "on"

    def billed(vehicle_id: str, path: str) -> int:
        return int(simulator.counters["billed"][vehicle_id]["by_path"].get(path, 0))

    before_ev = billed(EV_ID, "GET /battery")
    before_petrol = billed(PETROL_ID, "GET /odometer") + billed(PETROL_ID, "GET /location")
    ended_at = shown_at = None
    for step in range(24):  # ten-minute steps, four hours
        simulator.clock.advance(600)
        await poll(hass, init_integration, clock, timedelta(minutes=10))
        if ended_at is None and not car.state.charging:
            ended_at = step
        if (
            shown_at is None
            and hass.states.get("binary_sensor.tesla_model_3_charging").state == "off"
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
