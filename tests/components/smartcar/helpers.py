"""Helpers shared by the integration's tests.

The default fleet's entities and paths, the faults the tests inject, what the simulator
received and billed, what Home Assistant shows (states, repairs, reauthentication, log lines)
and the actions a user calls. One place for each: import them from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
import logging
from pathlib import Path
import shutil
from typing import Any, Final

from homeassistant.components.homeassistant import (
    DOMAIN as HA_DOMAIN,
    SERVICE_UPDATE_ENTITY,
)
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, SERVICE_UNLOCK
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar import (
    binary_sensor,
    device_tracker,
    lock,
    number,
    sensor,
    switch,
)
from custom_components.smartcar.const import DOMAIN
from custom_components.smartcar.entity import SmartcarEntityDescription
from smartcar_simulator import Simulator
from tests.const import READ_PATHS

from .conftest import Clock, poll

HOUR: Final = timedelta(hours=1)

# --- the default fleet's entities ------------------------------------------------------------

EV_NAME: Final = "Tesla Model 3"
BATTERY: Final = "sensor.tesla_model_3_battery"
RANGE: Final = "sensor.tesla_model_3_electric_range"
ODOMETER: Final = "sensor.tesla_model_3_odometer"
LOCK: Final = "lock.tesla_model_3"
TRACKER: Final = "device_tracker.tesla_model_3_location"
CHARGING_SWITCH: Final = "switch.tesla_model_3_charging"
CHARGE_LIMIT: Final = "number.tesla_model_3_charge_limit"
REQUESTS: Final = "sensor.tesla_model_3_api_requests_this_month"
REMAINING: Final = "sensor.tesla_model_3_request_budget_remaining"
FUEL: Final = "sensor.ford_focus_fuel_level"
# The request counters (unique id suffixes) change with every request: left out where states
# are compared.
COUNTERS: Final = ("_requests_this_month", "_budget_remaining")

# Every entity description of every platform.
ALL_DESCRIPTIONS: Final[tuple[SmartcarEntityDescription[Any], ...]] = (
    *sensor.SENSORS,
    *binary_sensor.BINARY_SENSORS,
    *lock.LOCKS,
    *number.NUMBERS,
    *switch.SWITCHES,
    *device_tracker.TRACKERS,
)

# --- the project's blueprints ----------------------------------------------------------------

REPO_BLUEPRINTS: Final = Path(__file__).parents[3] / "blueprints" / "automation" / DOMAIN


def install_blueprints(config_dir: str) -> str:
    """Put the project's automation blueprints in a configuration directory as a user who
    downloads them does (<config>/blueprints/automation/smartcar/); the directory."""
    folder = Path(config_dir, "blueprints", "automation", DOMAIN)
    shutil.copytree(REPO_BLUEPRINTS, folder, dirs_exist_ok=True)
    return config_dir


# --- paths and faults ------------------------------------------------------------------------

BATCH: Final = "POST /v2.0/vehicles/{id}/batch"
# What a fixed hourly poll asks each car for: every path it has (the PHEV has them all).
ENGINE_PATHS: Final = ("/fuel", "/engine/oil")
BATTERY_PATHS: Final = ("/battery", "/charge", "/charge/limit")
EV_PATHS: Final = tuple(p for p in READ_PATHS if p not in ENGINE_PATHS)
PHEV_PATHS: Final = READ_PATHS
PETROL_PATHS: Final = tuple(p for p in READ_PATHS if p not in BATTERY_PATHS)

# Smartcar errors, as `Simulator.inject_fault(error=...)` takes them.
ASLEEP: Final[Mapping[str, Any]] = {"type": "VEHICLE_STATE", "code": "ASLEEP", "status": 409}
RATE_LIMITED: Final[Mapping[str, Any]] = {"type": "RATE_LIMIT", "status": 429, "retry_after": 600}
BILLING_LIMIT: Final[Mapping[str, Any]] = {
    "type": "BILLING",
    "code": "VEHICLE_LIMIT",
    "status": 430,
}
NOT_CAPABLE: Final[Mapping[str, Any]] = {
    "type": "COMPATIBILITY",
    "code": "VEHICLE_NOT_CAPABLE",
    "status": 501,
}


def each(paths: tuple[str, ...], times: int = 1) -> dict[str, int]:
    """Billed requests of `paths` read `times` times each, as `billed_since` writes them."""
    return {f"GET {path}": times for path in paths}


# --- what the simulator received and billed --------------------------------------------------


def http_total(simulator: Simulator) -> int:
    """Every HTTP request the simulator received (API, token endpoint, management)."""
    return sum(simulator.counters["http_requests"].values())


def batches(simulator: Simulator) -> int:
    """Batch requests the simulator received, every vehicle."""
    return int(simulator.counters["http_requests"].get(BATCH, 0))


def billed_paths(simulator: Simulator, vehicle_id: str) -> dict[str, int]:
    """Billed requests of one vehicle, by path."""
    return dict(simulator.counters["billed"].get(vehicle_id, {}).get("by_path", {}))


def billed_total(simulator: Simulator, vehicle_id: str) -> int:
    """Billed requests of one vehicle."""
    return sum(billed_paths(simulator, vehicle_id).values())


def billed_by_vehicle(simulator: Simulator) -> dict[str, dict[str, int]]:
    """Billed requests of every vehicle, by path."""
    return {v: dict(c["by_path"]) for v, c in simulator.counters["billed"].items()}


def billed_since(simulator: Simulator, before: dict[str, dict[str, int]]) -> dict[str, Any]:
    """What was billed since `before`, per vehicle and path (vehicles with nothing left out)."""
    delta: dict[str, dict[str, int]] = {}
    for vehicle_id, paths in billed_by_vehicle(simulator).items():
        earlier = before.get(vehicle_id, {})
        changed = {p: n - earlier.get(p, 0) for p, n in paths.items() if n != earlier.get(p, 0)}
        if changed:
            delta[vehicle_id] = changed
    return delta


def refresh_accepted(simulator: Simulator, refresh_token: str) -> bool:
    """Whether the simulator would accept this refresh token (without rotating it)."""
    entry = simulator.tokens._refresh.get(refresh_token)
    if entry is None or entry.revoked:
        return False
    now = simulator.clock.timestamp()
    if now >= entry.expires_at:
        return False
    return entry.used_at is None or now <= entry.used_at + simulator.tokens.refresh_grace


async def settle(
    hass: HomeAssistant, entry: MockConfigEntry, clock: Clock, simulator: Simulator
) -> None:
    """Let the scheduler settle, then check that nothing is due: a refresh now reads nothing.

    The check refreshes at the same instant: when the next read falls due depends on how far
    into the month TEST_NOW is (late in a month the quiet heartbeat comes about hourly).
    """
    await poll(hass, entry, clock, HOUR)
    asked = http_total(simulator)
    await poll(hass, entry, clock, timedelta(0))
    assert http_total(simulator) == asked, "the scheduler read although nothing was due"
    for coordinator in entry.runtime_data.coordinators.values():
        assert coordinator.next_poll is not None
        assert coordinator.next_poll > clock.now


# --- what Home Assistant shows ---------------------------------------------------------------


def expire_access_token(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Make Home Assistant find its access token expired (the next request refreshes it)."""
    token = {**entry.data["token"], "expires_at": dt_util.utcnow().timestamp() - 60}
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})


def device(hass: HomeAssistant, entry: MockConfigEntry, vehicle_id: str) -> dr.DeviceEntry | None:
    """The device of a vehicle of the entry."""
    return dr.async_get(hass).async_get_device_by_identifier((DOMAIN, vehicle_id), entry.entry_id)


def assert_smartcar_words(err: HomeAssistantError, key: str, code: str, message: str) -> None:
    """A translated error that names Smartcar's error `code` and quotes Smartcar's words for the
    user as Smartcar's own (the `<key>_smartcar_message` variant of `key`)."""
    assert err.translation_domain == DOMAIN
    assert err.translation_key == f"{key}_smartcar_message"
    assert err.translation_placeholders == {"code": code, "smartcar_message": message}, (
        err.translation_placeholders
    )
    assert f"In Smartcar's own words: “{message}”" in str(err)
    assert f"(Smartcar error {code})" in str(err)


def shown_count(hass: HomeAssistant, entity_id: str) -> int:
    """The whole number a counter sensor shows (requests this month, budget remaining)."""
    state = hass.states.get(entity_id)
    assert state is not None
    return int(state.state)


def repairs(hass: HomeAssistant, translation_key: str) -> list[ir.IssueEntry]:
    """The integration's repair issues of one kind."""
    return [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == translation_key
    ]


def reauth_flows(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Reauthentication flows in progress."""
    return [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == SOURCE_REAUTH
    ]


@contextmanager
def recorded_states(hass: HomeAssistant, entity_ids: list[str]) -> Iterator[list[tuple[str, str]]]:
    """Every (entity id, state) the entities take while the block runs ("removed" when one
    goes)."""
    seen: list[tuple[str, str]] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        seen.append((event.data["entity_id"], new.state if new else "removed"))

    unsub = async_track_state_change_event(hass, entity_ids, _changed)
    try:
        yield seen
    finally:
        unsub()


def records(caplog: pytest.LogCaptureFixture, level: int, *needles: str) -> list[str]:
    """Messages logged at `level` that contain every needle."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level and all(n in r.getMessage() for n in needles)
    ]


def warnings(caplog: pytest.LogCaptureFixture, *needles: str) -> list[str]:
    """Warning lines that contain every needle."""
    return records(caplog, logging.WARNING, *needles)


# --- actions ---------------------------------------------------------------------------------


async def update(hass: HomeAssistant, *entity_ids: str) -> None:
    """`homeassistant.update_entity`, as an automation or a dashboard button calls it."""
    await hass.services.async_call(
        HA_DOMAIN, SERVICE_UPDATE_ENTITY, {ATTR_ENTITY_ID: list(entity_ids)}, blocking=True
    )
    await hass.async_block_till_done()


async def refresh(hass: HomeAssistant, *entity_ids: str) -> None:
    """`smartcar.refresh`, which raises what `update_entity` can only log."""
    await hass.services.async_call(
        DOMAIN, "refresh", {ATTR_ENTITY_ID: list(entity_ids)}, blocking=True
    )


async def unlock(hass: HomeAssistant, **data: Any) -> None:
    """`lock.unlock` on the Tesla (`code=...` and the like in `data`)."""
    await hass.services.async_call(
        LOCK_DOMAIN, SERVICE_UNLOCK, {ATTR_ENTITY_ID: LOCK, **data}, blocking=True
    )


async def set_charge_limit(hass: HomeAssistant, value: float) -> None:
    """`number.set_value` on the Tesla's charge limit (in %)."""
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: CHARGE_LIMIT, ATTR_VALUE: value},
        blocking=True,
    )


async def set_destination(
    hass: HomeAssistant, device_id: str, latitude: float = 52.0, longitude: float = 4.9, **data: Any
) -> None:
    """`smartcar.set_destination` for the vehicle of a device."""
    await hass.services.async_call(
        DOMAIN,
        "set_destination",
        {"device_id": device_id, "latitude": latitude, "longitude": longitude, **data},
        blocking=True,
    )


async def set_destination_refused(
    hass: HomeAssistant,
    simulator: Simulator,
    device_id: str,
    latitude: float = 52.0,
    longitude: float = 4.9,
) -> ServiceValidationError:
    """`smartcar.set_destination` refused before anything reached Smartcar: the error."""
    before = simulator.counters
    with pytest.raises(ServiceValidationError) as exc_info:
        await set_destination(hass, device_id, latitude, longitude)
    assert simulator.counters == before
    return exc_info.value
