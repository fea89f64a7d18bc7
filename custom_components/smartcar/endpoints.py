"""Where Smartcar lives: production by default, overridable in configuration.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .api import (
    DEFAULT_API_URL,
    DEFAULT_CONNECT_URL,
    DEFAULT_IAM_URL,
    DEFAULT_MANAGEMENT_URL,
    DEFAULT_TOKEN_URL,
    DEFAULT_VEHICLE_API_URL,
)
from .const import (
    CONF_API_URL,
    CONF_CONNECT_URL,
    CONF_IAM_URL,
    CONF_MANAGEMENT_URL,
    CONF_TOKEN_URL,
    CONF_VEHICLE_API_URL,
    DOMAIN,
)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The Smartcar URLs the integration talks to (API v2.0 and v3)."""

    connect_url: str = DEFAULT_CONNECT_URL
    token_url: str = DEFAULT_TOKEN_URL
    api_url: str = DEFAULT_API_URL
    management_url: str = DEFAULT_MANAGEMENT_URL
    iam_url: str = DEFAULT_IAM_URL
    vehicle_api_url: str = DEFAULT_VEHICLE_API_URL


DATA_ENDPOINTS: HassKey[Endpoints] = HassKey(f"{DOMAIN}_endpoints")

CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Optional(CONF_CONNECT_URL, default=DEFAULT_CONNECT_URL): cv.url,
                vol.Optional(CONF_TOKEN_URL, default=DEFAULT_TOKEN_URL): cv.url,
                vol.Optional(CONF_API_URL, default=DEFAULT_API_URL): cv.url,
                vol.Optional(CONF_MANAGEMENT_URL, default=DEFAULT_MANAGEMENT_URL): cv.url,
                vol.Optional(CONF_IAM_URL, default=DEFAULT_IAM_URL): cv.url,
                vol.Optional(CONF_VEHICLE_API_URL, default=DEFAULT_VEHICLE_API_URL): cv.url,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)


def set_endpoints(hass: HomeAssistant, config: dict[str, str]) -> None:
    """Remember the endpoints from the validated `smartcar:` block."""
    hass.data[DATA_ENDPOINTS] = Endpoints(
        connect_url=config[CONF_CONNECT_URL],
        token_url=config[CONF_TOKEN_URL],
        api_url=config[CONF_API_URL],
        management_url=config[CONF_MANAGEMENT_URL],
        iam_url=config[CONF_IAM_URL],
        vehicle_api_url=config[CONF_VEHICLE_API_URL],
    )


def get_endpoints(hass: HomeAssistant) -> Endpoints:
    """The endpoints in force (production when configuration.yaml says nothing)."""
    return hass.data.get(DATA_ENDPOINTS) or Endpoints()
