"""Binary sensors: plugged in, charging; with API v3 also openings, online and asleep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Charge, ChargeState, Closures, Connectivity, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntityDescription, SmartcarSignalEntity, async_add_vehicle_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SmartcarBinarySensorDescription[R: SignalReading](
    SmartcarEntityDescription[R], BinarySensorEntityDescription
):
    """A yes/no read out of a signal whose model is `R`."""

    is_on_fn: Callable[[R], bool | None]
    # Set for values only some cars of the signal have: the entity exists when it has one.
    only_reported: bool = False

    def is_on(self, reading: SignalReading | None) -> bool | None:
        """On, off, or None without a reading of this model."""
        read = self.read(reading)
        return None if read is None else self.is_on_fn(read)

    def reported(self, reading: SignalReading | None) -> bool:
        """False when the car's reading lacks this value (and `only_reported`)."""
        read = self.read(reading)
        return not self.only_reported or read is None or self.is_on_fn(read) is not None


type BinarySensorDescription = (
    SmartcarBinarySensorDescription[Charge]
    | SmartcarBinarySensorDescription[Closures]
    | SmartcarBinarySensorDescription[Connectivity]
)

BINARY_SENSORS: tuple[BinarySensorDescription, ...] = (
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
    # API v3: what stands open.
    SmartcarBinarySensorDescription(
        key="doors",
        translation_key="doors",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=lambda r: r.doors_open,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="windows",
        translation_key="windows",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.WINDOW,
        is_on_fn=lambda r: r.windows_open,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="trunk",
        translation_key="trunk",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.OPENING,
        is_on_fn=lambda r: r.trunk_open,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="frunk",
        translation_key="frunk",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.OPENING,
        is_on_fn=lambda r: r.frunk_open,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="sunroof",
        translation_key="sunroof",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.WINDOW,
        is_on_fn=lambda r: r.sunroof_open,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="charge_port",
        translation_key="charge_port",
        signal=Signal.CLOSURES,
        reading_type=Closures,
        device_class=BinarySensorDeviceClass.OPENING,
        is_on_fn=lambda r: r.charge_port_open,
        only_reported=True,
    ),
    # API v3: the car's connection; rarely looked at, so disabled by default.
    SmartcarBinarySensorDescription(
        key="online",
        translation_key="online",
        signal=Signal.CONNECTIVITY,
        reading_type=Connectivity,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda r: r.is_online,
        only_reported=True,
    ),
    SmartcarBinarySensorDescription(
        key="asleep",
        translation_key="asleep",
        signal=Signal.CONNECTIVITY,
        reading_type=Connectivity,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        is_on_fn=lambda r: r.is_asleep,
        only_reported=True,
    ),
)


class SmartcarBinarySensor(SmartcarSignalEntity[SignalReading], BinarySensorEntity):
    """A yes/no state of the vehicle (its description narrows the reading to its model)."""

    entity_description: BinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """On, off, or unknown when the car did not say."""
        return self.entity_description.is_on(self.reading)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors every vehicle can have."""
    async_add_vehicle_entities(entry, async_add_entities, BINARY_SENSORS, SmartcarBinarySensor)
