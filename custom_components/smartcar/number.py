"""The charge limit, 50-100 %."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CHARGE_LIMIT_MAX, CHARGE_LIMIT_MIN, ChargeLimit, Permission, Signal
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntity, SmartcarEntityDescription, entities_for

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarNumberDescription(SmartcarEntityDescription, NumberEntityDescription):
    """The charge limit number."""


NUMBERS: tuple[SmartcarNumberDescription, ...] = (
    SmartcarNumberDescription(
        key="charge_limit",
        translation_key="charge_limit",
        signal=Signal.CHARGE_LIMIT,
        control=Permission.CONTROL_CHARGE,
        native_min_value=CHARGE_LIMIT_MIN * 100,
        native_max_value=CHARGE_LIMIT_MAX * 100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
    ),
)


class SmartcarChargeLimit(SmartcarEntity, NumberEntity):
    """Sets how full the battery charges."""

    entity_description: SmartcarNumberDescription

    @property
    def native_value(self) -> float | None:
        """The limit in percent."""
        reading = self.reading
        if not isinstance(reading, ChargeLimit) or reading.limit is None:
            return None
        return round(reading.limit * 100)

    async def async_set_native_value(self, value: float) -> None:
        """Send the new limit (Home Assistant keeps it within 50-100)."""
        vehicle_id = self.coordinator.vehicle.id
        limit = round(value) / 100
        await self.coordinator.async_command(
            lambda: self.coordinator.client.async_set_charge_limit(vehicle_id, limit),
            Signal.CHARGE_LIMIT,
            lambda _: ChargeLimit(limit=limit),
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge limit number for every vehicle whose limit can be set."""
    async_add_entities(entities_for(entry.runtime_data.coordinators, NUMBERS, SmartcarChargeLimit))
