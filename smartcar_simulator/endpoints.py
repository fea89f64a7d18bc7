"""The vehicle endpoints, independent of HTTP: permissions, capabilities, bodies, commands.

Paths are vehicle-relative ("/battery"; "/" is the attributes endpoint). Reads serve what the
car last *reported*, converted to the requested unit system.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from . import errors, fleet as v
from .clock import isoformat_ms
from .vehicles import Vehicle, VehicleState, validate_coordinates

KM_TO_MILES: Final = 0.621371192237334
LITRES_TO_GALLONS: Final = 0.264172052358148
METRIC: Final = "metric"
IMPERIAL: Final = "imperial"

COMMAND_OK: Final = {"status": "success", "message": "Successfully sent request to vehicle"}


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a read needs besides the vehicle."""

    unit_system: str
    permissions: frozenset[str]
    now: datetime


BodyBuilder = Callable[[Vehicle, VehicleState, ReadContext], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One vehicle endpoint."""

    method: str
    path: str
    permission: str
    capability: str | None  # None: every car has it
    signal: bool = True  # a signal read: carries sc-data-age / sc-unit-system


def _distance(km: float, ctx: ReadContext) -> float:
    return round(km * KM_TO_MILES if ctx.unit_system == IMPERIAL else km, 1)


def _volume(litres: float, ctx: ReadContext) -> float:
    return round(litres * LITRES_TO_GALLONS if ctx.unit_system == IMPERIAL else litres, 1)


def _attributes(vehicle: Vehicle, _: VehicleState, ctx: ReadContext) -> dict[str, Any]:
    spec = vehicle.spec
    body: dict[str, Any] = {
        "id": spec.id,
        "make": spec.make,
        "model": spec.model,
        "year": spec.year,
    }
    if "read_vin" in ctx.permissions:
        body["vin"] = spec.vin
    return body


def _vin(vehicle: Vehicle, _: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"vin": vehicle.spec.vin}


def _battery(vehicle: Vehicle, state: VehicleState, ctx: ReadContext) -> dict[str, Any]:
    return {
        "percentRemaining": round(state.battery or 0.0, 4),
        "range": _distance(vehicle.battery_range_km(state), ctx),
    }


def _charge(_: Vehicle, state: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"isPluggedIn": state.plugged, "state": state.charge_state or "NOT_CHARGING"}


def _charge_limit(_: Vehicle, state: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"limit": round(state.charge_limit or 1.0, 4)}


def _security(vehicle: Vehicle, state: VehicleState, _: ReadContext) -> dict[str, Any]:
    lock = "LOCKED" if state.locked else "UNLOCKED"
    sides = ("frontLeft", "frontRight", "backLeft", "backRight")
    return {
        "isLocked": state.locked,
        "doors": [{"type": side, "status": lock} for side in sides],
        "windows": [{"type": side, "status": "CLOSED"} for side in sides],
        "sunroof": [{"type": "sunroof", "status": "CLOSED"}],
        "storage": [{"type": "rear", "status": "CLOSED"}, {"type": "front", "status": "CLOSED"}]
        if vehicle.spec.kind == v.EV
        else [{"type": "rear", "status": "CLOSED"}],
        "chargingPort": [{"type": "chargingPort", "status": "OPEN" if state.plugged else "CLOSED"}]
        if vehicle.spec.has_battery
        else [],
    }


def _location(_: Vehicle, state: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"latitude": round(state.latitude, 6), "longitude": round(state.longitude, 6)}


def _odometer(_: Vehicle, state: VehicleState, ctx: ReadContext) -> dict[str, Any]:
    return {"distance": _distance(state.odometer, ctx)}


def _fuel(vehicle: Vehicle, state: VehicleState, ctx: ReadContext) -> dict[str, Any]:
    return {
        "percentRemaining": round(state.fuel or 0.0, 4),
        "amountRemaining": _volume(vehicle.fuel_amount_l(state), ctx),
        "range": _distance(vehicle.fuel_range_km(state), ctx),
    }


def _engine_oil(_: Vehicle, state: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"lifeRemaining": round(state.oil_life or 0.0, 4)}


def _dtcs(_: Vehicle, state: VehicleState, __: ReadContext) -> dict[str, Any]:
    return {"activeCodes": [dict(code) for code in state.dtcs]}


READS: Final[Mapping[str, tuple[Endpoint, BodyBuilder]]] = {
    "/": (Endpoint("GET", "/", "read_vehicle_info", None, signal=False), _attributes),
    "/vin": (Endpoint("GET", "/vin", "read_vin", None, signal=False), _vin),
    v.BATTERY: (Endpoint("GET", v.BATTERY, "read_battery", v.BATTERY), _battery),
    v.CHARGE: (Endpoint("GET", v.CHARGE, "read_charge", v.CHARGE), _charge),
    v.CHARGE_LIMIT: (
        Endpoint("GET", v.CHARGE_LIMIT, "read_charge", v.CHARGE_LIMIT),
        _charge_limit,
    ),
    v.SECURITY: (Endpoint("GET", v.SECURITY, "read_security", v.SECURITY), _security),
    v.LOCATION: (Endpoint("GET", v.LOCATION, "read_location", v.LOCATION), _location),
    v.ODOMETER: (Endpoint("GET", v.ODOMETER, "read_odometer", v.ODOMETER), _odometer),
    v.FUEL: (Endpoint("GET", v.FUEL, "read_fuel", v.FUEL), _fuel),
    v.ENGINE_OIL: (Endpoint("GET", v.ENGINE_OIL, "read_engine_oil", v.ENGINE_OIL), _engine_oil),
    v.DTCS: (Endpoint("GET", v.DTCS, "read_diagnostics", v.DTCS), _dtcs),
}

# `/signals` keys -> paths
SIGNALS: Final = {
    "battery": v.BATTERY,
    "charge": v.CHARGE,
    "location": v.LOCATION,
    "odometer": v.ODOMETER,
    "fuel": v.FUEL,
}

COMMANDS: Final[Mapping[str, Endpoint]] = {
    v.CHARGE: Endpoint("POST", v.CHARGE, "control_charge", v.CHARGE, signal=False),
    v.CHARGE_LIMIT: Endpoint(
        "POST", v.CHARGE_LIMIT, "control_charge", v.CHARGE_LIMIT, signal=False
    ),
    v.SECURITY: Endpoint("POST", v.SECURITY, "control_security", v.SECURITY, signal=False),
    v.SET_DESTINATION: Endpoint(
        "POST", v.SET_DESTINATION, "control_navigation", v.SET_DESTINATION, signal=False
    ),
    v.NAVIGATION_DESTINATION: Endpoint(
        "POST", v.NAVIGATION_DESTINATION, "control_navigation", v.SET_DESTINATION, signal=False
    ),
}
# The seed spec's path and the one Smartcar's API serves: same body, same effect.
DESTINATION_PATHS: Final = frozenset({v.SET_DESTINATION, v.NAVIGATION_DESTINATION})


def normalize_path(path: str) -> str:
    """Normalise a vehicle-relative path: "/battery/" -> "/battery", "" -> "/"."""
    return "/" + path.strip("/")


def check_access(endpoint: Endpoint, vehicle: Vehicle, permissions: frozenset[str]) -> None:
    """Permission first (403), then compatibility (501)."""
    if endpoint.permission not in permissions:
        raise errors.permission()
    if endpoint.capability is not None and not vehicle.supports(endpoint.capability):
        raise errors.not_capable()


def signal_headers(reported_at: datetime, ctx: ReadContext) -> dict[str, str]:
    """`sc-data-age`, `sc-fetched-at` and `sc-unit-system`."""
    return {
        "sc-data-age": isoformat_ms(reported_at),
        "sc-fetched-at": isoformat_ms(ctx.now),
        "sc-unit-system": ctx.unit_system,
    }


def read(path: str, vehicle: Vehicle, ctx: ReadContext) -> tuple[dict[str, Any], dict[str, str]]:
    """Body and headers of a GET; raises SmartcarError (404 path, 403, 501)."""
    entry = READS.get(path)
    if entry is None:
        raise errors.path_not_found(path)
    endpoint, build = entry
    check_access(endpoint, vehicle, ctx.permissions)
    state, reported_at = vehicle.reported()
    headers = signal_headers(reported_at, ctx) if endpoint.signal else {}
    return build(vehicle, state, ctx), headers


def signals(vehicle: Vehicle, ctx: ReadContext) -> tuple[dict[str, Any], dict[str, str]]:
    """`GET /signals`: every signal the car has and the token may read."""
    state, reported_at = vehicle.reported()
    body: dict[str, Any] = {}
    for name, path in SIGNALS.items():
        endpoint, build = READS[path]
        if endpoint.permission in ctx.permissions and vehicle.supports(path):
            body[name] = build(vehicle, state, ctx)
    return body, signal_headers(reported_at, ctx)


def _action(body: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    action = body.get("action")
    if not isinstance(action, str) or action.upper() not in allowed:
        raise errors.validation(f"'action' must be one of {', '.join(allowed)}.")
    return action.upper()


def validate_command(path: str, body: Any) -> None:
    """Raise a 400 VALIDATION error when the command body is wrong."""
    if not isinstance(body, dict):
        raise errors.validation("The request body must be a JSON object.")
    if path == v.CHARGE:
        _action(body, ("START", "STOP"))
    elif path == v.SECURITY:
        _action(body, ("LOCK", "UNLOCK"))
    elif path == v.CHARGE_LIMIT:
        limit = body.get("limit")
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int | float)
            or not (0.5 <= limit <= 1.0)
        ):
            raise errors.validation("'limit' must be a number between 0.5 and 1.0.")
    elif path in DESTINATION_PATHS:
        try:
            validate_coordinates(body.get("latitude"), body.get("longitude"))
        except ValueError as err:
            raise errors.validation(f"Invalid destination: {err}.") from None
        address = body.get("address")
        if address is not None and not isinstance(address, str):
            raise errors.validation("'address' must be a string.")


def execute_command(path: str, vehicle: Vehicle, body: Mapping[str, Any]) -> dict[str, str]:
    """Apply a validated command to the car; raises 409 CHARGE_FAULT when it cannot."""
    if path == v.CHARGE:
        if _action(body, ("START", "STOP")) == "START":
            try:
                vehicle.start_charge()
            except ValueError as err:
                raise errors.charge_fault(str(err)) from None
        else:
            vehicle.stop_charge()
    elif path == v.SECURITY:
        if _action(body, ("LOCK", "UNLOCK")) == "LOCK":
            vehicle.lock()
        else:
            vehicle.unlock()
    elif path == v.CHARGE_LIMIT:
        vehicle.set_charge_limit(float(body["limit"]))
    elif path in DESTINATION_PATHS:
        vehicle.set_destination(body["latitude"], body["longitude"], body.get("address"))
    return dict(COMMAND_OK)


_MALFORMED: Final[Mapping[str, Any]] = {
    "/": {"id": None, "make": 42, "model": None, "year": "twenty-twenty"},
    "/vin": {"vin": 12345},
    v.BATTERY: {"percentRemaining": "68%", "range": None},
    v.CHARGE: {"isPluggedIn": "yes", "state": None},
    v.CHARGE_LIMIT: {"limit": "80"},
    v.SECURITY: {"isLocked": None, "doors": "LOCKED", "windows": None},
    v.LOCATION: {"latitude": None, "longitude": "east"},
    v.ODOMETER: {"distance": "12,345 km"},
    v.FUEL: {"percentRemaining": None, "amountRemaining": "lots", "range": []},
    v.ENGINE_OIL: {"lifeRemaining": "good"},
    v.DTCS: {"activeCodes": None},
    "/signals": {"battery": "full", "location": None, "odometer": {"distance": None}},
    "/batch": {"responses": None},
    "/permissions": {"permissions": None, "paging": "none"},
    "/user": {"id": None},
    "/vehicles": {"vehicles": None, "paging": None},
    "/oauth/token": {"access_token": None, "token_type": 7, "expires_in": "soon"},
}
_MALFORMED_COMMAND: Final = {"status": 1, "message": None}


def malformed(path: str, method: str = "GET") -> Any:
    """A body with wrong types and nulls for this path's fields."""
    if method == "POST" and path in COMMANDS:
        return dict(_MALFORMED_COMMAND)
    return _MALFORMED.get(path, {"data": None, "unexpected": True})


CAPTIVE_PORTAL_HTML: Final = (
    "<!DOCTYPE html><html><head><title>Welcome to Guest WiFi</title></head>"
    "<body><h1>Welcome!</h1><p>Please contact the front desk to activate your wifi.</p>"
    '<form method="post" action="/login"><input name="room"><button>Connect</button></form>'
    "</body></html>"
)
