"""End to end: the automation blueprints, imported and used as a user does, drive the simulator.

Each blueprint is imported as the UI's import dialog saves it (Home Assistant validates it), an
automation is created from it through the automation editor's API, and the simulated car is
made to meet it: what must change is the car in the simulator (charging, locked) or a
notification that Home Assistant shows. Notifications go to `notify.persistent_notification`,
which shows them in Home Assistant; the Lock button of the unlocked reminder is pressed as the
Companion app presses it, with a `mobile_app_notification_action` event.

The simulator's clock is frozen (stack.SIM_ARGS): the battery level changes only when the test
sets it. Home Assistant runs on the wall clock, so the reminder waits 1 second, not minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scripts.devstack import wait_until
from scripts.hass_client import CORE_CONFIG

from .stack import Client, Stack, stack_fixture

blueprints = stack_fixture(
    "blueprints",
    connect=True,
    scope="module",
    extras=("automation", "blueprint", "script", "notify"),
)

BATTERY = "sensor.tesla_model_3_battery"
LOCK = "lock.tesla_model_3"
CHARGING_SWITCH = "switch.tesla_model_3_charging"
PLUGGED_IN = "binary_sensor.tesla_model_3_plugged_in"
TRACKER = "device_tracker.tesla_model_3_location"
PRICE = "sensor.electricity_price"
NOTIFY = "notify.persistent_notification"
BUTTON_EVENT = "mobile_app_notification_action"


@pytest.fixture
def stack(blueprints: Stack) -> Iterator[Stack]:
    """The module's stack; no persistent notification is left from one test to the next."""
    yield blueprints
    for notification in notifications(blueprints.client):
        blueprints.client.act("persistent_notification", "dismiss", **notification)


def shows_level(client: Client, percent: float) -> None:
    """Wait until the battery sensor shows `percent`."""

    def level() -> bool:
        state = client.state(BATTERY)
        return state is not None and float(state["state"]) == pytest.approx(percent)

    wait_until(f"the battery to show {percent} %", level, timeout=15)


def set_price(client: Client, price: float) -> None:
    """The electricity price sensor shows `price` (as a price integration would set it)."""
    state = {"state": str(price), "attributes": {"unit_of_measurement": "EUR/kWh"}}
    client.post(f"/api/states/{PRICE}", state)


def notifications(client: Client) -> list[dict[str, str]]:
    """The persistent notifications Home Assistant shows: notification id only (to dismiss)."""
    shown = client.ws_result({"type": "persistent_notification/get"})
    return [{"notification_id": n["notification_id"]} for n in shown]


def notification(client: Client, title: str) -> dict[str, Any]:
    """Wait for the one persistent notification with this title; it."""

    def find() -> dict[str, Any] | None:
        shown = client.ws_result({"type": "persistent_notification/get"})
        found = [n for n in shown if n["title"] == title]
        assert len(found) <= 1, found
        return found[0] if found else None

    return wait_until(f"a notification '{title}'", find, timeout=15)


def use_blueprint(client: Client, name: str, automation_id: str, **inputs: Any) -> str:
    """Import the blueprint `name` and create an automation from it; its entity id."""
    path = client.import_blueprint(name)
    config = {"alias": f"Smartcar {automation_id}", "description": ""}
    return client.save_automation(
        automation_id, {**config, "use_blueprint": {"path": path, "input": inputs}}
    )


def test_off_peak_charging(stack: Stack) -> None:
    """Plugged in at home, the car starts charging when the price drops to the threshold, and
    is stopped once a read shows the target level."""
    client, sim = stack.client, stack.sim
    sim.set_car(
        latitude=CORE_CONFIG["latitude"],
        longitude=CORE_CONFIG["longitude"],
        plugged=True,
        charging=False,
        battery=0.55,
    )
    client.act("smartcar", "refresh", entity_id=[TRACKER, PLUGGED_IN, BATTERY])
    client.wait_state(TRACKER, "home")
    client.wait_state(PLUGGED_IN, "on")
    client.wait_state(CHARGING_SWITCH, "off")
    set_price(client, 0.31)
    use_blueprint(
        client,
        "off_peak_charging.yaml",
        "off_peak",
        charging_switch=CHARGING_SWITCH,
        battery_level=BATTERY,
        plugged_in=PLUGGED_IN,
        location=TRACKER,
        price_sensor=PRICE,
        price_threshold=0.15,
        target_level=70,
    )
    assert sim.car()["charging"] is False

    set_price(client, 0.12)
    wait_until("the car to charge", lambda: sim.car()["charging"], timeout=15)
    assert sim.car()["charge_state"] == "CHARGING"
    client.wait_state(CHARGING_SWITCH, "on")

    # The car reports 70 % (the simulator's clock stands still); a read shows it.
    sim.set_car(battery=0.7)
    client.act("smartcar", "refresh", entity_id=BATTERY)
    wait_until("the charge to stop", lambda: not sim.car()["charge_enabled"], timeout=15)
    truth = sim.car()
    assert truth["charging"] is False
    assert truth["charge_state"] == "NOT_CHARGING"
    assert truth["plugged"] is True
    client.wait_state(CHARGING_SWITCH, "off")


def lock_button(client: Client, automation_id: str) -> str:
    """The action id of the Lock button of the automation's last notification, from its trace
    (what the notification sent to a phone carries)."""
    runs = client.ws_result(
        {"type": "trace/list", "domain": "automation", "item_id": automation_id}
    )
    run = max(runs, key=lambda r: r["timestamp"]["start"])
    trace = client.ws_result(
        {
            "type": "trace/get",
            "domain": "automation",
            "item_id": automation_id,
            "run_id": run["run_id"],
        }
    )
    sent = [
        step["result"]["params"]
        for steps in trace["trace"].values()
        for step in steps
        if step.get("result", {}).get("params", {}).get("domain") == "notify"
    ]
    (params,) = sent
    (button,) = params["service_data"]["data"]["actions"]
    assert button["title"] == "Lock"
    return str(button["action"])


def test_unlocked_reminder_locks_from_its_button(stack: Stack) -> None:
    """Unlocked for a second: a notification with a Lock button; pressing it locks the car."""
    client, sim = stack.client, stack.sim
    assert sim.car()["locked"] is True
    use_blueprint(
        client,
        "unlocked_reminder.yaml",
        "unlocked_reminder",
        lock_entity=LOCK,
        unlocked_for={"hours": 0, "minutes": 0, "seconds": 1},
        check_time="",
        notify_action=NOTIFY,
    )

    client.act("lock", "unlock", entity_id=LOCK)
    assert sim.car()["locked"] is False
    shown = notification(client, "Tesla Model 3 is unlocked")
    assert shown["message"].startswith("Tesla Model 3 has been unlocked since ")
    button = lock_button(client, "unlocked_reminder")
    assert sim.car()["locked"] is False

    client.post(f"/api/events/{BUTTON_EVENT}", {"action": button})
    wait_until("the car to lock", lambda: sim.car()["locked"], timeout=15)
    client.wait_state(LOCK, "locked")


def test_low_battery_warning(stack: Stack) -> None:
    """The battery at 25 %: no warning; at 15 %: a notification naming the car and the level."""
    client, sim = stack.client, stack.sim
    use_blueprint(
        client,
        "low_energy_warning.yaml",
        "low_energy",
        level_sensor=BATTERY,
        threshold=20,
        notify_action=NOTIFY,
    )

    sim.set_car(battery=0.25)
    client.act("smartcar", "refresh", entity_id=BATTERY)
    shows_level(client, 25)
    sim.set_car(battery=0.15)
    client.act("smartcar", "refresh", entity_id=BATTERY)
    shows_level(client, 15)

    shown = notification(client, "Tesla Model 3 is running low")
    assert shown["message"] == "Tesla Model 3 Battery is at 15 %, below 20 %."
