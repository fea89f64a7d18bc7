"""Helpers shared by the integration's tests: what the simulator billed, an expired token."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from smartcar_simulator import Simulator


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


def expire_access_token(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Make Home Assistant find its access token expired (the next request refreshes it)."""
    token = {**entry.data["token"], "expires_at": dt_util.utcnow().timestamp() - 60}
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})
