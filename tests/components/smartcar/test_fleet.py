"""Dynamic devices: cars that join or leave the Smartcar account while the entry is loaded.

The vehicle list is free and looked at every six hours (`FLEET_INTERVAL`): a car shared later
gets its device and entities without a reload, a car that left loses them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_interval
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components import smartcar
from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.fleet import FLEET_INTERVAL
from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID, USER_ID

from .conftest import Clock, setup_entry
from .helpers import BATTERY, FUEL, billed_paths, device, repairs

FORD_ENTITIES = "sensor.ford_focus_"


def disconnect(simulator: Simulator, vehicle_id: str) -> None:
    """The user removes the car from their Smartcar account."""
    connection = next(
        c for c in simulator.accounts.connections.values() if c.vehicle_id == vehicle_id
    )
    simulator.accounts.disconnect(connection.id)


def vehicle_lists(simulator: Simulator) -> int:
    """How often the vehicle list was asked for."""
    return sum(
        n for key, n in simulator.counters["http_requests"].items() if key.endswith("/vehicles")
    )


class Looks:
    """The entry's look at the vehicle list, as setup hands it to Home Assistant's timer, run
    when due on the shared clock. (The harness's time firing would also fire the in-process
    simulator's keep-alive timers, so the looks are run here as the timer would run them.)"""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.actions: list[Callable[[datetime], Awaitable[None]]] = []
        self.due = clock.now

    def track(self, hass: HomeAssistant, action: Any, interval: timedelta, **kw: Any) -> Any:
        """`async_track_time_interval`, recording the look."""
        if interval == FLEET_INTERVAL:
            self.actions.append(action)
            self.due = self.clock.now + interval
        return async_track_time_interval(hass, action, interval, **kw)

    async def wait(self, hass: HomeAssistant, elapsed: timedelta) -> None:
        """Let `elapsed` pass, looking whenever a look is due."""
        assert len(self.actions) == 1, "setup schedules one look every FLEET_INTERVAL"
        end = self.clock.now + elapsed
        while self.due <= end:
            self.clock.now = self.due
            await self.actions[0](self.due)
            await hass.async_block_till_done()
            self.due += FLEET_INTERVAL
        self.clock.now = end


@pytest.fixture
def looks(clock: Clock) -> Iterator[Looks]:
    """Setup's looks at the vehicle list (it must ask for one every `FLEET_INTERVAL`)."""
    recorder = Looks(clock)
    with patch.object(smartcar, "async_track_time_interval", recorder.track):
        yield recorder


def ford_states(hass: HomeAssistant) -> list[str]:
    """The entity ids of the Ford Focus that Home Assistant shows."""
    return [s.entity_id for s in hass.states.async_all() if "ford_focus" in s.entity_id]


@pytest.mark.usefixtures("setup_credentials")
async def test_car_shared_later_appears_without_reload(
    hass: HomeAssistant,
    simulator: Simulator,
    config_entry: MockConfigEntry,
    clock: Clock,
    looks: Looks,
) -> None:
    """A car added to the account gets its device and entities at the next look, with no
    reload: the other cars' coordinators and entities carry on untouched."""
    disconnect(simulator, PETROL_ID)
    await setup_entry(hass, config_entry)
    assert device(hass, config_entry, PETROL_ID) is None
    assert ford_states(hass) == []
    tesla = config_entry.runtime_data.coordinators[EV_ID]
    battery_since = hass.states.get(BATTERY).last_changed
    lists = vehicle_lists(simulator)

    simulator.accounts.connect(USER_ID, PETROL_ID)
    await looks.wait(hass, FLEET_INTERVAL - timedelta(minutes=1))
    assert ford_states(hass) == []  # not before the next look
    await looks.wait(hass, timedelta(minutes=2))

    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.coordinators[EV_ID] is tesla
    assert hass.states.get(BATTERY).last_changed == battery_since
    assert device(hass, config_entry, PETROL_ID) is not None
    fuel = hass.states.get(FUEL)
    assert fuel is not None
    assert float(fuel.state) > 0
    assert vehicle_lists(simulator) == lists + 1
    # Billed for the newcomer: its attributes once, and one read of what it has.
    billed = billed_paths(simulator, PETROL_ID)
    assert billed.pop("GET /", 0) == 1, billed
    assert billed, "the first read of the new car"


@pytest.mark.usefixtures("setup_credentials")
async def test_car_removed_disappears_with_its_device(
    hass: HomeAssistant,
    simulator: Simulator,
    config_entry: MockConfigEntry,
    clock: Clock,
    looks: Looks,
) -> None:
    """A car removed from the account loses its device, entities and repairs at the next
    look."""
    await setup_entry(hass, config_entry)
    simulator.inject_fault(
        vehicle_id=PETROL_ID, path="/odometer", error={"type": "PERMISSION", "status": 403}
    )
    await hass.services.async_call(
        DOMAIN, "refresh", {"entity_id": "sensor.ford_focus_odometer"}, blocking=True
    )
    assert [i.translation_placeholders["vehicle"] for i in repairs(hass, "missing_permission")] == [
        "Ford Focus"
    ]
    assert device(hass, config_entry, PETROL_ID) is not None
    assert FUEL in ford_states(hass)
    tesla = config_entry.runtime_data.coordinators[EV_ID]

    disconnect(simulator, PETROL_ID)
    await looks.wait(hass, FLEET_INTERVAL + timedelta(minutes=1))

    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.coordinators[EV_ID] is tesla
    assert PETROL_ID not in config_entry.runtime_data.coordinators
    assert device(hass, config_entry, PETROL_ID) is None
    assert ford_states(hass) == []
    registry = er.async_get(hass)
    assert not [e for e in registry.entities.values() if e.entity_id.startswith(FORD_ENTITIES)]
    assert hass.states.get(BATTERY) is not None
    assert repairs(hass, "missing_permission") == []

    # Shared again: back, with the entity ids it had.
    simulator.accounts.connect(USER_ID, PETROL_ID)
    await looks.wait(hass, FLEET_INTERVAL + timedelta(minutes=1))
    assert hass.states.get(FUEL) is not None


SERVER_ERROR = {"type": "SERVER", "status": 500}


@pytest.mark.parametrize(
    ("fault", "logged"),
    [
        ({"path": "/vehicles"}, "Could not list the account's vehicles"),
        (
            {"path": "/permissions", "vehicle_id": PETROL_ID},
            "A car new to the Smartcar account could not be added yet",
        ),
        (
            {"path": "/batch", "vehicle_id": PETROL_ID},
            "Ford Focus is added at the next look at the vehicle list",
        ),
    ],
    ids=["vehicle list", "new car's permissions", "new car's first read"],
)
@pytest.mark.usefixtures("setup_credentials")
async def test_failed_look_is_tried_again(
    hass: HomeAssistant,
    simulator: Simulator,
    config_entry: MockConfigEntry,
    looks: Looks,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, str],
    logged: str,
) -> None:
    """Smartcar failing to list the vehicles, to say what a new car may do or to read it:
    nothing is removed or half-added, it is logged; the next look adds the car."""
    disconnect(simulator, PETROL_ID)
    await setup_entry(hass, config_entry)
    before = set(config_entry.runtime_data.coordinators)
    simulator.accounts.connect(USER_ID, PETROL_ID)
    simulator.inject_fault(**fault, error=SERVER_ERROR, count=1)  # type: ignore[arg-type]

    await looks.wait(hass, FLEET_INTERVAL)
    assert set(config_entry.runtime_data.coordinators) == before
    assert ford_states(hass) == []
    assert caplog.text.count(logged) == 1

    await looks.wait(hass, FLEET_INTERVAL)
    assert hass.states.get(FUEL) is not None
