"""API v3: the flow with an Application ID, the application token, entities, commands, repairs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.smartcar import PLATFORMS
from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator, v3 as sim_v3
from tests.const import CLIENT_ID, EV_ID, PETROL_ID, USER_ID

from .conftest import Clock, add_v3_credentials, poll, v3_entry
from .flow_helpers import approve_consent, sign_in
from .helpers import (
    billed_by_vehicle,
    billed_since,
    device,
    reauth_flows,
    refresh,
    repairs,
)

pytestmark = pytest.mark.usefixtures("current_request_with_host")

CONNECT_CALLBACK = "/api/smartcar/connect"
# The v3 credentials beside the v2 ones (a user migrating has both).
V3_AUTH = "smartcar_v3"


async def _to_application_id(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})


async def _connect(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    result: dict[str, Any],
    *,
    action: str = "approve",
) -> dict[str, Any]:
    """Consent at the simulator, back to the integration's own callback, finish the flow."""
    return await sign_in(
        hass, hass_client_no_auth, result, action=action, callback=CONNECT_CALLBACK
    )


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_flow(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """v3 credentials: the Application ID is asked, checked, sent to Connect; one entry."""
    app = sim_v3.app_of(simulator)
    sim_v3.add_user(simulator, "another-user", ["petrol"])
    result = await _to_application_id(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "application_id"
    assert result["description_placeholders"]["redirect_uri"] == (
        f"https://example.com{CONNECT_CALLBACK}"
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": app.client_id}
    )
    assert result["errors"] == {"application_id": "application_id_is_client_id"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": "my-app"}
    )
    assert result["errors"] == {"application_id": "invalid_application_id"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": app.application_id}
    )
    assert f"client_id={app.application_id}" in result["url"]
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.unique_id == USER_ID
    assert {key: value for key, value in entry.data.items() if key != "webhook_id"} == {
        "auth_implementation": DOMAIN,
        "api_version": "3",
        "application_id": app.application_id,
        "user_id": USER_ID,
        "mode": "live",
    }
    await hass.async_block_till_done()


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_connect_denied(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """Deny at Connect: the flow aborts, no entry."""
    result = await _to_application_id(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    result = await _connect(hass, hass_client_no_auth, result, action="deny")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_callback_without_user_or_with_unknown_state(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """A callback for no flow is refused; one without a user id aborts its flow."""
    client = await hass_client_no_auth()
    response = await client.get(CONNECT_CALLBACK, params={"state": "nobody", "user_id": "x"})
    assert response.status == 400
    result = await _to_application_id(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    state = parse_qs(urlparse(result["url"]).query)["state"][0]
    response = await client.get(CONNECT_CALLBACK, params={"state": state, "code": "c"})
    assert response.status == 200
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"
    # The state was used up: the same callback again finds no flow.
    response = await client.get(CONNECT_CALLBACK, params={"state": state, "user_id": USER_ID})
    assert response.status == 400


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_user_already_configured(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """The same Smartcar user twice: the second flow aborts."""
    v3_entry(simulator).add_to_hass(hass)
    result = await _to_application_id(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("setup_credentials")
async def test_v2_credentials_skip_the_application_id(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """v2 credentials (refused by the v3 token endpoint) go to v2 Connect at once."""
    result = await _to_application_id(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert f"client_id={CLIENT_ID}" in result["url"]
    assert "/auth/external/callback" in result["url"]
    # The one question that told the version: the v3 token endpoint refused these.
    assert simulator.counters["token_requests"]["client_credentials"] == 1


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_token_endpoint_down_aborts(hass: HomeAssistant, simulator: Simulator) -> None:
    """The version cannot be told without the token endpoint: the flow says so."""
    simulator.inject_fault(path="/oauth2/token", error={"type": "SERVER", "status": 500})
    result = await _to_application_id(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


# --- entities -------------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "setup_v3_credentials")
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_v3_platform(
    hass: HomeAssistant,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every entity of a v3 entry (new ones included), for each car, with its state."""
    entry = v3_entry(simulator)
    entry.add_to_hass(hass)
    with patch("custom_components.smartcar.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_v3_entities_only_where_the_car_reports(
    hass: HomeAssistant, init_v3: MockConfigEntry
) -> None:
    """A petrol car has no frunk, charge port or charge details; the EV has no fuel."""
    assert hass.states.get("binary_sensor.tesla_model_3_frunk").state == "off"
    assert hass.states.get("binary_sensor.tesla_model_3_charge_port").state == "off"
    assert hass.states.get("sensor.tesla_model_3_tire_pressure_front_left").state == "250.0"
    assert hass.states.get("sensor.tesla_model_3_12_v_battery").state == "88.0"
    assert hass.states.get("sensor.tesla_model_3_fuel_level") is None
    assert hass.states.get("binary_sensor.ford_focus_frunk") is None
    assert hass.states.get("binary_sensor.ford_focus_charge_port") is None
    assert hass.states.get("sensor.ford_focus_energy_added") is None
    assert hass.states.get("sensor.ford_focus_fuel_level").state == "41.0"
    # Rarely useful ones exist, disabled.
    registry = er.async_get(hass)
    for entity_id in (
        "sensor.tesla_model_3_firmware_version",
        "sensor.tesla_model_3_charger_power",
        "sensor.tesla_model_3_charge_rate",
        "binary_sensor.tesla_model_3_asleep",
    ):
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_v3_read_is_billed_once(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """A v3 read brings every signal for one billed request, and is counted as one."""
    before = billed_by_vehicle(simulator)
    await refresh(hass, "sensor.tesla_model_3_battery", "lock.tesla_model_3")
    assert billed_since(simulator, before) == {EV_ID: {"GET /v3/signals": 1}}
    assert hass.states.get("sensor.tesla_model_3_api_requests_this_month").state == "3"


async def test_v3_charging_details(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """While charging, charge rate, time to full, power and energy added have values."""
    simulator.vehicle("ev").plug_in()
    simulator.vehicle("ev").start_charge()
    clock.advance(timedelta(minutes=30))
    await refresh(hass, "sensor.tesla_model_3_time_to_full_charge")
    assert hass.states.get("sensor.tesla_model_3_charging_state").state == "charging"
    minutes = float(hass.states.get("sensor.tesla_model_3_time_to_full_charge").state)
    assert 0 < minutes < 24 * 60
    assert float(hass.states.get("sensor.tesla_model_3_energy_added").state) > 0


# --- the application token --------------------------------------------------------------------


async def test_app_token_fetched_once_and_again_before_it_expires(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """One token for every car of the entry; a new one shortly before the hour is over."""
    assert simulator.counters["token_requests"]["client_credentials"] == 1
    await refresh(hass, "sensor.tesla_model_3_battery", "sensor.ford_focus_fuel_level")
    assert simulator.counters["token_requests"]["client_credentials"] == 1
    clock.advance(timedelta(minutes=56))
    await refresh(hass, "sensor.tesla_model_3_battery")
    assert simulator.counters["token_requests"]["client_credentials"] == 2
    assert hass.states.get("sensor.tesla_model_3_battery").state == "62.0"


async def test_app_token_refused_is_fetched_again_once(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator
) -> None:
    """Smartcar forgets the token (401): a new one, the read goes through, no reauth."""
    sim_v3.app_of(simulator).tokens.clear()
    await refresh(hass, "sensor.tesla_model_3_battery")
    assert simulator.counters["token_requests"]["client_credentials"] == 2
    assert hass.states.get("sensor.tesla_model_3_battery").state == "62.0"
    assert not reauth_flows(hass)


async def test_rotated_secret_starts_reauthentication(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """The client secret was rotated at Smartcar: reauthentication, values kept."""
    app = sim_v3.app_of(simulator)
    app.client_secret = "rotated"
    app.tokens.clear()
    await poll(hass, init_v3, clock, timedelta(hours=6))
    assert len(reauth_flows(hass)) == 1
    # Nothing is lost: the entry, its devices and what it remembered stay.
    assert init_v3.state is ConfigEntryState.LOADED
    assert init_v3.runtime_data.coordinators[EV_ID].data.readings


async def test_reauth_with_new_secret(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_v3: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Reauthentication of a v3 entry goes through Connect again and keeps the entry."""
    result = await init_v3.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "application_id"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    assert "approval_prompt=force" in result["url"]
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert init_v3.state is ConfigEntryState.LOADED


# --- commands ---------------------------------------------------------------------------------


async def test_v3_commands(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator
) -> None:
    """Lock, unlock, charging, charge limit and destination reach the car through v3."""
    ev = simulator.vehicle("ev")
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": "lock.tesla_model_3"}, blocking=True
    )
    assert ev.state.locked is False
    await hass.services.async_call(
        "lock", "lock", {"entity_id": "lock.tesla_model_3"}, blocking=True
    )
    assert ev.state.locked is True
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.tesla_model_3_charge_limit", "value": 90},
        blocking=True,
    )
    assert ev.state.charge_limit == pytest.approx(0.9)
    ev.plug_in()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.tesla_model_3_charging"}, blocking=True
    )
    assert ev.state.charging is True
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.tesla_model_3_charging"}, blocking=True
    )
    assert ev.state.charging is False
    ev_device = device(hass, init_v3, EV_ID)
    assert ev_device is not None
    await hass.services.async_call(
        DOMAIN,
        "set_destination",
        {"device_id": ev_device.id, "latitude": 52.1, "longitude": 5.1},
        blocking=True,
    )
    assert ev.state.destination == {"latitude": 52.1, "longitude": 5.1, "address": None}
    billed = billed_by_vehicle(simulator)[EV_ID]
    for path in (
        "security/unlock",
        "security/lock",
        "charge/set-limit",
        "charge/start",
        "charge/stop",
        "navigation/set-destination",
    ):
        assert billed[f"POST /v3/commands/{path}"] == 1, path


async def test_v3_command_still_running_is_followed(
    hass: HomeAssistant, init_v3: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """A 202 is followed until the execution ends; the lock shows what the car did."""
    sim_v3.app_of(simulator).command_delay = 30
    init_v3.runtime_data.client._poll_interval = 0.01
    task = hass.async_create_task(
        hass.services.async_call(
            "lock", "unlock", {"entity_id": "lock.tesla_model_3"}, blocking=True
        )
    )
    executions = sim_v3.app_of(simulator).executions
    for _ in range(500):
        if executions:
            break
        await asyncio.sleep(0.01)
    (execution,) = executions.values()
    assert execution.status == "PENDING"
    assert not task.done()
    clock.advance(timedelta(seconds=31))
    await task
    assert execution.status == "SUCCESS"
    assert simulator.vehicle("ev").state.locked is False
    assert hass.states.get("lock.tesla_model_3").state == "unlocked"


# --- repairs ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_signals_need_a_webhook_subscription(
    hass: HomeAssistant, simulator: Simulator, clock: Clock
) -> None:
    """No signals until the car is subscribed: set up, a repair, data later without reload."""
    app = sim_v3.app_of(simulator)
    app.auto_subscribe = False
    entry = v3_entry(simulator)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.tesla_model_3_battery").state == "unavailable"
    assert {
        i.translation_placeholders["vehicle"] for i in repairs(hass, "signals_unavailable")
    } == {
        "Tesla Model 3",
        "Toyota RAV4 Prime",
        "Ford Focus",
    }
    app.auto_subscribe = True
    await poll(hass, entry, clock, timedelta(hours=1))
    assert hass.states.get("sensor.tesla_model_3_battery").state == "62.0"
    assert not repairs(hass, "signals_unavailable")
    assert entry.state is ConfigEntryState.LOADED


async def test_v2_retired_raises_a_repair(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator, clock: Clock
) -> None:
    """Smartcar stops serving v2.0 to a running entry: a repair says how to move to v3."""
    simulator.v2_retired = True
    await poll(hass, init_integration, clock, timedelta(days=2))
    issues = repairs(hass, "v2_retired")
    assert len(issues) == 1
    assert issues[0].translation_placeholders == {"entry": "Smartcar"}


@pytest.mark.usefixtures("setup_credentials")
async def test_v2_retired_at_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """Retired before setup: the entry fails for good (no retry loop) and the repair shows."""
    simulator.v2_retired = True
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(repairs(hass, "v2_retired")) == 1


# --- migration --------------------------------------------------------------------------------


async def test_v2_entry_moves_to_v3(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    sim_url: str,
) -> None:
    """Reconfigured with v3 credentials: same devices, entity ids, history; v3 from then on."""
    simulator.v2_retired = True
    registry = er.async_get(hass)
    before = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
    }
    devices_before = {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    }
    app = sim_v3.app_of(simulator)
    await add_v3_credentials(hass, sim_url, simulator, auth_domain=V3_AUTH)
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"implementation": _v3_implementation(result)}
    )
    assert result["step_id"] == "application_id"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": app.application_id}
    )
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "migrated"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.data["api_version"] == "3"
    assert init_integration.data["auth_implementation"] == V3_AUTH
    assert "token" not in init_integration.data
    after = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
    }
    assert before.items() <= after.items()
    assert "sensor.tesla_model_3_tire_pressure_front_left" in after
    assert {
        d.id
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    } == devices_before
    assert hass.states.get("sensor.tesla_model_3_battery").state == "62.0"
    assert not repairs(hass, "v2_retired")


async def test_migration_finds_cars_under_new_ids(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    sim_url: str,
) -> None:
    """Cars known to the old application under other ids keep their devices and entities:
    recognised by VIN, else by make, model and year."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    devices, entities = dr.async_get(hass), er.async_get(hass)
    old_ids = {EV_ID: "old-ev", PETROL_ID: "old-petrol"}
    for vehicle_id, old_id in old_ids.items():
        car = device(hass, init_integration, vehicle_id)
        assert car is not None
        devices.async_update_device(
            car.id,
            new_identifiers={(DOMAIN, old_id)},
            # The petrol car's VIN was never granted to the old application.
            serial_number=car.serial_number if vehicle_id == EV_ID else None,
        )
        for item in er.async_entries_for_config_entry(entities, init_integration.entry_id):
            if item.unique_id.startswith(f"{vehicle_id}_"):
                entities.async_update_entity(
                    item.entity_id,
                    new_unique_id=item.unique_id.replace(vehicle_id, old_id, 1),
                )
    before = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(entities, init_integration.entry_id)
    }
    app = sim_v3.app_of(simulator)
    await add_v3_credentials(hass, sim_url, simulator, auth_domain=V3_AUTH)
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "live"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"implementation": _v3_implementation(result)}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": app.application_id}
    )
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["reason"] == "migrated"
    await hass.async_block_till_done()
    after = {
        e.entity_id: e.unique_id
        for e in er.async_entries_for_config_entry(entities, init_integration.entry_id)
    }
    for entity_id, old_unique_id in before.items():
        expected = old_unique_id
        for vehicle_id, old_id in old_ids.items():
            expected = expected.replace(old_id, vehicle_id, 1)
        assert after[entity_id] == expected, entity_id
    assert hass.states.get("sensor.tesla_model_3_battery").state == "62.0"
    assert hass.states.get("sensor.ford_focus_fuel_level").state == "41.0"
    assert device(hass, init_integration, EV_ID) is not None
    assert not [
        d
        for d in dr.async_entries_for_config_entry(devices, init_integration.entry_id)
        if any(ident in old_ids.values() for _, ident in d.identifiers)
    ]


def _v3_implementation(result: dict[str, Any]) -> str:
    """The v3 credentials in the implementation picker (the v2 ones are the domain's own)."""
    assert result["step_id"] == "pick_implementation"
    choices = result["data_schema"].schema["implementation"].container
    assert V3_AUTH in choices
    return V3_AUTH


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_connections_unreachable_after_sign_in(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """Signed in, but the connections cannot be checked: the flow aborts, no entry."""
    result = await _to_application_id(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    simulator.inject_fault(path="/connections", error={"type": "SERVER", "status": 500})
    result = await _connect(hass, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_user_without_cars(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: Simulator
) -> None:
    """Connect named a user with no car connected to the application: nothing to set up."""
    result = await _to_application_id(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"application_id": sim_v3.app_of(simulator).application_id}
    )
    query = await approve_consent(result["url"])
    client = await hass_client_no_auth()
    response = await client.get(
        CONNECT_CALLBACK, params={"state": query["state"], "user_id": "someone-else"}
    )
    assert response.status == 200
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_vehicles"
