"""API v3 signals (v4.0 codes such as `tractionbattery-stateofcharge`) built from a car's report.

Every signal is a JSON:API resource `{id, type: "signal", attributes: {code, name, group,
status, body}, meta: {oemUpdatedAt, retrievedAt}, links}`. The values come from what the car
last *reported* (as the v2 reads do); percentages are 0..100 and every numeric body has its unit.
Values the simulated cars do not model (tyre pressures, 12 V battery, temperatures, firmware)
are fixed per car kind.

A signal the car cannot give right now (charge rate, time to complete and wattage while not
charging) is in `status: {"value": "ERROR", "error": {type, code, title, detail}}` and has no
`body`, as Smartcar's real payloads are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
import math
from typing import Any, Final

from .clock import isoformat_ms
from .fleet import EV, PETROL, PHEV
from .vehicles import Vehicle, VehicleState

POWERTRAIN: Final[Mapping[str, str]] = {EV: "BEV", PHEV: "PHEV", PETROL: "ICE"}
FIRMWARE: Final[Mapping[str, str]] = {EV: "2026.32.6", PHEV: "5.1.2", PETROL: "FW-19.4.0"}
TIRE_KPA: Final = 250.0
OUTSIDE_C: Final = 12.0
CABIN_C: Final = 18.0
LOW_VOLTAGE_PERCENT: Final = 88.0
# km/h of range gained while charging for a car whose spec has no consumption (kwh_per_km 0);
# the fleet's cars all have one: charge power / consumption (EV 11 kW / 0.155 kWh/km).
FALLBACK_CHARGE_RATE_KMH: Final = 50.0

BodyFn = Callable[[Vehicle, VehicleState], dict[str, Any]]


class SignalUnavailable(Exception):
    """Raised by a body builder: the signal is in `status: ERROR` (and has no body)."""

    def __init__(self, type_: str, code: str, title: str, detail: str) -> None:
        super().__init__(f"{type_}:{code}")
        self.error: dict[str, str] = {
            "type": type_,
            "code": code,
            "title": title,
            "detail": detail,
        }


def _not_charging() -> SignalUnavailable:
    return SignalUnavailable(
        "VEHICLE_STATE", "NOT_CHARGING", "Vehicle State", "The vehicle is not charging."
    )


def _while_charging(build: BodyFn) -> BodyFn:
    """`build` while energy flows in the report; ERROR `NOT_CHARGING` otherwise."""

    def body(vehicle: Vehicle, state: VehicleState) -> dict[str, Any]:
        if not state.charging:
            raise _not_charging()
        return build(vehicle, state)

    return body


def charge_rate_kmh(vehicle: Vehicle) -> float:
    """Range gained per hour of charging: charge power / consumption."""
    spec = vehicle.spec
    if spec.kwh_per_km <= 0:
        return FALLBACK_CHARGE_RATE_KMH
    return spec.charge_kw / spec.kwh_per_km


def minutes_to_complete(vehicle: Vehicle, state: VehicleState) -> int:
    """Whole minutes (rounded up) from `state` to the charge limit at the car's charge power."""
    spec = vehicle.spec
    missing = max(0.0, (state.charge_limit or 0.0) - (state.battery or 0.0))
    if spec.charge_kw <= 0:
        return 0
    return math.ceil(round(missing * spec.battery_kwh / spec.charge_kw * 60.0, 6))


def _pct(fraction: float | None) -> float:
    return round((fraction or 0.0) * 100.0, 1)


def _value(value: Any, unit: str | None = None) -> dict[str, Any]:
    return {"value": value} if unit is None else {"value": value, "unit": unit}


def _doors(locked: bool) -> dict[str, Any]:
    return {
        "values": [
            {"row": row, "column": col, "isOpen": False, "isLocked": locked}
            for row in (0, 1)
            for col in (0, 1)
        ],
        "rowCount": 2,
        "columnCount": 2,
    }


def _windows(_: Vehicle, __: VehicleState) -> dict[str, Any]:
    return {
        "values": [{"row": r, "column": c, "isOpen": False} for r in (0, 1) for c in (0, 1)],
        "rowCount": 2,
        "columnCount": 2,
    }


def _tires(_: Vehicle, __: VehicleState) -> dict[str, Any]:
    return {
        "values": [
            {"row": r, "column": c, "tirePressure": TIRE_KPA} for r in (0, 1) for c in (0, 1)
        ],
        "rowCount": 2,
        "columnCount": 2,
        "unit": "kPa",
    }


def _charge_status(state: VehicleState) -> str:
    return state.charge_state or "NOT_CHARGING"


def _asleep(state: VehicleState) -> bool:
    return not (state.driving or state.charging)


# code -> (name, group, needs: "battery" | "tank" | "frunk" (EVs) | None, body)
_ALL: Final[dict[str, tuple[str, str, str | None, BodyFn]]] = {
    "tractionbattery-stateofcharge": (
        "StateOfCharge",
        "TractionBattery",
        "battery",
        lambda _, s: _value(_pct(s.battery), "percent"),
    ),
    "tractionbattery-range": (
        "Range",
        "TractionBattery",
        "battery",
        lambda v, s: {
            "value": round(v.battery_range_km(s), 1),
            "unit": "km",
            "type": "DEFAULT",
            "additionalValues": [],
        },
    ),
    "charge-ischarging": ("IsCharging", "Charge", "battery", lambda _, s: _value(s.charging)),
    "charge-ischargingcableconnected": (
        "IsChargingCableConnected",
        "Charge",
        "battery",
        lambda _, s: _value(s.plugged),
    ),
    "charge-detailedchargingstatus": (
        "DetailedChargingStatus",
        "Charge",
        "battery",
        lambda _, s: _value(_charge_status(s)),
    ),
    "charge-chargelimits": (
        "ChargeLimits",
        "Charge",
        "battery",
        lambda _, s: {
            "values": [{"type": "GLOBAL", "limit": _pct(s.charge_limit), "condition": None}],
            "activeLimit": _pct(s.charge_limit),
            "unit": "percent",
        },
    ),
    "charge-ischargingportflapopen": (
        "IsChargingPortFlapOpen",
        "Charge",
        "battery",
        lambda _, s: _value(s.plugged),
    ),
    "charge-chargerate": (
        "ChargeRate",
        "Charge",
        "battery",
        _while_charging(lambda v, _: _value(round(charge_rate_kmh(v), 1), "km/h")),
    ),
    "charge-timetocomplete": (
        "TimeToComplete",
        "Charge",
        "battery",
        _while_charging(lambda v, s: _value(minutes_to_complete(v, s), "minutes")),
    ),
    "charge-energyadded": (
        "EnergyAdded",
        "Charge",
        "battery",
        lambda _, s: _value(round(s.charge_energy_kwh or 0.0, 2), "kWh"),
    ),
    "charge-wattage": (
        "Wattage",
        "Charge",
        "battery",
        _while_charging(lambda v, _: _value(round(v.spec.charge_kw * 1000.0, 1), "watts")),
    ),
    "closure-islocked": ("IsLocked", "Closure", None, lambda _, s: _value(s.locked)),
    "closure-doors": ("Doors", "Closure", None, lambda _, s: _doors(s.locked)),
    "closure-windows": ("Windows", "Closure", None, _windows),
    "closure-fronttrunk": (
        "FrontTrunk",
        "Closure",
        "frunk",
        lambda _, s: {"isOpen": False, "isLocked": s.locked},
    ),
    "closure-reartrunk": (
        "RearTrunk",
        "Closure",
        None,
        lambda _, s: {"isOpen": False, "isLocked": s.locked},
    ),
    "location-preciselocation": (
        "PreciseLocation",
        "Location",
        None,
        lambda _, s: {
            "latitude": s.latitude,
            "longitude": s.longitude,
            "heading": None,
            "direction": None,
            "locationType": "CURRENT" if s.driving else "LAST_PARKED",
        },
    ),
    "odometer-traveleddistance": (
        "TraveledDistance",
        "Odometer",
        None,
        lambda _, s: _value(round(s.odometer, 1), "km"),
    ),
    "diagnostics-dtclist": (
        "DTCList",
        "Diagnostics",
        None,
        lambda _, s: {"values": [dict(code) for code in s.dtcs]},
    ),
    "diagnostics-dtccount": (
        "DTCCount",
        "Diagnostics",
        None,
        lambda _, s: _value(len(s.dtcs), "count"),
    ),
    "internalcombustionengine-fuellevel": (
        "FuelLevel",
        "InternalCombustionEngine",
        "tank",
        lambda _, s: _value(_pct(s.fuel), "percent"),
    ),
    "internalcombustionengine-amountremaining": (
        "AmountRemaining",
        "InternalCombustionEngine",
        "tank",
        lambda v, s: _value(round(v.fuel_amount_l(s), 1), "liters"),
    ),
    "internalcombustionengine-range": (
        "Range",
        "InternalCombustionEngine",
        "tank",
        lambda v, s: _value(round(v.fuel_range_km(s), 1), "km"),
    ),
    "internalcombustionengine-oillife": (
        "OilLife",
        "InternalCombustionEngine",
        "tank",
        lambda _, s: _value(_pct(s.oil_life), "percent"),
    ),
    "wheel-tires": ("Tires", "Wheel", None, _tires),
    "lowvoltagebattery-stateofcharge": (
        "StateOfCharge",
        "LowVoltageBattery",
        None,
        lambda _, __: _value(LOW_VOLTAGE_PERCENT, "percent"),
    ),
    "connectivitystatus-isonline": (
        "IsOnline",
        "ConnectivityStatus",
        None,
        lambda _, __: _value(True),
    ),
    "connectivitystatus-isasleep": (
        "IsAsleep",
        "ConnectivityStatus",
        None,
        lambda _, s: _value(_asleep(s)),
    ),
    "connectivitysoftware-currentfirmwareversion": (
        "CurrentFirmwareVersion",
        "ConnectivitySoftware",
        None,
        lambda v, _: _value(FIRMWARE.get(v.spec.kind, "1.0.0")),
    ),
    "climate-internaltemperature": (
        "InternalTemperature",
        "Climate",
        None,
        lambda _, __: _value(CABIN_C, "celsius"),
    ),
    "climate-externaltemperature": (
        "ExternalTemperature",
        "Climate",
        None,
        lambda _, __: _value(OUTSIDE_C, "celsius"),
    ),
    "vehicleidentification-vin": (
        "VIN",
        "VehicleIdentification",
        None,
        lambda v, _: _value(v.spec.vin),
    ),
    "vehicleidentification-make": (
        "Make",
        "VehicleIdentification",
        None,
        lambda v, _: _value(v.spec.make.upper()),
    ),
    "vehicleidentification-model": (
        "Model",
        "VehicleIdentification",
        None,
        lambda v, _: _value(v.spec.model),
    ),
    "vehicleidentification-year": (
        "Year",
        "VehicleIdentification",
        None,
        lambda v, _: _value(v.spec.year),
    ),
}

CODES: Final = frozenset(_ALL)


def codes_of(vehicle: Vehicle) -> list[str]:
    """The signal codes this car reports, in a fixed order."""
    spec = vehicle.spec
    return [
        code
        for code, (_, _, needs, _) in _ALL.items()
        if needs is None
        or (needs == "battery" and spec.has_battery)
        or (needs == "tank" and spec.has_tank)
        or (needs == "frunk" and spec.kind == EV)
    ]


def vehicle_resource(vehicle: Vehicle, base: str) -> dict[str, Any]:
    """`{"id", "type": "vehicle", "attributes": {make, model, year, powertrainType, mode}, "links"}`."""
    spec = vehicle.spec
    return {
        "id": vehicle.id,
        "type": "vehicle",
        "attributes": {
            "make": spec.make.upper(),
            "model": spec.model,
            "year": spec.year,
            "powertrainType": POWERTRAIN.get(spec.kind, "ICE"),
            "mode": "live",
        },
        "links": {"self": f"{base}/v3/vehicles/{vehicle.id}"},
    }


def _attributes(vehicle: Vehicle, code: str, state: VehicleState) -> dict[str, Any]:
    """`{code, name, group, status, body}`; an unavailable signal: ERROR status, no body."""
    name, group, _, body = _ALL[code]
    named = {"code": code, "name": name, "group": group}
    try:
        payload = body(vehicle, state)
    except SignalUnavailable as err:
        return {**named, "status": {"value": "ERROR", "error": dict(err.error)}}
    return {**named, "status": {"value": "SUCCESS"}, "body": payload}


def describe(code: str) -> tuple[str, str]:
    """(name, group) of a known code ("tractionbattery-stateofcharge" -> StateOfCharge, ...)."""
    name, group, _, _ = _ALL[code]
    return name, group


def signal_attributes(vehicle: Vehicle, code: str, state: VehicleState) -> dict[str, Any]:
    """`{code, name, group, status, body}` of `state` (a report) for a code the car has."""
    return _attributes(vehicle, code, state)


def signal_resource(vehicle: Vehicle, code: str, now: datetime, base: str) -> dict[str, Any]:
    """One signal of the car's last report (the code must be one of `codes_of(vehicle)`)."""
    state, reported_at = vehicle.reported()
    return {
        "id": code,
        "type": "signal",
        "attributes": _attributes(vehicle, code, state),
        "meta": {
            "oemUpdatedAt": isoformat_ms(reported_at),
            "retrievedAt": isoformat_ms(now),
        },
        "links": {"self": f"{base}/v3/vehicles/{vehicle.id}/signals/{code}"},
    }
