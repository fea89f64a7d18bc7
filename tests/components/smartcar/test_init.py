"""Setup, unload, restart, permissions, unsupported paths, vanished vehicles, reauth."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN, SCOPES
from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID, PHEV_ID, READ_PATHS

from .conftest import Clock, poll
from .helpers import BATTERY, HOUR, LOCK, batches, billed_paths as billed, device, each

ALL_SCOPES = [scope.value for scope in SCOPES]


@pytest.fixture
def polling() -> timedelta:
    """Poll every needed path every hour: these tests are about merging, not scheduling."""
    return HOUR


def total_billed(simulator: Simulator) -> int:
    """Billed requests of every vehicle."""
    return sum(v["total"] for v in simulator.counters["billed"].values())


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The entry loads with a device per car and unloads cleanly."""
    assert init_integration.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    assert sorted(d.name for d in devices) == ["Ford Focus", "Tesla Model 3", "Toyota RAV4 Prime"]
    tesla = next(d for d in devices if d.name == "Tesla Model 3")
    assert tesla.manufacturer == "Tesla"
    assert tesla.model == "Model 3 (2023)"
    assert tesla.serial_number  # read_vin was granted

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(LOCK).state == STATE_UNAVAILABLE


async def test_first_setup_costs_one_batch_per_car(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Setup: attributes once per car and one batch of every granted path, per car."""
    cars = set(init_integration.runtime_data.coordinators)
    assert cars == {EV_ID, PHEV_ID, PETROL_ID}
    assert batches(simulator) == len(cars)
    for vehicle_id in cars:
        # Attributes once, and every path granted exactly once, those the car lacks included
        # (that is how it learns them).
        assert billed(simulator, vehicle_id) == {"GET /": 1, **each(READ_PATHS)}, vehicle_id


async def test_restart_costs_no_billed_request(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A reload (as after a restart) restores every value from storage for free."""
    before = {
        e: hass.states.get(e).state
        for e in (
            BATTERY,
            LOCK,
            "sensor.ford_focus_odometer",
        )
    }
    spent = total_billed(simulator)

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.LOADED
    assert total_billed(simulator) == spent
    after = {e: hass.states.get(e).state for e in before}
    assert after == before
    assert before[BATTERY] not in (STATE_UNAVAILABLE, "unknown")


@pytest.mark.parametrize(
    "scope",
    [[s for s in ALL_SCOPES if s not in ("read_location", "control_security", "read_vin")]],
)
async def test_permission_not_granted_makes_no_entity(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """No location permission: no tracker, and /location is never asked for; no control: no lock."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
    domains = {e.domain for e in entities}
    assert "device_tracker" not in domains
    assert "lock" not in domains
    assert "sensor" in domains
    for vehicle_id in (EV_ID, PHEV_ID, PETROL_ID):
        assert "GET /location" not in billed(simulator, vehicle_id)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    assert all(d.serial_number is None for d in devices)


async def test_unsupported_path_is_not_asked_again(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """The petrol car answers 501 for /battery once; it has no battery entity and no retry."""
    assert hass.states.get("sensor.ford_focus_battery") is None
    assert billed(simulator, PETROL_ID).get("GET /battery") == 1
    for _ in range(3):
        await poll(hass, init_integration, clock, HOUR)
    counts = billed(simulator, PETROL_ID)
    assert counts.get("GET /battery") == 1
    assert counts["GET /odometer"] == 4  # setup + three polls


async def test_values_follow_the_car(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """Plug the EV in: the next poll shows it plugged in and charging."""
    assert hass.states.get("binary_sensor.tesla_model_3_plugged_in").state == "off"
    simulator.vehicle(EV_ID).plug_in()
    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get("binary_sensor.tesla_model_3_plugged_in").state == "on"
    assert hass.states.get("sensor.tesla_model_3_charging_state").state == "charging"


async def test_revoked_tokens_start_reauth(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    """Smartcar answers 401: a reauthentication flow is started."""
    simulator.revoke_tokens()
    await poll(hass, init_integration, clock, HOUR)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_setup_auth_failure_starts_reauth(
    hass: HomeAssistant,
    simulator: Simulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """Revoked before setup: the entry waits for reauthentication."""
    simulator.revoke_tokens()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert any(
        f["context"]["source"] == SOURCE_REAUTH
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


async def test_setup_retries_when_smartcar_fails(
    hass: HomeAssistant,
    simulator: Simulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> None:
    """A server error while listing vehicles: setup is retried later."""
    simulator.inject_fault(path="/vehicles", error={"type": "SERVER", "status": 500})
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_vehicle_gone_is_removed(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A car disconnected from the account loses its device at the next setup."""
    assert device(hass, init_integration, PETROL_ID) is not None
    connection = next(
        c for c in simulator.accounts.connections.values() if c.vehicle_id == PETROL_ID
    )
    simulator.accounts.disconnect(connection.id)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert device(hass, init_integration, PETROL_ID) is None
    assert device(hass, init_integration, EV_ID) is not None


async def test_remove_entry_deletes_storage(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict
) -> None:
    """Removing the entry deletes its storage file."""
    key = f"{DOMAIN}.{init_integration.entry_id}"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert key in hass_storage
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
