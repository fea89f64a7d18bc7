"""What webhook deliveries brought survives a reload (a restart) of an API v2.0 entry.

Deliveries carry Smartcar's v3 signals whatever the application's API version; the entry keeps
them as they came. A reload must show them again without a billed read, and a late delivery of
an older report must still not replace them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from smartcar_simulator import Simulator

from .conftest import Clock
from .helpers import billed_by_vehicle, billed_since
from .webhook_helpers import WEBHOOK_OPTIONS, encode, post_delivery, vehicle_state

LOCK = "lock.tesla_model_3"


@pytest.fixture
def options() -> dict[str, Any]:
    """Webhooks on: the entry has the application management token."""
    return dict(WEBHOOK_OPTIONS)


async def _post(
    hass_client_no_auth: ClientSessionGenerator, entry: MockConfigEntry, envelope: dict[str, Any]
) -> int:
    response = await post_delivery(hass_client_no_auth, entry, encode(envelope))
    return response.status


async def test_delivered_values_survive_a_reload(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
) -> None:
    """Unlocked by a delivery, reloaded: still unlocked, nothing read; an older report that
    comes late (its event id no longer remembered) is still not shown."""
    clock.advance(timedelta(minutes=10))
    simulator.vehicle("ev").unlock()
    assert await _post(hass_client_no_auth, init_integration, vehicle_state(simulator, "ev")) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"

    before = billed_by_vehicle(simulator)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
    assert billed_since(simulator, before) == {}

    older = vehicle_state(
        simulator,
        "ev",
        reported_at=clock.now - timedelta(minutes=9),
        overrides={"closure-islocked": {"value": True}},
    )
    assert await _post(hass_client_no_auth, init_integration, older) == 200
    await hass.async_block_till_done()
    assert hass.states.get(LOCK).state == "unlocked"
