"""The turn of the month through Home Assistant: restarts just before and after midnight UTC.

Smartcar bills per calendar month in UTC (an assumption the README states); the request count
and the remaining budget follow that month whatever Home Assistant's time zone.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.scheduler import month_bounds
from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import TEST_NOW
from tests.const import EV_ID

from .conftest import Clock, poll
from .helpers import REMAINING, REQUESTS, billed_total, shown_count

BUDGET = 500
# The end of TEST_NOW's month (UTC): the tests start 25 minutes before it.
MIDNIGHT = month_bounds(TEST_NOW)[1]


@pytest.fixture
def simulator() -> Simulator:
    """The default world, 25 minutes before the month turns."""
    return Simulator(clock=VirtualClock(start=MIDNIGHT - timedelta(minutes=25), frozen=True))


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_restart_just_before_midnight_keeps_the_count(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """In Amsterdam it is already the next day; the count is still the UTC month's, kept over a
    restart at 23:55, and starts afresh when the month turns."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    counted = shown_count(hass, REQUESTS)
    assert counted == billed_total(simulator, EV_ID) > 0
    assert shown_count(hass, REMAINING) == BUDGET - counted

    clock.now = MIDNIGHT - timedelta(minutes=5)
    await restart(hass, init_integration)
    assert shown_count(hass, REQUESTS) == counted
    assert billed_total(simulator, EV_ID) == counted  # the restart cost nothing
    # The coordinator looks again at midnight at the latest, so the count turns with it.
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    assert coordinator.next_poll is not None
    assert coordinator.next_poll <= MIDNIGHT

    billed_before = billed_total(simulator, EV_ID)
    await poll(hass, init_integration, clock, timedelta(minutes=6))
    in_new_month = billed_total(simulator, EV_ID) - billed_before
    assert shown_count(hass, REQUESTS) == in_new_month
    assert shown_count(hass, REMAINING) == BUDGET - in_new_month


async def test_restart_just_after_midnight_starts_afresh(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Home Assistant down over midnight: back at 00:05, the new month's count is 0."""
    assert shown_count(hass, REQUESTS) > 0
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    clock.now = MIDNIGHT + timedelta(minutes=5)
    billed_before = billed_total(simulator, EV_ID)
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert billed_total(simulator, EV_ID) == billed_before
    assert shown_count(hass, REQUESTS) == 0
    assert shown_count(hass, REMAINING) == BUDGET


async def test_the_count_turns_at_midnight_without_a_request(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A refresh at midnight that reads nothing still shows the new month's zero."""
    assert shown_count(hass, REQUESTS) > 0
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    clock.now = MIDNIGHT
    billed_before = billed_total(simulator, EV_ID)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert shown_count(hass, REQUESTS) == billed_total(simulator, EV_ID) - billed_before
