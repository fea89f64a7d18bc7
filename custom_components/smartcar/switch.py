"""Charging as a switch: on starts charging, off stops it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Charge, ChargeState, Permission, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import (
    SmartcarCommand,
    SmartcarEntityDescription,
    SmartcarSignalEntity,
    async_add_vehicle_entities,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarSwitchDescription[R: SignalReading](
    SmartcarEntityDescription[R], SwitchEntityDescription
):
    """A switch over a signal whose model is `R`, and the commands that turn it on and off."""

    is_on_fn: Callable[[R], bool | None]
    turn_on: SmartcarCommand[R]
    turn_off: SmartcarCommand[R]


def _charging(state: ChargeState) -> Callable[[Charge | None], Charge]:
    """The charge reading a charge command leaves behind: the rest as it was."""

    def expect(reading: Charge | None) -> Charge:
        return Charge(state=state) if reading is None else replace(reading, state=state)

    return expect


SWITCHES: tuple[SmartcarSwitchDescription[Charge], ...] = (
    SmartcarSwitchDescription(
        key="charging",
        translation_key="charging",
        signal=Signal.CHARGE,
        reading_type=Charge,
        control=Permission.CONTROL_CHARGE,
        is_on_fn=lambda r: None if r.state is None else r.state is ChargeState.CHARGING,
        turn_on=SmartcarCommand(
            send=lambda client, vehicle_id: client.async_start_charging(vehicle_id),
            expect=_charging(ChargeState.CHARGING),
        ),
        turn_off=SmartcarCommand(
            send=lambda client, vehicle_id: client.async_stop_charging(vehicle_id),
            expect=_charging(ChargeState.NOT_CHARGING),
        ),
    ),
)


class SmartcarSwitch[R: SignalReading](SmartcarSignalEntity[R], SwitchEntity):
    """Turns something of the car on and off (charging)."""

    entity_description: SmartcarSwitchDescription[R]

    @property
    def is_on(self) -> bool | None:
        """On, off, or unknown when the car did not say."""
        reading = self.reading
        return None if reading is None else self.entity_description.is_on_fn(reading)

    async def async_turn_on(self, **kwargs: object) -> None:
        """Turn on (start charging)."""
        await self.async_send(self.entity_description.turn_on)

    async def async_turn_off(self, **kwargs: object) -> None:
        """Turn off (stop charging)."""
        await self.async_send(self.entity_description.turn_off)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charging switch for every vehicle that can be told to charge."""
    async_add_vehicle_entities(entry, async_add_entities, SWITCHES, SmartcarSwitch)
