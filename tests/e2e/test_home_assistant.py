"""End to end: a real `hass` process with the integration, against the simulator process.

Everything goes through Home Assistant's REST API (/api/states, /api/services; the websocket
only for the application credentials and the flows in progress) and the simulator's /sim
control endpoints. The tests share one stack and run in file order: entities, commands, a
refresh, a restart, then a revoked account and its reauthentication.

The journey runs twice (ids `v2`, `v3`): with the simulator's API v2.0 application (OAuth
through Home Assistant's callback, user tokens) and with its v3 application (Application ID,
Connect answering with a user id to the integration's own callback, an application token; one
billed read brings every signal, and the car shows signals only v3 has).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from scripts.devstack import wait_until
from smartcar_simulator.signals import LOW_VOLTAGE_PERCENT, TIRE_KPA
from smartcar_simulator.v3 import DEFAULT_APPLICATION_ID
from tests.const import EV_ID, PETROL_ID, PHEV_ID, USER_ID

from .stack import ARTIFACTS, CAR_NAMES, Client, Simulator, Stack

COMMON = (
    "sensor.{car}_odometer",
    "sensor.{car}_trouble_codes",
    "sensor.{car}_data_age",
    "lock.{car}",
    "device_tracker.{car}_location",
)
ELECTRIC = (
    "sensor.{car}_battery",
    "sensor.{car}_electric_range",
    "sensor.{car}_charging_state",
    "binary_sensor.{car}_plugged_in",
    "binary_sensor.{car}_charging_in_progress",
    "switch.{car}_charging",
    "number.{car}_charge_limit",
)
FUEL = (
    "sensor.{car}_fuel_level",
    "sensor.{car}_fuel_remaining",
    "sensor.{car}_fuel_range",
    "sensor.{car}_engine_oil_life",
)
# vehicle id -> (entity id prefix, the entities it must have)
CARS: dict[str, tuple[str, tuple[str, ...]]] = {
    EV_ID: (CAR_NAMES[EV_ID], COMMON + ELECTRIC),
    PHEV_ID: (CAR_NAMES[PHEV_ID], COMMON + ELECTRIC + FUEL),
    PETROL_ID: (CAR_NAMES[PETROL_ID], COMMON + FUEL),
}
ALL_PATTERNS = COMMON + ELECTRIC + FUEL + ("sensor.{car}_charge_limit",)
# Signals only API v3 reads (every simulated car has them; fixed values in the simulator).
TIRES = (
    "sensor.{car}_tire_pressure_front_left",
    "sensor.{car}_tire_pressure_front_right",
    "sensor.{car}_tire_pressure_rear_left",
    "sensor.{car}_tire_pressure_rear_right",
)
LOW_VOLTAGE = "sensor.{car}_12_v_battery"
# What each API version bills, by the simulator's counters: commands, and the read a command's
# confirmation or a refresh makes (v2.0 reads a path per signal; v3 reads every signal at once).
BILLED_AS = {
    "2": {
        "lock": "POST /security",
        "unlock": "POST /security",
        "destination": "POST /navigation/destination",
        "read security": "GET /security",
        "read odometer": "GET /odometer",
    },
    "3": {
        "lock": "POST /v3/commands/security/lock",
        "unlock": "POST /v3/commands/security/unlock",
        "destination": "POST /v3/commands/navigation/set-destination",
        "read security": "GET /v3/signals",
        "read odometer": "GET /v3/signals",
    },
}


def expected_entities(vehicle_id: str) -> set[str]:
    """The entity ids one car must have."""
    car, patterns = CARS[vehicle_id]
    return {p.format(car=car) for p in patterns}


def smartcar_states(client: Client) -> dict[str, dict[str, Any]]:
    """The states of every entity any simulated car could have."""
    candidates = {p.format(car=car) for car, _ in CARS.values() for p in ALL_PATTERNS}
    return {k: v for k, v in client.states().items() if k in candidates}


def billed(sim: Simulator) -> dict[str, int]:
    """Billed requests per vehicle."""
    return {vid: item["total"] for vid, item in sim.counters()["billed"].items()}


def billed_total(sim: Simulator) -> int:
    """Billed requests, all vehicles."""
    return sum(billed(sim).values())


def number(state: dict[str, Any]) -> float:
    """A numeric state."""
    return float(state["state"])


def check_car(client: Client, sim: Simulator, vehicle_id: str) -> None:
    """Every entity of the car exists and shows the simulator's truth."""
    car, _ = CARS[vehicle_id]
    states = smartcar_states(client)
    mine = {k for k in states if k.split(".", 1)[1].startswith(car)}
    assert mine == expected_entities(vehicle_id)
    truth = sim.vehicle(vehicle_id)
    reported = truth["reported"]

    def s(pattern: str) -> dict[str, Any]:
        state = states[pattern.format(car=car)]
        assert state["state"] not in ("unavailable", "unknown"), state
        return state

    assert number(s("sensor.{car}_odometer")) == pytest.approx(reported["odometer"], abs=0.1)
    assert s("sensor.{car}_odometer")["attributes"]["unit_of_measurement"] == "km"
    codes = [c["code"] for c in reported["dtcs"]]
    assert number(s("sensor.{car}_trouble_codes")) == len(codes)
    assert s("sensor.{car}_trouble_codes")["attributes"]["codes"] == codes
    assert s("lock.{car}")["state"] == ("locked" if reported["locked"] else "unlocked")
    tracker = s("device_tracker.{car}_location")["attributes"]
    assert tracker["latitude"] == pytest.approx(reported["latitude"], abs=1e-5)
    assert tracker["longitude"] == pytest.approx(reported["longitude"], abs=1e-5)
    assert s("sensor.{car}_data_age")["state"].startswith(truth["reported_at"][:19])
    if reported["battery"] is not None:
        assert number(s("sensor.{car}_battery")) == pytest.approx(
            reported["battery"] * 100, abs=0.1
        )
        assert number(s("sensor.{car}_electric_range")) == pytest.approx(truth["range_km"], abs=0.5)
        assert s("sensor.{car}_charging_state")["state"] == reported["charge_state"].lower()
        on_off = {True: "on", False: "off"}
        assert s("binary_sensor.{car}_plugged_in")["state"] == on_off[reported["plugged"]]
        assert (
            s("binary_sensor.{car}_charging_in_progress")["state"] == on_off[reported["charging"]]
        )
        assert s("switch.{car}_charging")["state"] == on_off[reported["charging"]]
        limit = number(s("number.{car}_charge_limit"))
        assert limit == pytest.approx(reported["charge_limit"] * 100)
    if reported["fuel"] is not None:
        assert number(s("sensor.{car}_fuel_level")) == pytest.approx(
            reported["fuel"] * 100, abs=0.1
        )
        assert number(s("sensor.{car}_fuel_remaining")) == pytest.approx(
            truth["fuel_amount_l"], abs=0.05
        )
        assert number(s("sensor.{car}_fuel_range")) == pytest.approx(
            truth["fuel_range_km"], abs=0.5
        )
        assert number(s("sensor.{car}_engine_oil_life")) == pytest.approx(
            reported["oil_life"] * 100, abs=0.1
        )


def billed_by_path(sim: Simulator, vehicle_id: str) -> dict[str, int]:
    """One car's billed requests by path."""
    return dict(sim.counters()["billed"].get(vehicle_id, {}).get("by_path", {}))


def test_connected_through_connect(stack: Stack) -> None:
    """The flow over REST created one entry for the simulator's user: with its tokens (v2.0),
    or with its user id and the Application ID and no token (v3)."""
    (entry,) = stack.client.entries()
    assert entry["state"] == "loaded"
    assert entry["title"] == "Smartcar (simulated)"
    counters = stack.sim.counters()
    assert counters["http_requests"]["GET /oauth/authorize"] == 1
    # Home Assistant saves its entries a moment after a change.
    data = wait_until("the entry to be saved", lambda: _stored_entry(stack), timeout=30)["data"]
    if stack.api == "2":
        assert counters["token_requests"]["authorization_code"] == 1
        assert "api_version" not in data
        assert data["token"]["refresh_token"]
        return
    # v3: Connect's code is of no use; the application token comes from client credentials.
    assert "authorization_code" not in counters["token_requests"]
    assert counters["token_requests"]["client_credentials"] >= 1
    assert "token" not in data
    assert data["api_version"] == "3"
    assert data["application_id"] == DEFAULT_APPLICATION_ID
    assert data["user_id"] == USER_ID
    assert data["mode"] == "simulated"


@pytest.mark.parametrize("vehicle_id", list(CARS), ids=["ev", "phev", "petrol"])
def test_entities_show_the_truth(stack: Stack, vehicle_id: str) -> None:
    """Every expected entity of each car exists and matches the simulator; under v3 also the
    tyre pressures and the 12 V battery, which v2.0 cannot read."""
    client = stack.client
    check_car(client, stack.sim, vehicle_id)
    car, _ = CARS[vehicle_id]
    v3_only = [p.format(car=car) for p in (*TIRES, LOW_VOLTAGE)]
    if stack.api == "2":
        assert all(client.state(entity_id) is None for entity_id in v3_only)
        return
    for entity_id in v3_only[:-1]:
        state = client.state(entity_id)
        assert state is not None, entity_id
        assert number(state) == pytest.approx(TIRE_KPA)
        assert state["attributes"]["unit_of_measurement"] == "kPa"
    low_voltage = client.state(v3_only[-1])
    assert low_voltage is not None
    assert number(low_voltage) == pytest.approx(LOW_VOLTAGE_PERCENT)


def test_no_extra_entities(stack: Stack) -> None:
    """Nothing more than the expected entities (the charge limit sensor is disabled)."""
    states = smartcar_states(stack.client)
    assert set(states) == set().union(*(expected_entities(v) for v in CARS))
    assert "sensor.tesla_model_3_charge_limit" not in states


def test_lock_and_unlock(stack: Stack) -> None:
    """Unlock and lock the EV: the car follows, then Home Assistant shows it."""
    client, sim = stack.client, stack.sim
    paths = BILLED_AS[stack.api]
    assert sim.vehicle(EV_ID)["state"]["locked"] is True
    before = billed_by_path(sim, EV_ID)
    client.act("lock", "unlock", entity_id="lock.tesla_model_3")
    assert sim.vehicle(EV_ID)["state"]["locked"] is False
    client.wait_state("lock.tesla_model_3", "unlocked")
    client.act("lock", "lock", entity_id="lock.tesla_model_3")
    assert sim.vehicle(EV_ID)["state"]["locked"] is True
    client.wait_state("lock.tesla_model_3", "locked")
    after = billed_by_path(sim, EV_ID)

    def sent(path: str) -> int:
        return after.get(path, 0) - before.get(path, 0)

    if stack.api == "2":
        assert sent(paths["lock"]) == 2
        # The confirmation reads only the security signal.
        assert sent(paths["read security"]) == 2
        assert after["GET /battery"] == before["GET /battery"]
    else:
        assert sent(paths["unlock"]) == 1
        assert sent(paths["lock"]) == 1
        # Each confirmation is one read, which brings every signal.
        assert sent(paths["read security"]) == 2
        assert sum(after.values()) - sum(before.values()) == 4


def test_start_and_stop_charging(stack: Stack) -> None:
    """Plug the EV in at the simulator, stop and start charging from Home Assistant."""
    client, sim = stack.client, stack.sim
    sim.post(f"/sim/vehicles/{EV_ID}/actions", {"action": "plug"})
    client.act("switch", "turn_off", entity_id="switch.tesla_model_3_charging")
    truth = sim.vehicle(EV_ID)["state"]
    assert truth["plugged"] is True
    assert truth["charging"] is False
    client.wait_state("switch.tesla_model_3_charging", "off")
    client.wait_state("binary_sensor.tesla_model_3_plugged_in", "on")

    client.act("switch", "turn_on", entity_id="switch.tesla_model_3_charging")
    truth = sim.vehicle(EV_ID)["state"]
    assert truth["charging"] is True
    assert truth["charge_state"] == "CHARGING"
    client.wait_state("switch.tesla_model_3_charging", "on")
    client.wait_state("binary_sensor.tesla_model_3_charging_in_progress", "on")
    client.wait_state("sensor.tesla_model_3_charging_state", "charging")

    client.act("switch", "turn_off", entity_id="switch.tesla_model_3_charging")
    assert sim.vehicle(EV_ID)["state"]["charging"] is False
    client.wait_state("switch.tesla_model_3_charging", "off")
    client.wait_state("sensor.tesla_model_3_charging_state", "not_charging")


def test_set_charge_limit(stack: Stack) -> None:
    """Set the PHEV's charge limit to 85 %."""
    client, sim = stack.client, stack.sim
    client.act("number", "set_value", entity_id="number.toyota_rav4_prime_charge_limit", value=85)
    assert sim.vehicle(PHEV_ID)["state"]["charge_limit"] == pytest.approx(0.85)
    wait_until(
        "the charge limit to show 85",
        lambda: number(client.state("number.toyota_rav4_prime_charge_limit") or {"state": 0}) == 85,
        timeout=15,
    )


def test_set_destination(stack: Stack) -> None:
    """smartcar.set_destination reaches the car; bad coordinates are refused before sending."""
    client, sim = stack.client, stack.sim
    device_id = client.template("{{ device_id('lock.tesla_model_3') }}").strip()
    assert len(device_id) == 32, device_id
    client.act(
        "smartcar",
        "set_destination",
        device_id=device_id,
        latitude=52.3731,
        longitude=4.8922,
        address="Dam 1, Amsterdam",
    )
    destination = sim.vehicle(EV_ID)["state"]["destination"]
    assert destination["latitude"] == pytest.approx(52.3731)
    assert destination["longitude"] == pytest.approx(4.8922)
    # Smartcar's /navigation/destination takes coordinates only: the address is not sent.
    assert destination.get("address") is None
    assert billed_by_path(sim, EV_ID)[BILLED_AS[stack.api]["destination"]] == 1

    before = billed_total(sim)
    answer = client.call_service(
        "smartcar", "set_destination", {"device_id": device_id, "latitude": 91, "longitude": 4}
    )
    assert answer.status_code == 400, answer.text
    assert billed_total(sim) == before


def test_refresh_reads(stack: Stack) -> None:
    """`smartcar.refresh` of one entity reads the car now and shows what it reported: under
    v2.0 that entity's path, under v3 one read that brings every signal of the car."""
    client, sim = stack.client, stack.sim
    odometer, battery = "sensor.tesla_model_3_odometer", "sensor.tesla_model_3_battery"
    reported = sim.vehicle(EV_ID)["reported"]
    # The car reports a longer distance and an emptier battery (a `set` is a report).
    sim.set_car(odometer=reported["odometer"] + 12.5, battery=0.41)
    before = billed_by_path(sim, EV_ID)
    client.act("smartcar", "refresh", entity_id=odometer)
    after = billed_by_path(sim, EV_ID)
    assert sum(after.values()) - sum(before.values()) == 1
    read = BILLED_AS[stack.api]["read odometer"]
    assert after[read] - before.get(read, 0) == 1
    truth = sim.vehicle(EV_ID)["reported"]
    wait_until(
        "the odometer to show the new distance",
        lambda: (
            number(client.state(odometer) or {"state": 0})
            == pytest.approx(truth["odometer"], abs=0.1)
        ),
        timeout=15,
    )
    shown_battery = number(client.state(battery) or {"state": 0})
    if stack.api == "3":
        # The same read brought the battery.
        assert shown_battery == pytest.approx(41.0, abs=0.1)
    else:
        # Only the odometer's path was read: the battery still shows its last reading.
        assert shown_battery == pytest.approx(reported["battery"] * 100, abs=0.1)
    # Read the battery too: Home Assistant shows the car's last report again.
    client.act("smartcar", "refresh", entity_id=battery)
    wait_until(
        "the battery to show the car's",
        lambda: number(client.state(battery) or {"state": 0}) == pytest.approx(41.0, abs=0.1),
        timeout=15,
    )


def test_restart_costs_nothing(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    """Restart: the persisted (rotated) refresh token works, entities come back, no billing.

    v3: the entry holds no token; Home Assistant fetches an application token at startup."""
    if stack.api == "3":
        _restart_v3(stack, capsys)
        return
    client, sim = stack.client, stack.sim
    # Home Assistant refreshes its 22 s access tokens 20 s before expiry, whenever it uses
    # the API: make sure it has used (and Smartcar rotated) the refresh token of the connection.
    deadline = time.monotonic() + 30
    while sim.counters()["token_requests"].get("refresh_token", 0) == 0:
        assert time.monotonic() < deadline, "Home Assistant never refreshed its token"
        time.sleep(1)
        client.act("lock", "lock", entity_id="lock.tesla_model_3")
    before_states = {k: (v["state"], v["attributes"]) for k, v in smartcar_states(client).items()}
    stack.stop_hass()
    entry = _stored_entry(stack)
    stored = entry["data"]["token"]
    # Outlive every earlier refresh token's grace period at Smartcar (60 s): only the token
    # Home Assistant persisted last can work now.
    sim.post("/sim/clock", {"advance": 120})
    while stored["expires_at"] - 20 > time.time():  # make Home Assistant refresh at startup
        time.sleep(0.5)
    counters_before = sim.counters()
    started = time.monotonic()
    stack.start_hass()
    entry_after = client.wait_entry_state("loaded", timeout=60)
    elapsed = time.monotonic() - started
    assert entry_after["entry_id"] == entry["entry_id"]
    # Let anything scheduled at startup run before counting.
    time.sleep(3)
    counters_after = sim.counters()

    after_states = {k: (v["state"], v["attributes"]) for k, v in smartcar_states(client).items()}
    assert after_states == before_states

    billed_cost = {
        vid: counters_after["billed"].get(vid, {}).get("total", 0)
        - counters_before["billed"].get(vid, {}).get("total", 0)
        for vid in CARS
    }
    tokens_cost = {
        grant: n - counters_before["token_requests"].get(grant, 0)
        for grant, n in counters_after["token_requests"].items()
    }
    http_cost = {
        path: n - counters_before["http_requests"].get(path, 0)
        for path, n in counters_after["http_requests"].items()
        if n != counters_before["http_requests"].get(path, 0)
    }
    report = {
        "restart_seconds": round(elapsed, 1),
        "billed_requests": billed_cost,
        "billed_total": sum(billed_cost.values()),
        "token_requests": tokens_cost,
        "http_requests": http_cost,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-restart-cost.json").write_text(json.dumps(report, indent=2))
    with capsys.disabled():
        print(f"\nrestart cost: {json.dumps(report)}")
    # The refresh token persisted before the restart was the live one.
    assert tokens_cost.get("refresh_token") == 1
    new_entry = _stored_entry_after_refresh(stack, stored["refresh_token"])
    assert new_entry["data"]["token"]["refresh_token"] != stored["refresh_token"]
    assert report["billed_total"] == 0, report


def _restart_v3(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    client, sim = stack.client, stack.sim
    before_states = {k: (v["state"], v["attributes"]) for k, v in smartcar_states(client).items()}
    entry = _stored_entry(stack)
    stack.stop_hass()
    counters_before = sim.counters()
    started = time.monotonic()
    stack.start_hass()
    entry_after = client.wait_entry_state("loaded", timeout=60)
    elapsed = time.monotonic() - started
    assert entry_after["entry_id"] == entry["entry_id"]
    time.sleep(3)
    counters_after = sim.counters()
    after_states = {k: (v["state"], v["attributes"]) for k, v in smartcar_states(client).items()}
    assert after_states == before_states
    billed_cost = sum(
        counters_after["billed"].get(vid, {}).get("total", 0)
        - counters_before["billed"].get(vid, {}).get("total", 0)
        for vid in CARS
    )
    tokens_cost = {
        grant: n - counters_before["token_requests"].get(grant, 0)
        for grant, n in counters_after["token_requests"].items()
    }
    with capsys.disabled():
        print(f"\nrestart cost (v3): {elapsed:.1f} s, billed {billed_cost}, tokens {tokens_cost}")
    # A fresh application token; nothing billed; still no user token in the entry.
    assert tokens_cost.get("client_credentials") == 1
    assert tokens_cost.get("refresh_token", 0) == 0
    assert billed_cost == 0
    assert "token" not in _stored_entry(stack)["data"]


def _stored_entry(stack: Stack) -> dict[str, Any]:
    data = json.loads((stack.config_dir / ".storage" / "core.config_entries").read_text())
    (entry,) = [e for e in data["data"]["entries"] if e["domain"] == "smartcar"]
    return dict(entry)


def _stored_entry_after_refresh(stack: Stack, old_refresh_token: str) -> dict[str, Any]:
    """The entry as Home Assistant saved it after refreshing (saves are delayed a little)."""
    return dict(
        wait_until(
            "the rotated refresh token to be saved",
            lambda: (
                (e := _stored_entry(stack))["data"]["token"]["refresh_token"] != old_refresh_token
                and e
            ),
            timeout=30,
            interval=1,
        )
    )


def test_revoked_tokens_ask_for_reauthentication(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Smartcar revokes the tokens; the next API use starts reauthentication; Connect again."""
    if stack.api == "3":
        pytest.skip("a v3 entry holds no user token to revoke (its application token is fetched)")
    client, sim = stack.client, stack.sim
    entities_before = set(smartcar_states(client))
    assert len(client.entries()) == 1
    assert sim.revoke_tokens() >= 1

    # A command uses the API at once (polling would wait up to an hour): it fails.
    answer = client.call_service("lock", "unlock", {"entity_id": "lock.tesla_model_3"})
    assert answer.status_code >= 400, answer.text
    assert sim.vehicle(EV_ID)["state"]["locked"] is True

    # The refused command starts reauthentication by itself.
    (flow,) = wait_until(
        "a reauthentication flow after the command", client.reauth_flows, timeout=10
    )

    result = client.reauthenticate(flow["flow_id"])
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    client.wait_entry_state("loaded", timeout=60)
    assert sim.counters()["token_requests"]["authorization_code"] == 2
    wait_until(
        "the entities to come back",
        lambda: (
            set(smartcar_states(client)) == entities_before
            and all(s["state"] != "unavailable" for s in smartcar_states(client).values())
        ),
        timeout=30,
    )
    for vehicle_id in CARS:
        check_car(client, sim, vehicle_id)
    # And commands work again.
    client.act("lock", "unlock", entity_id="lock.tesla_model_3")
    assert sim.vehicle(EV_ID)["state"]["locked"] is False
