"""The entities: typed descriptions, the lock in flight, command results, removal for good.

- Every description reads the model its signal is parsed into; a reading of another model
  shows as unknown.
- The lock shows locking/unlocking while its command is in flight (already when the command
  reaches the car), then the expected state, then the confirmed one.
- A command answered with a status other than `success` is a translated `command_failed`
  error: nothing expected is shown and nothing confirmed.
- A signal the car turns out not to have takes every registry entry showing it away, in
  every platform, enabled or not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from homeassistant.components.lock import (
    DOMAIN as LOCK_DOMAIN,
    SERVICE_LOCK,
    SERVICE_UNLOCK,
    LockState,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_component import DATA_INSTANCES
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar import sensor
from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeState,
    Meta,
    Signal,
    UnitSystem,
    _v2,
    _v3,
)
from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.entity import (
    SmartcarEntity,
    SmartcarEntityDescription,
    SmartcarSignalEntity,
)
from smartcar_simulator import Simulator, endpoints
from tests.const import EV_ID

from .conftest import Clock, poll
from .helpers import (
    ALL_DESCRIPTIONS,
    ASLEEP,
    BATTERY,
    CHARGE_LIMIT,
    CHARGING_SWITCH,
    HOUR,
    LOCK,
    NOT_CAPABLE,
    RATE_LIMITED,
    billed_by_vehicle as billed,
    billed_since,
    recorded_states,
    set_charge_limit,
    unlock,
)

REFUSED = {"status": "failure", "message": "The vehicle refused the request."}


@contextmanager
def answering(
    monkeypatch: pytest.MonkeyPatch, answer: Mapping[str, Any], *, told: list[str]
) -> Iterator[None]:
    """Smartcar answers every command with `answer` and the car does nothing; `told` lists
    the commands that reached it."""

    def command(path: str, vehicle: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        told.append(f"{path} {body.get('action', body)}")
        return dict(answer)

    with monkeypatch.context() as patched:
        patched.setattr(endpoints, "execute_command", command)
        yield


def entity(hass: HomeAssistant, entity_id: str) -> object:
    """The loaded entity object of this id."""
    component = hass.data[DATA_INSTANCES][entity_id.partition(".")[0]]
    return component.get_entity(entity_id)


# --- descriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "description", ALL_DESCRIPTIONS, ids=lambda d: f"{type(d).__name__}.{d.key}"
)
def test_description_reads_the_model_of_its_signal(
    description: SmartcarEntityDescription[Any],
) -> None:
    """What either API version parses for the description's signal is the model it reads."""
    parsers = [_v3.parse_group(description.signal, [], UnitSystem.METRIC)]
    if description.signal in _v2.PATHS:
        parsers.append(_v2.parse_reading(description.signal, {}, Meta()))
    for parsed in parsers:
        assert isinstance(parsed, description.reading_type)
        assert description.read(parsed) is parsed


def test_reading_of_another_model_is_unknown() -> None:
    """A description given a reading of another model (or none) reads nothing: unknown."""
    battery = next(d for d in sensor.SENSORS if d.key == "battery_level")
    assert battery.value(Battery(percent_remaining=0.5)) == 50.0
    assert battery.read(Charge(state=ChargeState.CHARGING)) is None
    assert battery.value(Charge(state=ChargeState.CHARGING)) is None
    assert battery.value(None) is None
    codes = next(d for d in sensor.SENSORS if d.key == "trouble_codes")
    assert codes.attributes(Battery()) is None


async def test_entity_classes(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Every entity is a SmartcarEntity; those showing a signal are SmartcarSignalEntity."""
    assert isinstance(entity(hass, LOCK), SmartcarSignalEntity)
    assert isinstance(entity(hass, BATTERY), SmartcarSignalEntity)
    data_age = entity(hass, "sensor.tesla_model_3_data_age")
    assert isinstance(data_age, SmartcarEntity)
    assert not isinstance(data_age, SmartcarSignalEntity)


# --- the lock in flight ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "start", "moving", "end"),
    [
        (SERVICE_UNLOCK, LockState.LOCKED, LockState.UNLOCKING, LockState.UNLOCKED),
        (SERVICE_LOCK, LockState.UNLOCKED, LockState.LOCKING, LockState.LOCKED),
    ],
)
async def test_lock_shows_the_command_in_flight(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    start: LockState,
    moving: LockState,
    end: LockState,
) -> None:
    """Locking/unlocking from before the command reaches the car until it answered."""
    if start is LockState.UNLOCKED:
        await unlock(hass)
    assert hass.states.get(LOCK).state == start
    at_the_car: list[str] = []
    told: list[str] = []

    execute = endpoints.execute_command

    def command(path: str, vehicle: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        at_the_car.append(hass.states.get(LOCK).state)
        told.append(body["action"])
        return execute(path, vehicle, body)

    monkeypatch.setattr(endpoints, "execute_command", command)
    with recorded_states(hass, [LOCK]) as seen:
        await hass.services.async_call(LOCK_DOMAIN, service, {ATTR_ENTITY_ID: LOCK}, blocking=True)
    assert told == [service.upper()]
    assert at_the_car == [moving]
    # The expected state, then the confirmed doors (attributes only): `end` twice.
    assert [s for _, s in seen] == [moving, end, end]
    state = hass.states.get(LOCK)
    assert state.state == end
    assert simulator.vehicle(EV_ID).state.locked is (end is LockState.LOCKED)


async def test_lock_refused_by_the_car_goes_back(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A command the car refuses (409): unlocking while in flight, then locked again."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/security", method="POST", error=ASLEEP)
    with recorded_states(hass, [LOCK]) as seen, pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    assert exc_info.value.translation_key == "command_failed_smartcar_message"
    assert [s for _, s in seen] == [LockState.UNLOCKING, LockState.LOCKED]
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_lock_refused_before_sending_never_moves(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """A command refused before anything is sent (retry-after): the lock never shows unlocking."""
    simulator.inject_fault(vehicle_id=EV_ID, path="/batch", count=1, error=RATE_LIMITED)
    await poll(hass, init_integration, clock, HOUR)
    with recorded_states(hass, [LOCK]) as seen, pytest.raises(HomeAssistantError) as exc_info:
        await unlock(hass)
    assert exc_info.value.translation_key == "rate_limited"
    assert seen == []
    assert hass.states.get(LOCK).state == LockState.LOCKED


# --- command results -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "placeholders"),
    [
        (REFUSED, {"code": "FAILURE", "smartcar_message": REFUSED["message"]}),
        ({"status": "error"}, {"code": "ERROR"}),
    ],
)
async def test_failed_command_result_is_an_error(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    answer: Mapping[str, Any],
    placeholders: dict[str, str],
) -> None:
    """200 with a status other than success: command_failed with the status as the code and
    the answer's message as Smartcar's words; the lock goes back to what it showed, nothing is confirmed."""
    told: list[str] = []
    before = billed(simulator)
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    used = coordinator.requests_this_month
    with (
        answering(monkeypatch, answer, told=told),
        recorded_states(hass, [LOCK]) as seen,
        pytest.raises(HomeAssistantError) as exc_info,
    ):
        await unlock(hass)
    err = exc_info.value
    assert err.translation_domain == DOMAIN
    suffix = "_smartcar_message" if "smartcar_message" in placeholders else ""
    assert err.translation_key == f"command_failed{suffix}"
    assert err.translation_placeholders == placeholders
    assert told == ["/security UNLOCK"]
    assert [s for _, s in seen] == [LockState.UNLOCKING, LockState.LOCKED]
    assert simulator.vehicle(EV_ID).state.locked is True
    # The command is billed (it reached Smartcar); no confirmation read follows.
    assert billed_since(simulator, before) == {EV_ID: {"POST /security": 1}}
    assert coordinator.requests_this_month == used + 1


async def test_success_status_in_any_case_is_success(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`SUCCESS` is a success too: the expected state is shown and confirmed."""
    told: list[str] = []
    with answering(monkeypatch, {"status": "SUCCESS", "message": "ok"}, told=told):
        await unlock(hass)
    assert told == ["/security UNLOCK"]
    # The car did nothing (the answer was replaced): the confirmation read says so.
    assert hass.states.get(LOCK).state == LockState.LOCKED


async def test_failed_switch_and_number_results_change_nothing(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The charging switch and the charge limit: a failed result shows no expected state."""
    told: list[str] = []
    switch_before = hass.states.get(CHARGING_SWITCH).state
    limit_before = hass.states.get(CHARGE_LIMIT).state
    with answering(monkeypatch, REFUSED, told=told):
        with recorded_states(hass, [CHARGING_SWITCH, CHARGE_LIMIT]) as seen:
            with pytest.raises(HomeAssistantError, match="refused") as exc_info:
                await hass.services.async_call(
                    SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: CHARGING_SWITCH}, blocking=True
                )
            assert exc_info.value.translation_key == "command_failed_smartcar_message"
            with pytest.raises(HomeAssistantError) as exc_info:
                await set_charge_limit(hass, 90)
            assert exc_info.value.translation_key == "command_failed_smartcar_message"
    assert told == ["/charge START", "/charge/limit {'limit': 0.9}"]
    assert seen == []
    assert hass.states.get(CHARGING_SWITCH).state == switch_before == STATE_OFF
    assert hass.states.get(CHARGE_LIMIT).state == limit_before == "80"


# --- removal for good ------------------------------------------------------------------------

# Every needed path every hour, so that a fault on any path is met at the next poll.
EVERY_HOUR = pytest.mark.parametrize("polling", [HOUR])


@EVERY_HOUR
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_501_removes_every_entity_of_the_signal(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
) -> None:
    """The car stops supporting /charge: its entities in every platform leave the registry
    (the binary sensors, the state sensor and the switch, whose keys overlap), nothing else."""
    charge = {
        "binary_sensor.tesla_model_3_plugged_in",
        "binary_sensor.tesla_model_3_charging_in_progress",
        "sensor.tesla_model_3_charging_state",
        CHARGING_SWITCH,
    }
    ev_entities = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if e.unique_id.startswith(EV_ID)
    }
    assert charge < ev_entities
    simulator.inject_fault(vehicle_id=EV_ID, path="/charge", count=1, error=NOT_CAPABLE)
    with recorded_states(hass, sorted(charge)) as seen:
        await poll(hass, init_integration, clock, HOUR)
    # Removed without showing unavailable first.
    assert sorted(seen) == [(e, "removed") for e in sorted(charge)]
    left = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if e.unique_id.startswith(EV_ID)
    }
    assert left == ev_entities - charge
    for entity_id in charge:
        assert hass.states.get(entity_id) is None
    assert hass.states.get(CHARGE_LIMIT).state == "80"
    assert Signal.CHARGE in init_integration.runtime_data.coordinators[EV_ID].unsupported


@EVERY_HOUR
async def test_501_removes_disabled_entities_too(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
) -> None:
    """The charge limit sensor is disabled by default: its registry entry goes with the number."""
    disabled = "sensor.tesla_model_3_charge_limit"
    entry = entity_registry.async_get(disabled)
    assert entry is not None
    assert entry.disabled
    simulator.inject_fault(vehicle_id=EV_ID, path="/charge/limit", count=1, error=NOT_CAPABLE)
    await poll(hass, init_integration, clock, HOUR)
    assert entity_registry.async_get(CHARGE_LIMIT) is None
    assert entity_registry.async_get(disabled) is None
    assert hass.states.get(CHARGE_LIMIT) is None
