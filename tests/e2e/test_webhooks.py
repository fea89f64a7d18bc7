"""End to end: a real `hass` process takes the simulator's signed webhook deliveries.

As a user sets it up: the entry gets the application management token through its options
form (Settings → the entry → Configure), the simulator's webhook (Smartcar's dashboard) points
at the URL that form shows, and Smartcar's VERIFY must be answered right (the simulator checks
the answer). Then a change of the car reaches Home Assistant's states over REST within a second,
without a billed request; a delivery with a bad signature is refused (401) and changes nothing
until Smartcar's retry comes signed right; a duplicate, or a replay of an event id, changes
nothing.

The simulator's clock is frozen: nothing is delivered until the test asks
(`POST /sim/webhooks/deliver`). A stack of its own per API version (ids `v2`, `v3`); the tests
run in file order.
"""

from __future__ import annotations

from collections.abc import Iterator
import hashlib
import hmac
import json
from typing import Any
import uuid

import pytest

from scripts.devstack import http, wait_until
from smartcar_simulator.simulator import DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
from tests.const import EV_ID, PETROL_ID, PHEV_ID

from .stack import CAR_NAMES, Client, Simulator, Stack, stack_fixture

LOCK = "lock.tesla_model_3"
BATTERY = "sensor.tesla_model_3_battery"
WEBHOOK = f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}"
# The request counters change with every request: left out where states are compared.
COUNTERS = ("_api_requests_this_month", "_request_budget_remaining")
# Keeps the webhook's URL on Home Assistant between the tests of one stack.
URLS: dict[str, str] = {}

webhooks_stack = stack_fixture("webhooks_stack", connect=True, apis=("2", "3"))


@pytest.fixture
def stack(webhooks_stack: Stack) -> Iterator[Stack]:
    """This module's stack; no delivery fault is left behind."""
    yield webhooks_stack
    http("DELETE", f"{webhooks_stack.sim.url}/sim/webhooks/faults", expect=(200,))


# --- helpers ---------------------------------------------------------------------------------


def entry_id(client: Client) -> str:
    """The (only) Smartcar entry."""
    (entry,) = client.entries()
    return str(entry["entry_id"])


def deliver(sim: Simulator) -> list[dict[str, Any]]:
    """The simulator sends what is due now; its log records of what happened."""
    return list(sim.post("/sim/webhooks/deliver")["deliveries"])


def states_of_ev(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The VEHICLE_STATE records of the EV."""
    return [r for r in records if r["eventType"] == "VEHICLE_STATE" and r["vehicleId"] == EV_ID]


def billed_total(sim: Simulator) -> int:
    """Billed requests, all cars."""
    return sum(item["total"] for item in sim.counters()["billed"].values())


def car_states(client: Client) -> dict[str, str]:
    """The state of every entity of the simulated cars that shows what a car said."""
    return {
        entity_id: state["state"]
        for entity_id, state in client.states().items()
        if any(f".{car}" in entity_id for car in CAR_NAMES.values())
        and not entity_id.endswith(COUNTERS)
    }


def shown(client: Client, entity_id: str) -> str:
    """An entity's state."""
    state = client.state(entity_id)
    assert state is not None, entity_id
    return str(state["state"])


def wait_shown(client: Client, entity_id: str, want: str, timeout: float = 5) -> None:
    """Wait (a few seconds at most) until an entity shows a state."""
    wait_until(f"{entity_id} to show {want}", lambda: shown(client, entity_id) == want, timeout)


def post_signed(url: str, envelope: dict[str, Any]) -> int:
    """POST a delivery signed with the simulator's management token, as Smartcar would; the
    status Home Assistant answers."""
    body = json.dumps(envelope, separators=(",", ":")).encode()
    signature = hmac.new(DEFAULT_MANAGEMENT_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "SC-Signature": signature}
    return http("POST", url, data=body, headers=headers).status_code


def lock_report(sim: Simulator, event_id: str, *, locked: bool) -> dict[str, Any]:
    """A VEHICLE_STATE of the EV that reports only its lock, at the simulator's now."""
    now_ms = int(sim.get("/sim/clock")["timestamp"] * 1000)
    return {
        "eventId": event_id,
        "eventType": "VEHICLE_STATE",
        "data": {
            "user": {"id": "replayed"},
            "vehicle": {"id": EV_ID, "make": "TESLA", "model": "Model 3", "year": 2023},
            "signals": [
                {
                    "code": "closure-islocked",
                    "name": "IsLocked",
                    "group": "Closure",
                    "body": {"value": locked},
                    "meta": {"oemUpdatedAt": now_ms, "retrievedAt": now_ms},
                    "status": {"value": "SUCCESS"},
                }
            ],
        },
        "triggers": [{"type": "SIGNAL_UPDATED", "signal": {"code": "closure-islocked"}}],
        "meta": {
            "deliveryId": str(uuid.uuid4()),
            "deliveredAt": now_ms,
            "version": "4.0",
            "webhookId": DEFAULT_WEBHOOK_ID,
            "webhookName": "Home Assistant",
            "mode": "LIVE",
            "signalCount": 1,
        },
    }


# --- the tests, in file order ------------------------------------------------------------------


def test_verify(stack: Stack) -> None:
    """The entry takes the token; the simulator's VERIFY is answered right; the cars are
    subscribed through the API; the first deliveries are acknowledged."""
    client, sim = stack.client, stack.sim
    url = client.set_management_token(entry_id(client), DEFAULT_MANAGEMENT_TOKEN)
    assert url.startswith(f"{stack.hass.url}/api/webhook/")
    URLS[stack.api] = url

    settings = sim.post(WEBHOOK, {"url": url})
    assert settings["url"] == url
    assert settings["verified"] is False
    result = sim.post(f"{WEBHOOK}/verify")
    assert result["verified"] is True, result
    assert result["status"] == 200
    assert result["answer"] == result["expected"]
    assert sim.get(WEBHOOK)["verified"] is True

    # The webhook id learnt from VERIFY: every car is subscribed to it through the API.
    def subscribed() -> bool:
        own = sim.get("/sim/state")["webhooks"].get(DEFAULT_WEBHOOK_ID, [])
        return set(own) == {EV_ID, PHEV_ID, PETROL_ID}

    wait_until("the cars to be subscribed", subscribed, timeout=15)
    # Each car's first delivery (its current report) is acknowledged.
    records = deliver(sim)
    firsts = [r for r in records if r["triggers"] == ["FIRST_DELIVERY"]]
    assert {r["vehicleId"] for r in firsts} == {EV_ID, PHEV_ID, PETROL_ID}
    assert all(r["status"] == 200 and r["outcome"] == "acknowledged" for r in records), records


def test_unlock_is_delivered_without_a_billed_request(stack: Stack) -> None:
    """The car is unlocked (e.g. at the car): Home Assistant shows it within a second of the
    delivery, and nothing is billed for it."""
    client, sim = stack.client, stack.sim
    assert shown(client, LOCK) == "locked"
    billed_before = billed_total(sim)
    sim.set_car(locked=False)
    records = states_of_ev(deliver(sim))
    assert len(records) == 1, records
    assert records[0]["status"] == 200
    assert "closure-islocked" in records[0]["triggers"]
    wait_shown(client, LOCK, "unlocked", timeout=3)
    assert billed_total(sim) == billed_before


def test_bad_signature_is_refused(stack: Stack) -> None:
    """A delivery signed with another key: 401 (the simulator's log), nothing changes; the
    retry 25 s later, signed right, is taken."""
    client, sim = stack.client, stack.sim
    sim.post("/sim/webhooks/faults", {"kind": "bad_signature", "count": 1, "vehicle_id": EV_ID})
    before = car_states(client)
    sim.set_car(locked=True)
    (record,) = states_of_ev(deliver(sim))
    assert record["faults"] == ["bad_signature"]
    assert record["status"] == 401
    assert record["outcome"] == "failed"
    assert car_states(client) == before
    assert shown(client, LOCK) == "unlocked"
    assert "Refused a Smartcar webhook delivery with a wrong signature" in (
        stack.hass.log_path.read_text(errors="replace")
    )

    # Smartcar retries: signed right this time, it is taken.
    sim.post("/sim/clock", {"advance": 25})
    (retry,) = states_of_ev(deliver(sim))
    assert (retry["eventId"], retry["attempt"]) == (record["eventId"], 2)
    assert retry["status"] == 200
    assert retry["faults"] == []
    wait_shown(client, LOCK, "locked", timeout=3)


def test_duplicate_changes_nothing(stack: Stack) -> None:
    """Smartcar delivers the same POST twice: both acknowledged, shown once. A replay of an
    event id with other content is acknowledged and ignored (the same content under a new id
    would be shown)."""
    client, sim = stack.client, stack.sim
    sim.post("/sim/webhooks/faults", {"kind": "duplicate", "count": 1, "vehicle_id": EV_ID})
    sim.set_car(locked=False)
    first, second = states_of_ev(deliver(sim))
    assert first["deliveryId"] == second["deliveryId"]
    assert first["faults"] == second["faults"] == ["duplicate"]
    assert first["status"] == second["status"] == 200
    wait_shown(client, LOCK, "unlocked", timeout=3)
    after_duplicate = car_states(client)

    # The event id again, saying "locked": acknowledged, ignored.
    url = URLS[stack.api]
    assert post_signed(url, lock_report(sim, first["eventId"], locked=True)) == 200
    assert car_states(client) == after_duplicate
    # The control: the same report under a new event id is shown.
    assert post_signed(url, lock_report(sim, str(uuid.uuid4()), locked=True)) == 200
    wait_shown(client, LOCK, "locked", timeout=3)

    # The truth again: the car's next report (a second later) is delivered.
    sim.post("/sim/clock", {"advance": 1})
    sim.set_car(locked=True)
    sim.set_car(locked=False)
    assert all(r["status"] == 200 for r in states_of_ev(deliver(sim)))
    wait_shown(client, LOCK, "unlocked", timeout=3)
    assert shown(client, BATTERY) == after_duplicate[BATTERY]
