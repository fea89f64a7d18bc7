"""Wire format of the Smartcar Vehicles API v2.0: paths, JSON bodies and headers to models.

Parsing is lenient field by field and strict about types: a field of the wrong type, out of
range or of an unknown enum value becomes None and is named in `issues`; unknown extra fields
are ignored; a body that is not a JSON object is a `SmartcarResponseError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
import math
from typing import Any, Final

from .const import Signal, UnitSystem
from .errors import SmartcarResponseError
from .models import (
    Battery,
    Charge,
    ChargeLimit,
    ChargeState,
    CommandResult,
    Connection,
    ConnectionStatus,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    Meta,
    Odometer,
    Opening,
    Security,
    SignalReading,
    TroubleCode,
    VehicleAttributes,
)

PATHS: Final[dict[Signal, str]] = {
    Signal.BATTERY: "/battery",
    Signal.CHARGE: "/charge",
    Signal.CHARGE_LIMIT: "/charge/limit",
    Signal.SECURITY: "/security",
    Signal.LOCATION: "/location",
    Signal.ODOMETER: "/odometer",
    Signal.FUEL: "/fuel",
    Signal.ENGINE_OIL: "/engine/oil",
    Signal.DIAGNOSTICS: "/diagnostics/dtcs",
}
SIGNAL_BY_PATH: Final[dict[str, Signal]] = {path: signal for signal, path in PATHS.items()}


def finite_float(value: object) -> float | None:
    """A JSON number as a finite float; None for anything else (bool, NaN, inf, huge int)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)  # an int beyond the float range raises OverflowError
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class _Fields:
    """Reads typed fields from one JSON object and remembers which were malformed."""

    def __init__(self, body: object, what: str) -> None:
        if not isinstance(body, Mapping):
            raise SmartcarResponseError(f"{what}: body is not a JSON object")
        self._body: Mapping[str, Any] = body
        self.issues: list[str] = []

    def _bad(self, key: str) -> None:
        self.issues.append(key)

    def number(
        self, key: str, *, low: float | None = None, high: float | None = None
    ) -> float | None:
        value = self._body.get(key)
        if value is None:
            return None
        number = finite_float(value)
        if (
            number is None
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            self._bad(key)
            return None
        return number

    def fraction(self, key: str) -> float | None:
        return self.number(key, low=0.0, high=1.0)

    def boolean(self, key: str) -> bool | None:
        value = self._body.get(key)
        if value is None or isinstance(value, bool):
            return value
        self._bad(key)
        return None

    def text(self, key: str) -> str | None:
        value = self._body.get(key)
        if value is None or (isinstance(value, str) and value):
            return value
        self._bad(key)
        return None

    def openings(self, key: str) -> tuple[Opening, ...]:
        value = self._body.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._bad(key)
            return ()
        result = []
        for item in value:
            if (
                isinstance(item, Mapping)
                and isinstance(item.get("type"), str)
                and isinstance(item.get("status"), str)
            ):
                result.append(Opening(type=item["type"], status=item["status"]))
            else:
                self._bad(key)
        return tuple(result)

    def raw(self, key: str) -> Any:
        return self._body.get(key)


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 timestamp, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_meta(headers: Mapping[str, str] | None, request_id: str | None = None) -> Meta:
    """Meta from response headers (case-insensitive, as in a batch item or HTTP)."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    unit = lowered.get("sc-unit-system")
    request_header = lowered.get("sc-request-id")
    return Meta(
        data_age=parse_datetime(lowered.get("sc-data-age")),
        fetched_at=parse_datetime(lowered.get("sc-fetched-at")),
        unit_system=UnitSystem(unit) if isinstance(unit, str) and unit in set(UnitSystem) else None,
        request_id=request_header if isinstance(request_header, str) else request_id,
    )


def _battery(f: _Fields, meta: Meta) -> Battery:
    return Battery(
        percent_remaining=f.fraction("percentRemaining"),
        range=f.number("range", low=0),
        meta=meta,
        issues=tuple(f.issues),
    )


def _charge(f: _Fields, meta: Meta) -> Charge:
    raw_state = f.raw("state")
    state: ChargeState | None = None
    if raw_state is not None:
        try:
            state = ChargeState(raw_state)
        except ValueError:
            f.issues.append("state")
    return Charge(
        is_plugged_in=f.boolean("isPluggedIn"), state=state, meta=meta, issues=tuple(f.issues)
    )


def _charge_limit(f: _Fields, meta: Meta) -> ChargeLimit:
    return ChargeLimit(
        limit=f.number("limit", low=0.5, high=1.0), meta=meta, issues=tuple(f.issues)
    )


def _security(f: _Fields, meta: Meta) -> Security:
    return Security(
        is_locked=f.boolean("isLocked"),
        doors=f.openings("doors"),
        windows=f.openings("windows"),
        sunroof=f.openings("sunroof"),
        storage=f.openings("storage"),
        charging_port=f.openings("chargingPort"),
        meta=meta,
        issues=tuple(f.issues),
    )


def _location(f: _Fields, meta: Meta) -> Location:
    latitude = f.number("latitude", low=-90, high=90)
    longitude = f.number("longitude", low=-180, high=180)
    if latitude is None or longitude is None:
        # Half a position is no position.
        latitude = longitude = None
    return Location(latitude=latitude, longitude=longitude, meta=meta, issues=tuple(f.issues))


def _odometer(f: _Fields, meta: Meta) -> Odometer:
    return Odometer(distance=f.number("distance", low=0), meta=meta, issues=tuple(f.issues))


def _fuel(f: _Fields, meta: Meta) -> Fuel:
    return Fuel(
        percent_remaining=f.fraction("percentRemaining"),
        amount_remaining=f.number("amountRemaining", low=0),
        range=f.number("range", low=0),
        meta=meta,
        issues=tuple(f.issues),
    )


def _engine_oil(f: _Fields, meta: Meta) -> EngineOil:
    return EngineOil(life_remaining=f.fraction("lifeRemaining"), meta=meta, issues=tuple(f.issues))


def _diagnostics(f: _Fields, meta: Meta) -> Diagnostics:
    raw = f.raw("activeCodes")
    codes: tuple[TroubleCode, ...] | None = None
    if isinstance(raw, list):
        parsed = []
        for item in raw:
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                parsed.append(
                    TroubleCode(code=item["code"], timestamp=parse_datetime(item.get("timestamp")))
                )
            else:
                f.issues.append("activeCodes")
        codes = tuple(parsed)
    elif raw is not None:
        f.issues.append("activeCodes")
    return Diagnostics(active_codes=codes, meta=meta, issues=tuple(f.issues))


_PARSERS: Final[dict[Signal, Callable[[_Fields, Meta], SignalReading]]] = {
    Signal.BATTERY: _battery,
    Signal.CHARGE: _charge,
    Signal.CHARGE_LIMIT: _charge_limit,
    Signal.SECURITY: _security,
    Signal.LOCATION: _location,
    Signal.ODOMETER: _odometer,
    Signal.FUEL: _fuel,
    Signal.ENGINE_OIL: _engine_oil,
    Signal.DIAGNOSTICS: _diagnostics,
}


def parse_reading(signal: Signal, body: object, meta: Meta) -> SignalReading:
    """Parse one signal body (a batch item, or one kept in storage)."""
    if signal not in PATHS:
        raise SmartcarResponseError(f"{signal.value}: not a signal of API v2.0")
    return _PARSERS[signal](_Fields(body, PATHS[signal]), meta)


def parse_attributes(body: object, meta: Meta) -> VehicleAttributes:
    """Parse `GET /vehicles/{id}`; copes with `year` sent as a string."""
    f = _Fields(body, "/vehicles/{id}")
    vehicle_id = f.text("id")
    if vehicle_id is None:
        raise SmartcarResponseError("/vehicles/{id}: no vehicle id")
    year_raw = f.raw("year")
    year: int | None = None
    if isinstance(year_raw, int) and not isinstance(year_raw, bool):
        year = year_raw
    elif isinstance(year_raw, str) and year_raw.isascii() and year_raw.isdigit():
        # isascii: "²".isdigit() is True but int("²") fails; a year has few digits.
        year = int(year_raw) if len(year_raw) <= 4 else None
    return VehicleAttributes(
        id=vehicle_id,
        make=f.text("make"),
        model=f.text("model"),
        year=year,
        vin=f.text("vin"),
        meta=meta,
    )


def parse_command(body: object, meta: Meta) -> CommandResult:
    """Parse a command's answer."""
    if body is None:
        return CommandResult(meta=meta)
    f = _Fields(body, "command")
    return CommandResult(status=f.text("status"), message=f.text("message"), meta=meta)


def parse_connection(body: object) -> Connection:
    """Parse one management API connection."""
    f = _Fields(body, "/connections")
    connection_id = f.text("id")
    if connection_id is None:
        raise SmartcarResponseError("/connections: no connection id")
    status_raw = f.raw("status")
    status = (
        ConnectionStatus(status_raw)
        if isinstance(status_raw, str) and status_raw in ConnectionStatus._value2member_map_
        else None
    )
    return Connection(
        id=connection_id,
        vehicle_id=f.text("vehicleId"),
        user_id=f.text("userId"),
        status=status,
        created=parse_datetime(f.raw("created")),
    )
