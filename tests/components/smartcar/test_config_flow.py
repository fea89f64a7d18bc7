"""The config flow: Smartcar Connect through the simulator, reauth, reconfigure, options."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartcar.const import DOMAIN, SCOPES
from smartcar_simulator import Simulator
from tests.const import USER_ID

from .flow_helpers import sign_in

pytestmark = pytest.mark.usefixtures("setup_credentials", "current_request_with_host")


async def _sign_in_anew(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    *,
    action: str = "approve",
) -> dict[str, Any]:
    """A new entry's flow in live mode, through Smartcar Connect: how it ends."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    return await sign_in(hass, hass_client_no_auth, result, action=action)


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
    result = await sign_in(hass, hass_client_no_auth, result)

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
    result = await _sign_in_anew(hass, hass_client_no_auth, action="deny")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"


async def test_duplicate_user(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_entry: MockConfigEntry,
) -> None:
    """The same Smartcar user twice aborts."""
    config_entry.add_to_hass(hass)
    result = await _sign_in_anew(hass, hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/oauth/token", "oauth_failed"), ("/user", "cannot_connect")],
    ids=["token_exchange_refused", "cannot_connect_after_sign_in"],
)
async def test_smartcar_failing_at_sign_in_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: Simulator,
    path: str,
    reason: str,
) -> None:
    """The token endpoint refuses the code, or the tokens are there but `GET /user` fails: the
    flow aborts with the reason, and there is no entry."""
    simulator.inject_fault(path=path, error={"type": "SERVER", "status": 500})
    result = await _sign_in_anew(hass, hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize(
    ("unique_id", "reason"),
    [(USER_ID, "reauth_successful"), ("another-smartcar-user", "wrong_account")],
)
async def test_reauth(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: Simulator,
    config_entry: MockConfigEntry,
    unique_id: str,
    reason: str,
) -> None:
    """Reauthentication keeps the entry for the same user and refuses another one."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, unique_id=unique_id)
    old_refresh = config_entry.data["token"]["refresh_token"]
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert "approval_prompt=force" in result["url"]
    result = await sign_in(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    refreshed = config_entry.data["token"]["refresh_token"] != old_refresh
    assert refreshed is (reason == "reauth_successful")
    await hass.async_block_till_done()


async def test_reconfigure(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_entry: MockConfigEntry,
) -> None:
    """Reconfigure signs in again and may switch the mode."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"mode": "simulated"}
    )
    assert "mode=simulated" in result["url"]
    result = await sign_in(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.data["mode"] == "simulated"
    await hass.async_block_till_done()


async def test_reconfigure_wrong_account(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_entry: MockConfigEntry,
) -> None:
    """Reconfigure refuses to switch the entry to another Smartcar user."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, unique_id="another-smartcar-user")
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    result = await sign_in(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_options(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Options are stored and the entry reloads with them."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "unit_system": "imperial",
            "monthly_budget": 300,
            "min_interval": 60,
            "unlock_pin": "1234",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options == {
        "unit_system": "imperial",
        "monthly_budget": 300,
        "min_interval": 60,
        "unlock_pin": "1234",
    }
    coordinator = next(iter(init_integration.runtime_data.coordinators.values()))
    assert coordinator.client.unit_system.value == "imperial"
    assert coordinator.budget_remaining is not None
    assert coordinator.budget_remaining <= 300
    assert hass.states.get("lock.tesla_model_3").attributes["code_format"]


async def test_options_reject_bad_pin(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A PIN that is not 4 to 8 digits is refused; an empty one means no PIN."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"unit_system": "metric", "monthly_budget": 500, "min_interval": 30, "unlock_pin": "12a"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"unlock_pin": "invalid_pin"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"unit_system": "metric", "monthly_budget": 500, "min_interval": 30, "unlock_pin": ""},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert "unlock_pin" not in init_integration.options
