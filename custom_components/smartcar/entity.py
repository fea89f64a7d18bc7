"""Base entities, and the description fields every platform shares.

A description says which signal an entity shows and which model (`reading_type`) that
signal's reading is; the platform descriptions are generic over that model
(`SmartcarSensorDescription[Battery]`), so mypy checks every function of a description against
the model it reads. Commands and the state they leave behind are described the same way
(`SmartcarCommand[Security]`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
)
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import CommandResult, Permission, Signal, SignalReading, VehicleApi
from .const import DOMAIN, LOGGER
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator

# Covariant: a description of a Battery is a description of some reading, so a platform that
# shows several models (the sensors) holds them all. Declared, since the PEP 695 syntax would
# infer invariance from the (frozen) fields; only platform descriptions take the reading.
R_co = TypeVar("R_co", bound=SignalReading, covariant=True)


@dataclass(frozen=True, kw_only=True)
class SmartcarEntityDescription(EntityDescription, Generic[R_co]):  # noqa: UP046
    """What every signal entity is built from: the signal it shows and that signal's model.

    `control` names the permission its commands need (lock, switch, number); the entity
    exists only when that permission and the signal's read permission were granted.
    """

    signal: Signal
    reading_type: type[R_co]
    control: Permission | None = None

    def read(self, reading: SignalReading | None) -> R_co | None:
        """The reading as this description's model; None (unknown) for any other."""
        return reading if isinstance(reading, self.reading_type) else None

    def reported(self, reading: SignalReading | None) -> bool:
        """Whether the car reports what this entity shows (True until a reading says not).

        Platforms override it for values some cars of a signal lack (a frunk).
        """
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class SmartcarCommand[R: SignalReading]:
    """A command and the reading it should leave behind.

    `expect` turns the last reading (None when there is none, or it is of another model) into
    the one shown as soon as the command was accepted, until the car's answer confirms it.
    """

    send: Callable[[VehicleApi, str], Awaitable[CommandResult]]
    expect: Callable[[R | None], R]


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


class SmartcarEntity(CoordinatorEntity[SmartcarCoordinator]):
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


class SmartcarSignalEntity[R: SignalReading](SmartcarEntity):
    """An entity showing one signal of one vehicle, read as the model `R`.

    When the car turns out not to have the signal, the coordinator removes the entity from
    the registry for good (`SmartcarCoordinator.async_track_entity`).
    """

    entity_description: SmartcarEntityDescription[R]

    def __init__(
        self, coordinator: SmartcarCoordinator, description: SmartcarEntityDescription[R]
    ) -> None:
        """Listen to the coordinator for this entity's signal only."""
        super().__init__(coordinator, description, context=description.signal)

    @property
    def available(self) -> bool:
        """Available while the signal has a good reading that is not failing."""
        return super().available and self.coordinator.signal_available(
            self.entity_description.signal
        )

    @property
    def reading(self) -> R | None:
        """The last good reading of this entity's signal (None when of another model)."""
        description = self.entity_description
        return description.read(self.coordinator.data.reading(description.signal))

    async def async_send(
        self, command: SmartcarCommand[R], *, in_flight: Callable[[bool], None] | None = None
    ) -> None:
        """Send a command; show the reading it leaves behind, then the car's confirmation.

        `in_flight(True)` runs when the command goes out, `in_flight(False)` once it was
        answered or failed, before the expected state is shown.
        """
        client = self.coordinator.client
        vehicle_id = self.coordinator.vehicle.id
        read = self.entity_description.read
        expect = command.expect
        await self.coordinator.async_command(
            lambda: command.send(client, vehicle_id),
            self.entity_description.signal,
            lambda current: expect(read(current)),
            in_flight=in_flight,
        )


def creatable(
    coordinator: SmartcarCoordinator, description: SmartcarEntityDescription[SignalReading]
) -> bool:
    """Whether this vehicle can have this entity: permissions granted, signal supported."""
    if description.signal not in coordinator.available_signals:
        return False
    if not description.reported(coordinator.data.reading(description.signal)):
        return False
    return description.control is None or coordinator.vehicle.granted(description.control)


def async_add_vehicle_entities[D: SmartcarEntityDescription[SignalReading]](
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: tuple[D, ...],
    factory: Callable[[SmartcarCoordinator, D], SmartcarEntity],
    more: Callable[[SmartcarCoordinator], Iterable[Entity]] | None = None,
) -> None:
    """Add a platform's entities for every vehicle of the entry, now and for each vehicle that
    joins the account later (`Fleet`). `more`: entities not described by a signal.

    Called while the platform is set up; each coordinator learns which registry entries show
    which signal, to remove them should the car turn out not to have it.
    """
    domain = async_get_current_platform().domain

    @callback
    def add(coordinator: SmartcarCoordinator) -> None:
        entities: list[Entity] = []
        for description in descriptions:
            if not creatable(coordinator, description):
                continue
            entity = factory(coordinator, description)
            entities.append(entity)
            if entity.unique_id is not None:
                coordinator.async_track_entity(description.signal, domain, entity.unique_id)
        if more is not None:
            entities.extend(more(coordinator))
        async_add_entities(entities)

    for coordinator in entry.runtime_data.coordinators.values():
        add(coordinator)
    entry.runtime_data.entity_adders.append(add)
