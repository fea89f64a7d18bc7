"""Application credentials: the Smartcar app's client id and secret, and its OAuth quirks."""

from __future__ import annotations

from typing import Any

from aiohttp import RequestInfo
from homeassistant.components.application_credentials import (
    AuthImplementation,
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestConnectionError,
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .api import (
    SmartcarApiError,
    SmartcarError,
    SmartcarOAuth,
    SmartcarOAuthError,
)
from .const import DOMAIN, LOGGER, SMARTCAR_DASHBOARD_URL
from .endpoints import get_endpoints


class SmartcarOAuth2Implementation(AuthImplementation):
    """Smartcar's token endpoint wants HTTP Basic client authentication, not form fields."""

    def __init__(self, hass: HomeAssistant, auth_domain: str, credential: ClientCredential) -> None:
        """Point the implementation at the configured Smartcar endpoints."""
        endpoints = get_endpoints(hass)
        super().__init__(
            hass,
            auth_domain,
            credential,
            AuthorizationServer(authorize_url=endpoints.connect_url, token_url=endpoints.token_url),
        )

    @property
    def name(self) -> str:
        """Name shown when several credentials exist."""
        return "Smartcar"

    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Send a token request the way Smartcar wants it.

        Failures map onto Home Assistant's OAuth2 errors: a refused grant or client
        (400/401) needs reauthentication; 429 and 5xx are transient; no answer is a
        connection error.
        """
        oauth = SmartcarOAuth(
            async_get_clientsession(self.hass),
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_url=self.token_url,
        )
        try:
            if data["grant_type"] == "refresh_token":
                tokens = await oauth.async_refresh(data["refresh_token"])
            else:
                tokens = await oauth.async_exchange_code(data["code"], data["redirect_uri"])
        except SmartcarOAuthError as err:
            LOGGER.debug("Smartcar refused the token request: %s", err.error)
            raise OAuth2TokenRequestReauthError(
                domain=DOMAIN, request_info=self._request_info(), status=err.status
            ) from err
        except SmartcarApiError as err:
            raise OAuth2TokenRequestTransientError(
                domain=DOMAIN, request_info=self._request_info(), status=err.status
            ) from err
        except SmartcarError as err:
            raise OAuth2TokenRequestConnectionError(domain=DOMAIN) from err
        return dict(tokens.raw)

    def _request_info(self) -> RequestInfo:
        url = URL(self.token_url)
        return RequestInfo(url, "POST", CIMultiDictProxy(CIMultiDict()), url)


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> config_entry_oauth2_flow.AbstractOAuth2Implementation:
    """Return the Smartcar OAuth2 implementation for these credentials."""
    return SmartcarOAuth2Implementation(hass, auth_domain, credential)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Links shown in the application credentials dialog."""
    return {
        "dashboard_url": SMARTCAR_DASHBOARD_URL,
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
