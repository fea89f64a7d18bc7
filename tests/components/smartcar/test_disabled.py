"""Disabling entities saves requests: a car reads only what its enabled entities show."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.scheduler import month_bounds
from smartcar_simulator import Simulator, VirtualClock
from tests.conftest import TEST_NOW
from tests.const import EV_ID, PETROL_ID

from .conftest import Clock, poll
from .helpers import billed_by_vehicle, billed_since

# The diagnostic sensors that show no signal: the data age and the request budget.
NO_SIGNAL = ("_data_age", "_requests_this_month", "_budget_remaining")


@pytest.fixture
def simulator() -> Simulator:
    """The default world, in the middle of TEST_NOW's month: no month's turn comes first."""
    middle = month_bounds(TEST_NOW)[0] + timedelta(days=14, hours=8)
    return Simulator(clock=VirtualClock(start=middle, frozen=True))


async def keep_enabled(
    hass: HomeAssistant, entry: MockConfigEntry, vehicle_id: str, *unique_suffixes: str
) -> None:
    """Disable every entity of one car except those whose unique id ends so; reload."""
    registry = er.async_get(hass)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, vehicle_id), entry.entry_id)
    assert device is not None
    for entity in er.async_entries_for_device(registry, device.id):
        if not entity.unique_id.endswith(unique_suffixes):
            registry.async_update_entity(
                entity.entity_id, disabled_by=er.RegistryEntryDisabler.USER
            )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_no_signal_entity_enabled_reads_nothing(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Only the diagnostic sensors left: the car is never read, even when it is used."""
    await keep_enabled(hass, init_integration, EV_ID, *NO_SIGNAL)
    assert hass.states.get("sensor.tesla_model_3_api_requests_this_month") is not None
    before = billed_by_vehicle(simulator)
    car = simulator.vehicle(EV_ID)
    for hour in range(48):
        if hour == 20:
            car.unlock()
        await poll(hass, init_integration, clock, timedelta(hours=1))
    spent = billed_since(simulator, before)
    assert EV_ID not in spent
    assert spent.get(PETROL_ID), "the other car, with its entities, was read"


async def test_heartbeat_only_for_a_signal_an_entity_shows(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Only the battery sensor enabled: the battery is the heartbeat and nothing else is read."""
    await keep_enabled(hass, init_integration, EV_ID, "_battery_level", *NO_SIGNAL)
    before = billed_by_vehicle(simulator)
    for _ in range(48):
        await poll(hass, init_integration, clock, timedelta(hours=1))
    spent = billed_since(simulator, before)
    assert set(spent[EV_ID]) == {"GET /battery"}


async def test_the_heartbeat_is_planned_once_the_entities_exist(
    hass: HomeAssistant, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The first batch reads everything granted, before any entity exists; then the enabled
    entities' heartbeat is planned (not a day later), also after a restart."""
    for _ in range(2):
        coordinator = init_integration.runtime_data.coordinators[EV_ID]
        assert coordinator.next_poll is not None
        assert coordinator.next_poll - clock.now <= timedelta(hours=4)
        assert coordinator.scheduler.next_reason.startswith("security: heartbeat")
        assert coordinator.update_interval == coordinator.next_poll - clock.now
        assert await hass.config_entries.async_reload(init_integration.entry_id)
        await hass.async_block_till_done()
