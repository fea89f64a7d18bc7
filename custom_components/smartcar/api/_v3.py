"""Wire format of the Smartcar Vehicles API v3: JSON:API signals to the same models as v2.0.

A v3 signal is `{id, type: "signal", attributes: {code, name, group, status: {value, error?},
body}, meta: {oemUpdatedAt, retrievedAt}}`; several signals make one of the integration's
signal groups (`Signal`). Percentages arrive as 0..100 and become fractions as in v2.0; every
value carries its unit and is converted to the client's unit system (distances, speeds,
volumes) or to one fixed unit (°C, kPa, minutes, kWh, kW). Parsing is lenient per field: a
malformed field is None and named in `issues`; a signal in status ERROR is a missing field; a
group whose every signal failed carries the error of the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from ._v2 import finite_float, parse_datetime
from .const import Signal, UnitSystem
from .errors import (
    SmartcarCompatibilityError,
    SmartcarError,
    SmartcarResponseError,
    error_from_response,
)
from .models import (
    Battery,
    Charge,
    ChargeDetails,
    ChargeLimit,
    ChargeState,
    Climate,
    Closures,
    CommandResult,
    Connection,
    ConnectionStatus,
    Connectivity,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    LowVoltageBattery,
    Meta,
    Odometer,
    Opening,
    Security,
    SignalReading,
    SignalResult,
    Tires,
    TroubleCode,
    VehicleAttributes,
)

# The v3 signal codes each group is made of (a code may serve several groups).
CODES: Final[dict[Signal, tuple[str, ...]]] = {
    Signal.BATTERY: ("tractionbattery-stateofcharge", "tractionbattery-range"),
    Signal.CHARGE: (
        "charge-ischargingcableconnected",
        "charge-detailedchargingstatus",
        "charge-ischarging",
    ),
    Signal.CHARGE_LIMIT: ("charge-chargelimits",),
    Signal.SECURITY: (
        "closure-islocked",
        "closure-doors",
        "closure-windows",
        "closure-sunroof",
        "closure-fronttrunk",
        "closure-reartrunk",
        "charge-ischargingportflapopen",
    ),
    Signal.LOCATION: ("location-preciselocation",),
    Signal.ODOMETER: ("odometer-traveleddistance",),
    Signal.FUEL: (
        "internalcombustionengine-fuellevel",
        "internalcombustionengine-amountremaining",
        "internalcombustionengine-range",
    ),
    Signal.ENGINE_OIL: ("internalcombustionengine-oillife",),
    Signal.DIAGNOSTICS: ("diagnostics-dtclist",),
    Signal.CLOSURES: (
        "closure-doors",
        "closure-windows",
        "closure-sunroof",
        "closure-fronttrunk",
        "closure-reartrunk",
        "charge-ischargingportflapopen",
    ),
    Signal.CHARGE_DETAILS: (
        "charge-chargerate",
        "charge-timetocomplete",
        "charge-energyadded",
        "charge-wattage",
    ),
    Signal.TIRES: ("wheel-tires",),
    Signal.LOW_VOLTAGE_BATTERY: ("lowvoltagebattery-stateofcharge",),
    Signal.CONNECTIVITY: (
        "connectivitystatus-isonline",
        "connectivitystatus-isasleep",
        "connectivitysoftware-currentfirmwareversion",
    ),
    Signal.CLIMATE: ("climate-internaltemperature", "climate-externaltemperature"),
}
VIN_CODE: Final = "vehicleidentification-vin"


def signals_of_codes(codes: Iterable[str]) -> frozenset[Signal]:
    """The groups these v4.0 signal codes belong to."""
    wanted = {code.lower() for code in codes}
    return frozenset(group for group, members in CODES.items() if wanted & set(members))


MILE_KM: Final = 1.609344
GALLON_L: Final = 3.785411784
# Units as Smartcar spells them (and the spellings seen elsewhere) -> a factor to one unit.
_KM: Final = {"km": 1.0, "kilometers": 1.0, "kilometres": 1.0, "mi": MILE_KM, "miles": MILE_KM}
_KMH: Final = {
    "km/h": 1.0,
    "kph": 1.0,
    "kilometers/hour": 1.0,
    "mph": MILE_KM,
    "mi/h": MILE_KM,
    "miles/hour": MILE_KM,
}
_LITERS: Final = {"l": 1.0, "liters": 1.0, "litres": 1.0, "gal": GALLON_L, "gallons": GALLON_L}
_KPA: Final = {"kpa": 1.0, "kilopascals": 1.0, "psi": 6.894757, "bar": 100.0}
_MINUTES: Final = {
    "minutes": 1.0,
    "min": 1.0,
    "hours": 60.0,
    "h": 60.0,
    "seconds": 1 / 60,
    "s": 1 / 60,
}
_KWH: Final = {"kwh": 1.0, "kwhr": 1.0, "wh": 0.001, "whr": 0.001}
_KW: Final = {"kw": 1.0, "kilowatts": 1.0, "w": 0.001, "watts": 0.001}


def _celsius(value: float, unit: str) -> float | None:
    if unit in ("c", "celsius"):
        return value
    if unit in ("f", "fahrenheit"):
        return (value - 32) * 5 / 9
    return None


@dataclass(frozen=True, slots=True)
class _Signal:
    """One signal of an answer."""

    code: str
    ok: bool
    body: Mapping[str, Any]
    error: Mapping[str, Any]
    updated: datetime | None
    retrieved: datetime | None


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 string (REST answers) or epoch milliseconds (webhooks), or None."""
    number = finite_float(value)
    if number is not None:
        if number <= 0:
            return None  # webhooks send 0 for "no time" (a VIN's oemUpdatedAt)
        try:
            return datetime.fromtimestamp(number / 1000, UTC)
        except OverflowError, OSError, ValueError:
            return None
    return parse_datetime(value)


def parse_signal(item: object) -> _Signal | None:
    """One signal resource (a bare signal, or the attributes of the JSON:API form)."""
    if not isinstance(item, Mapping):
        return None
    attributes = item.get("attributes")
    fields: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else item
    code = fields.get("code", item.get("id"))
    if not isinstance(code, str) or not code:
        return None
    status = fields.get("status")
    status_value = status.get("value") if isinstance(status, Mapping) else status
    body = fields.get("body")
    error = status.get("error") if isinstance(status, Mapping) else None
    # The times may be in the resource's `meta` or in `attributes.meta` (recorded: the outer
    # one holding only `ingestedAt`); take each from the first that has it.
    metas = [m for m in (item.get("meta"), fields.get("meta")) if isinstance(m, Mapping)]

    def meta(key: str) -> object:
        return next((m[key] for m in metas if m.get(key) is not None), None)

    ok = status_value in (None, "SUCCESS") and isinstance(body, Mapping)
    return _Signal(
        code=code.lower(),
        ok=ok,
        body=body if isinstance(body, Mapping) else {},
        error=error if isinstance(error, Mapping) else {},
        updated=_timestamp(meta("oemUpdatedAt")),
        retrieved=_timestamp(meta("retrievedAt")),
    )


class _Group:
    """The signals of one group, read field by field; malformed fields are remembered."""

    def __init__(self, signals: Mapping[str, _Signal], unit_system: UnitSystem) -> None:
        self._signals = signals
        self._unit_system = unit_system
        self.issues: list[str] = []

    def body(self, code: str) -> Mapping[str, Any] | None:
        signal = self._signals.get(code)
        return signal.body if signal is not None and signal.ok else None

    def _bad(self, code: str) -> None:
        self.issues.append(code)

    def raw_number(
        self, code: str, key: str = "value", *, low: float | None = None, high: float | None = None
    ) -> float | None:
        body = self.body(code)
        if body is None or body.get(key) is None:
            return None
        number = finite_float(body.get(key))
        if (
            number is None
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            self._bad(code)
            return None
        return number

    def percent(self, code: str, key: str = "value", *, low: float = 0.0) -> float | None:
        """A 0..100 value as a fraction."""
        number = self.raw_number(code, key, low=low * 100, high=100.0)
        return None if number is None else number / 100

    def unit(self, code: str) -> str | None:
        body = self.body(code)
        unit = body.get("unit") if body is not None else None
        return unit.strip().lower() if isinstance(unit, str) else None

    def measure(
        self, code: str, units: Mapping[str, float], *, key: str = "value", low: float = 0.0
    ) -> float | None:
        """A value in the first unit of `units` (missing unit: taken as that unit)."""
        number = self.raw_number(code, key, low=low)
        if number is None:
            return None
        unit = self.unit(code)
        factor = 1.0 if unit is None else units.get(unit)
        if factor is None:
            self._bad(code)
            return None
        return number * factor

    def distance(self, code: str, units: Mapping[str, float] = _KM) -> float | None:
        """A distance (or speed) in km (km/h), or miles (mph) in imperial."""
        value = self.measure(code, units)
        if value is None:
            return None
        return value / MILE_KM if self._unit_system is UnitSystem.IMPERIAL else value

    def volume(self, code: str) -> float | None:
        value = self.measure(code, _LITERS)
        if value is None:
            return None
        return value / GALLON_L if self._unit_system is UnitSystem.IMPERIAL else value

    def temperature(self, code: str) -> float | None:
        number = self.raw_number(code, low=-100.0, high=200.0)
        if number is None:
            return None
        celsius = _celsius(number, self.unit(code) or "celsius")
        if celsius is None:
            self._bad(code)
        return celsius

    def boolean(self, code: str, key: str = "value") -> bool | None:
        body = self.body(code)
        if body is None or body.get(key) is None:
            return None
        value = body.get(key)
        if isinstance(value, bool):
            return value
        self._bad(code)
        return None

    def text(self, code: str) -> str | None:
        body = self.body(code)
        value = body.get("value") if body is not None else None
        if value is None:
            return None
        if isinstance(value, str) and value:
            return value
        self._bad(code)
        return None

    def grid(self, code: str) -> list[Mapping[str, Any]] | None:
        """The `values` of a rows-and-columns signal (doors, windows, tyres)."""
        body = self.body(code)
        if body is None:
            return None
        values = body.get("values")
        if not isinstance(values, list):
            self._bad(code)
            return None
        items = [v for v in values if isinstance(v, Mapping)]
        if len(items) != len(values):
            self._bad(code)
        return items

    def any_open(self, code: str) -> bool | None:
        """Whether any item of a grid, or the single opening, stands open."""
        body = self.body(code)
        if body is None:
            return None
        if "values" not in body:
            return self.boolean(code, "isOpen")
        items = self.grid(code)
        flags = [i.get("isOpen") for i in items or () if isinstance(i.get("isOpen"), bool)]
        return any(flags) if flags else None


_POSITIONS: Final = {
    (0, 0): "frontLeft",
    (0, 1): "frontRight",
    (1, 0): "backLeft",
    (1, 1): "backRight",
}


def _position(item: Mapping[str, Any]) -> str:
    row, column = item.get("row"), item.get("column")
    return _POSITIONS.get((row, column), f"row{row}Column{column}")  # type: ignore[arg-type]


def _openings(
    g: _Group, code: str, status: Callable[[Mapping[str, Any]], str | None]
) -> tuple[Opening, ...]:
    result = []
    for item in g.grid(code) or ():
        value = status(item)
        if value is not None:
            result.append(Opening(type=_position(item), status=value))
    return tuple(result)


def _open_status(item: Mapping[str, Any]) -> str | None:
    is_open = item.get("isOpen")
    return None if not isinstance(is_open, bool) else ("OPEN" if is_open else "CLOSED")


def _lock_status(item: Mapping[str, Any]) -> str | None:
    locked = item.get("isLocked")
    return None if not isinstance(locked, bool) else ("LOCKED" if locked else "UNLOCKED")


def _single_opening(g: _Group, code: str, name: str, key: str = "isOpen") -> tuple[Opening, ...]:
    is_open = g.boolean(code, key) if key == "isOpen" else g.boolean(code)
    return () if is_open is None else (Opening(type=name, status="OPEN" if is_open else "CLOSED"),)


def _battery(g: _Group, meta: Meta) -> Battery:
    return Battery(
        percent_remaining=g.percent("tractionbattery-stateofcharge"),
        range=g.distance("tractionbattery-range"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _charge(g: _Group, meta: Meta) -> Charge:
    state: ChargeState | None = None
    detailed = g.text("charge-detailedchargingstatus")
    if detailed is not None:
        try:
            state = ChargeState(detailed.upper())
        except ValueError:
            state = None
    if state is None:
        charging = g.boolean("charge-ischarging")
        if charging is not None:
            state = ChargeState.CHARGING if charging else ChargeState.NOT_CHARGING
    return Charge(
        is_plugged_in=g.boolean("charge-ischargingcableconnected"),
        state=state,
        meta=meta,
        issues=tuple(g.issues),
    )


def _charge_limit(g: _Group, meta: Meta) -> ChargeLimit:
    code = "charge-chargelimits"
    limit = g.percent(code, "activeLimit", low=0.5)
    if limit is None:
        for item in g.grid(code) or ():
            kind = item.get("type")
            number = finite_float(item.get("limit"))
            if isinstance(kind, str) and kind.upper() == "GLOBAL" and number is not None:
                limit = number / 100 if 50 <= number <= 100 else None
                break
    return ChargeLimit(limit=limit, meta=meta, issues=tuple(g.issues))


def _security(g: _Group, meta: Meta) -> Security:
    return Security(
        is_locked=g.boolean("closure-islocked"),
        doors=_openings(g, "closure-doors", _lock_status),
        windows=_openings(g, "closure-windows", _open_status),
        sunroof=_single_opening(g, "closure-sunroof", "sunroof"),
        storage=_single_opening(g, "closure-fronttrunk", "front")
        + _single_opening(g, "closure-reartrunk", "rear"),
        charging_port=_single_opening(
            g, "charge-ischargingportflapopen", "chargingPort", key="value"
        ),
        meta=meta,
        issues=tuple(g.issues),
    )


def _closures(g: _Group, meta: Meta) -> Closures:
    return Closures(
        doors_open=g.any_open("closure-doors"),
        windows_open=g.any_open("closure-windows"),
        sunroof_open=g.any_open("closure-sunroof"),
        frunk_open=g.any_open("closure-fronttrunk"),
        trunk_open=g.any_open("closure-reartrunk"),
        charge_port_open=g.boolean("charge-ischargingportflapopen"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _location(g: _Group, meta: Meta) -> Location:
    code = "location-preciselocation"
    latitude = g.raw_number(code, "latitude", low=-90, high=90)
    longitude = g.raw_number(code, "longitude", low=-180, high=180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return Location(latitude=latitude, longitude=longitude, meta=meta, issues=tuple(g.issues))


def _odometer(g: _Group, meta: Meta) -> Odometer:
    return Odometer(
        distance=g.distance("odometer-traveleddistance"), meta=meta, issues=tuple(g.issues)
    )


def _fuel(g: _Group, meta: Meta) -> Fuel:
    return Fuel(
        percent_remaining=g.percent("internalcombustionengine-fuellevel"),
        amount_remaining=g.volume("internalcombustionengine-amountremaining"),
        range=g.distance("internalcombustionengine-range"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _engine_oil(g: _Group, meta: Meta) -> EngineOil:
    return EngineOil(
        life_remaining=g.percent("internalcombustionengine-oillife"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _diagnostics(g: _Group, meta: Meta) -> Diagnostics:
    items = g.grid("diagnostics-dtclist")
    codes: tuple[TroubleCode, ...] | None = None
    if items is not None:
        codes = tuple(
            TroubleCode(code=i["code"], timestamp=_timestamp(i.get("timestamp")))
            for i in items
            if isinstance(i.get("code"), str) and i["code"]
        )
    return Diagnostics(active_codes=codes, meta=meta, issues=tuple(g.issues))


def _charge_details(g: _Group, meta: Meta) -> ChargeDetails:
    return ChargeDetails(
        rate=g.distance("charge-chargerate", _KMH),
        time_to_complete=g.measure("charge-timetocomplete", _MINUTES),
        energy_added=g.measure("charge-energyadded", _KWH),
        power=g.measure("charge-wattage", _KW),
        meta=meta,
        issues=tuple(g.issues),
    )


def _tires(g: _Group, meta: Meta) -> Tires:
    code = "wheel-tires"
    pressures: dict[str, float] = {}
    unit = g.unit(code) or "kpa"
    factor = _KPA.get(unit)
    for item in g.grid(code) or ():
        number = finite_float(item.get("tirePressure"))
        if number is None or number < 0 or factor is None:
            g.issues.append(code)
            continue
        pressures[_position(item)] = number * factor
    return Tires(
        front_left=pressures.get("frontLeft"),
        front_right=pressures.get("frontRight"),
        back_left=pressures.get("backLeft"),
        back_right=pressures.get("backRight"),
        meta=meta,
        issues=tuple(dict.fromkeys(g.issues)),
    )


def _low_voltage_battery(g: _Group, meta: Meta) -> LowVoltageBattery:
    return LowVoltageBattery(
        percent_remaining=g.percent("lowvoltagebattery-stateofcharge"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _connectivity(g: _Group, meta: Meta) -> Connectivity:
    return Connectivity(
        is_online=g.boolean("connectivitystatus-isonline"),
        is_asleep=g.boolean("connectivitystatus-isasleep"),
        firmware_version=g.text("connectivitysoftware-currentfirmwareversion"),
        meta=meta,
        issues=tuple(g.issues),
    )


def _climate(g: _Group, meta: Meta) -> Climate:
    return Climate(
        cabin_temperature=g.temperature("climate-internaltemperature"),
        outside_temperature=g.temperature("climate-externaltemperature"),
        meta=meta,
        issues=tuple(g.issues),
    )


_PARSERS: Final[dict[Signal, Callable[[_Group, Meta], SignalReading]]] = {
    Signal.BATTERY: _battery,
    Signal.CHARGE: _charge,
    Signal.CHARGE_LIMIT: _charge_limit,
    Signal.SECURITY: _security,
    Signal.LOCATION: _location,
    Signal.ODOMETER: _odometer,
    Signal.FUEL: _fuel,
    Signal.ENGINE_OIL: _engine_oil,
    Signal.DIAGNOSTICS: _diagnostics,
    Signal.CLOSURES: _closures,
    Signal.CHARGE_DETAILS: _charge_details,
    Signal.TIRES: _tires,
    Signal.LOW_VOLTAGE_BATTERY: _low_voltage_battery,
    Signal.CONNECTIVITY: _connectivity,
    Signal.CLIMATE: _climate,
}

# A signal in ERROR with one of these codes is a value the car has none of just now (a
# charge rate while not charging), not a failure.
_NO_VALUE_CODES: Final = frozenset({"NOT_CHARGING"})
# The HTTP status each error type comes with, for a signal's error (it carries none).
_STATUS_OF_TYPE: Final = {
    "AUTHENTICATION": 401,
    "PERMISSION": 403,
    "RESOURCE_NOT_FOUND": 404,
    "VEHICLE_STATE": 409,
    "RATE_LIMIT": 429,
    "BILLING": 430,
    "COMPATIBILITY": 501,
    "UPSTREAM": 502,
}


def _signal_error(signal: _Signal, request_id: str | None) -> SmartcarError:
    error = signal.error
    type_ = error.get("type")
    status = _STATUS_OF_TYPE.get(type_, 500) if isinstance(type_, str) else 500
    return error_from_response(status, error, request_id=request_id)


def group_result(
    group: Signal,
    signals: Mapping[str, _Signal],
    unit_system: UnitSystem,
    request_id: str | None = None,
) -> SignalResult | None:
    """The group's result from the signals of an answer; None when the car reports none."""
    mine = {code: signals[code] for code in CODES[group] if code in signals}
    if not mine:
        return None
    ok = [s for s in mine.values() if s.ok]
    failed = [s for s in mine.values() if not s.ok and s.error.get("code") not in _NO_VALUE_CODES]
    if not ok and failed:
        return SignalResult(signal=group, error=_signal_error(failed[0], request_id))
    updated = [s.updated for s in ok if s.updated is not None]
    retrieved = [s.retrieved for s in mine.values() if s.retrieved is not None]
    meta = Meta(
        data_age=max(updated, default=None),
        fetched_at=max(retrieved, default=None),
        unit_system=unit_system,
        request_id=request_id,
    )
    reading = _PARSERS[group](_Group(mine, unit_system), meta)
    return SignalResult(signal=group, reading=reading, raw={"v3": [_raw(s) for s in mine.values()]})


def _raw(signal: _Signal) -> dict[str, Any]:
    """A signal as kept in storage (enough to parse it again)."""
    raw: dict[str, Any] = {
        "code": signal.code,
        "status": {"value": "SUCCESS"}
        if signal.ok
        else {"value": "ERROR", "error": dict(signal.error)},
        "meta": {
            "oemUpdatedAt": signal.updated.isoformat() if signal.updated else None,
            "retrievedAt": signal.retrieved.isoformat() if signal.retrieved else None,
        },
    }
    if signal.ok:
        raw["body"] = dict(signal.body)
    return raw


def parse_group(group: Signal, items: Iterable[object], unit_system: UnitSystem) -> SignalReading:
    """The group's reading from signal resources (what is missing is None)."""
    return _PARSERS[group](
        _Group(signals_by_code(items), unit_system), Meta(unit_system=unit_system)
    )


def signals_by_code(items: Iterable[object]) -> dict[str, _Signal]:
    """The readable signals of a list, by code (unreadable items are left out)."""
    result: dict[str, _Signal] = {}
    for item in items:
        signal = parse_signal(item)
        if signal is not None:
            result[signal.code] = signal
    return result


def parse_signals(
    body: object, wanted: Iterable[Signal], unit_system: UnitSystem, request_id: str | None
) -> dict[Signal, SignalResult]:
    """Every group the answer holds, and each wanted one it lacks as unsupported."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise SmartcarResponseError("/signals: no signal list")
    signals = signals_by_code(body["data"])
    results: dict[Signal, SignalResult] = {}
    for group in CODES:
        result = group_result(group, signals, unit_system, request_id)
        if result is not None:
            results[group] = result
    for group in wanted:
        if group not in results:
            results[group] = SignalResult(
                signal=group,
                error=SmartcarCompatibilityError(
                    status=501,
                    code="VEHICLE_NOT_CAPABLE",
                    description=f"{group.value}: the vehicle reports no such signal",
                    request_id=request_id,
                ),
            )
    return results


def restore(group: Signal, raw: Mapping[str, Any], unit_system: UnitSystem) -> SignalReading:
    """A reading from what `group_result` kept (`{"v3": [signals]}`)."""
    items = raw.get("v3")
    if not isinstance(items, list):
        raise SmartcarResponseError(f"{group.value}: not an API v3 reading")
    result = group_result(group, signals_by_code(items), unit_system)
    if result is None or result.reading is None:
        raise SmartcarResponseError(f"{group.value}: nothing to restore")
    return result.reading


def _make(value: object) -> str | None:
    """v3 writes makes in capitals (TESLA); people write Tesla (short ones stay: BMW)."""
    if not isinstance(value, str) or not value:
        return None
    return value.title() if value.isupper() and len(value) > 3 else value


def parse_vehicle(body: object, vin: str | None) -> VehicleAttributes:
    """`GET /vehicles/{id}` (`{"data": {"id", "attributes": {make, model, year}}}`)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
        raise SmartcarResponseError("/vehicles/{id}: no vehicle")
    attributes = data.get("attributes")
    fields: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
    year = fields.get("year")
    model = fields.get("model")
    return VehicleAttributes(
        id=data["id"],
        make=_make(fields.get("make")),
        model=model if isinstance(model, str) and model else None,
        year=year if isinstance(year, int) and not isinstance(year, bool) else None,
        vin=vin,
    )


def parse_vin(body: object) -> str | None:
    """The VIN of `GET /vehicles/{id}/signals/vehicleidentification-vin` (either form)."""
    item = body.get("data", body) if isinstance(body, Mapping) else None
    signal = parse_signal(item)
    if signal is None or not signal.ok:
        return None
    value = signal.body.get("value")
    return value if isinstance(value, str) and value and value != "0" else None


def parse_command(body: object) -> tuple[str | None, CommandResult]:
    """A command execution: its id (to follow it) and the result so far."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping):
        raise SmartcarResponseError("command: no command execution")
    attributes = data.get("attributes")
    fields: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
    status = fields.get("status")
    value = status.get("value") if isinstance(status, Mapping) else None
    error = status.get("error") if isinstance(status, Mapping) else None
    message = None
    if isinstance(error, Mapping):
        detail = error.get("detail") or error.get("title") or error.get("code")
        message = detail if isinstance(detail, str) else None
    execution_id = data.get("id")
    return (
        execution_id if isinstance(execution_id, str) and execution_id else None,
        CommandResult(status=value.lower() if isinstance(value, str) else None, message=message),
    )


def parse_connections(body: object) -> tuple[list[Connection], bool]:
    """One page of `GET /connections` (JSON:API) and whether another page follows."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise SmartcarResponseError("/connections: no connection list")
    connections = []
    for item in body["data"]:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        attributes = item.get("attributes")
        fields: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
        relationships = item.get("relationships")
        links: Mapping[str, Any] = relationships if isinstance(relationships, Mapping) else {}
        permissions = fields.get("permissions")
        meta = item.get("meta")
        connections.append(
            Connection(
                id=item["id"],
                vehicle_id=_related_id(links.get("vehicle")),
                user_id=_related_id(links.get("user")) or _related_id(fields.get("user")),
                status=ConnectionStatus.ACTIVE,
                created=parse_datetime(meta.get("createdAt"))
                if isinstance(meta, Mapping)
                else None,
                permissions=frozenset(p for p in permissions if isinstance(p, str))
                if isinstance(permissions, list)
                else frozenset(),
            )
        )
    page_links = body.get("links")
    more = isinstance(page_links, Mapping) and bool(page_links.get("next"))
    return connections, more


def _related_id(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return None
    data = value.get("data", value)
    related = data.get("id") if isinstance(data, Mapping) else None
    return related if isinstance(related, str) and related else None
