"""Constants of the Smartcar API: endpoints, permissions, signals, unit systems."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DEFAULT_API_URL: Final = "https://api.smartcar.com/v2.0"
DEFAULT_MANAGEMENT_URL: Final = "https://management.api.smartcar.com/v3"
DEFAULT_CONNECT_URL: Final = "https://connect.smartcar.com/oauth/authorize"
DEFAULT_TOKEN_URL: Final = "https://auth.smartcar.com/oauth/token"

DEFAULT_TIMEOUT: Final = 30.0


class UnitSystem(StrEnum):
    """The unit system Smartcar answers in (request header and response header)."""

    METRIC = "metric"
    IMPERIAL = "imperial"


class Mode(StrEnum):
    """Smartcar Connect mode: real vehicles or Smartcar's simulated ones."""

    LIVE = "live"
    SIMULATED = "simulated"


class Permission(StrEnum):
    """The permissions (OAuth scopes) a Smartcar user can grant."""

    READ_VEHICLE_INFO = "read_vehicle_info"
    READ_VIN = "read_vin"
    READ_BATTERY = "read_battery"
    READ_CHARGE = "read_charge"
    CONTROL_CHARGE = "control_charge"
    READ_SECURITY = "read_security"
    CONTROL_SECURITY = "control_security"
    READ_LOCATION = "read_location"
    READ_ODOMETER = "read_odometer"
    READ_FUEL = "read_fuel"
    READ_ENGINE_OIL = "read_engine_oil"
    READ_DIAGNOSTICS = "read_diagnostics"
    CONTROL_NAVIGATION = "control_navigation"


class Signal(StrEnum):
    """A readable vehicle signal group: what one request (or one batch item) returns."""

    BATTERY = "battery"
    CHARGE = "charge"
    CHARGE_LIMIT = "charge_limit"
    SECURITY = "security"
    LOCATION = "location"
    ODOMETER = "odometer"
    FUEL = "fuel"
    ENGINE_OIL = "engine_oil"
    DIAGNOSTICS = "diagnostics"


READ_PERMISSIONS: Final[dict[Signal, Permission]] = {
    Signal.BATTERY: Permission.READ_BATTERY,
    Signal.CHARGE: Permission.READ_CHARGE,
    Signal.CHARGE_LIMIT: Permission.READ_CHARGE,
    Signal.SECURITY: Permission.READ_SECURITY,
    Signal.LOCATION: Permission.READ_LOCATION,
    Signal.ODOMETER: Permission.READ_ODOMETER,
    Signal.FUEL: Permission.READ_FUEL,
    Signal.ENGINE_OIL: Permission.READ_ENGINE_OIL,
    Signal.DIAGNOSTICS: Permission.READ_DIAGNOSTICS,
}

CHARGE_LIMIT_MIN: Final = 0.5
CHARGE_LIMIT_MAX: Final = 1.0
