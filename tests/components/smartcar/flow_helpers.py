"""Drive Smartcar Connect (the simulator's consent page) as a browser would."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from scripts.devstack import consent_form


async def approve_consent(authorize_url: str, *, action: str = "approve") -> dict[str, str]:
    """Open the consent page, press Approve (or Deny); return the redirect's query."""
    async with aiohttp.ClientSession() as session:
        async with session.get(authorize_url) as response:
            assert response.status == 200, await response.text()
            target, form = consent_form(authorize_url, await response.text(), action)
        async with session.post(target, data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
            location = response.headers["Location"]
    query = parse_qs(urlparse(location).query)
    return {key: values[0] for key, values in query.items()}


async def sign_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    result: dict[str, Any],
    *,
    action: str = "approve",
    callback: str = "/auth/external/callback",
) -> dict[str, Any]:
    """From a flow's external step: consent at the simulator, callback, finish the flow.

    API v3 comes back to the integration's own `callback` (`/api/smartcar/connect`).
    """
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    query = await approve_consent(result["url"], action=action)
    client = await hass_client_no_auth()
    response = await client.get(callback, params=query)
    assert response.status == 200, await response.text()
    return await hass.config_entries.flow.async_configure(result["flow_id"])
