"""Webhooks through Home Assistant's webhook component: signatures, VERIFY, deliveries."""

from __future__ import annotations

from datetime import timedelta
import json
import sys
from types import ModuleType
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartcar.api import MAX_BODY_BYTES, hash_challenge
from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import Clock, poll, setup_entry, v3_entry
from .helpers import billed_by_vehicle, billed_since, reauth_flows, repairs
from .webhook_helpers import (
    MANAGEMENT_TOKEN,
    SMARTCAR_WEBHOOK_ID,
    WEBHOOK_OPTIONS,
    encode,
    post_delivery,
    sign,
    vehicle_error,
    vehicle_state,
    verify,
)

BATTERY = "sensor.tesla_model_3_battery"
LOCK = "lock.tesla_model_3"
LAST_WEBHOOK = "sensor.tesla_model_3_last_webhook"


@pytest.fixture
def options() -> dict[str, Any]:
    """Webhooks on: the entry has the application management token."""
    return dict(WEBHOOK_OPTIONS)


async def test_verify_is_answered_with_the_hmac(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """VERIFY: the challenge's HMAC keyed with the management token; the webhook id is learnt."""
    response = await post_delivery(
        hass_client_no_auth, init_integration, encode(verify("9c9c9c9c")), None
    )
    assert response.status == 200
    body = await response.json()
    assert body["challenge"] == sign(b"9c9c9c9c")
    assert init_integration.data["smartcar_webhook_id"] == SMARTCAR_WEBHOOK_ID


async def test_state_delivery_updates_entities_at_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """A signed VEHICLE_STATE shows the car's values at once; nothing is billed for it."""
    ev = simulator.vehicle("ev")
    clock.advance(timedelta(minutes=5))
    ev.unlock()
    before = billed_by_vehicle(simulator)
    delivery = vehicle_state(simulator, "ev")
    response = await post_delivery(hass_client_no_auth, init_integration, encode(delivery))
    assert response.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
    assert hass.states.get(LAST_WEBHOOK).state == clock.now.isoformat()
    assert billed_since(simulator, before) == {}


@pytest.mark.parametrize("signature", [None, "0" * 64, "not hex"])
async def test_unsigned_or_badly_signed_delivery_is_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    signature: str | None,
) -> None:
    """Without a valid SC-Signature nothing is read: 401, values unchanged."""
    simulator.vehicle("ev").unlock()
    body = encode(vehicle_state(simulator, "ev"))
    response = await post_delivery(hass_client_no_auth, init_integration, body, signature)
    assert response.status == 401
    assert hass.states.get(LOCK).state == "locked"


async def test_oversized_delivery_is_refused_unread(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """A body over the limit: 413."""
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = await post_delivery(hass_client_no_auth, init_integration, body)
    assert response.status == 413


async def test_duplicate_changes_nothing(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """The same eventId twice: the second is acknowledged and ignored."""
    simulator.vehicle("ev").unlock()
    clock.advance(timedelta(minutes=1))
    first = vehicle_state(simulator, "ev", event_id="evt-1")
    assert (await post_delivery(hass_client_no_auth, init_integration, encode(first))).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
    simulator.vehicle("ev").lock()
    clock.advance(timedelta(minutes=1))
    again = vehicle_state(simulator, "ev", event_id="evt-1")
    assert (await post_delivery(hass_client_no_auth, init_integration, encode(again))).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"


async def test_older_delivery_never_overwrites(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """Deliveries out of order: a report older than the one shown is dropped."""
    ev = simulator.vehicle("ev")
    clock.advance(timedelta(minutes=10))
    ev.unlock()
    newer = vehicle_state(simulator, "ev")
    older = vehicle_state(
        simulator,
        "ev",
        reported_at=clock.now - timedelta(minutes=9),
        overrides={"closure-islocked": {"value": True}},
    )
    assert (await post_delivery(hass_client_no_auth, init_integration, encode(newer))).status == 200
    assert (await post_delivery(hass_client_no_auth, init_integration, encode(older))).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"


async def test_error_signals_do_not_flap(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """A delivery whose battery signals are unsupported leaves the battery as shown."""
    shown = hass.states.get(BATTERY).state
    delivery = vehicle_state(simulator, "ev")
    for item in delivery["data"]["signals"]:
        if item["code"].startswith("tractionbattery-"):
            item.pop("body", None)
            item["status"] = {
                "value": "ERROR",
                "error": {"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE"},
            }
    assert (
        await post_delivery(hass_client_no_auth, init_integration, encode(delivery))
    ).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(BATTERY).state == shown


async def test_unknown_vehicle_is_acknowledged(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """A delivery for a car of no entry: 200 (so Smartcar does not retry), nothing changes."""
    delivery = vehicle_state(simulator, "ev")
    delivery["data"]["vehicle"]["id"] = "some-other-car"
    response = await post_delivery(hass_client_no_auth, init_integration, encode(delivery))
    assert response.status == 200
    assert hass.states.get(LAST_WEBHOOK).state == "unknown"


async def test_malformed_signed_delivery(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Signed but not a delivery: 400, nothing changes."""
    response = await post_delivery(hass_client_no_auth, init_integration, b'{"hello": 1}')
    assert response.status == 400


async def test_vehicle_errors(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Each error event does what a read's error does; RESOLVED takes it back."""

    async def send(**fields: Any) -> None:
        body = encode(vehicle_error(simulator, "ev", **fields))
        assert (await post_delivery(hass_client_no_auth, init_integration, body)).status == 200
        await hass.async_block_till_done()

    shown = hass.states.get(BATTERY).state
    await send(type_="VEHICLE_STATE", code="ASLEEP")
    assert hass.states.get(BATTERY).state == shown
    await send(type_="PERMISSION", code=None, signals=("location-preciselocation",))
    assert [
        i.translation_placeholders["permission"] for i in repairs(hass, "missing_permission")
    ] == ["read_location"]
    await send(
        type_="PERMISSION", code=None, signals=("location-preciselocation",), state="RESOLVED"
    )
    assert not repairs(hass, "missing_permission")
    await send(type_="CONNECTED_SERVICES_ACCOUNT", code="SUBSCRIPTION")
    assert len(repairs(hass, "account_action")) == 1
    await send(type_="CONNECTED_SERVICES_ACCOUNT", code="SUBSCRIPTION", state="RESOLVED")
    assert not repairs(hass, "account_action")
    await send(
        type_="CONNECTED_SERVICES_ACCOUNT",
        code="AUTHENTICATION_FAILED",
        resolution="REAUTHENTICATE",
    )
    assert len(reauth_flows(hass)) == 1


async def test_webhook_id_survives_restart_and_option_changes(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Reload and a new token keep the webhook id (the URL in Smartcar's dashboard)."""
    webhook_id = init_integration.data[CONF_WEBHOOK_ID]
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    hass.config_entries.async_update_entry(init_integration, options={"management_token": "new"})
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.data[CONF_WEBHOOK_ID] == webhook_id


async def test_removal_unregisters(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Removing the entry: the webhook answers nothing any more."""
    body = encode(vehicle_state(simulator, "ev"))
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    response = await client.post(
        f"/api/webhook/{init_integration.data[CONF_WEBHOOK_ID]}",
        data=body,
        headers={"SC-Signature": sign(body)},
    )
    # Home Assistant answers 200 for unknown webhooks (not to leak which exist); no state.
    assert response.status == 200
    assert hass.states.get(LOCK) is None


async def test_deliveries_replace_polling(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """While deliveries come, nothing is read; when they stop, a daily safety read of the
    heartbeat notices the car reported without them, and polling takes over."""
    ev = simulator.vehicle("ev")
    before = billed_by_vehicle(simulator)
    for _ in range(12 * 3):
        clock.advance(timedelta(hours=2))
        delivery = vehicle_state(simulator, "ev")
        assert (
            await post_delivery(hass_client_no_auth, init_integration, encode(delivery))
        ).status == 200
        await poll(hass, init_integration, clock, timedelta(0))
    assert billed_since(simulator, before).get(EV_ID, {}) == {}

    # Deliveries stop; an hour later the car is used (unlocked) and nobody tells.
    before = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, timedelta(hours=1))
    ev.unlock()
    await poll(hass, init_integration, clock, timedelta(hours=11))
    assert billed_since(simulator, before).get(EV_ID, {}) == {}
    await poll(hass, init_integration, clock, timedelta(hours=13))
    # The safety read of the lock shows a report no delivery brought: deliveries have stopped,
    # so what use changes is read at once, as without webhooks.
    spent = billed_since(simulator, before)[EV_ID]
    assert spent["GET /security"] == 1
    assert spent["GET /battery"] == 1
    assert hass.states.get(LOCK).state == "unlocked"
    # Polling is back: the unlocked car is watched.
    before = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, timedelta(hours=1))
    assert billed_since(simulator, before)[EV_ID].get("GET /security") == 1


@pytest.mark.parametrize("options", [{}])
async def test_no_token_no_webhook(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Without the token: no webhook sensor, deliveries are not taken."""
    await setup_entry(hass, config_entry)
    assert hass.states.get(LAST_WEBHOOK) is None
    simulator.vehicle("ev").unlock()
    body = encode(vehicle_state(simulator, "ev"))
    response = await post_delivery(hass_client_no_auth, config_entry, body)
    assert response.status == 200
    assert hass.states.get(LOCK).state == "locked"


async def test_cloudhook(
    hass: HomeAssistant, setup_credentials: None, config_entry: MockConfigEntry
) -> None:
    """With Home Assistant Cloud, the entry gets a cloudhook; removal deletes it.

    Cloud's own module stands in (importing the real one pulls in half of Home Assistant).
    """
    cloud = ModuleType("homeassistant.components.cloud")
    cloud.CloudNotAvailable = type("CloudNotAvailable", (Exception,), {})  # type: ignore[attr-defined]
    cloud.async_active_subscription = lambda hass: True  # type: ignore[attr-defined]
    cloud.async_is_connected = lambda hass: True  # type: ignore[attr-defined]
    cloud.async_create_cloudhook = AsyncMock(return_value="https://hooks.nabu.casa/abc")  # type: ignore[attr-defined]
    cloud.async_delete_cloudhook = AsyncMock()  # type: ignore[attr-defined]
    hass.config.components.add("cloud")
    with patch.dict(sys.modules, {"homeassistant.components.cloud": cloud}):
        await setup_entry(hass, config_entry)
        assert cloud.async_create_cloudhook.call_count == 1
        assert config_entry.data["cloudhook_url"] == "https://hooks.nabu.casa/abc"
        assert await hass.config_entries.async_reload(config_entry.entry_id)
        await hass.async_block_till_done()
        assert cloud.async_create_cloudhook.call_count == 1
        assert await hass.config_entries.async_remove(config_entry.entry_id)
        await hass.async_block_till_done()
        cloud.async_delete_cloudhook.assert_awaited_once_with(hass, config_entry.data["webhook_id"])


def test_challenge_matches_smartcar_test_vector() -> None:
    """Smartcar's documented pairing: AMT abc123abc123, challenge 9c9c9c9c."""
    assert hash_challenge("abc123abc123", "9c9c9c9c") == (
        "2a596ed34b8c6f069492d952aa51f076fee7b1c662b6498e0217a0d41fd9b936"
    )


async def test_verify_subscribes_the_cars_through_the_api(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """The webhook id learnt from VERIFY: every car is subscribed to it, once."""
    body = encode(verify("abc"))
    assert (await post_delivery(hass_client_no_auth, init_integration, body)).status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.webhooks[SMARTCAR_WEBHOOK_ID] == set(
        init_integration.runtime_data.coordinators
    )
    requests = simulator.counters["http_requests"]
    calls = {k: n for k, n in requests.items() if "webhooks" in k}
    assert sum(calls.values()) == 3
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    requests = simulator.counters["http_requests"]
    assert {k: n for k, n in requests.items() if "webhooks" in k} == calls


async def test_diagnostics_hide_the_webhook_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Diagnostics say whether webhooks work, never the token or the URL's secret part."""
    assert await async_setup_component(hass, "diagnostics", {})
    assert (
        await post_delivery(hass_client_no_auth, init_integration, encode(verify("x")))
    ).status == 200
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics, default=str)
    assert MANAGEMENT_TOKEN not in text
    assert init_integration.data[CONF_WEBHOOK_ID] not in text
    assert diagnostics["webhook"] == {"enabled": True, "cloudhook": False, "verified": True}


async def test_unsigned_garbage_is_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """An unsigned body that is no VERIFY (here: not even JSON) is refused unparsed."""
    response = await post_delivery(hass_client_no_auth, init_integration, b"\xff not json", None)
    assert response.status == 401


async def test_options_show_the_webhook_url(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The options form shows the URL to paste into the Smartcar dashboard."""
    await async_process_ha_core_config(hass, {"external_url": "https://ha.example.org"})
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["description_placeholders"]["webhook_url"] == (
        f"https://ha.example.org/api/webhook/{init_integration.data[CONF_WEBHOOK_ID]}"
    )


@pytest.mark.usefixtures("setup_v3_credentials")
async def test_v3_cars_subscribe_through_the_management_api(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: Simulator,
    options: dict[str, Any],
) -> None:
    """A v3 entry subscribes its cars with POST /subscriptions (the application token)."""
    entry = v3_entry(simulator, options)
    await setup_entry(hass, entry)
    assert (await post_delivery(hass_client_no_auth, entry, encode(verify("v3")))).status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.webhooks[SMARTCAR_WEBHOOK_ID] == set(entry.runtime_data.coordinators)
    delivery = vehicle_state(simulator, "ev")
    assert (await post_delivery(hass_client_no_auth, entry, encode(delivery))).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LAST_WEBHOOK).state != "unknown"


async def test_command_is_confirmed_by_the_delivery_not_a_read(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """While deliveries bring the lock state, unlocking reads nothing back: the delivery of
    the car's report confirms it."""
    assert (
        await post_delivery(
            hass_client_no_auth, init_integration, encode(vehicle_state(simulator, "ev"))
        )
    ).status == 200
    before = billed_by_vehicle(simulator)
    await hass.services.async_call("lock", "unlock", {"entity_id": LOCK}, blocking=True)
    await hass.async_block_till_done()
    assert billed_since(simulator, before)[EV_ID] == {"POST /security": 1}
    delivery = vehicle_state(simulator, "ev")
    assert (
        await post_delivery(hass_client_no_auth, init_integration, encode(delivery))
    ).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
