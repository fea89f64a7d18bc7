"""Moving an entry to other credentials (API v2.0 to v3) without losing devices or history.

Smartcar's vehicle ids belong to an application, so a car may have another id under the new
credentials. Its device and entities keep their registry entries (entity ids, history); only
the vehicle id inside their identifiers changes. A car is recognised by its VIN, else by make,
model and year when only one car of the account matches.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .api import VehicleApi, VehicleAttributes
from .const import DOMAIN, LOGGER


def _vehicle_id(device: dr.DeviceEntry) -> str | None:
    return next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)


def _model(attributes: VehicleAttributes) -> str | None:
    """The device's model as `entity.device_info` writes it."""
    if attributes.model and attributes.year:
        return f"{attributes.model} ({attributes.year})"
    return attributes.model


def _match(device: dr.DeviceEntry, candidates: dict[str, VehicleAttributes]) -> str | None:
    """The new vehicle id of a device: same VIN, else the only car of the same make and model."""
    if device.serial_number:
        for vehicle_id, attributes in candidates.items():
            if attributes.vin == device.serial_number:
                return vehicle_id
    same = [
        vehicle_id
        for vehicle_id, attributes in candidates.items()
        if attributes.make == device.manufacturer and _model(attributes) == device.model
    ]
    return same[0] if len(same) == 1 else None


async def async_move_vehicles(
    hass: HomeAssistant,
    entry: ConfigEntry,
    client: VehicleApi,
    vehicle_ids: list[str] | None = None,
) -> dict[str, str]:
    """Give the entry's devices and entities the vehicle ids of the new credentials.

    Returns old id -> new id for the cars that moved. Attributes are read (billed) only for
    new ids that no device has yet.
    """
    new_ids = vehicle_ids if vehicle_ids is not None else await client.async_get_vehicle_ids()
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    ours = {
        vehicle_id: device
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
        if (vehicle_id := _vehicle_id(device)) is not None
    }
    unmatched = [vid for vid in ours if vid not in new_ids]
    fresh = [vid for vid in new_ids if vid not in ours]
    if not unmatched or not fresh:
        return {}
    candidates = {vid: await client.async_get_attributes(vid) for vid in fresh}
    moved: dict[str, str] = {}
    for old_id in unmatched:
        new_id = _match(ours[old_id], candidates)
        if new_id is None:
            LOGGER.info("A vehicle of the old credentials has no match under the new ones")
            continue
        del candidates[new_id]
        moved[old_id] = new_id
        devices.async_update_device(ours[old_id].id, new_identifiers={(DOMAIN, new_id)})
        for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
            if entity.unique_id.startswith(f"{old_id}_"):
                entities.async_update_entity(
                    entity.entity_id,
                    new_unique_id=f"{new_id}_{entity.unique_id.removeprefix(f'{old_id}_')}",
                )
    return moved
