"""Actions no entity covers: set a navigation destination."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .api import Permission, SmartcarInvalidArgumentError, validate_coordinates
from .const import (
    ATTR_ADDRESS,
    ATTR_DEVICE_ID,
    ATTR_LATITUDE,
    ATTR_LONGITUDE,
    DOMAIN,
    SERVICE_SET_DESTINATION,
)
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator

SET_DESTINATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_LATITUDE): vol.Coerce(float),
        vol.Required(ATTR_LONGITUDE): vol.Coerce(float),
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
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_coordinates",
            translation_placeholders={"error": str(err)},
        ) from err
    if not coordinator.vehicle.granted(Permission.CONTROL_NAVIGATION):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_permitted",
            translation_placeholders={"permission": Permission.CONTROL_NAVIGATION.value},
        )
    vehicle_id = coordinator.vehicle.id
    address = call.data.get(ATTR_ADDRESS)
    await coordinator.async_command(
        lambda: coordinator.client.async_set_destination(vehicle_id, latitude, longitude, address)
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_DESTINATION, _async_set_destination, schema=SET_DESTINATION_SCHEMA
    )
