"""Voice: Assist's built-in English sentences lock the car and start charging.

The sentences come from the home-assistant-intents package through Home Assistant's default
conversation agent; what must change is the simulated car itself, not just an entity.
"""

from __future__ import annotations

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.lock import LockState
from homeassistant.const import STATE_NOT_HOME, STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from homeassistant.util.location import distance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import setup_entry
from .helpers import CHARGE_LIMIT, CHARGING_SWITCH, LOCK, RANGE, TRACKER, install_blueprints


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


# --- the voice blueprint (blueprints/automation/smartcar/voice_sentences.yaml) ----------------


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config directory of this test's own (the harness's default is shared and installed),
    with the project's blueprints in it."""
    return install_blueprints(hass_tmp_config_dir)


@pytest.fixture
async def voice_sentences(hass: HomeAssistant, assist: None) -> None:
    """The voice blueprint, used by one automation."""
    use = {"path": f"{DOMAIN}/voice_sentences.yaml", "input": {}}
    config = {"automation": [{"id": "voice", "alias": "Car sentences", "use_blueprint": use}]}
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("setup_credentials", "voice_sentences")
async def test_voice_blueprint_sets_the_charge_limit(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """'set Tesla Model 3 charge limit to 90' sets the car's limit, entities not exposed."""
    await setup_entry(hass, config_entry)

    response = await say(hass, "set Tesla Model 3 charge limit to 90")

    assert (
        response.speech["plain"]["speech"] == "The Tesla Model 3 charge limit is set to 90 percent."
    )
    assert simulator.vehicle(EV_ID).state.charge_limit == pytest.approx(0.9)
    assert hass.states.get(CHARGE_LIMIT).state == "90"

    response = await say(hass, "set the charge limit of the tesla model 3 to 120 percent")
    assert response.speech["plain"]["speech"] == (
        "The charge limit must be a number from 50 to 100 percent."
    )
    assert simulator.vehicle(EV_ID).state.charge_limit == pytest.approx(0.9)


@pytest.mark.usefixtures("setup_credentials", "voice_sentences")
async def test_voice_blueprint_range_and_location(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """'how far can the Tesla Model 3 go' and 'where is the Tesla Model 3' answer from the
    car's entities; an unknown car is named as such."""
    await setup_entry(hass, config_entry)
    range_km = round(float(hass.states.get(RANGE).state))

    response = await say(hass, "how far can the Tesla Model 3 go")
    assert response.speech["plain"]["speech"] == (
        f"The Tesla Model 3 can go {range_km} km (electric range)."
    )
    response = await say(hass, "what is the Toyota RAV4 Prime range")
    speech = response.speech["plain"]["speech"]
    assert speech.startswith("The Toyota RAV4 Prime can go "), speech
    assert "(electric range) and " in speech, speech
    assert speech.endswith("(fuel range)."), speech

    tracker = hass.states.get(TRACKER)
    away = distance(
        hass.config.latitude,
        hass.config.longitude,
        tracker.attributes["latitude"],
        tracker.attributes["longitude"],
    )
    assert tracker.state == STATE_NOT_HOME
    response = await say(hass, "where is the Tesla Model 3")
    assert response.speech["plain"]["speech"] == (
        f"The Tesla Model 3 is away, {round(away / 1000, 1)} km from home."
    )

    response = await say(hass, "where is my Batmobile")
    assert response.speech["plain"]["speech"] == "I don't know a car called Batmobile."
