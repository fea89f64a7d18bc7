"""Long-term statistics of the monthly request count, through Home Assistant's recorder.

"API requests this month" starts again from 0 when the UTC month turns. Its state class must
make the recorder read that drop as a new cycle (`total_increasing`): its `sum` then keeps
growing by exactly the requests made. As `total` without `last_reset`, the drop is subtracted
from the sum, which falls at midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    statistics_during_period,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.scheduler import month_bounds
from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import TEST_NOW
from tests.const import EV_ID

from .conftest import Clock, poll
from .helpers import BATTERY, ODOMETER, REQUESTS, billed_total, shown_count

# The end of TEST_NOW's month (UTC); the test starts three hours before it, on the hour.
MIDNIGHT = month_bounds(TEST_NOW)[1]
START = MIDNIGHT - timedelta(hours=3)
END = MIDNIGHT + timedelta(hours=2)
STEP = timedelta(minutes=10)
# When, after midnight, the owner asks for fresh readings.
ON_DEMAND = (timedelta(minutes=30), timedelta(minutes=90))


@pytest.fixture
def simulator() -> Simulator:
    """The default world, three hours before the month turns."""
    return Simulator(clock=VirtualClock(start=START, frozen=True))


@pytest.fixture
async def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder's database is prepared before Home Assistant starts (`recorder_mock`)."""


async def compile_statistics(hass: HomeAssistant, start: datetime, end: datetime) -> None:
    """Compile the 5-minute statistics of [start, end), and so the hourly ones, in order."""
    period = start
    while period < end:
        do_adhoc_statistics(hass, start=period)
        await async_wait_recording_done(hass)
        period += timedelta(minutes=5)


async def test_the_sum_keeps_rising_across_the_turn_of_the_month(
    hass: HomeAssistant,
    recorder_mock: None,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """Hourly sums grow by the requests billed each hour, the hour of the drop included."""
    assert hass.states.get(REQUESTS) is None
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # The first recorded value is the statistics' zero point.
    zero_point = billed_total(simulator, EV_ID)
    assert shown_count(hass, REQUESTS) == zero_point > 0

    billed_by_hour_end: dict[datetime, int] = {}
    last_of_month = 0
    while clock.now < END:
        if clock.now < MIDNIGHT:
            last_of_month = shown_count(hass, REQUESTS)
        if clock.now - MIDNIGHT in ON_DEMAND:
            # The scheduler waits till the morning; the owner asks for fresh readings.
            await hass.services.async_call(
                DOMAIN, "refresh", {ATTR_ENTITY_ID: [BATTERY, ODOMETER]}, blocking=True
            )
        if (clock.now + STEP).minute == 0:
            # The next refresh starts an hour: what was billed so far belongs to this one.
            billed_by_hour_end[clock.now + STEP] = billed_total(simulator, EV_ID)
        await poll(hass, config_entry, clock, STEP)
    assert clock.now == END

    # The count did rise within the month, and dropped to a few requests in the next one.
    assert last_of_month > zero_point
    in_new_month = billed_total(simulator, EV_ID) - billed_by_hour_end[MIDNIGHT]
    assert 0 < shown_count(hass, REQUESTS) == in_new_month < 0.9 * last_of_month

    await async_wait_recording_done(hass)
    await compile_statistics(hass, START, END)
    stats = await hass.async_add_executor_job(
        statistics_during_period, hass, START, END, {REQUESTS}, "hour", None, {"sum", "state"}
    )
    hours = stats[REQUESTS]
    assert [datetime.fromtimestamp(h["end"], UTC) for h in hours] == list(billed_by_hour_end)
    sums = [h["sum"] for h in hours]
    assert sums == sorted(sums), f"the long-term sum went down: {sums}"
    # Each hour's sum: the requests billed from the zero point to that hour's end.
    assert sums == [billed - zero_point for billed in billed_by_hour_end.values()]
    assert hours[-1]["state"] == in_new_month
