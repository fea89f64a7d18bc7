"""The doors as one lock: lock/unlock, per-door status as attributes."""

from __future__ import annotations

from dataclasses import dataclass, replace
import hmac
import re
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Permission, Security, Signal, SignalReading
from .const import CONF_UNLOCK_PIN, DOMAIN
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator
from .entity import SmartcarEntity, SmartcarEntityDescription, entities_for

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SmartcarLockDescription(SmartcarEntityDescription, LockEntityDescription):
    """The vehicle's door lock."""


LOCKS: tuple[SmartcarLockDescription, ...] = (
    SmartcarLockDescription(
        key="door_lock",
        name=None,  # the lock is the car itself: "lock the Tesla Model 3"
        signal=Signal.SECURITY,
        control=Permission.CONTROL_SECURITY,
    ),
)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _locked(locked: bool) -> Any:
    def apply(reading: SignalReading | None) -> SignalReading:
        if isinstance(reading, Security):
            return replace(reading, is_locked=locked)
        return Security(is_locked=locked)

    return apply


class SmartcarLock(SmartcarEntity, LockEntity):
    """Locks and unlocks the car; unlocking asks for the PIN when one is set."""

    entity_description: SmartcarLockDescription

    def __init__(
        self, coordinator: SmartcarCoordinator, description: SmartcarLockDescription
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
        return reading.is_locked if isinstance(reading, Security) else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Each door's status, as the car reports it."""
        reading = self.reading
        if not isinstance(reading, Security) or not reading.doors:
            return None
        return {f"door_{_snake(d.type)}": d.status.lower() for d in reading.doors}

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the doors."""
        vehicle_id = self.coordinator.vehicle.id
        await self.coordinator.async_command(
            lambda: self.coordinator.client.async_lock(vehicle_id), Signal.SECURITY, _locked(True)
        )

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock the doors, after checking the PIN; a wrong PIN sends nothing."""
        if self._pin and not hmac.compare_digest(str(kwargs.get(ATTR_CODE) or ""), self._pin):
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="wrong_pin")
        vehicle_id = self.coordinator.vehicle.id
        await self.coordinator.async_command(
            lambda: self.coordinator.client.async_unlock(vehicle_id),
            Signal.SECURITY,
            _locked(False),
        )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartcarConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a lock for every vehicle whose doors we may read and control."""
    async_add_entities(entities_for(entry.runtime_data.coordinators, LOCKS, SmartcarLock))
