"""The state file: a restarted simulator still knows the tokens and the cars."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from unittest.mock import patch

import aiohttp
import pytest

from smartcar_simulator import (
    EV_ID,
    Simulator,
    SimulatorServer,
    StateFile,
    StateFileError,
    VirtualClock,
)
from tests.conftest import TEST_NOW

from .conftest import bearer

BASIC = {"Authorization": "Basic c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA=="}


async def test_round_trip_keeps_tokens_clock_and_vehicles(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sim.json"
    first = Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True))
    store = StateFile(path, first)
    store.attach()
    tokens = first.issue_tokens(["read_battery", "read_odometer"])
    assert path.exists()  # token changes are written at once
    ev = first.vehicle("ev")
    ev.plug_in()
    first.clock.advance(1800)
    first.vehicle("petrol").unlock()
    first.deny_permissions("phev", ["read_odometer"])
    first.vehicle("phev").drive_to(52.4, 4.9, speed_kmh=30)
    first.clock.advance(60)
    store.save()
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    assert datetime.fromisoformat(saved["clock"]["now"]) == TEST_NOW + timedelta(minutes=31)

    # Another instant before loading (a day earlier): the file decides where the clock is.
    second = Simulator(clock=VirtualClock(start=TEST_NOW - timedelta(days=1), frozen=True))
    assert StateFile(path, second).load() is True
    assert second.clock.now() == first.clock.now()
    for key in ("ev", "phev", "petrol"):
        assert second.vehicle(key).state == first.vehicle(key).state
        assert second.vehicle(key).reported() == first.vehicle(key).reported()
    second.clock.advance(600)  # physics goes on: still charging, still driving
    first.clock.advance(600)
    assert second.vehicle("ev").state.battery == pytest.approx(first.vehicle("ev").state.battery)
    assert second.vehicle("phev").state.odometer == pytest.approx(
        first.vehicle("phev").state.odometer
    )

    async with SimulatorServer(second) as server, aiohttp.ClientSession(server.url) as http:
        async with http.get(f"/v2.0/vehicles/{EV_ID}/battery", headers=bearer(tokens)) as resp:
            assert resp.status == 200
        async with http.get(
            f"/v2.0/vehicles/{second.vehicle('phev').id}/odometer", headers=bearer(tokens)
        ) as resp:
            assert resp.status == 403  # the denial survived
        async with http.post(
            "/oauth/token",
            headers=BASIC,
            data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        ) as resp:
            assert resp.status == 200
            refreshed = await resp.json()
    assert refreshed["refresh_token"] != tokens.refresh_token


def test_running_clock_keeps_its_offset(tmp_path: Path) -> None:
    """A running clock went on while the simulator was down: an hour later, an hour on."""
    path = tmp_path / "sim.json"
    first = Simulator(clock=VirtualClock(start=TEST_NOW))
    # The wall clock is only the reference of the saved offset: any instant will do.
    wall = TEST_NOW + timedelta(days=400, minutes=7)
    with patch("smartcar_simulator.state.utc_now", return_value=wall):
        StateFile(path, first).save()
    second = Simulator(clock=VirtualClock(start=TEST_NOW - timedelta(days=1)))
    with patch("smartcar_simulator.state.utc_now", return_value=wall + timedelta(hours=1)):
        StateFile(path, second).load()
    assert not second.clock.frozen
    # Both run at 1x since: they differ by the downtime, give or take the real time the
    # test itself takes (generous bound).
    drift = second.clock.now() - first.clock.now() - timedelta(hours=1)
    assert abs(drift.total_seconds()) < 5


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    sim = Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True))
    assert StateFile(tmp_path / "none.json", sim).load() is False
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StateFileError):
        StateFile(bad, sim).load()
    bad.write_text('{"version": 99}')
    with pytest.raises(StateFileError, match="version"):
        StateFile(bad, sim).load()
    bad.write_text('{"version": 1}')
    with pytest.raises(StateFileError, match="damaged"):
        StateFile(bad, sim).load()
