"""Smartcar users, their vehicle connections and per-vehicle permission denials."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final
import uuid

from .clock import VirtualClock, isoformat_ms

ACTIVE: Final = "ACTIVE"
REVOKED: Final = "REVOKED"
_NAMESPACE: Final = uuid.UUID("9b0f6c1e-2d3a-4e5f-8a7b-6c5d4e3f2a1b")


@dataclass(slots=True)
class Connection:
    """One user's link to one vehicle (the v3 management API's Connection)."""

    id: str
    vehicle_id: str
    user_id: str
    status: str
    created: float

    def as_json(self) -> dict[str, Any]:
        """The API form (camelCase)."""
        return {
            "id": self.id,
            "vehicleId": self.vehicle_id,
            "userId": self.user_id,
            "status": self.status,
            "created": isoformat_ms(datetime.fromtimestamp(self.created, UTC)),
        }


class Accounts:
    """Users -> vehicles (through connections), and what `/sim` denied per vehicle."""

    def __init__(self, users: Mapping[str, Iterable[str]], clock: VirtualClock) -> None:
        self._clock = clock
        self.connections: dict[str, Connection] = {}
        self._denied: dict[str, frozenset[str]] = {}
        created = clock.timestamp() - 30 * 86400
        for user_id, vehicle_ids in users.items():
            for vehicle_id in vehicle_ids:
                conn = Connection(
                    str(uuid.uuid5(_NAMESPACE, f"{user_id}/{vehicle_id}")),
                    vehicle_id,
                    user_id,
                    ACTIVE,
                    created,
                )
                self.connections[conn.id] = conn

    @property
    def user_ids(self) -> list[str]:
        """Every user, in creation order."""
        return list(dict.fromkeys(c.user_id for c in self.connections.values()))

    def vehicles_of(self, user_id: str, *, everyone: bool = False) -> list[str]:
        """The ids of the user's connected vehicles (`everyone`: revoked ones too), in order."""
        return [
            c.vehicle_id
            for c in self.connections.values()
            if c.user_id == user_id and (everyone or c.status == ACTIVE)
        ]

    def has_vehicle(self, user_id: str, vehicle_id: str) -> bool:
        """True when the user has an active connection to the vehicle."""
        conn = self.connections.get(str(uuid.uuid5(_NAMESPACE, f"{user_id}/{vehicle_id}")))
        return conn is not None and conn.status == ACTIVE

    def reconnect(self, user_id: str) -> None:
        """The user went through Connect again: every one of their vehicles is connected."""
        now = self._clock.timestamp()
        for conn in self.connections.values():
            if conn.user_id == user_id and conn.status != ACTIVE:
                conn.status = ACTIVE
                conn.created = now

    def connect(self, user_id: str, vehicle_id: str) -> Connection:
        """Connect a user to a vehicle (a new user when the id is new); active at once."""
        conn_id = str(uuid.uuid5(_NAMESPACE, f"{user_id}/{vehicle_id}"))
        conn = self.connections.get(conn_id)
        if conn is None:
            conn = Connection(conn_id, vehicle_id, user_id, ACTIVE, self._clock.timestamp())
            self.connections[conn_id] = conn
        elif conn.status != ACTIVE:
            conn.status = ACTIVE
            conn.created = self._clock.timestamp()
        return conn

    def disconnect(self, connection_id: str) -> Connection | None:
        """Revoke one connection; None when unknown."""
        conn = self.connections.get(connection_id)
        if conn is not None:
            conn.status = REVOKED
        return conn

    def remove_user(self, user_id: str) -> list[Connection]:
        """Revoke every connection of a user; return them."""
        removed = [c for c in self.connections.values() if c.user_id == user_id]
        for conn in removed:
            conn.status = REVOKED
        return removed

    def deny(self, vehicle_id: str, permissions: Iterable[str]) -> frozenset[str]:
        """Set the permissions withheld for one vehicle (replaces the earlier denial)."""
        self._denied[vehicle_id] = frozenset(permissions)
        return self._denied[vehicle_id]

    def denied(self, vehicle_id: str) -> frozenset[str]:
        """What is withheld for one vehicle."""
        return self._denied.get(vehicle_id, frozenset())

    def effective(self, granted: frozenset[str], vehicle_id: str) -> frozenset[str]:
        """What a grant may do on one vehicle."""
        return granted - self._denied.get(vehicle_id, frozenset())

    def dump(self) -> dict[str, Any]:
        """JSON form for the state file."""
        return {
            "connections": [asdict(c) for c in self.connections.values()],
            "denied": {k: sorted(v) for k, v in self._denied.items()},
        }

    def load(self, data: Mapping[str, Any], vehicle_ids: Iterable[str]) -> None:
        """Restore what `dump()` wrote, for the vehicles that still exist."""
        known = set(vehicle_ids)
        for item in data.get("connections", []):
            if item.get("vehicle_id") in known:
                conn = Connection(**item)
                self.connections[conn.id] = conn
        self._denied = {k: frozenset(v) for k, v in data.get("denied", {}).items() if k in known}
