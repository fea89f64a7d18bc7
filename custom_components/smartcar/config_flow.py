"""Sign in at Smartcar Connect: one config entry per Smartcar user."""

from __future__ import annotations

from collections.abc import Mapping
import logging
import re
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
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .api import Mode, SmartcarClient, SmartcarError, StaticAuth, UnitSystem
from .const import (
    CONF_MIN_INTERVAL,
    CONF_MODE,
    CONF_MONTHLY_BUDGET,
    CONF_UNIT_SYSTEM,
    CONF_UNLOCK_PIN,
    DEFAULT_MIN_INTERVAL_MINUTES,
    DEFAULT_MONTHLY_BUDGET,
    DOMAIN,
    SCOPES,
)
from .endpoints import get_endpoints

# Below this a month of polling is barely possible (a few requests a day).
MIN_MONTHLY_BUDGET = 50

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
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
            errors=errors,
        )
