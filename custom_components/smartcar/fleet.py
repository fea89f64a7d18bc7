"""The entry's vehicles: listed at setup, looked up again now and then, added and removed live.

Smartcar does not bill the vehicle list or a vehicle's permissions, so the account is looked
at again every `FLEET_INTERVAL` (and at each reconfigure, which reloads the entry): a car
shared later gets its device and entities without a reload, and a car that left the account
loses them. Only a new car's attributes (make, model, year: once, remembered) and its first
read (to learn what it supports) are billed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from . import issues
from .api import SmartcarError, VehicleApi
from .const import DOMAIN, LOGGER
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator
from .store import SmartcarStore
from .vehicle import Vehicle
from .webhook import async_subscribe_vehicles

# Four free looks a day: a newly shared car shows up within six hours without the user doing
# anything (a reconfigure shows it at once).
FLEET_INTERVAL: Final = timedelta(hours=6)


async def async_vehicle(client: VehicleApi, store: SmartcarStore, vehicle_id: str) -> Vehicle:
    """A vehicle of the account: its permissions (free) and attributes (billed once, then
    remembered)."""
    permissions = await client.async_get_permissions(vehicle_id)
    memory = store.vehicle(vehicle_id)
    if memory.attributes is None:
        memory.attributes = await client.async_get_attributes(vehicle_id)
        memory.usage.add(dt_util.utcnow(), 1)
        store.async_schedule_save()
    return Vehicle(vehicle_id, memory.attributes, permissions, api_signals=client.signals)


def remove_devices(hass: HomeAssistant, entry: SmartcarConfigEntry, keep: set[str]) -> None:
    """Remove the devices (and with them their entities) of vehicles not in `keep`."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        vehicle_ids = {ident for domain, ident in device.identifiers if domain == DOMAIN}
        if not vehicle_ids & keep:
            registry.async_remove_device(device.id)


class Fleet:
    """Keeps a loaded entry's coordinators in step with the vehicles of the account."""

    def __init__(self, hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
        """For a loaded entry (its runtime data set)."""
        self.hass = hass
        self.entry = entry

    async def async_look(self, now: datetime | None = None) -> None:
        """List the account's vehicles (free): add the new ones, remove those gone."""
        data = self.entry.runtime_data
        if data.account.auth_failed:
            return  # reauthentication first; its reload lists the vehicles anyway
        try:
            async with data.account.limiter:
                vehicle_ids = await data.client.async_get_vehicle_ids()
        except SmartcarError as err:
            LOGGER.debug(
                "Could not list the account's vehicles (%s); next look in %s", err, FLEET_INTERVAL
            )
            return
        for vehicle_id in [v for v in data.coordinators if v not in vehicle_ids]:
            await self._async_remove(vehicle_id)
        for vehicle_id in [v for v in vehicle_ids if v not in data.coordinators]:
            await self._async_add(vehicle_id)

    async def _async_add(self, vehicle_id: str) -> None:
        """A car new to the account: its device and entities, as setup makes them."""
        data = self.entry.runtime_data
        try:
            async with data.account.limiter:
                vehicle = await async_vehicle(data.client, data.store, vehicle_id)
        except SmartcarError as err:
            LOGGER.warning("A car new to the Smartcar account could not be added yet: %s", err)
            return
        coordinator = SmartcarCoordinator(
            self.hass, self.entry, data.client, vehicle, store=data.store, account=data.account
        )
        if not coordinator.restored:
            # One read of everything granted tells which entities the car can have; without
            # it the car waits for the next look, as setup waits for a retry.
            await coordinator.async_refresh()
            if not coordinator.last_update_success and not coordinator.signals_unavailable:
                await coordinator.async_shutdown()
                LOGGER.debug("%s is added at the next look at the vehicle list", vehicle.name)
                return
        data.coordinators[vehicle.id] = coordinator
        for add_entities in data.entity_adders:
            add_entities(coordinator)
        coordinator.async_entities_ready()
        async_subscribe_vehicles(self.hass, self.entry)
        LOGGER.info("%s joined the Smartcar account: added", vehicle.name)

    async def _async_remove(self, vehicle_id: str) -> None:
        """A car that left the account: its coordinator stops, its device goes."""
        data = self.entry.runtime_data
        coordinator = data.coordinators.pop(vehicle_id)
        await coordinator.async_shutdown()
        remove_devices(self.hass, self.entry, set(data.coordinators))
        issues.clear_vehicle(self.hass, self.entry.entry_id, vehicle_id)
        data.store.forget(set(data.coordinators))
        LOGGER.info("%s left the Smartcar account: removed", coordinator.vehicle.name)
