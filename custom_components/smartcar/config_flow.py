"""Sign in at Smartcar Connect: one config entry per Smartcar user."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)
import voluptuous as vol

from .api import Mode, SmartcarClient, SmartcarError, StaticAuth, UnitSystem
from .const import (
    CONF_MODE,
    CONF_POLL_INTERVAL,
    CONF_UNIT_SYSTEM,
    DEFAULT_POLL_INTERVAL_MINUTES,
    DOMAIN,
    MAX_POLL_INTERVAL_MINUTES,
    MIN_POLL_INTERVAL_MINUTES,
    SCOPES,
)
from .endpoints import get_endpoints

MODE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_MODE, default=Mode.LIVE.value): SelectSelector(
            SelectSelectorConfig(options=[m.value for m in Mode], translation_key=CONF_MODE)
        )
    }
)


class SmartcarFlowHandler(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Smartcar Connect flow, reauthentication and reconfiguration."""

    DOMAIN = DOMAIN
    VERSION = 1

    _mode: Mode = Mode.LIVE

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

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose real or Smartcar-simulated vehicles, then sign in."""
        if user_input is None:
            return self.async_show_form(step_id="user", data_schema=MODE_SCHEMA)
        self._mode = Mode(user_input[CONF_MODE])
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
        endpoints = get_endpoints(self.hass)
        client = SmartcarClient(
            async_get_clientsession(self.hass),
            StaticAuth(data["token"]["access_token"]),
            api_url=endpoints.api_url,
            management_url=endpoints.management_url,
        )
        try:
            user = await client.async_get_user()
        except SmartcarError as err:
            self.logger.warning("Cannot reach Smartcar after signing in: %s", err)
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(user.id)
        data[CONF_MODE] = self._mode.value
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(self._get_reauth_entry(), data=data)
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data=data)
        self._abort_if_unique_id_configured()
        title = "Smartcar" if self._mode is Mode.LIVE else "Smartcar (simulated)"
        return self.async_create_entry(title=title, data=data)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options: units and polling."""
        return SmartcarOptionsFlow()


class SmartcarOptionsFlow(OptionsFlowWithReload):
    """Unit system Smartcar answers in, and how often to poll (the entry reloads)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with every option."""
        if user_input is not None:
            user_input[CONF_POLL_INTERVAL] = int(user_input[CONF_POLL_INTERVAL])
            return self.async_create_entry(data=user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_UNIT_SYSTEM, default=UnitSystem.METRIC.value): SelectSelector(
                    SelectSelectorConfig(
                        options=[u.value for u in UnitSystem], translation_key=CONF_UNIT_SYSTEM
                    )
                ),
                vol.Required(
                    CONF_POLL_INTERVAL, default=DEFAULT_POLL_INTERVAL_MINUTES
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_POLL_INTERVAL_MINUTES,
                        max=MAX_POLL_INTERVAL_MINUTES,
                        step=1,
                        unit_of_measurement="min",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )
