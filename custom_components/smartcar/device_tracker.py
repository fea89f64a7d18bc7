"""The car's GPS position."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.device_tracker.entity import TrackerEntity, TrackerEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Location, Signal
from .coordinator import SmartcarConfigEntry
from .entity import SmartcarEntity, SmartcarEntityDescription, entities_for

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SmartcarTrackerDescription(SmartcarEntityDescription, TrackerEntityDescription):
    """The location tracker."""


TRACKERS: tuple[SmartcarTrackerDescription, ...] = (
    SmartcarTrackerDescription(key="location", translation_key="location", signal=Signal.LOCATION),
)


class SmartcarTracker(SmartcarEntity, TrackerEntity):
    """Where the car is."""

    entity_description: SmartcarTrackerDescription

    @property
    def _location(self) -> Location | None:
        reading = self.reading
        return reading if isinstance(reading, Location) else None

    @property
    def latitude(self) -> float | None:
        """Latitude in degrees."""
        location = self._location
        return location.latitude if location is not None else None

    @property
    def longitude(self) -> float | None:
        """Longitude in degrees."""
        location = self._location
        return location.longitude if location is not None else None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a tracker for every vehicle whose location we may read."""
    async_add_entities(entities_for(entry.runtime_data.coordinators, TRACKERS, SmartcarTracker))
