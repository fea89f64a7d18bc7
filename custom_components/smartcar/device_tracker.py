"""The car's GPS position."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.device_tracker.entity import TrackerEntity, TrackerEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Location, Signal, SignalReading
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntityDescription, SmartcarSignalEntity, async_add_vehicle_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SmartcarTrackerDescription[R: SignalReading](
    SmartcarEntityDescription[R], TrackerEntityDescription
):
    """A position read out of a signal whose model is `R`, in degrees."""

    latitude_fn: Callable[[R], float | None]
    longitude_fn: Callable[[R], float | None]


TRACKERS: tuple[SmartcarTrackerDescription[Location], ...] = (
    SmartcarTrackerDescription(
        key="location",
        translation_key="location",
        signal=Signal.LOCATION,
        reading_type=Location,
        latitude_fn=lambda r: r.latitude,
        longitude_fn=lambda r: r.longitude,
    ),
)


class SmartcarTracker[R: SignalReading](SmartcarSignalEntity[R], TrackerEntity):
    """Where the car is."""

    entity_description: SmartcarTrackerDescription[R]

    @property
    def latitude(self) -> float | None:
        """Latitude in degrees."""
        reading = self.reading
        return None if reading is None else self.entity_description.latitude_fn(reading)

    @property
    def longitude(self) -> float | None:
        """Longitude in degrees."""
        reading = self.reading
        return None if reading is None else self.entity_description.longitude_fn(reading)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a tracker for every vehicle whose location we may read."""
    async_add_vehicle_entities(entry, async_add_entities, TRACKERS, SmartcarTracker)
