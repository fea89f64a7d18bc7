"""End to end: faults reached through `homeassistant.update_entity` in a real `hass` process.

Each test injects one fault at the simulator process (/sim/faults, /sim/tokens/revoke), asks
Home Assistant over REST to update the entities that read it, and checks over REST (states,
actions) and the websocket (repairs, flows in progress) what the README promises: a malformed
item shows unknown and leaves the rest alone; a 403 on one path makes only its entities
unavailable and raises a repair; a 429 keeps the values and nothing is sent before retry-after;
a 430 raises a repair; revoked tokens start reauthentication.

A stack of its own (the shared one is revoked by test_home_assistant.py, and a 430 silences a
car for a day): the tests run in file order, and each leaves no fault behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scripts.devstack import wait_until
from tests.const import EV_ID, PETROL_ID

from .stack import CAR_NAMES, Client, Simulator, Stack, stack_fixture

BATTERY = "sensor.tesla_model_3_battery"
RANGE = "sensor.tesla_model_3_electric_range"
ODOMETER = "sensor.tesla_model_3_odometer"
LOCK = "lock.tesla_model_3"
FUEL = "sensor.ford_focus_fuel_level"
PHEV_BATTERY = "sensor.toyota_rav4_prime_battery"
# The request counters change with every request: left out where states are compared.
COUNTERS = ("_api_requests_this_month", "_request_budget_remaining")
GONE = ("unavailable", "unknown")


# Simulator and Home Assistant with the simulated account connected, for this module.
faults_stack = stack_fixture("faults_stack", connect=True)


@pytest.fixture
def stack(faults_stack: Stack) -> Iterator[Stack]:
    """This module's stack; every fault a test injected is gone when it ends."""
    yield faults_stack
    faults_stack.sim.clear_faults()


# --- helpers ---------------------------------------------------------------------------------


def update(client: Client, *entity_ids: str) -> None:
    """`homeassistant.update_entity` over REST (it logs a refusal; the call succeeds)."""
    answer = client.call_service("homeassistant", "update_entity", {"entity_id": list(entity_ids)})
    assert answer.status_code == 200, f"update_entity: {answer.status_code} {answer.text}"


def inject(sim: Simulator, **fault: Any) -> str:
    """POST /sim/faults; the fault's id."""
    return str(sim.post("/sim/faults", fault)["id"])


def fault_state(sim: Simulator, fault_id: str) -> dict[str, Any] | None:
    """An injected fault as the simulator lists it; None once its count is used up."""
    faults = [f for f in sim.get("/sim/faults")["faults"] if f["id"] == fault_id]
    return dict(faults[0]) if faults else None


def car_states(client: Client) -> dict[str, str]:
    """The state of every entity of the simulated cars that shows what a car said."""
    return {
        entity_id: state["state"]
        for entity_id, state in client.states().items()
        if any(f".{car}" in entity_id for car in CAR_NAMES.values())
        and not entity_id.endswith(COUNTERS)
    }


def changed(before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """The entities whose state differs, with their new state."""
    assert set(after) == set(before)
    return {e: s for e, s in after.items() if s != before[e]}


def billed(sim: Simulator, vehicle_id: str) -> dict[str, int]:
    """Billed requests of one car, by path."""
    return dict(sim.counters()["billed"].get(vehicle_id, {}).get("by_path", {}))


def http_total(sim: Simulator) -> int:
    """Every request the simulator received outside /sim (API, token endpoint, management)."""
    return sum(sim.counters()["http_requests"].values())


def repairs(client: Client, translation_key: str) -> list[dict[str, Any]]:
    """The integration's active repair issues of one kind (websocket repairs/list_issues)."""
    issues = client.ws_result({"type": "repairs/list_issues"})["issues"]
    return [
        i for i in issues if i["domain"] == "smartcar" and i["translation_key"] == translation_key
    ]


def number(client: Client, entity_id: str) -> float | None:
    """A numeric state, None while it has none."""
    state = client.state(entity_id)
    if state is None or state["state"] in GONE:
        return None
    return float(state["state"])


def set_battery(sim: Simulator, vehicle_id: str, fraction: float) -> None:
    """Change the car's battery level (it reports at once): a later read shows it."""
    sim.set_car(vehicle_id, battery=fraction)


# --- the tests, in file order ------------------------------------------------------------------


def test_malformed_item_shows_unknown(stack: Stack) -> None:
    """/battery answers wrong types: its sensors show unknown, no other entity changes."""
    client, sim = stack.client, stack.sim
    before = car_states(client)
    assert before[BATTERY] not in GONE
    fault = inject(sim, vehicle_id=EV_ID, path="/battery", count=1, kind="malformed")

    update(client, BATTERY, RANGE, LOCK)

    wait_until("the battery to show unknown", lambda: client.state(BATTERY)["state"] == "unknown")
    assert fault_state(sim, fault) is None  # used up by this refresh
    assert changed(before, car_states(client)) == {BATTERY: "unknown", RANGE: "unknown"}

    # The next good answer shows the value again.
    set_battery(sim, EV_ID, 0.42)
    update(client, BATTERY)
    wait_until("the battery to show 42 %", lambda: number(client, BATTERY) == 42)
    assert client.state(RANGE)["state"] not in GONE


def test_403_on_one_path(stack: Stack) -> None:
    """/odometer answers 403: only the odometer is unavailable, a repair names the permission,
    no reauthentication; the refused path is not asked again."""
    client, sim = stack.client, stack.sim
    before = car_states(client)
    assert not repairs(client, "missing_permission")
    fault = inject(
        sim, vehicle_id=EV_ID, path="/odometer", error={"type": "PERMISSION", "status": 403}
    )

    update(client, ODOMETER, BATTERY)

    wait_until(
        "the odometer to be unavailable", lambda: client.state(ODOMETER)["state"] == "unavailable"
    )
    assert (fault_state(sim, fault) or {}).get("fired") == 1
    assert changed(before, car_states(client)) == {ODOMETER: "unavailable"}
    (issue,) = wait_until("a repair", lambda: repairs(client, "missing_permission"), timeout=10)
    assert issue["translation_placeholders"] == {
        "vehicle": "Tesla Model 3",
        "permission": "read_odometer",
    }
    assert not client.reauth_flows()

    asked = billed(sim, EV_ID)
    update(client, ODOMETER, BATTERY)
    after = billed(sim, EV_ID)
    assert after["GET /odometer"] == asked["GET /odometer"]
    assert after["GET /battery"] == asked["GET /battery"] + 1
    assert client.state(ODOMETER)["state"] == "unavailable"


def test_429_keeps_the_values_until_retry_after(stack: Stack) -> None:
    """The batch answers 429 with retry-after: values stay, nothing is sent to the car before
    then (update_entity, smartcar.refresh, a command), and it is read again after."""
    client, sim = stack.client, stack.sim
    before = car_states(client)
    shown = number(client, BATTERY)
    assert shown is not None
    # Retry-after in Home Assistant's (real) seconds: long enough for the checks below.
    fault = inject(
        sim,
        vehicle_id=EV_ID,
        path="/batch",
        count=1,
        error={"type": "RATE_LIMIT", "status": 429, "retry_after": 8},
    )

    update(client, BATTERY, LOCK)

    assert fault_state(sim, fault) is None  # used up by this refresh
    assert changed(before, car_states(client)) == {}
    set_battery(sim, EV_ID, 0.37)  # what the next read will find
    asked = billed(sim, EV_ID)
    sent = sim.counters()["http_requests"].get("POST /v2.0/vehicles/{id}/batch", 0)

    update(client, BATTERY)
    answer = client.call_service("smartcar", "refresh", {"entity_id": [BATTERY]})
    assert answer.status_code == 500, answer.text
    assert "slow down" in answer.text
    answer = client.call_service("lock", "unlock", {"entity_id": LOCK})
    assert answer.status_code == 500, answer.text
    assert "slow down" in answer.text
    assert sim.vehicle(EV_ID)["state"]["locked"] is True
    assert billed(sim, EV_ID) == asked
    assert sim.counters()["http_requests"].get("POST /v2.0/vehicles/{id}/batch", 0) == sent
    assert number(client, BATTERY) == shown

    def read_again() -> bool:
        update(client, BATTERY)
        return number(client, BATTERY) == 37

    wait_until("the battery to be read again after retry-after", read_again, timeout=30, interval=1)
    assert billed(sim, EV_ID)["GET /battery"] > asked["GET /battery"]


def test_430_raises_a_repair(stack: Stack) -> None:
    """The Ford's read answers 430: a repair names it, values stay, nothing more is sent."""
    client, sim = stack.client, stack.sim
    before = car_states(client)
    assert not repairs(client, "billing_limit")
    fault = inject(
        sim,
        vehicle_id=PETROL_ID,
        path="/batch",
        count=1,
        error={"type": "BILLING", "code": "VEHICLE_LIMIT", "status": 430},
    )

    update(client, FUEL)

    assert fault_state(sim, fault) is None  # used up by this refresh
    (issue,) = wait_until("a repair", lambda: repairs(client, "billing_limit"), timeout=10)
    assert issue["translation_placeholders"] == {"vehicle": "Ford Focus"}
    assert changed(before, car_states(client)) == {}

    asked = billed(sim, PETROL_ID)
    update(client, FUEL, "lock.ford_focus")
    answer = client.call_service("smartcar", "refresh", {"entity_id": [FUEL]})
    assert answer.status_code == 500, answer.text
    assert "request limit" in answer.text
    assert billed(sim, PETROL_ID) == asked
    assert changed(before, car_states(client)) == {}
    assert len(repairs(client, "billing_limit")) == 1


def test_revoked_tokens_start_reauthentication(stack: Stack) -> None:
    """Smartcar revokes the tokens: the update that finds out starts one reauthentication, and
    nothing is sent after; signing in again brings the cars back."""
    client, sim = stack.client, stack.sim
    assert not client.reauth_flows()
    assert sim.revoke_tokens() >= 1

    update(client, BATTERY)

    (flow,) = wait_until("a reauthentication flow", client.reauth_flows, timeout=10)
    sent = http_total(sim)
    update(client, BATTERY, LOCK, PHEV_BATTERY, FUEL)
    answer = client.call_service("smartcar", "refresh", {"entity_id": [PHEV_BATTERY]})
    assert answer.status_code == 500, answer.text
    assert "Sign in again" in answer.text
    assert http_total(sim) == sent
    assert len(client.reauth_flows()) == 1

    result = client.reauthenticate(flow["flow_id"])
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    client.wait_entry_state("loaded", timeout=60)
    set_battery(sim, EV_ID, 0.55)
    update(client, BATTERY)
    wait_until("the battery to be read again", lambda: number(client, BATTERY) == 55, timeout=30)
    assert not client.reauth_flows()
