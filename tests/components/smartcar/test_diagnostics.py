"""Diagnostics: a useful download that holds no token, secret, VIN, id or position."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
import json

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from smartcar_simulator import Simulator
from tests.conftest import TEST_NOW
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, PETROL_ID, PHEV_ID, USER_ID


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Entry settings and, per car, permissions, support and readings, redacted."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    # When (and so why) the next look comes depends on how far into the month TEST_NOW is
    # (the budget's pace, the month's turn): checked below, left out of the snapshot.
    assert diagnostics == snapshot(exclude=props("next_check", "next_reason"))
    for vehicle in diagnostics["vehicles"]:
        schedule = vehicle["schedule"]
        assert schedule["last_read"] == TEST_NOW.isoformat()
        assert schedule["next_reason"]
        assert (
            TEST_NOW
            < datetime.fromisoformat(schedule["next_check"])
            <= TEST_NOW + timedelta(hours=24)
        )

    vehicles = diagnostics["vehicles"]
    assert [(v["attributes"]["make"], v["attributes"]["model"]) for v in vehicles] == [
        ("Tesla", "Model 3"),
        ("Toyota", "RAV4 Prime"),
        ("Ford", "Focus"),
    ]
    # The petrol car refused the electric signals; that is what a bug report needs to see.
    assert vehicles[2]["unanswerable"] == ["battery", "charge", "charge_limit"]
    assert vehicles[0]["readings"]["security"]["is_locked"] is True


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """No credential, identifier or coordinate of the simulator is in the download."""
    # A failing signal too: its error message must not leak anything either.
    simulator.inject_fault(
        vehicle_id=EV_ID, path="/location", error={"type": "SERVER", "code": "INTERNAL"}
    )
    coordinator = init_integration.runtime_data.coordinators[EV_ID]
    await coordinator.async_read_now(coordinator.available_signals)
    assert "location" in coordinator.data.failed

    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{init_integration.entry_id}")
    assert response.status == HTTPStatus.OK
    text = await response.text()
    download = json.loads(text)
    assert download["data"]["vehicles"][0]["failed"]["location"].startswith("SmartcarServerError")

    token = init_integration.data["token"]
    secrets = {
        "access token": token["access_token"],
        "refresh token": token["refresh_token"],
        "client secret": CLIENT_SECRET,
        "client id": CLIENT_ID,
        "user id": USER_ID,
    }
    for vehicle_id in (EV_ID, PHEV_ID, PETROL_ID):
        car = simulator.vehicle(vehicle_id)
        secrets[f"vehicle id {car.key}"] = vehicle_id
        secrets[f"VIN {car.key}"] = car.spec.vin
        secrets[f"latitude {car.key}"] = str(round(car.state.latitude, 6))
        secrets[f"longitude {car.key}"] = str(round(car.state.longitude, 6))
        secrets[f"short latitude {car.key}"] = f"{car.state.latitude:.3f}"
        secrets[f"short longitude {car.key}"] = f"{car.state.longitude:.3f}"
    leaked = {name: value for name, value in secrets.items() if value in text}
    assert not leaked

    # What the redaction left in place is still useful.
    readings = download["data"]["vehicles"][0]["readings"]
    assert readings["battery"]["percent_remaining"] == 0.62
    assert download["data"]["entry"]["data"]["token"] == "**REDACTED**"
