"""Typed, immutable models of what Smartcar tells about users and vehicles.

These are what the integration consumes. They say nothing about the wire format: the v2.0
parsers in `_v2.py` build them, and a v3 backend would build the same ones.
Every value field may be None: missing, null or malformed values become None and the name of a
malformed field is listed in `issues`, so one bad field never hides the good ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .const import Signal, UnitSystem


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    """What Smartcar says about an answer: its age, units and request id."""

    data_age: datetime | None = None
    fetched_at: datetime | None = None
    unit_system: UnitSystem | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """Base of every signal reading."""

    meta: Meta = field(default_factory=Meta)
    issues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Battery(Reading):
    """State of charge (0..1) and electric range (km, or miles in imperial)."""

    percent_remaining: float | None = None
    range: float | None = None


class ChargeState(StrEnum):
    """Charging state as Smartcar names it."""

    CHARGING = "CHARGING"
    FULLY_CHARGED = "FULLY_CHARGED"
    NOT_CHARGING = "NOT_CHARGING"


@dataclass(frozen=True, slots=True, kw_only=True)
class Charge(Reading):
    """Whether the car is plugged in and what it does about it."""

    is_plugged_in: bool | None = None
    state: ChargeState | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeLimit(Reading):
    """The charge limit (0.5..1)."""

    limit: float | None = None


@dataclass(frozen=True, slots=True)
class Opening:
    """One door, window, storage, sunroof or charging port and its status as reported."""

    type: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Security(Reading):
    """Lock status of the car and of each of its openings."""

    is_locked: bool | None = None
    doors: tuple[Opening, ...] = ()
    windows: tuple[Opening, ...] = ()
    sunroof: tuple[Opening, ...] = ()
    storage: tuple[Opening, ...] = ()
    charging_port: tuple[Opening, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Location(Reading):
    """GPS position in degrees."""

    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Odometer(Reading):
    """Total distance (km, or miles in imperial)."""

    distance: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fuel(Reading):
    """Fuel level (0..1), amount (l, or gal) and range (km, or miles)."""

    percent_remaining: float | None = None
    amount_remaining: float | None = None
    range: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOil(Reading):
    """Remaining engine oil life (0..1)."""

    life_remaining: float | None = None


@dataclass(frozen=True, slots=True)
class TroubleCode:
    """One active diagnostic trouble code."""

    code: str
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostics(Reading):
    """The active diagnostic trouble codes (None when unreadable)."""

    active_codes: tuple[TroubleCode, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Closures(Reading):
    """What stands open (API v3): any door, any window, the trunk, the frunk, the sunroof and
    the charging port's flap."""

    doors_open: bool | None = None
    windows_open: bool | None = None
    trunk_open: bool | None = None
    frunk_open: bool | None = None
    sunroof_open: bool | None = None
    charge_port_open: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeDetails(Reading):
    """A charge in progress (API v3): range gained per hour (km/h, or mph in imperial),
    minutes to the limit, energy added (kWh) and the charger's power (kW)."""

    rate: float | None = None
    time_to_complete: float | None = None
    energy_added: float | None = None
    power: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tires(Reading):
    """Tyre pressures in kPa (API v3)."""

    front_left: float | None = None
    front_right: float | None = None
    back_left: float | None = None
    back_right: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LowVoltageBattery(Reading):
    """The 12 V battery's state of charge (0..1) (API v3)."""

    percent_remaining: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Connectivity(Reading):
    """Whether the car is online or asleep, and its firmware (API v3)."""

    is_online: bool | None = None
    is_asleep: bool | None = None
    firmware_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Climate(Reading):
    """Cabin and outside temperatures in °C (API v3)."""

    cabin_temperature: float | None = None
    outside_temperature: float | None = None


type SignalReading = (
    Battery
    | Charge
    | ChargeLimit
    | Security
    | Location
    | Odometer
    | Fuel
    | EngineOil
    | Diagnostics
    | Closures
    | ChargeDetails
    | Tires
    | LowVoltageBattery
    | Connectivity
    | Climate
)


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """The Smartcar user the token belongs to."""

    id: str
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleAttributes:
    """Make, model and year; the VIN only when `read_vin` was granted."""

    id: str
    make: str | None = None
    model: str | None = None
    year: int | None = None
    vin: str | None = None
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleIds:
    """One page of `GET /vehicles`."""

    vehicle_ids: tuple[str, ...]
    count: int
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What a command answered."""

    status: str | None = None
    message: str | None = None
    meta: Meta = field(default_factory=Meta)


class ConnectionStatus(StrEnum):
    """Whether a connection is in use."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """A vehicle connection of the management API."""

    id: str
    vehicle_id: str | None = None
    user_id: str | None = None
    status: ConnectionStatus | None = None
    created: datetime | None = None
    # API v3 lists what the user granted with each connection.
    permissions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationToken:
    """An API v3 application token (client credentials): no refresh token."""

    access_token: str
    expires_in: float
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        """Never print a token."""
        return f"ApplicationToken(expires_in={self.expires_in})"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSet:
    """Tokens from the token endpoint, plus the raw answer for storage."""

    access_token: str
    refresh_token: str
    expires_in: float
    token_type: str = "Bearer"
    refresh_expires_in: float | None = None
    raw: dict[str, object] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """Never print a token."""
        return f"TokenSet(expires_in={self.expires_in})"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalResult:
    """One signal's outcome inside a batch: a reading, or the error for that path alone."""

    signal: Signal
    reading: SignalReading | None = None
    error: Exception | None = None
    # The answer as it came over the wire, for storage; `SmartcarClient.restore_reading`
    # turns it back into the reading.
    raw: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """A batch's outcome, signal by signal; a failed item never hides the others."""

    results: dict[Signal, SignalResult]
    meta: Meta = field(default_factory=Meta)
