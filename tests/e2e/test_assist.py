"""Voice, as a new user tries it in the demo: Assist through Home Assistant's conversation API.

A real `hass` with the demo's setup for Assist (`HassClient.setup_voice`, what `scripts/develop`
does): the cars' useful entities exposed, the voice blueprint imported and used. Each sentence
must be understood and must change the simulated car or answer from it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.const import EV_ID, PETROL_ID

from .stack import Stack, stack_fixture

assist = stack_fixture(
    "assist",
    connect=True,
    extras=("automation", "blueprint", "script", "conversation", "intent"),
)


@pytest.fixture(scope="module")
def demo(assist: Stack) -> Stack:
    """The stack after the demo's Assist setup."""
    exposed, automation = assist.client.setup_voice()
    assert "lock.tesla_model_3" in exposed
    assert "sensor.tesla_model_3_battery" in exposed
    assert not [e for e in exposed if "api_requests" in e or "data_age" in e]  # diagnostic
    assert automation.startswith("automation.")
    return assist


def say(stack: Stack, text: str) -> tuple[str, dict[str, Any]]:
    """Ask Assist; its spoken answer and the whole response."""
    response = stack.client.converse(text)
    return str(response["speech"]["plain"]["speech"]), response


def test_turn_off_charging(demo: Stack) -> None:
    """'turn off Tesla Model 3 charging' stops the charge (the switch, not the binary sensor)."""
    demo.sim.post(f"/sim/vehicles/{EV_ID}/actions", {"action": "plug"})
    demo.client.act("switch", "turn_on", entity_id="switch.tesla_model_3_charging")
    assert demo.sim.car()["charging"] is True

    speech, response = say(demo, "turn off Tesla Model 3 charging")

    assert response["response_type"] == "action_done", response
    assert [t["id"] for t in response["data"]["success"]] == ["switch.tesla_model_3_charging"]
    assert demo.sim.car()["charging"] is False
    assert speech


def test_battery_and_fuel_level(demo: Stack) -> None:
    """'what is the Tesla Model 3 battery' and 'what is the Ford Focus fuel level' answer with
    what the cars report."""
    for sentence, entity_id in (
        ("what is the Tesla Model 3 battery", "sensor.tesla_model_3_battery"),
        ("what is the Ford Focus fuel level", "sensor.ford_focus_fuel_level"),
    ):
        shown = demo.client.state(entity_id)
        assert shown is not None
        level = round(float(shown["state"]))
        assert level == round(
            demo.sim.car(EV_ID if "tesla" in entity_id else PETROL_ID)[
                "battery" if "battery" in entity_id else "fuel"
            ]
            * 100
        )
        speech, response = say(demo, sentence)
        assert response["response_type"] == "query_answer", response
        assert f"{level}" in speech, speech


def test_locked_question_and_lock(demo: Stack) -> None:
    """'is the Tesla Model 3 locked' answers from the car; 'lock the Tesla Model 3' locks it."""
    demo.sim.set_car(locked=False)
    demo.client.act("smartcar", "refresh", entity_id="lock.tesla_model_3")
    demo.client.wait_state("lock.tesla_model_3", "unlocked")
    speech, response = say(demo, "is the Tesla Model 3 locked")
    assert response["response_type"] == "query_answer", response
    assert speech.startswith("No"), speech

    speech, response = say(demo, "lock the Tesla Model 3")
    assert response["response_type"] == "action_done", response
    assert demo.sim.car()["locked"] is True

    speech, response = say(demo, "is the Tesla Model 3 locked")
    assert speech.startswith("Yes"), speech


def test_blueprint_sentences(demo: Stack) -> None:
    """The voice blueprint: charge limit, range, location."""
    speech, _ = say(demo, "set Tesla Model 3 charge limit to 90")
    assert speech == "The Tesla Model 3 charge limit is set to 90 percent."
    assert demo.sim.car()["charge_limit"] == pytest.approx(0.9)

    range_state = demo.client.state("sensor.tesla_model_3_electric_range")
    assert range_state is not None
    speech, _ = say(demo, "how far can the Tesla Model 3 go")
    km = round(float(range_state["state"]))
    assert speech == f"The Tesla Model 3 can go {km} km (electric range).", speech

    speech, _ = say(demo, "where is the Tesla Model 3")
    assert speech.startswith("The Tesla Model 3 is "), speech
    assert speech.endswith(" from home.") or speech == "The Tesla Model 3 is at home.", speech
