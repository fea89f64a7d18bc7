"""Voice: Assist's built-in English sentences lock the car and start charging.

The sentences come from the home-assistant-intents package through Home Assistant's default
conversation agent; what must change is the simulated car itself, not just an entity.
"""

from __future__ import annotations

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.lock import LockState
from homeassistant.const import STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import setup_entry
from .helpers import CHARGING_SWITCH, LOCK


@pytest.fixture
async def assist(hass: HomeAssistant) -> None:
    """Home Assistant's intents and default conversation agent, in English."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()


async def say(hass: HomeAssistant, text: str) -> intent.IntentResponse:
    """Send a sentence to Assist; return its response."""
    result = await conversation.async_converse(hass, text, None, Context(), language="en")
    await hass.async_block_till_done()
    return result.response


@pytest.mark.usefixtures("setup_credentials", "assist")
async def test_lock_by_voice(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """'lock the Tesla Model 3' locks the unlocked car."""
    car = simulator.vehicle(EV_ID)
    car.unlock()
    await setup_entry(hass, config_entry)
    assert hass.states.get(LOCK).state == LockState.UNLOCKED
    async_expose_entity(hass, conversation.DOMAIN, LOCK, True)

    response = await say(hass, "lock the Tesla Model 3")

    assert response.response_type is intent.IntentResponseType.ACTION_DONE, response.as_dict()
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_ON
    assert [target.id for target in response.success_results] == [LOCK]
    assert car.state.locked is True
    assert hass.states.get(LOCK).state == LockState.LOCKED


@pytest.mark.usefixtures("setup_credentials", "assist")
async def test_start_charging_by_voice(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """'turn on Tesla Model 3 charging' starts charging the plugged-in car."""
    car = simulator.vehicle(EV_ID)
    car.plug_in()
    car.stop_charge()
    assert car.state.charging is False
    await setup_entry(hass, config_entry)
    async_expose_entity(hass, conversation.DOMAIN, CHARGING_SWITCH, True)

    response = await say(hass, "turn on Tesla Model 3 charging")

    assert response.response_type is intent.IntentResponseType.ACTION_DONE, response.as_dict()
    assert [target.id for target in response.success_results] == [CHARGING_SWITCH]
    assert car.state.charging is True
    assert car.state.charge_state == "CHARGING"
    assert hass.states.get(CHARGING_SWITCH).state == STATE_ON


@pytest.mark.usefixtures("setup_credentials", "assist")
async def test_lock_not_exposed(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """Locks are not exposed to Assist by default: the car stays unlocked until exposed."""
    car = simulator.vehicle(EV_ID)
    car.unlock()
    await setup_entry(hass, config_entry)

    response = await say(hass, "lock the Tesla Model 3")

    assert response.response_type is intent.IntentResponseType.ERROR
    assert car.state.locked is False
    assert hass.states.get(LOCK).state == LockState.UNLOCKED
