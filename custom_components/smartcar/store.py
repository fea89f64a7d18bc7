"""What survives a restart, so that a restart costs no billed request.

Per vehicle: its attributes, the signals it cannot answer, the last answer of each signal as
received, when each signal was last asked for, the month's request count and what the polling
policy learnt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import Signal, VehicleAttributes
from .const import DOMAIN
from .scheduler import Usage

STORAGE_VERSION = 1
SAVE_DELAY = 10


class _StoredVehicle(TypedDict, total=False):
    attributes: dict[str, Any]
    usage: dict[str, Any]
    unsupported: list[str]
    raw: dict[str, dict[str, Any]]
    polled: dict[str, str]
    pushed: dict[str, str]
    webhook: str
    learnt: dict[str, Any]


@dataclass(slots=True)
class VehicleMemory:
    """One vehicle's remembered state."""

    attributes: VehicleAttributes | None = None
    unsupported: set[Signal] = field(default_factory=set)
    raw: dict[Signal, dict[str, Any]] = field(default_factory=dict)
    polled: dict[Signal, datetime] = field(default_factory=dict)
    # When a webhook delivery last brought each signal.
    pushed: dict[Signal, datetime] = field(default_factory=dict)
    # The Smartcar webhook the car was subscribed to through the API.
    webhook: str | None = None
    # Billed requests this month: survives restarts, starts afresh when the month turns.
    usage: Usage = field(default_factory=Usage)
    # What the polling policy learnt (habits, the charge rate), as it exports it.
    learnt: dict[str, Any] = field(default_factory=dict)


def _known(key: str) -> bool:
    return key in Signal._value2member_map_


def _signals[V](mapping: dict[str, V]) -> dict[Signal, V]:
    return {Signal(k): v for k, v in mapping.items() if _known(k)}


def _times(mapping: dict[str, str]) -> dict[Signal, datetime]:
    return {
        s: when
        for s, value in _signals(mapping).items()
        if isinstance(value, str) and (when := dt_util.parse_datetime(value)) is not None
    }


class SmartcarStore:
    """The entry's storage file: one `VehicleMemory` per vehicle id."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Open (lazily) the entry's storage."""
        self._store: Store[dict[str, _StoredVehicle]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}"
        )
        self.vehicles: dict[str, VehicleMemory] = {}

    async def async_load(self) -> None:
        """Read what was saved; anything unreadable is forgotten, not fatal."""
        stored = await self._store.async_load() or {}
        for vehicle_id, item in stored.items():
            attributes = item.get("attributes")
            memory = VehicleMemory(
                unsupported={Signal(k) for k in item.get("unsupported", []) if _known(k)},
                raw=_signals(item.get("raw", {})),
                polled=_times(item.get("polled", {})),
                pushed=_times(item.get("pushed", {})),
            )
            if isinstance(webhook := item.get("webhook"), str):
                memory.webhook = webhook
            learnt = item.get("learnt")
            if isinstance(learnt, dict):
                memory.learnt = learnt
            usage = item.get("usage") or {}
            if isinstance(usage.get("month"), str) and isinstance(usage.get("used"), int):
                commands = usage.get("commands")
                memory.usage = Usage(
                    month=usage["month"],
                    used=usage["used"],
                    commands=commands if isinstance(commands, int) else 0,
                )
            if isinstance(attributes, dict) and isinstance(attributes.get("id"), str):
                memory.attributes = VehicleAttributes(
                    id=attributes["id"],
                    make=attributes.get("make"),
                    model=attributes.get("model"),
                    year=attributes.get("year"),
                    vin=attributes.get("vin"),
                )
            self.vehicles[vehicle_id] = memory

    def vehicle(self, vehicle_id: str) -> VehicleMemory:
        """The memory of one vehicle (created empty on first use)."""
        return self.vehicles.setdefault(vehicle_id, VehicleMemory())

    def forget(self, keep: set[str]) -> None:
        """Drop vehicles that are no longer in the account."""
        for vehicle_id in set(self.vehicles) - keep:
            del self.vehicles[vehicle_id]
        self.async_schedule_save()

    def async_schedule_save(self) -> None:
        """Save soon (coalescing bursts of changes)."""
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_save_now(self) -> None:
        """Save at once (unload)."""
        await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the file (entry removed)."""
        await self._store.async_remove()

    def _data(self) -> dict[str, _StoredVehicle]:
        data: dict[str, _StoredVehicle] = {}
        for vehicle_id, memory in self.vehicles.items():
            item: _StoredVehicle = {
                "unsupported": sorted(memory.unsupported),
                "raw": {s.value: raw for s, raw in memory.raw.items()},
                "polled": {s.value: when.isoformat() for s, when in memory.polled.items()},
                "pushed": {s.value: when.isoformat() for s, when in memory.pushed.items()},
                "usage": {
                    "month": memory.usage.month,
                    "used": memory.usage.used,
                    "commands": memory.usage.commands,
                },
                "learnt": memory.learnt,
            }
            if memory.webhook is not None:
                item["webhook"] = memory.webhook
            if memory.attributes is not None:
                item["attributes"] = {
                    "id": memory.attributes.id,
                    "make": memory.attributes.make,
                    "model": memory.attributes.model,
                    "year": memory.attributes.year,
                    "vin": memory.attributes.vin,
                }
            data[vehicle_id] = item
        return data
