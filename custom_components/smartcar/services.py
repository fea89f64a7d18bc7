"""Actions: set a navigation destination, and read entities now (saying why when refused)."""

from __future__ import annotations

import asyncio

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.entity_component import DATA_INSTANCES
from homeassistant.helpers.service import async_extract_entity_ids
import voluptuous as vol

from .api import Permission, SmartcarInvalidArgumentError, validate_coordinates
from .const import (
    ATTR_ADDRESS,
    ATTR_DEVICE_ID,
    ATTR_LATITUDE,
    ATTR_LONGITUDE,
    DOMAIN,
    SERVICE_REFRESH,
    SERVICE_SET_DESTINATION,
)
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator
from .entity import SmartcarEntity
from .exceptions import invalid_argument

SET_DESTINATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_LATITUDE): vol.Coerce(float),
        vol.Required(ATTR_LONGITUDE): vol.Coerce(float),
        # Still accepted so existing automations keep working, but not sent: Smartcar's
        # `/navigation/destination` takes only latitude and longitude.
        vol.Optional(ATTR_ADDRESS): cv.string,
    }
)


def _coordinator(hass: HomeAssistant, device_id: str) -> SmartcarCoordinator:
    """The coordinator of a Smartcar vehicle device of a loaded entry."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        entry: SmartcarConfigEntry | None = hass.config_entries.async_get_entry(
            device.config_entry_id
        )
        if entry is not None and entry.domain == DOMAIN and entry.state is ConfigEntryState.LOADED:
            for domain, vehicle_id in device.identifiers:
                if domain == DOMAIN and vehicle_id in entry.runtime_data.coordinators:
                    return entry.runtime_data.coordinators[vehicle_id]
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_vehicle",
        translation_placeholders={"device_id": device_id},
    )


async def _async_set_destination(call: ServiceCall) -> None:
    """Send a destination to the car's navigation."""
    coordinator = _coordinator(call.hass, call.data[ATTR_DEVICE_ID])
    try:
        latitude, longitude = validate_coordinates(
            call.data[ATTR_LATITUDE], call.data[ATTR_LONGITUDE]
        )
    except SmartcarInvalidArgumentError as err:
        raise invalid_argument(err) from err
    if not coordinator.vehicle.granted(Permission.CONTROL_NAVIGATION):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_permitted",
            translation_placeholders={"permission": Permission.CONTROL_NAVIGATION.value},
        )
    vehicle_id = coordinator.vehicle.id
    await coordinator.async_command(
        lambda: coordinator.client.async_set_destination(vehicle_id, latitude, longitude)
    )


def _smartcar_entity(hass: HomeAssistant, entity_id: str) -> SmartcarEntity | None:
    """The loaded Smartcar entity of this id (as `homeassistant.update_entity` finds it)."""
    component = hass.data.get(DATA_INSTANCES, {}).get(entity_id.partition(".")[0])
    entity = component.get_entity(entity_id) if component is not None else None
    return entity if isinstance(entity, SmartcarEntity) else None


async def _async_refresh(call: ServiceCall) -> None:
    """Read the targeted entities now: one batch per car, errors raised to the caller."""
    entity_ids = await async_extract_entity_ids(call)
    entities = [
        entity
        for entity_id in sorted(entity_ids)
        if (entity := _smartcar_entity(call.hass, entity_id)) is not None
    ]
    if not entities:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_smartcar_entity",
            translation_placeholders={"entities": ", ".join(sorted(entity_ids)) or "-"},
        )
    await asyncio.gather(*(entity.async_read() for entity in entities))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_DESTINATION, _async_set_destination, schema=SET_DESTINATION_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_REFRESH, _async_refresh, schema=cv.make_entity_service_schema({})
    )
