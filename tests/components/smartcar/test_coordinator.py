"""How answers merge: failing, asleep and malformed paths touch only their own entities."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import Clock, poll
from .helpers import (
    ASLEEP,
    BATTERY,
    COUNTERS,
    HOUR,
    LOCK,
    ODOMETER,
    RANGE,
    billed_by_vehicle,
    billed_since,
    expire_access_token,
)


@pytest.fixture
def polling() -> timedelta:
    """Poll every needed path every hour: these tests are about merging, not scheduling."""
    return HOUR


async def faults_cleared(
    hass: HomeAssistant, simulator: Simulator, entry: MockConfigEntry, clock: Clock
) -> None:
    """The faults go: the next poll shows the battery again."""
    simulator.clear_faults()
    await poll(hass, entry, clock, HOUR)
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_failing_path_makes_only_its_entities_unavailable(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 500 on /battery inside the batch: battery entities unavailable, the rest go on."""
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/battery", error={"type": "SERVER", "status": 500}
    )
    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE
    assert hass.states.get(RANGE).state == STATE_UNAVAILABLE
    assert hass.states.get(ODOMETER).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    await poll(hass, init_integration, clock, HOUR)
    assert caplog.text.count("battery failed") == 1  # logged when it goes, not every poll

    await faults_cleared(hass, simulator, init_integration, clock)


async def test_asleep_car_keeps_its_values(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """VEHICLE_STATE (asleep) on /security: the lock keeps its last value, available."""
    before = hass.states.get(LOCK).state
    assert before not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    simulator.inject_fault(vehicle_id=EV_ID, path="/security", error=ASLEEP)
    spent = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, HOUR)
    assert billed_since(simulator, spent)[EV_ID]["GET /security"] == 1  # asked, and asleep
    assert hass.states.get(LOCK).state == before


async def test_malformed_values_become_unknown(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong types in /battery: its sensors unknown, one warning naming the path, no crash."""
    odometer = hass.states.get(ODOMETER).state
    simulator.inject_fault(vehicle_id=EV_ID, path="/battery", kind="malformed")
    spent = billed_by_vehicle(simulator)
    await poll(hass, init_integration, clock, HOUR)
    assert billed_since(simulator, spent)[EV_ID]["GET /battery"] == 1
    assert hass.states.get(BATTERY).state == STATE_UNKNOWN
    assert hass.states.get(RANGE).state == STATE_UNKNOWN
    assert hass.states.get(ODOMETER).state == odometer
    assert hass.states.get(ODOMETER).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    warnings = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warnings) == 1
    assert "battery" in warnings[0].getMessage()


async def test_whole_batch_failure_marks_the_car_unavailable(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The batch request itself fails: the car's entities are unavailable until it answers."""
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/batch", error={"type": "UPSTREAM", "status": 502}
    )
    await poll(hass, init_integration, clock, HOUR)
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE
    await faults_cleared(hass, simulator, init_integration, clock)


async def test_refused_refresh_token_starts_reauth(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The access token expired and the token endpoint refuses the refresh: reauthenticate."""
    expire_access_token(hass, init_integration)
    simulator.revoke_tokens()
    await poll(hass, init_integration, clock, HOUR)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_expired_access_token_is_refreshed_and_stored(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """An expired access token is refreshed; the rotated refresh token is on the entry."""
    old = init_integration.data["token"]
    expire_access_token(hass, init_integration)
    await poll(hass, init_integration, clock, HOUR)
    new = init_integration.data["token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert new["expires_at"] > dt_util.utcnow().timestamp()
    assert simulator.counters["token_requests"]["refresh_token"] == 1
    assert hass.states.get(BATTERY).state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_token_endpoint_down_is_transient(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """The token endpoint answers 500: no reauthentication, entities unavailable for now."""
    expire_access_token(hass, init_integration)
    simulator.inject_fault(path="/oauth/token", error={"type": "SERVER", "status": 500})
    await poll(hass, init_integration, clock, HOUR)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert hass.states.get(BATTERY).state == STATE_UNAVAILABLE


async def test_corrupt_stored_answer_is_dropped(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A stored answer that no longer parses is dropped at setup: its entities have nothing to
    show, the others come back from storage for free, and the next save forgets it."""
    entry_id = init_integration.entry_id
    key = f"{DOMAIN}.{entry_id}"
    ev_entities = {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
        if e.unique_id.startswith(EV_ID)
        and not e.unique_id.endswith(COUNTERS)
        and e.disabled_by is None
    }
    shown = {e: hass.states.get(e).state for e in ev_entities}
    assert shown[BATTERY] not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()

    # Home Assistant is down; its storage file now holds garbage for the Tesla's battery.
    stored = copy.deepcopy(hass_storage[key]["data"])
    good = {s: raw for s, raw in stored[EV_ID]["raw"].items() if s != "battery"}
    assert {"security", "odometer", "location"} <= set(good)
    stored[EV_ID]["raw"]["battery"] = {"body": "garbage", "headers": {}}
    hass_storage[key]["data"] = stored
    spent = billed_by_vehicle(simulator)

    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert billed_by_vehicle(simulator) == spent  # everything else came from storage
    after = {e: hass.states.get(e).state for e in ev_entities}
    assert {e for e, s in after.items() if s != shown[e]} == {BATTERY, RANGE}
    assert after[BATTERY] in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert after[RANGE] in (STATE_UNAVAILABLE, STATE_UNKNOWN)

    # The next save (here: unload) writes the good answers back and the corrupt one no more.
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    saved = hass_storage[key]["data"][EV_ID]["raw"]
    assert "battery" not in saved
    assert saved == good
