"""Binary sensors: plugged in, charging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Charge, ChargeState, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntityDescription, SmartcarSignalEntity, entities_for

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SmartcarBinarySensorDescription[R: SignalReading](
    SmartcarEntityDescription[R], BinarySensorEntityDescription
):
    """A yes/no read out of a signal whose model is `R`."""

    is_on_fn: Callable[[R], bool | None]


BINARY_SENSORS: tuple[SmartcarBinarySensorDescription[Charge], ...] = (
    SmartcarBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        signal=Signal.CHARGE,
        reading_type=Charge,
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda r: r.is_plugged_in,
    ),
    SmartcarBinarySensorDescription(
        key="charging",
        translation_key="charging",
        signal=Signal.CHARGE,
        reading_type=Charge,
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda r: None if r.state is None else r.state is ChargeState.CHARGING,
    ),
)


class SmartcarBinarySensor[R: SignalReading](SmartcarSignalEntity[R], BinarySensorEntity):
    """A yes/no state of the vehicle."""

    entity_description: SmartcarBinarySensorDescription[R]

    @property
    def is_on(self) -> bool | None:
        """On, off, or unknown when the car did not say."""
        reading = self.reading
        return None if reading is None else self.entity_description.is_on_fn(reading)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors every vehicle can have."""
    async_add_entities(
        entities_for(entry.runtime_data.coordinators, BINARY_SENSORS, SmartcarBinarySensor)
    )
