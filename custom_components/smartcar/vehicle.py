"""A car of the account and what its entities show: plain data, shared by the layers above."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

from .api import READ_PERMISSIONS, Permission, Signal, SignalReading, VehicleAttributes
from .const import MAX_CONCURRENT_REQUESTS


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle of the account, as learnt once at setup."""

    id: str
    attributes: VehicleAttributes
    permissions: frozenset[str]
    # What the entry's API version can read at all (v3 reads more than v2.0).
    api_signals: frozenset[Signal] = frozenset(Signal)

    @property
    def name(self) -> str:
        """Make and model, as people call their car."""
        parts = [p for p in (self.attributes.make, self.attributes.model) if p]
        return " ".join(parts) or "Vehicle"

    def granted(self, *permissions: Permission) -> bool:
        """Whether every one of these permissions was granted."""
        return all(p.value in self.permissions for p in permissions)

    @property
    def readable(self) -> frozenset[Signal]:
        """Signals the user allowed us to read."""
        return frozenset(
            s for s, p in READ_PERMISSIONS.items() if self.granted(p) and s in self.api_signals
        )


@dataclass(frozen=True, slots=True)
class VehicleData:
    """What the entities show: the last good reading of each signal and current failures."""

    readings: dict[Signal, SignalReading] = field(default_factory=dict)
    failed: dict[Signal, Exception] = field(default_factory=dict)

    def reading(self, signal: Signal) -> SignalReading | None:
        """The last good reading of a signal."""
        return self.readings.get(signal)


# Deliveries remembered per entry to drop repeats (Smartcar delivers at least once).
SEEN_EVENTS: Final = 2000


class EventLog:
    """The `eventId`s of the latest deliveries, oldest forgotten first."""

    def __init__(self, size: int = SEEN_EVENTS) -> None:
        """Remember up to `size` ids."""
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, event_id: str) -> bool:
        """Remember the id; False when it was seen already."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


@dataclass(slots=True)
class Account:
    """What the vehicles of one entry share: a request limiter and the authentication state."""

    limiter: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
    )
    # Set by the first 401: no vehicle of the entry sends anything until reauthentication.
    auth_failed: bool = False
    # Webhook deliveries already taken.
    events: EventLog = field(default_factory=EventLog)
