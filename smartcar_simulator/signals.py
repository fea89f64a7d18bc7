"""API v3 signals (v4.0 codes such as `tractionbattery-stateofcharge`) built from a car's report.

Every signal is a JSON:API resource `{id, type: "signal", attributes: {code, name, group,
status, body}, meta: {oemUpdatedAt, retrievedAt}, links}`. The values come from what the car
last *reported* (as the v2 reads do); percentages are 0..100 and every numeric body has its unit.
Values the simulated cars do not model (tyre pressures, 12 V battery, temperatures, firmware)
are fixed per car kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
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

BodyFn = Callable[[Vehicle, VehicleState], dict[str, Any]]


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


# code -> (name, group, needs: "battery" | "tank" | None, body)
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
    "closure-islocked": ("IsLocked", "Closure", None, lambda _, s: _value(s.locked)),
    "closure-doors": ("Doors", "Closure", None, lambda _, s: _doors(s.locked)),
    "closure-windows": ("Windows", "Closure", None, _windows),
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


def signal_resource(vehicle: Vehicle, code: str, now: datetime, base: str) -> dict[str, Any]:
    """One signal of the car's last report (the code must be one of `codes_of(vehicle)`)."""
    name, group, _, body = _ALL[code]
    state, reported_at = vehicle.reported()
    return {
        "id": code,
        "type": "signal",
        "attributes": {
            "code": code,
            "name": name,
            "group": group,
            "status": {"value": "SUCCESS"},
            "body": body(vehicle, state),
        },
        "meta": {
            "oemUpdatedAt": isoformat_ms(reported_at),
            "retrievedAt": isoformat_ms(now),
        },
        "links": {"self": f"{base}/v3/vehicles/{vehicle.id}/signals/{code}"},
    }
