"""The doors as one lock: lock/unlock, per-door status as attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
import hmac
import re

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Permission, Security, Signal, SignalReading
from .const import CONF_UNLOCK_PIN, DOMAIN
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator
from .entity import (
    SmartcarCommand,
    SmartcarEntityDescription,
    SmartcarSignalEntity,
    async_add_vehicle_entities,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarLockDescription[R: SignalReading](
    SmartcarEntityDescription[R], LockEntityDescription
):
    """A lock over a signal whose model is `R`, and the commands that lock and unlock it."""

    is_locked_fn: Callable[[R], bool | None]
    attributes_fn: Callable[[R], Mapping[str, object] | None]
    lock: SmartcarCommand[R]
    unlock: SmartcarCommand[R]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _doors(reading: Security) -> Mapping[str, object] | None:
    """Each door's status, as the car reports it."""
    if not reading.doors:
        return None
    return {f"door_{_snake(d.type)}": d.status.lower() for d in reading.doors}


def _locked(locked: bool) -> Callable[[Security | None], Security]:
    """The security reading a lock command leaves behind: the rest as it was."""

    def expect(reading: Security | None) -> Security:
        if reading is None:
            return Security(is_locked=locked)
        return replace(reading, is_locked=locked)

    return expect


LOCKS: tuple[SmartcarLockDescription[Security], ...] = (
    SmartcarLockDescription(
        key="door_lock",
        name=None,  # the lock is the car itself: "lock the Tesla Model 3"
        signal=Signal.SECURITY,
        reading_type=Security,
        control=Permission.CONTROL_SECURITY,
        is_locked_fn=lambda r: r.is_locked,
        attributes_fn=_doors,
        lock=SmartcarCommand(
            send=lambda client, vehicle_id: client.async_lock(vehicle_id), expect=_locked(True)
        ),
        unlock=SmartcarCommand(
            send=lambda client, vehicle_id: client.async_unlock(vehicle_id),
            expect=_locked(False),
        ),
    ),
)


class SmartcarLock[R: SignalReading](SmartcarSignalEntity[R], LockEntity):
    """Locks and unlocks the car; unlocking asks for the PIN when one is set.

    While a command is in flight the lock shows locking or unlocking.
    """

    entity_description: SmartcarLockDescription[R]

    def __init__(
        self, coordinator: SmartcarCoordinator, description: SmartcarLockDescription[R]
    ) -> None:
        """A PIN in the options gives the lock a code format, so UIs and Assist ask for it."""
        super().__init__(coordinator, description)
        self._pin: str | None = coordinator.config_entry.options.get(CONF_UNLOCK_PIN)
        if self._pin:
            # Optional: locking needs no code; unlocking is checked against the PIN.
            self._attr_code_format = r"^(?:\d{4,8})?$"

    @property
    def is_locked(self) -> bool | None:
        """Locked, unlocked, or unknown."""
        reading = self.reading
        return None if reading is None else self.entity_description.is_locked_fn(reading)

    @property
    def extra_state_attributes(self) -> Mapping[str, object] | None:
        """Each door's status, as the car reports it."""
        reading = self.reading
        return None if reading is None else self.entity_description.attributes_fn(reading)

    async def async_lock(self, **kwargs: object) -> None:
        """Lock the doors."""
        await self._async_move(self.entity_description.lock, locking=True)

    async def async_unlock(self, **kwargs: object) -> None:
        """Unlock the doors, after checking the PIN; a wrong PIN sends nothing."""
        if self._pin and not hmac.compare_digest(str(kwargs.get(ATTR_CODE) or ""), self._pin):
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="wrong_pin")
        await self._async_move(self.entity_description.unlock, locking=False)

    async def _async_move(self, command: SmartcarCommand[R], *, locking: bool) -> None:
        """Send a lock or unlock command, showing locking or unlocking while it is in flight.

        The in-flight state is written before the command is awaited; once the command was
        answered, the expected (then confirmed) reading is shown, or, when it failed, the
        state from before.
        """

        @callback
        def in_flight(sending: bool) -> None:
            self._attr_is_locking = sending and locking
            self._attr_is_unlocking = sending and not locking
            if sending:
                self.async_write_ha_state()

        try:
            await self.async_send(command, in_flight=in_flight)
        finally:
            self.async_write_ha_state()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a lock for every vehicle whose doors we may read and control."""
    async_add_vehicle_entities(entry, async_add_entities, LOCKS, SmartcarLock)
