"""Where Smartcar lives (production by default, overridable in configuration.yaml), and the
clients that talk to it there: one place builds them for setup and for the config flow."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow, config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .api import (
    DEFAULT_API_URL,
    DEFAULT_CONNECT_URL,
    DEFAULT_IAM_URL,
    DEFAULT_MANAGEMENT_URL,
    DEFAULT_TOKEN_URL,
    DEFAULT_VEHICLE_API_URL,
    AbstractAuth,
    ApplicationTokenAuth,
    SmartcarClient,
    SmartcarV3Client,
    UnitSystem,
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


def client_credentials(
    implementation: config_entry_oauth2_flow.AbstractOAuth2Implementation,
) -> tuple[str, str] | None:
    """The client id and secret of the application credentials behind a flow or an entry."""
    if isinstance(implementation, config_entry_oauth2_flow.LocalOAuth2Implementation):
        return implementation.client_id, implementation.client_secret
    return None


def v2_client(
    hass: HomeAssistant, auth: AbstractAuth, unit_system: UnitSystem = UnitSystem.METRIC
) -> SmartcarClient:
    """An API v2.0 client for one user's tokens."""
    endpoints = get_endpoints(hass)
    return SmartcarClient(
        async_get_clientsession(hass),
        auth,
        api_url=endpoints.api_url,
        management_url=endpoints.management_url,
        unit_system=unit_system,
    )


def v3_client(
    hass: HomeAssistant,
    credentials: tuple[str, str],
    user_id: str,
    unit_system: UnitSystem = UnitSystem.METRIC,
) -> SmartcarV3Client:
    """An API v3 client for one user: the application token on Home Assistant's clock."""
    endpoints = get_endpoints(hass)
    session = async_get_clientsession(hass)
    client_id, client_secret = credentials
    auth = ApplicationTokenAuth(
        session,
        client_id=client_id,
        client_secret=client_secret,
        iam_url=endpoints.iam_url,
        clock=lambda: dt_util.utcnow().timestamp(),
    )
    return SmartcarV3Client(
        session,
        auth,
        user_id=user_id,
        api_url=endpoints.vehicle_api_url,
        management_url=endpoints.management_url,
        unit_system=unit_system,
    )
