"""The config flow: Smartcar Connect through the simulator, reauth, reconfigure, options."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartcar.const import DOMAIN, SCOPES
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from smartcar_simulator import Simulator

from .conftest import USER_ID
from .flow_helpers import approve_consent

pytestmark = pytest.mark.usefixtures("setup_credentials", "current_request_with_host")


async def _connect(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    result: dict[str, Any],
    *,
    action: str = "approve",
) -> dict[str, Any]:
    """From the external step: consent at the simulator, callback, finish the flow."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    query = await approve_consent(result["url"], action=action)
    client = await hass_client_no_auth()
    response = await client.get("/auth/external/callback", params=query)
    assert response.status == 200
    return await hass.config_entries.flow.async_configure(result["flow_id"])


async def test_full_flow(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: Simulator,
) -> None:
    """Sign in at the simulator's Connect page and get an entry for the user."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"mode": "simulated"}
    )
    authorize = result["url"]
    assert "mode=simulated" in authorize
    for scope in SCOPES:
        assert scope.value in authorize
    result = await _connect(hass, hass_client_no_auth, result)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Smartcar (simulated)"
    entry = result["result"]
    assert entry.unique_id == USER_ID
    assert entry.data["mode"] == "simulated"
    assert entry.data["token"]["refresh_token"]
    counters = simulator.counters
    assert counters["token_requests"].get("authorization_code") == 1
    await hass.async_block_till_done()


async def test_user_rejects(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Deny on the consent page aborts the flow."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    result = await _connect(hass, hass_client_no_auth, result, action="deny")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"


async def test_duplicate_user(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_entry: MockConfigEntry,
) -> None:
    """The same Smartcar user twice aborts."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
