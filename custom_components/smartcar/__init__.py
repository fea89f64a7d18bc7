"""Smartcar: connected cars in Home Assistant through the Smartcar Vehicles API."""

from __future__ import annotations

from homeassistant.components import webhook as ha_webhook
from homeassistant.const import CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    OAuth2TokenRequestBaseError,
    OAuth2TokenRequestReauthError,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.config_entry_oauth2_flow import (
    OAuth2Session,
    async_get_config_entry_implementation,
)
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from . import issues
from .api import (
    AbstractAuth,
    ApiVersion,
    SmartcarAuthenticationError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarVersionRetiredError,
    UnitSystem,
    VehicleApi,
)
from .config_flow import async_register_connect_view
from .const import CONF_API_VERSION, CONF_UNIT_SYSTEM, CONF_USER_ID, DOMAIN
from .coordinator import SmartcarConfigEntry, SmartcarCoordinator, SmartcarRuntimeData
from .endpoints import (
    CONFIG_SCHEMA as CONFIG_SCHEMA,
    client_credentials,
    set_endpoints,
    v2_client,
    v3_client,
)
from .exceptions import error_code, failure
from .fleet import FLEET_INTERVAL, Fleet, async_vehicle, remove_devices
from .services import async_setup_services
from .store import SmartcarStore
from .vehicle import Account
from .webhook import (
    async_remove_webhook,
    async_setup_webhook,
    async_unregister_webhook,
    management_token,
)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.DEVICE_TRACKER,
    Platform.LOCK,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


class OAuth2Auth(AbstractAuth):
    """Access tokens from Home Assistant's OAuth2 session (refreshed and stored there)."""

    def __init__(self, session: OAuth2Session) -> None:
        """Wrap the entry's session."""
        self._session = session

    async def async_get_access_token(self) -> str:
        """A valid access token; a refused refresh is an authentication error."""
        try:
            await self._session.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError as err:
            raise SmartcarAuthenticationError(
                status=401, description="the refresh token was refused"
            ) from err
        except OAuth2TokenRequestBaseError as err:
            raise SmartcarConnectionError("token endpoint unavailable") from err
        return str(self._session.token["access_token"])


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Read endpoint overrides and register the actions."""
    if DOMAIN in config:
        set_endpoints(hass, config[DOMAIN])
    async_setup_services(hass)
    async_register_connect_view(hass)
    return True


def is_v3(entry: SmartcarConfigEntry) -> bool:
    """Whether the entry's application speaks API v3 (no tokens stored, a user id instead)."""
    return entry.data.get(CONF_API_VERSION) == ApiVersion.V3.value


async def _async_client(hass: HomeAssistant, entry: SmartcarConfigEntry) -> VehicleApi:
    """The client for the entry's API version."""
    implementation = await async_get_config_entry_implementation(hass, entry)
    unit_system = UnitSystem(entry.options.get(CONF_UNIT_SYSTEM, UnitSystem.METRIC))
    if is_v3(entry):
        if (credentials := client_credentials(implementation)) is None:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
        return v3_client(hass, credentials, entry.data[CONF_USER_ID], unit_system)
    return v2_client(hass, OAuth2Auth(OAuth2Session(hass, entry, implementation)), unit_system)


async def async_setup_entry(hass: HomeAssistant, entry: SmartcarConfigEntry) -> bool:
    """Set up one Smartcar user: a device and a coordinator per vehicle."""
    if CONF_WEBHOOK_ID not in entry.data:
        # Made once and kept for good: restarts, reloads and token changes keep the URL.
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_WEBHOOK_ID: ha_webhook.async_generate_id()}
        )
    client = await _async_client(hass, entry)
    store = SmartcarStore(hass, entry.entry_id)
    await store.async_load()

    # The vehicle list and permissions are free; attributes are billed, so they are
    # fetched once and remembered.
    try:
        vehicles = [
            await async_vehicle(client, store, vehicle_id)
            for vehicle_id in await client.async_get_vehicle_ids()
        ]
    except SmartcarAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except SmartcarVersionRetiredError as err:
        issues.version_retired(hass, entry.entry_id, entry.title)
        raise ConfigEntryError(translation_domain=DOMAIN, translation_key="v2_retired") from err
    except SmartcarError as err:
        raise failure(ConfigEntryNotReady, "setup_failed", error_code(err)) from err
    store.forget({v.id for v in vehicles})
    # Repairs that still hold are raised again by the coordinators.
    issues.clear_entry(hass, entry.entry_id)

    account = Account()
    coordinators: dict[str, SmartcarCoordinator] = {}
    for vehicle in vehicles:
        coordinator = SmartcarCoordinator(
            hass, entry, client, vehicle, store=store, account=account
        )
        if not coordinator.restored:
            # First time: one batch of everything granted tells what the car supports.
            try:
                await coordinator.async_config_entry_first_refresh()
            except ConfigEntryNotReady:
                # A v3 car without signals until it is subscribed to a webhook still sets
                # up: its repair says what to do and its data comes once it is done.
                if not coordinator.signals_unavailable:
                    raise
        coordinators[vehicle.id] = coordinator

    remove_devices(hass, entry, set(coordinators))
    entry.runtime_data = SmartcarRuntimeData(
        client=client, store=store, account=account, coordinators=coordinators
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    for coordinator in coordinators.values():
        coordinator.async_entities_ready()
    entry.async_on_unload(
        async_track_time_interval(
            hass, Fleet(hass, entry).async_look, FLEET_INTERVAL, name=f"{DOMAIN} vehicle list"
        )
    )
    if management_token(entry) is not None:
        await async_setup_webhook(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SmartcarConfigEntry) -> bool:
    """Unload the platforms and save what must survive."""
    async_unregister_webhook(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.store.async_save_now()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
    """Delete the entry's storage and its cloudhook."""
    await SmartcarStore(hass, entry.entry_id).async_remove()
    await async_remove_webhook(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SmartcarConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A device may be removed by hand only when its vehicle left the account."""
    return not any(
        domain == DOMAIN and ident in entry.runtime_data.coordinators
        for domain, ident in device.identifiers
    )
