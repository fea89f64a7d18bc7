"""Sign in at Smartcar Connect: one config entry per Smartcar user."""

from __future__ import annotations

from collections.abc import Mapping
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_entry_oauth2_flow, http as http_helpers
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .api import (
    ApiVersion,
    Mode,
    SmartcarClient,
    SmartcarError,
    SmartcarV3Client,
    StaticAuth,
    UnitSystem,
    async_detect_api_version,
)
from .const import (
    CONF_API_VERSION,
    CONF_APPLICATION_ID,
    CONF_CLOUDHOOK_URL,
    CONF_MANAGEMENT_TOKEN,
    CONF_MIN_INTERVAL,
    CONF_MODE,
    CONF_MONTHLY_BUDGET,
    CONF_SMARTCAR_WEBHOOK_ID,
    CONF_UNIT_SYSTEM,
    CONF_UNLOCK_PIN,
    CONF_USER_ID,
    DEFAULT_MIN_INTERVAL_MINUTES,
    DEFAULT_MONTHLY_BUDGET,
    DOMAIN,
    SCOPES,
    SCOPES_V3,
    SMARTCAR_DASHBOARD_URL,
)
from .endpoints import client_credentials, get_endpoints, v2_client, v3_client
from .migration import async_move_vehicles
from .webhook import webhook_url

# Below this a month of polling is barely possible (a few requests a day).
MIN_MONTHLY_BUDGET = 50

MODE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_MODE, default=Mode.LIVE.value): SelectSelector(
            SelectSelectorConfig(options=[m.value for m in Mode], translation_key=CONF_MODE)
        )
    }
)
WEBHOOK_KEYS = (CONF_WEBHOOK_ID, CONF_CLOUDHOOK_URL, CONF_SMARTCAR_WEBHOOK_ID)
# A new entry may take the management token at once (webhooks); the options change it later.
USER_SCHEMA = MODE_SCHEMA.extend(
    {
        vol.Optional(CONF_MANAGEMENT_TOKEN): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        )
    }
)


# API v3: Connect redirects here with `user_id` and `state` (Home Assistant's own OAuth
# callback insists on a `code`, which v3 has no use for).
CONNECT_CALLBACK_PATH = "/api/smartcar/connect"
# Sign-ins under way: the `state` sent to Connect -> the flow waiting for its answer.
DATA_PENDING: HassKey[dict[str, str]] = HassKey(f"{DOMAIN}_connect_pending")
# An Application ID: a UUID (older applications) or `client_...` (newer ones).
APPLICATION_ID_PATTERN = re.compile(
    r"^(client_[A-Za-z0-9_-]{4,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


class SmartcarConnectView(HomeAssistantView):
    """Where Smartcar Connect sends an API v3 user back: resumes the waiting flow."""

    requires_auth = False
    url = CONNECT_CALLBACK_PATH
    name = "api:smartcar:connect"

    async def get(self, request: web.Request) -> web.Response:
        """Hand `user_id` (or Connect's `error`) to the flow the `state` belongs to."""
        hass = request.app[KEY_HASS]
        state = request.query.get("state", "")
        flow_id = hass.data.setdefault(DATA_PENDING, {}).pop(state, None) if state else None
        if flow_id is None:
            return web.Response(
                status=400,
                text="This sign-in is unknown or over; start it again in Home Assistant.",
            )
        user_input: dict[str, str] = {}
        if error := request.query.get("error"):
            user_input["error"] = error
        elif user_id := request.query.get("user_id"):
            user_input[CONF_USER_ID] = user_id
        else:
            user_input["error"] = "missing_user_id"
        await hass.config_entries.flow.async_configure(flow_id=flow_id, user_input=user_input)
        return web.Response(
            headers={"content-type": "text/html"}, text="<script>window.close()</script>"
        )


@callback
def async_register_connect_view(hass: HomeAssistant) -> None:
    """Serve the API v3 Connect callback (once per Home Assistant run)."""
    if hass.http is not None and DATA_PENDING not in hass.data:
        hass.data[DATA_PENDING] = {}
        hass.http.register_view(SmartcarConnectView)


def _connect_redirect_uri(hass: HomeAssistant) -> str:
    """The URL Connect sends a v3 user back to: where the browser reached Home Assistant."""
    request = http_helpers.current_request.get()
    base = request.headers.get(config_entry_oauth2_flow.HEADER_FRONTEND_BASE) if request else None
    if base is None:
        base = get_url(hass, allow_internal=True, prefer_external=True)
    return f"{base.rstrip('/')}{CONNECT_CALLBACK_PATH}"


class SmartcarFlowHandler(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Smartcar Connect flow, reauthentication and reconfiguration (API v2.0 and v3)."""

    DOMAIN = DOMAIN
    VERSION = 1

    _mode: Mode = Mode.LIVE
    _management_token: str | None = None
    _api_version: ApiVersion | None = None
    _application_id: str | None = None
    _redirect_uri: str | None = None

    @property
    def _credentials(self) -> tuple[str, str]:
        """The client id and secret of the chosen application credentials."""
        return client_credentials(self.flow_impl) or ("", "")

    @property
    def logger(self) -> logging.Logger:
        """Logger of the flow."""
        return logging.getLogger(__name__)

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask for every permission the integration can use, in the chosen mode."""
        return {
            "scope": " ".join(SCOPES),
            "mode": self._mode.value,
            # Reauthentication must show the consent page again.
            "approval_prompt": "force" if self.source == SOURCE_REAUTH else "auto",
        }

    async def async_step_auth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Tell the application's API version from its credentials, then sign in for it.

        Credentials the v3 token endpoint accepts (client credentials grant) are v3; the ones
        it refuses are v2.0 and go through Home Assistant's OAuth flow as before.
        """
        if user_input is None and self._api_version is None:
            endpoints = get_endpoints(self.hass)
            try:
                self._api_version = await async_detect_api_version(
                    async_get_clientsession(self.hass),
                    client_id=self._credentials[0],
                    client_secret=self._credentials[1],
                    iam_url=endpoints.iam_url,
                )
            except SmartcarError as err:
                self.logger.warning("Cannot reach Smartcar's token endpoint: %s", err)
                return self.async_abort(reason="cannot_connect")
        if self._api_version is ApiVersion.V3:
            return await self.async_step_application_id()
        return await super().async_step_auth(user_input)

    async def async_step_application_id(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """API v3: the Application ID Connect needs (not the client id of the credentials)."""
        errors: dict[str, str] = {}
        client_id = self._credentials[0]
        if user_input is not None:
            application_id = str(user_input[CONF_APPLICATION_ID]).strip()
            if application_id == client_id:
                errors[CONF_APPLICATION_ID] = "application_id_is_client_id"
            elif not APPLICATION_ID_PATTERN.fullmatch(application_id):
                errors[CONF_APPLICATION_ID] = "invalid_application_id"
            else:
                self._application_id = application_id
                return await self.async_step_connect()
        suggested = {}
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            if entry.data.get(CONF_APPLICATION_ID):
                suggested[CONF_APPLICATION_ID] = entry.data[CONF_APPLICATION_ID]
        try:
            self._redirect_uri = _connect_redirect_uri(self.hass)
        except NoURLAvailableError:
            return self.async_abort(reason="no_url_available")
        return self.async_show_form(
            step_id="application_id",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_APPLICATION_ID): TextSelector()}), suggested
            ),
            errors=errors,
            description_placeholders={
                "redirect_uri": self._redirect_uri,
                "client_id": client_id,
                "dashboard_url": SMARTCAR_DASHBOARD_URL,
            },
        )

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """API v3: Smartcar Connect with the Application ID; it answers with a user id."""
        if user_input is not None:
            self.external_data = user_input
            next_step = "authorize_rejected" if "error" in user_input else "connect_done"
            return self.async_external_step_done(next_step_id=next_step)
        assert self._application_id is not None
        assert self._redirect_uri is not None
        state = secrets.token_urlsafe(24)
        self.hass.data.setdefault(DATA_PENDING, {})[state] = self.flow_id
        query = {
            "response_type": "code",
            "client_id": self._application_id,
            "redirect_uri": self._redirect_uri,
            "state": state,
            **self.extra_authorize_data,
            "scope": " ".join(SCOPES_V3),
        }
        url = get_endpoints(self.hass).connect_url
        separator = "&" if "?" in url else "?"
        return self.async_external_step(
            step_id="connect", url=f"{url}{separator}{urlencode(query)}"
        )

    async def async_step_connect_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """API v3: check the user's connections with the application token, then finish."""
        user_id = str(self.external_data[CONF_USER_ID])
        client = v3_client(self.hass, self._credentials, user_id)
        try:
            # The redirect names the user; the application's connections confirm it, also
            # when other users connected cars to the same application.
            vehicle_ids = await client.async_get_vehicle_ids()
        except SmartcarError as err:
            self.logger.warning("Cannot reach Smartcar after signing in: %s", err)
            return self.async_abort(reason="cannot_connect")
        if not vehicle_ids:
            return self.async_abort(reason="no_vehicles")
        data = {
            "auth_implementation": self.flow_impl.domain,
            CONF_API_VERSION: ApiVersion.V3.value,
            CONF_APPLICATION_ID: self._application_id,
            CONF_USER_ID: user_id,
        }
        return await self._async_finish(user_id, data, client, vehicle_ids)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose real or Smartcar-simulated vehicles, then sign in."""
        if user_input is None:
            return self.async_show_form(step_id="user", data_schema=USER_SCHEMA)
        self._mode = Mode(user_input[CONF_MODE])
        self._management_token = str(user_input.get(CONF_MANAGEMENT_TOKEN) or "").strip() or None
        return await self.async_step_pick_implementation()

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Smartcar refused our tokens: sign in again."""
        self._mode = Mode(entry_data.get(CONF_MODE, Mode.LIVE))
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tell the user why they have to sign in again."""
        if user_input is None:
            return self.async_show_form(step_id="reauth_confirm")
        return await self.async_step_pick_implementation()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the mode or the vehicles shared, by signing in again."""
        entry = self._get_reconfigure_entry()
        if user_input is None:
            return self.async_show_form(
                step_id="reconfigure",
                data_schema=self.add_suggested_values_to_schema(
                    MODE_SCHEMA, {CONF_MODE: entry.data.get(CONF_MODE, Mode.LIVE.value)}
                ),
            )
        self._mode = Mode(user_input[CONF_MODE])
        return await self.async_step_pick_implementation()

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Check the tokens work and find whose they are before creating the entry."""
        client = v2_client(self.hass, StaticAuth(data["token"]["access_token"]))
        try:
            user = await client.async_get_user()
        except SmartcarError as err:
            self.logger.warning("Cannot reach Smartcar after signing in: %s", err)
            return self.async_abort(reason="cannot_connect")
        return await self._async_finish(user.id, data, client, None)

    async def _async_finish(
        self,
        user_id: str,
        data: dict[str, Any],
        client: SmartcarClient | SmartcarV3Client,
        vehicle_ids: list[str] | None,
    ) -> ConfigFlowResult:
        """Create the entry, or update the one being reauthenticated or reconfigured.

        Moving an entry to another API version (a v2.0 entry given v3 credentials) changes
        its Smartcar user; its devices and entities move to the new vehicle ids.
        """
        data[CONF_MODE] = self._mode.value
        if self.source not in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            await self.async_set_unique_id(user_id)
            self._abort_if_unique_id_configured()
            title = "Smartcar" if self._mode is Mode.LIVE else "Smartcar (simulated)"
            options = {}
            if self._management_token:
                options[CONF_MANAGEMENT_TOKEN] = self._management_token
            return self.async_create_entry(title=title, data=data, options=options)
        entry = (
            self._get_reauth_entry()
            if self.source == SOURCE_REAUTH
            else self._get_reconfigure_entry()
        )
        migrating = entry.data.get(CONF_API_VERSION, ApiVersion.V2.value) != data.get(
            CONF_API_VERSION, ApiVersion.V2.value
        )
        # The webhook stays the entry's: its URL is pasted in Smartcar's dashboard.
        data = {key: entry.data[key] for key in WEBHOOK_KEYS if key in entry.data} | data
        await self.async_set_unique_id(user_id)
        if not migrating:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(entry, data=data)
        if any(
            other.unique_id == user_id and other.entry_id != entry.entry_id
            for other in self._async_current_entries(include_ignore=False)
        ):
            return self.async_abort(reason="already_configured")
        try:
            await async_move_vehicles(self.hass, entry, client, vehicle_ids)
        except SmartcarError as err:
            self.logger.warning("Cannot read the vehicles of the new credentials: %s", err)
            return self.async_abort(reason="cannot_connect")
        return self.async_update_reload_and_abort(
            entry, unique_id=user_id, data=data, reason="migrated"
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options: units and polling."""
        return SmartcarOptionsFlow()


PIN_PATTERN = re.compile(r"^\d{4,8}$")


class SmartcarOptionsFlow(OptionsFlowWithReload):
    """Units, the request budget, polling pace and the unlock PIN (the entry reloads)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with every option."""
        errors: dict[str, str] = {}
        if user_input is not None:
            pin = str(user_input.get(CONF_UNLOCK_PIN) or "").strip()
            if pin and not PIN_PATTERN.fullmatch(pin):
                errors[CONF_UNLOCK_PIN] = "invalid_pin"
            else:
                options = {
                    CONF_UNIT_SYSTEM: user_input[CONF_UNIT_SYSTEM],
                    CONF_MONTHLY_BUDGET: int(user_input[CONF_MONTHLY_BUDGET]),
                    CONF_MIN_INTERVAL: int(user_input[CONF_MIN_INTERVAL]),
                }
                if pin:
                    options[CONF_UNLOCK_PIN] = pin
                token = str(user_input.get(CONF_MANAGEMENT_TOKEN) or "").strip()
                if token:
                    options[CONF_MANAGEMENT_TOKEN] = token
                return self.async_create_entry(data=options)
        schema = vol.Schema(
            {
                vol.Required(CONF_UNIT_SYSTEM, default=UnitSystem.METRIC.value): SelectSelector(
                    SelectSelectorConfig(
                        options=[u.value for u in UnitSystem], translation_key=CONF_UNIT_SYSTEM
                    )
                ),
                vol.Required(CONF_MONTHLY_BUDGET, default=DEFAULT_MONTHLY_BUDGET): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_MONTHLY_BUDGET, max=100_000, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Required(
                    CONF_MIN_INTERVAL, default=DEFAULT_MIN_INTERVAL_MINUTES
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=DEFAULT_MIN_INTERVAL_MINUTES,
                        max=24 * 60,
                        step=1,
                        unit_of_measurement="min",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Optional(CONF_UNLOCK_PIN): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
                vol.Optional(CONF_MANAGEMENT_TOKEN): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.PASSWORD)
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
            errors=errors,
            description_placeholders={
                "webhook_url": webhook_url(self.hass, self.config_entry)
                or "(set an external URL for Home Assistant first)"
            },
        )
