"""The charge limit, 50-100 %."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CHARGE_LIMIT_MAX, CHARGE_LIMIT_MIN, ChargeLimit, Permission, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import (
    SmartcarCommand,
    SmartcarEntityDescription,
    SmartcarSignalEntity,
    async_add_vehicle_entities,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarNumberDescription[R: SignalReading](
    SmartcarEntityDescription[R], NumberEntityDescription
):
    """A number read out of a signal whose model is `R`, and the command that sets it."""

    value_fn: Callable[[R], float | None]
    set_value_fn: Callable[[float], SmartcarCommand[R]]


def _set_charge_limit(percent: float) -> SmartcarCommand[ChargeLimit]:
    """Set the charge limit (Home Assistant keeps it within 50-100 %)."""
    limit = round(percent) / 100
    return SmartcarCommand(
        send=lambda client, vehicle_id: client.async_set_charge_limit(vehicle_id, limit),
        expect=lambda _: ChargeLimit(limit=limit),
    )


NUMBERS: tuple[SmartcarNumberDescription[ChargeLimit], ...] = (
    SmartcarNumberDescription(
        key="charge_limit",
        translation_key="charge_limit",
        signal=Signal.CHARGE_LIMIT,
        reading_type=ChargeLimit,
        control=Permission.CONTROL_CHARGE,
        native_min_value=CHARGE_LIMIT_MIN * 100,
        native_max_value=CHARGE_LIMIT_MAX * 100,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        mode=NumberMode.SLIDER,
        value_fn=lambda r: None if r.limit is None else round(r.limit * 100),
        set_value_fn=_set_charge_limit,
    ),
)


class SmartcarNumber[R: SignalReading](SmartcarSignalEntity[R], NumberEntity):
    """A value of the car that can be set (the charge limit)."""

    entity_description: SmartcarNumberDescription[R]

    @property
    def native_value(self) -> float | None:
        """The value, or unknown when the car did not say."""
        reading = self.reading
        return None if reading is None else self.entity_description.value_fn(reading)

    async def async_set_native_value(self, value: float) -> None:
        """Send the new value."""
        await self.async_send(self.entity_description.set_value_fn(value))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge limit number for every vehicle whose limit can be set."""
    async_add_vehicle_entities(entry, async_add_entities, NUMBERS, SmartcarNumber)
