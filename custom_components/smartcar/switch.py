"""Charging as a switch: on starts charging, off stops it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Charge, ChargeState, Permission, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntity, SmartcarEntityDescription, entities_for

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarSwitchDescription(SmartcarEntityDescription, SwitchEntityDescription):
    """The charging switch."""


SWITCHES: tuple[SmartcarSwitchDescription, ...] = (
    SmartcarSwitchDescription(
        key="charging",
        translation_key="charging",
        signal=Signal.CHARGE,
        control=Permission.CONTROL_CHARGE,
    ),
)


def _charging(state: ChargeState) -> Any:
    def apply(reading: SignalReading | None) -> SignalReading:
        if isinstance(reading, Charge):
            return replace(reading, state=state)
        return Charge(state=state)

    return apply


class SmartcarChargingSwitch(SmartcarEntity, SwitchEntity):
    """Starts and stops charging."""

    entity_description: SmartcarSwitchDescription

    @property
    def is_on(self) -> bool | None:
        """On while the car charges."""
        reading = self.reading
        if not isinstance(reading, Charge) or reading.state is None:
            return None
        return reading.state is ChargeState.CHARGING

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        vehicle_id = self.coordinator.vehicle.id
        await self.coordinator.async_command(
            lambda: self.coordinator.client.async_start_charging(vehicle_id),
            Signal.CHARGE,
            _charging(ChargeState.CHARGING),
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        vehicle_id = self.coordinator.vehicle.id
        await self.coordinator.async_command(
            lambda: self.coordinator.client.async_stop_charging(vehicle_id),
            Signal.CHARGE,
            _charging(ChargeState.NOT_CHARGING),
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charging switch for every vehicle that can be told to charge."""
    async_add_entities(
        entities_for(entry.runtime_data.coordinators, SWITCHES, SmartcarChargingSwitch)
    )
