"""Base entity and the description fields every platform shares."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Permission, Signal, SignalReading
from .const import DOMAIN, LOGGER
from .coordinator import SmartcarCoordinator


@dataclass(frozen=True, kw_only=True)
class SmartcarEntityDescription(EntityDescription):
    """What every Smartcar entity is built from: the signal it shows.

    `control` names the permission its commands need (lock, switch, number); the entity
    exists only when that permission and the signal's read permission were granted.
    """

    signal: Signal
    control: Permission | None = None


def device_info(coordinator: SmartcarCoordinator) -> DeviceInfo:
    """The device of a vehicle (VIN as serial number only when it was granted)."""
    attributes = coordinator.vehicle.attributes
    model = attributes.model
    if model and attributes.year:
        model = f"{model} ({attributes.year})"
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.vehicle.id)},
        manufacturer=attributes.make,
        model=model,
        name=coordinator.vehicle.name,
        serial_number=attributes.vin,
    )


class SmartcarVehicleEntity(CoordinatorEntity[SmartcarCoordinator]):
    """An entity of one vehicle's device; `context` is the signal it needs, if any."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: SmartcarCoordinator,
        description: EntityDescription,
        context: Signal | None = None,
    ) -> None:
        """Name, unique id and device from the vehicle and the description."""
        super().__init__(coordinator, context=context)
        self._reads = frozenset() if context is None else frozenset({context})
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.vehicle.id}_{description.key}"
        self._attr_device_info = device_info(coordinator)

    async def async_read(self) -> None:
        """Read the signal this entity shows, at once (`smartcar.refresh`).

        Entities read together share one batch; one that shows no signal reads nothing.
        Raises a translated error when nothing may be sent now.
        """
        await self.coordinator.async_read_now(self._reads)

    async def async_update(self) -> None:
        """`homeassistant.update_entity`: read at once.

        Home Assistant logs an exception raised here with a traceback and tells the caller
        nothing, so a refusal (retry-after, billing stop, reauthentication) is one warning
        line instead; `smartcar.refresh` raises it to the caller.
        """
        try:
            await self.async_read()
        except HomeAssistantError as err:
            LOGGER.warning("%s was not updated: %s", self.entity_id, err)


class SmartcarEntity(SmartcarVehicleEntity):
    """An entity showing one signal of one vehicle."""

    entity_description: SmartcarEntityDescription

    def __init__(
        self, coordinator: SmartcarCoordinator, description: SmartcarEntityDescription
    ) -> None:
        """Listen to the coordinator for this entity's signal only."""
        super().__init__(coordinator, description, context=description.signal)

    @property
    def available(self) -> bool:
        """Available while the signal has a good reading that is not failing."""
        return super().available and self.coordinator.signal_available(
            self.entity_description.signal
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        """Follow the coordinator; disappear for good if the car turned out not to have it."""
        if self.entity_description.signal in self.coordinator.unsupported:
            er.async_get(self.hass).async_remove(self.entity_id)
            return
        super()._handle_coordinator_update()

    @property
    def reading(self) -> SignalReading | None:
        """The last good reading of this entity's signal."""
        return self.coordinator.data.reading(self.entity_description.signal)

    @classmethod
    def creatable(
        cls, coordinator: SmartcarCoordinator, description: SmartcarEntityDescription
    ) -> bool:
        """Whether this vehicle can have this entity: permissions granted, signal supported."""
        if description.signal not in coordinator.available_signals:
            return False
        return description.control is None or coordinator.vehicle.granted(description.control)


def entities_for[E: SmartcarEntity, D: SmartcarEntityDescription](
    coordinators: dict[str, SmartcarCoordinator],
    descriptions: tuple[D, ...],
    factory: type[E],
) -> list[E]:
    """Every entity of a platform that the entry's vehicles can have."""
    return [
        factory(coordinator, description)
        for coordinator in coordinators.values()
        for description in descriptions
        if factory.creatable(coordinator, description)
    ]
