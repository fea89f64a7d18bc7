"""Commands through Home Assistant's services: lock, charging, charge limit, destination.

Every command is checked three ways: the simulated car's true state changed, the entity shows
it as soon as the service call returns, and Smartcar billed exactly the command plus one
confirmation read of the one path the command touched (nothing else, for any vehicle).
"""

from __future__ import annotations

from homeassistant.components.lock import (
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN, SCOPES
from smartcar_simulator import Simulator
from tests.const import EV_ID, PETROL_ID

from .conftest import setup_entry
from .helpers import (
    ASLEEP,
    CHARGE_LIMIT,
    CHARGING_SWITCH,
    LOCK,
    assert_smartcar_words,
    billed_by_vehicle as billed,
    billed_since,
    device,
    set_charge_limit,
    set_destination,
    set_destination_refused,
    unlock,
)

CHARGING_SENSOR = "binary_sensor.tesla_model_3_charging_in_progress"

# What the simulator's Smartcar says to the user for each error type (suggestedUserMessage).
CHARGE_FAULT_CODE = "VEHICLE_STATE:CHARGE_FAULT"
NOT_CAPABLE_CODE = "COMPATIBILITY:VEHICLE_NOT_CAPABLE"
ASLEEP_MESSAGE = "Your vehicle could not perform the request right now. Please try again later."
NOT_CAPABLE_MESSAGE = "Your vehicle does not support this feature."


def device_id(hass: HomeAssistant, entry: MockConfigEntry, vehicle_id: str = EV_ID) -> str:
    """The device registry id of a vehicle (the Tesla by default)."""
    vehicle = device(hass, entry, vehicle_id)
    assert vehicle is not None
    return vehicle.id


# --- lock ------------------------------------------------------------------------------------


async def test_unlock_and_lock(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """lock.unlock / lock.lock move the car's doors; one command + one read of /security each."""
    car = simulator.vehicle(EV_ID)
    assert car.state.locked is True
    state = hass.states.get(LOCK)
    assert state is not None
    assert state.state == LockState.LOCKED
    assert state.attributes["door_front_left"] == "locked"

    for service, locked, shown, doors in (
        (SERVICE_UNLOCK, False, LockState.UNLOCKED, "unlocked"),
        (SERVICE_LOCK, True, LockState.LOCKED, "locked"),
    ):
        before = billed(simulator)
        await hass.services.async_call(LOCK_DOMAIN, service, {ATTR_ENTITY_ID: LOCK}, blocking=True)
        assert car.state.locked is locked
        state = hass.states.get(LOCK)
        assert state is not None
        assert state.state == shown
        # The doors come from the confirmation read, not from the optimistic guess.
        assert state.attributes["door_front_left"] == doors
        assert billed_since(simulator, before) == {EV_ID: {"POST /security": 1, "GET /security": 1}}


async def test_lock_refused_by_the_car(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A refused command raises command_failed with Smartcar's message; nothing changes."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/security", method="POST", error=ASLEEP)
    before = billed(simulator)
    with pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    assert_smartcar_words(exc_info.value, "command_failed", "VEHICLE_STATE:ASLEEP", ASLEEP_MESSAGE)

    assert simulator.vehicle(EV_ID).state.locked is True
    state = hass.states.get(LOCK)
    assert state is not None
    assert state.state == LockState.LOCKED
    # The refused command is billed; no confirmation read follows a failure.
    assert billed_since(simulator, before) == {EV_ID: {"POST /security": 1}}


# --- charging --------------------------------------------------------------------------------


@pytest.mark.usefixtures("setup_credentials")
async def test_stop_and_start_charging(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """switch.turn_off / turn_on stop and start the plugged-in car's charging."""
    car = simulator.vehicle(EV_ID)
    car.plug_in()  # plugging in starts charging (62 % < 80 % limit)
    assert car.state.charging is True
    await setup_entry(hass, config_entry)
    state = hass.states.get(CHARGING_SWITCH)
    assert state is not None
    assert state.state == STATE_ON

    before = billed(simulator)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: CHARGING_SWITCH}, blocking=True
    )
    assert car.state.charging is False
    assert car.state.charge_state == "NOT_CHARGING"
    assert car.state.plugged is True
    assert hass.states.get(CHARGING_SWITCH).state == STATE_OFF
    assert hass.states.get(CHARGING_SENSOR).state == STATE_OFF
    assert billed_since(simulator, before) == {EV_ID: {"POST /charge": 1, "GET /charge": 1}}

    before = billed(simulator)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: CHARGING_SWITCH}, blocking=True
    )
    assert car.state.charging is True
    assert car.state.charge_state == "CHARGING"
    assert hass.states.get(CHARGING_SWITCH).state == STATE_ON
    assert hass.states.get(CHARGING_SENSOR).state == STATE_ON
    assert billed_since(simulator, before) == {EV_ID: {"POST /charge": 1, "GET /charge": 1}}


async def test_start_charging_unplugged(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Smartcar's CHARGE_FAULT for an unplugged car is command_failed; the switch stays off."""
    assert hass.states.get(CHARGING_SWITCH).state == STATE_OFF
    before = billed(simulator)
    with pytest.raises(HomeAssistantError) as exc_info:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: CHARGING_SWITCH}, blocking=True
        )
    # VEHICLE_STATE's suggestedUserMessage
    assert_smartcar_words(exc_info.value, "command_failed", CHARGE_FAULT_CODE, ASLEEP_MESSAGE)
    assert simulator.vehicle(EV_ID).state.charging is False
    assert hass.states.get(CHARGING_SWITCH).state == STATE_OFF
    assert billed_since(simulator, before) == {EV_ID: {"POST /charge": 1}}


# --- charge limit ----------------------------------------------------------------------------


async def test_set_charge_limit(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """number.set_value 90 sets the car's limit to 0.9."""
    assert hass.states.get(CHARGE_LIMIT).state == "80"
    before = billed(simulator)
    await set_charge_limit(hass, 90)
    assert simulator.vehicle(EV_ID).state.charge_limit == pytest.approx(0.9)
    assert hass.states.get(CHARGE_LIMIT).state == "90"
    assert billed_since(simulator, before) == {
        EV_ID: {"POST /charge/limit": 1, "GET /charge/limit": 1}
    }


async def test_set_charge_limit_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A refused limit keeps the old value in the car and in Home Assistant."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/charge/limit", method="POST", error=ASLEEP)
    with pytest.raises(HomeAssistantError) as exc_info:
        await set_charge_limit(hass, 90)
    assert_smartcar_words(exc_info.value, "command_failed", "VEHICLE_STATE:ASLEEP", ASLEEP_MESSAGE)
    assert simulator.vehicle(EV_ID).state.charge_limit == pytest.approx(0.8)
    assert hass.states.get(CHARGE_LIMIT).state == "80"


# --- set_destination -------------------------------------------------------------------------


async def test_set_destination(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """smartcar.set_destination reaches the car's navigation; only the command is billed."""
    before = billed(simulator)
    await set_destination(
        hass, device_id(hass, init_integration), 52.3731, 4.8922, address="Dam 1, Amsterdam"
    )
    # Smartcar's /navigation/destination takes coordinates only: the address is not sent.
    assert simulator.vehicle(EV_ID).state.destination == {
        "latitude": 52.3731,
        "longitude": 4.8922,
        "address": None,
    }
    # No signal shows a destination, so there is nothing to confirm by reading.
    assert billed_since(simulator, before) == {EV_ID: {"POST /navigation/destination": 1}}


async def test_set_destination_not_supported(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The petrol car has no navigation command: Smartcar's COMPATIBILITY message is shown."""
    with pytest.raises(HomeAssistantError) as exc_info:
        await set_destination(hass, device_id(hass, init_integration, PETROL_ID), 52.0, 5.0)
    assert_smartcar_words(exc_info.value, "command_failed", NOT_CAPABLE_CODE, NOT_CAPABLE_MESSAGE)
    assert simulator.vehicle(PETROL_ID).state.destination is None


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(91, 4.8922), (52.3731, 181), (-90.5, 0), (0, -180.01)],
)
async def test_set_destination_invalid_coordinates(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    latitude: float,
    longitude: float,
) -> None:
    """Coordinates off the globe are refused before any request is sent."""
    err = await set_destination_refused(
        hass, simulator, device_id(hass, init_integration), latitude, longitude
    )
    assert err.translation_domain == DOMAIN
    wrong = "latitude" if not -90 <= latitude <= 90 else "longitude"
    bound = 90 if wrong == "latitude" else 180
    assert err.translation_key == f"invalid_{wrong}"
    assert err.translation_placeholders == {"minimum": str(-bound), "maximum": str(bound)}
    assert str(err) == f"The {wrong} must be a number from {-bound} to {bound}"
    assert simulator.vehicle(EV_ID).state.destination is None


async def test_set_destination_unknown_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A device id that does not exist is an unknown vehicle; nothing is sent."""
    err = await set_destination_refused(hass, simulator, "0123456789abcdef")
    assert err.translation_key == "unknown_vehicle"
    assert err.translation_placeholders == {"device_id": "0123456789abcdef"}


async def test_set_destination_device_of_another_integration(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A device of another integration is refused, even one that names a Smartcar vehicle id."""
    other_entry = MockConfigEntry(domain="other_cars")
    other_entry.add_to_hass(hass)
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other_cars", EV_ID)}
    )
    err = await set_destination_refused(hass, simulator, other.id)
    assert err.translation_key == "unknown_vehicle"
    assert simulator.vehicle(EV_ID).state.destination is None


async def test_set_destination_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The vehicle of an unloaded entry is not reachable through the action."""
    ev_device = device_id(hass, init_integration)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    err = await set_destination_refused(hass, simulator, ev_device)
    assert err.translation_key == "unknown_vehicle"


@pytest.mark.parametrize("scope", [[s.value for s in SCOPES if s.value != "control_navigation"]])
async def test_set_destination_not_permitted(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Without control_navigation the action says so and sends nothing."""
    err = await set_destination_refused(hass, simulator, device_id(hass, init_integration))
    assert err.translation_key == "not_permitted"
    assert err.translation_placeholders == {"permission": "control_navigation"}
    assert simulator.vehicle(EV_ID).state.destination is None


async def test_set_destination_uses_no_deprecated_registry_api(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Looking up the vehicle of a device uses no API Home Assistant reports as deprecated."""
    await set_destination(hass, device_id(hass, init_integration))
    assert simulator.vehicle(EV_ID).state.destination is not None
    assert "which is deprecated" not in caplog.text
