"""The automation blueprints (blueprints/automation/smartcar/) run against the simulated cars.

Each blueprint file is put where Home Assistant keeps blueprints (<config>/blueprints/
automation/smartcar/, as a user who downloads it does) and used by an automation set up with
`use_blueprint`. What must change is the simulated car (charging, locked) or a notification
sent, not just an entity.

Time: the shared clock (conftest.Clock) is also the clock of Home Assistant's time trackers
here, so a time-of-day trigger or a `for:` waits for the test's time, never the wall clock.
`Timers.run_until` moves the clock and runs, in order, the timers that fall due on the way.
Times of day are computed from the test's now in Home Assistant's time zone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from datetime import datetime, timedelta, tzinfo
from typing import Any
from unittest.mock import patch

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import models as blueprint_models
from homeassistant.components.lock import LockState
from homeassistant.const import STATE_HOME, STATE_NOT_HOME, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import event as event_helper, script as script_helper
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator
from smartcar_simulator.vehicles import Vehicle
from tests.const import EV_ID, PETROL_ID

from .conftest import Clock, setup_entry
from .helpers import (
    BATTERY,
    CHARGING_SWITCH,
    FUEL,
    LOCK,
    REPO_BLUEPRINTS,
    TRACKER,
    install_blueprints,
    refresh,
    unlock,
)

OFF_PEAK = f"{DOMAIN}/off_peak_charging.yaml"
UNLOCKED = f"{DOMAIN}/unlocked_reminder.yaml"
LOW_ENERGY = f"{DOMAIN}/low_energy_warning.yaml"

PLUGGED_IN = "binary_sensor.tesla_model_3_plugged_in"
PRICE = "sensor.electricity_price"
PHONE = "mobile_app_my_phone"
BUTTON_EVENT = "mobile_app_notification_action"
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


# --- the clock of Home Assistant's timers ----------------------------------------------------


class _Time:
    """The `time` module of homeassistant.helpers.event, its `time()` the shared clock's."""

    def __init__(self, clock: Clock) -> None:
        self.time = clock.timestamp


@pytest.fixture(autouse=True)
def time_trackers(clock: Clock) -> Generator[None]:
    """Home Assistant's time trackers (time triggers, `for:`, timeouts) and templates'
    `now()` and `today_at()` read the shared clock too (the `clock` fixture leaves them the
    wall clock's: it patches `utcnow` only)."""

    def local_now(time_zone: tzinfo | None = None) -> datetime:
        return clock.now.astimezone(time_zone or dt_util.get_default_time_zone())

    with (
        patch.object(event_helper, "time_tracker_utcnow", clock),
        patch.object(event_helper, "time_tracker_timestamp", clock.timestamp),
        patch.object(event_helper, "time", _Time(clock)),
        patch.object(dt_util, "now", local_now),
    ):
        yield


# An automation run waiting in a wait_for_trigger (for its Lock button) awaits this.
_WAITING = script_helper._ScriptRun._async_wait_with_optional_timeout.__code__


def _in_a_wait(task: asyncio.Task[Any]) -> bool:
    """Whether the task is a script run waiting for a trigger or its timeout."""
    coro: Any = task.get_coro()
    while coro is not None and hasattr(coro, "cr_code"):
        if coro.cr_code is _WAITING:
            return True
        coro = coro.cr_await
    return False


def _waiting() -> set[asyncio.Future[Any]]:
    """Script runs waiting for a trigger, and the tasks awaiting them (the automation's run
    awaits its script's run through a shield)."""
    found: set[asyncio.Future[Any]] = set()
    for task in asyncio.all_tasks():
        if _in_a_wait(task) and (graph := asyncio.capture_call_graph(task)) is not None:
            nodes = [graph]
            while nodes:
                node = nodes.pop()
                found.add(node.future)
                nodes.extend(node.awaited_by)
    return found


async def settle(hass: HomeAssistant) -> None:
    """`hass.async_block_till_done()`, except that an automation run waiting for a trigger
    (the Lock button) goes on waiting instead of blocking the test. A run that was just
    woken up takes a few turns of the loop to leave its wait: idle is idle several turns
    in a row."""
    idle = 0
    while idle < 5:
        await asyncio.sleep(0)
        if busy := [t for t in hass._tasks if not t.done() and t not in _waiting()]:
            idle = 0
            await asyncio.wait(busy, timeout=0.01)
        else:
            idle += 1


class Timers:
    """Home Assistant's timers on the shared clock.

    A point-in-time tracker (time of day) is due at its instant on the clock. A delay (a
    trigger's `for:`, a wait's timeout) is due its length after the clock's now when it was
    first seen; the clock stands still between moves, so that is when it was set. Other
    timers of the loop (connections, the coordinators' own schedule) are left alone.
    """

    def __init__(self, hass: HomeAssistant, clock: Clock) -> None:
        self._hass = hass
        self._clock = clock
        self._delays: dict[asyncio.TimerHandle, datetime] = {}

    def _due(self) -> list[tuple[datetime, asyncio.TimerHandle]]:
        loop_now = self._hass.loop.time()
        due: list[tuple[datetime, asyncio.TimerHandle]] = []
        for handle in get_scheduled_timer_handles(self._hass.loop):
            if handle.cancelled():
                continue
            action = handle._callback
            if isinstance(action, event_helper._TrackPointUTCTime):
                moment = dt_util.utc_from_timestamp(action.expected_fire_timestamp)
            elif action in (
                event_helper._run_async_call_action,
                script_helper._set_result_unless_done,
            ):
                moment = self._delays.setdefault(
                    handle, self._clock.now + timedelta(seconds=handle.when() - loop_now)
                )
            else:
                continue
            due.append((moment, handle))
        return sorted(due, key=lambda item: item[0])

    async def run_until(self, moment: datetime) -> None:
        """Move the clock to `moment`, running every timer due by then at its own instant."""
        assert moment >= self._clock.now
        await settle(self._hass)
        while (due := self._due()) and due[0][0] <= moment:
            when, handle = due[0]
            self._clock.now = max(when, self._clock.now)
            handle._run()
            handle.cancel()
            await settle(self._hass)
        self._clock.now = moment
        await settle(self._hass)

    async def run_for(self, elapsed: timedelta) -> None:
        """Let `elapsed` pass."""
        await self.run_until(self._clock.now + elapsed)


@pytest.fixture
def timers(hass: HomeAssistant, clock: Clock) -> Timers:
    """Home Assistant's timers, run as the shared clock moves."""
    return Timers(hass, clock)


def daily(clock: Clock, after: timedelta) -> tuple[str, datetime]:
    """A time of day about `after` from now in Home Assistant's time zone ("HH:MM:SS"), and
    the second in which a daily time trigger at it fires next (Home Assistant runs it a
    fraction into that second: due by `fires + SECOND`).

    Where daylight saving time makes that time of day come round at once (a repeated hour),
    an hour later.
    """
    for later in range(3):
        local = dt_util.as_local(clock.now + after + later * timedelta(hours=1))
        fires = dt_util.find_next_time_expression_time(
            dt_util.as_local(clock.now), [local.second], [local.minute], [local.hour]
        )
        if fires > clock.now + MINUTE:
            return local.strftime("%H:%M:%S"), dt_util.as_utc(fires)
    raise AssertionError(f"no time of day {after} from {clock.now} comes later")


# --- blueprints and automations --------------------------------------------------------------


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration directory of the test's own, with the project's blueprints in it as a
    user installs them: <config>/blueprints/automation/smartcar/*.yaml."""
    return install_blueprints(hass_tmp_config_dir)


@pytest.fixture(autouse=True)
async def automations_off(hass: HomeAssistant) -> AsyncGenerator[None]:
    """After the test, the automations stop: their triggers and waits leave no timer."""
    yield
    if "automation" in hass.config.components:
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all", "stop_actions": True}, blocking=True
        )
        await settle(hass)


async def use_blueprint(hass: HomeAssistant, path: str, **inputs: Any) -> None:
    """One automation from the blueprint at `path` with `inputs`; it must be running."""
    config = {
        "id": "blueprint",
        "alias": "Blueprint",
        "use_blueprint": {"path": path, "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await settle(hass)
    state = hass.states.get("automation.blueprint")
    assert state is not None
    assert state.state == STATE_ON, state


def shown(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def test_blueprints_load(hass: HomeAssistant) -> None:
    """Home Assistant loads every blueprint of the folder as the automation editor lists it:
    valid for this version, every input named, described and with a selector, its source the
    repository's file."""
    assert await async_setup_component(hass, "automation", {})
    loaded = await async_get_blueprints(hass).async_get_blueprints()
    paths = {f"{DOMAIN}/{file.name}" for file in REPO_BLUEPRINTS.glob("*.yaml")}
    assert {OFF_PEAK, UNLOCKED, LOW_ENERGY} <= paths
    for path in sorted(paths):
        blueprint = loaded[path]
        assert isinstance(blueprint, blueprint_models.Blueprint), blueprint
        assert blueprint.validate() is None
        assert blueprint.name.startswith("Smartcar: ")
        source = blueprint.metadata["source_url"]
        assert source.endswith(f"/blob/main/blueprints/automation/{path}")
        for name, spec in blueprint.inputs.items():
            assert spec.get("name"), (path, name)
            assert spec.get("description"), (path, name)
            assert spec.get("selector"), (path, name)


# --- off-peak charging -----------------------------------------------------------------------


def off_peak(**inputs: Any) -> dict[str, Any]:
    """The off-peak blueprint's inputs for the Tesla, and `inputs`."""
    car = {
        "charging_switch": CHARGING_SWITCH,
        "battery_level": BATTERY,
        "plugged_in": PLUGGED_IN,
        "location": TRACKER,
    }
    return car | inputs


def tesla(
    hass: HomeAssistant, simulator: Simulator, *, plugged: bool = True, home: bool = True
) -> Vehicle:
    """The simulated Tesla, parked at Home Assistant's home (or where it is: far away) and
    plugged in (or not), not charging."""
    car = simulator.vehicle(EV_ID)
    if home:
        car.set(latitude=hass.config.latitude, longitude=hass.config.longitude)
    car.set(plugged=plugged)  # plugged in without being told to charge
    assert car.state.charging is False
    return car


def charging(car: Vehicle) -> bool:
    """Whether the simulated car charges, asked to (so it goes on unless told to stop)."""
    state = car.state
    assert state.charging is state.charge_enabled, state
    return state.charging


def set_price(hass: HomeAssistant, price: float) -> None:
    """The electricity price sensor shows `price`."""
    hass.states.async_set(PRICE, str(price), {"unit_of_measurement": "EUR/kWh"})


@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_starts_at_start_time(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    timers: Timers,
) -> None:
    """At the start time the plugged-in car at home starts charging, not a second before."""
    car = tesla(hass, simulator)
    await setup_entry(hass, config_entry)
    assert shown(hass, TRACKER) == STATE_HOME
    assert shown(hass, PLUGGED_IN) == STATE_ON
    assert shown(hass, CHARGING_SWITCH) == STATE_OFF
    start, fires = daily(clock, timedelta(hours=1, minutes=30))
    await use_blueprint(hass, OFF_PEAK, **off_peak(start_time=start))

    await timers.run_until(fires - SECOND)
    assert not charging(car)

    await timers.run_until(fires + SECOND)
    assert charging(car)
    assert car.state.charge_state == "CHARGING"
    assert shown(hass, CHARGING_SWITCH) == STATE_ON


@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_starts_when_the_price_is_low(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The car starts charging once the price drops to the threshold, not while above it."""
    car = tesla(hass, simulator)
    await setup_entry(hass, config_entry)
    set_price(hass, 0.31)
    await use_blueprint(hass, OFF_PEAK, **off_peak(price_sensor=PRICE, price_threshold=0.15))

    set_price(hass, 0.2)
    await settle(hass)
    assert not charging(car)

    set_price(hass, 0.15)
    await settle(hass)
    assert charging(car)
    assert shown(hass, CHARGING_SWITCH) == STATE_ON


@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_starts_when_plugged_in_while_cheap(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """Plugged in at home while the price is already low: charging starts at once."""
    car = tesla(hass, simulator, plugged=False)
    await setup_entry(hass, config_entry)
    set_price(hass, 0.05)
    await use_blueprint(hass, OFF_PEAK, **off_peak(price_sensor=PRICE, price_threshold=0.15))
    await settle(hass)
    assert not charging(car)

    car.set(plugged=True)
    await refresh(hass, PLUGGED_IN)
    await settle(hass)
    assert shown(hass, PLUGGED_IN) == STATE_ON
    assert charging(car)
    assert shown(hass, CHARGING_SWITCH) == STATE_ON


@pytest.mark.parametrize(
    ("start", "stop", "starts"), [(-2, 2, True), (2, 4, False)], ids=["within", "before"]
)
@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_plugged_in_between_the_times(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    start: int,
    stop: int,
    starts: bool,
) -> None:
    """Plugged in at home between the start and stop times (the hours may span midnight):
    charging starts at once; before the start time it waits for it."""
    car = tesla(hass, simulator, plugged=False)
    await setup_entry(hass, config_entry)

    def hours(n: int) -> str:
        return dt_util.as_local(clock.now + timedelta(hours=n)).strftime("%H:%M:%S")

    await use_blueprint(hass, OFF_PEAK, **off_peak(start_time=hours(start), stop_time=hours(stop)))

    car.set(plugged=True)
    await refresh(hass, PLUGGED_IN)
    await settle(hass)
    assert shown(hass, PLUGGED_IN) == STATE_ON
    automation = hass.states.get("automation.blueprint")
    assert automation is not None
    assert automation.attributes["last_triggered"] is not None
    assert charging(car) is starts
    assert shown(hass, CHARGING_SWITCH) == (STATE_ON if starts else STATE_OFF)


@pytest.mark.parametrize("by", ["time", "price"])
@pytest.mark.parametrize(
    ("plugged", "home", "where"),
    [(False, True, STATE_HOME), (True, False, STATE_NOT_HOME)],
    ids=["unplugged", "away"],
)
@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_only_plugged_in_at_home(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    timers: Timers,
    by: str,
    plugged: bool,
    home: bool,
    where: str,
) -> None:
    """Unplugged, or away from home: the automation runs at the start time or low price but
    sends no command; the car does not charge."""
    car = tesla(hass, simulator, plugged=plugged, home=home)
    await setup_entry(hass, config_entry)
    assert shown(hass, TRACKER) == where
    assert shown(hass, PLUGGED_IN) == (STATE_ON if plugged else STATE_OFF)
    commands = simulator.counters["http_requests"]
    start, fires = daily(clock, timedelta(hours=2))
    set_price(hass, 0.31)
    await use_blueprint(hass, OFF_PEAK, **off_peak(start_time=start, price_sensor=PRICE))

    if by == "time":
        await timers.run_until(fires + SECOND)
    else:
        set_price(hass, 0.01)
        await settle(hass)

    automation = hass.states.get("automation.blueprint")
    assert automation is not None
    assert automation.attributes["last_triggered"] is not None  # it ran ...
    assert not charging(car)  # ... and sent nothing
    assert shown(hass, CHARGING_SWITCH) == STATE_OFF
    assert simulator.counters["http_requests"] == commands


@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_stops_at_the_target_level(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator, timers: Timers
) -> None:
    """Charging from 62 %, the car is stopped once a read shows the 70 % target (its own
    limit is 80 %)."""
    car = tesla(hass, simulator)
    await setup_entry(hass, config_entry)
    set_price(hass, 0.31)
    await use_blueprint(
        hass, OFF_PEAK, **off_peak(price_sensor=PRICE, price_threshold=0.15, target_level=70)
    )
    set_price(hass, 0.1)
    await settle(hass)
    assert charging(car)

    await timers.run_for(timedelta(minutes=15))  # 11 kW into 75 kWh: about 3.7 % more
    await refresh(hass, BATTERY)
    await settle(hass)
    assert 62 < float(shown(hass, BATTERY)) < 70
    assert charging(car)

    await timers.run_for(timedelta(minutes=30))
    await refresh(hass, BATTERY)
    await settle(hass)
    assert float(shown(hass, BATTERY)) >= 70
    assert not charging(car)
    assert car.state.charge_state == "NOT_CHARGING"  # stopped, not full
    assert car.state.battery is not None
    assert car.state.battery < 0.8
    assert shown(hass, CHARGING_SWITCH) == STATE_OFF


@pytest.mark.usefixtures("setup_credentials")
async def test_off_peak_stops_at_the_stop_time(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    timers: Timers,
) -> None:
    """Started by the price, the charge is stopped at the stop time, not a second before."""
    car = tesla(hass, simulator)
    car.set(battery=0.4)  # an hour of charging leaves it far below its limit
    await setup_entry(hass, config_entry)
    stop, fires = daily(clock, timedelta(hours=1))
    set_price(hass, 0.31)
    await use_blueprint(
        hass, OFF_PEAK, **off_peak(price_sensor=PRICE, price_threshold=0.15, stop_time=stop)
    )
    set_price(hass, 0.1)
    await settle(hass)
    assert charging(car)

    await timers.run_until(fires - SECOND)
    assert charging(car)

    await timers.run_until(fires + SECOND)
    assert not charging(car)
    assert car.state.charge_state == "NOT_CHARGING"
    assert shown(hass, CHARGING_SWITCH) == STATE_OFF


# --- car left unlocked -----------------------------------------------------------------------


def reminder(**inputs: Any) -> dict[str, Any]:
    """The unlocked reminder's inputs for the Tesla, notifying the phone, and `inputs`."""
    return {"lock_entity": LOCK, "notify_action": f"notify.{PHONE}"} | inputs


def lock_button(call: ServiceCall) -> str:
    """The action id of a notification's one button, Lock."""
    (button,) = call.data["data"]["actions"]
    assert button["title"] == "Lock"
    return str(button["action"])


@pytest.mark.usefixtures("setup_credentials")
async def test_unlocked_reminder_and_its_lock_button(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator, timers: Timers
) -> None:
    """Unlocked for 10 minutes: a notification with a Lock button; another notification's
    button does nothing, this one's locks the car."""
    notifications = async_mock_service(hass, "notify", PHONE)
    car = simulator.vehicle(EV_ID)
    await setup_entry(hass, config_entry)
    await use_blueprint(hass, UNLOCKED, **reminder(check_time=""))
    await unlock(hass)
    assert car.state.locked is False
    assert shown(hass, LOCK) == LockState.UNLOCKED

    await timers.run_for(timedelta(minutes=10) - SECOND)
    assert notifications == []

    await timers.run_for(SECOND)
    (notification,) = notifications
    assert notification.data["title"] == "Tesla Model 3 is unlocked"
    assert "Tesla Model 3 has been unlocked since" in notification.data["message"]
    button = lock_button(notification)

    hass.bus.async_fire(BUTTON_EVENT, {"action": "SMARTCAR_LOCK_another_notification"})
    await settle(hass)
    assert car.state.locked is False

    hass.bus.async_fire(BUTTON_EVENT, {"action": button})
    await settle(hass)
    assert car.state.locked is True
    assert shown(hass, LOCK) == LockState.LOCKED
    assert len(notifications) == 1


@pytest.mark.usefixtures("setup_credentials")
async def test_unlocked_reminder_at_the_check_time(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    timers: Timers,
) -> None:
    """Left unlocked since before the automation: reminded at the check time; the button no
    longer locks once its time is up."""
    notifications = async_mock_service(hass, "notify", PHONE)
    car = simulator.vehicle(EV_ID)
    car.unlock()
    await setup_entry(hass, config_entry)
    assert shown(hass, LOCK) == LockState.UNLOCKED
    check, fires = daily(clock, timedelta(hours=2))
    await use_blueprint(hass, UNLOCKED, **reminder(check_time=check, button_timeout={"minutes": 5}))

    await timers.run_until(fires - SECOND)
    assert notifications == []

    await timers.run_until(fires + SECOND)
    (notification,) = notifications
    button = lock_button(notification)

    await timers.run_for(timedelta(minutes=5))
    hass.bus.async_fire(BUTTON_EVENT, {"action": button})
    await settle(hass)
    assert car.state.locked is False
    assert shown(hass, LOCK) == LockState.UNLOCKED


@pytest.mark.usefixtures("setup_credentials")
async def test_no_reminder_when_locked(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator: Simulator,
    clock: Clock,
    timers: Timers,
) -> None:
    """Locked again within the 10 minutes, and locked at the check time: no notification."""
    notifications = async_mock_service(hass, "notify", PHONE)
    car = simulator.vehicle(EV_ID)
    await setup_entry(hass, config_entry)
    check, fires = daily(clock, timedelta(hours=1))
    await use_blueprint(hass, UNLOCKED, **reminder(check_time=check))

    await unlock(hass)
    await timers.run_for(timedelta(minutes=5))
    await hass.services.async_call("lock", "lock", {"entity_id": LOCK}, blocking=True)
    assert car.state.locked is True

    await timers.run_until(fires + timedelta(minutes=15))
    assert notifications == []
    assert car.state.locked is True
    assert shown(hass, LOCK) == LockState.LOCKED


# --- low battery or fuel ---------------------------------------------------------------------


@pytest.mark.usefixtures("setup_credentials")
async def test_low_battery_warning(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """62 % → 25 %: nothing; → 15 %: one warning naming the car and the level; → 12 %: no
    second one."""
    notifications = async_mock_service(hass, "notify", PHONE)
    car = simulator.vehicle(EV_ID)
    await setup_entry(hass, config_entry)
    await use_blueprint(hass, LOW_ENERGY, level_sensor=BATTERY, notify_action=f"notify.{PHONE}")

    for level, warnings in ((0.25, 0), (0.15, 1), (0.12, 1)):
        car.set(battery=level)
        await refresh(hass, BATTERY)
        await settle(hass)
        assert float(shown(hass, BATTERY)) == pytest.approx(level * 100)
        assert len(notifications) == warnings, level

    data = notifications[0].data
    assert data["title"] == "Tesla Model 3 is running low"
    assert data["message"] == "Tesla Model 3 Battery is at 15 %, below 20 %."


@pytest.mark.usefixtures("setup_credentials")
async def test_low_fuel_warning(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The Ford's fuel from 41 % to 30 %: nothing with a 25 % threshold; to 10 %: a warning."""
    notifications = async_mock_service(hass, "notify", PHONE)
    car = simulator.vehicle(PETROL_ID)
    await setup_entry(hass, config_entry)
    await use_blueprint(
        hass, LOW_ENERGY, level_sensor=FUEL, threshold=25, notify_action=f"notify.{PHONE}"
    )

    car.set(fuel=0.3)
    await refresh(hass, FUEL)
    await settle(hass)
    assert notifications == []

    car.set(fuel=0.1)
    await refresh(hass, FUEL)
    await settle(hass)
    (notification,) = notifications
    assert notification.data["title"] == "Ford Focus is running low"
    assert notification.data["message"] == "Ford Focus Fuel level is at 10 %, below 25 %."
