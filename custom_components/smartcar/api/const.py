"""Constants of the Smartcar API: endpoints, permissions, signals, unit systems."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DEFAULT_API_URL: Final = "https://api.smartcar.com/v2.0"
DEFAULT_MANAGEMENT_URL: Final = "https://management.api.smartcar.com/v3"
DEFAULT_CONNECT_URL: Final = "https://connect.smartcar.com/oauth/authorize"
DEFAULT_TOKEN_URL: Final = "https://auth.smartcar.com/oauth/token"
# API v3: the application token (client credentials) and the vehicle endpoints.
DEFAULT_IAM_URL: Final = "https://iam.smartcar.com/oauth2/token"
DEFAULT_VEHICLE_API_URL: Final = "https://vehicle.api.smartcar.com/v3"

DEFAULT_TIMEOUT: Final = 30.0


class ApiVersion(StrEnum):
    """The Vehicles API generation an application's credentials belong to."""

    V2 = "2.0"
    V3 = "3"


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
    READ_TIRES = "read_tires"
    READ_THERMOMETER = "read_thermometer"
    READ_EXTENDED_VEHICLE_INFO = "read_extended_vehicle_info"


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
    # API v3 only: signals the v2.0 endpoints the integration uses do not carry.
    CLOSURES = "closures"
    CHARGE_DETAILS = "charge_details"
    TIRES = "tires"
    LOW_VOLTAGE_BATTERY = "low_voltage_battery"
    CONNECTIVITY = "connectivity"
    CLIMATE = "climate"


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
    Signal.CLOSURES: Permission.READ_SECURITY,
    Signal.CHARGE_DETAILS: Permission.READ_CHARGE,
    Signal.TIRES: Permission.READ_TIRES,
    Signal.LOW_VOLTAGE_BATTERY: Permission.READ_EXTENDED_VEHICLE_INFO,
    Signal.CONNECTIVITY: Permission.READ_VEHICLE_INFO,
    Signal.CLIMATE: Permission.READ_THERMOMETER,
}

CHARGE_LIMIT_MIN: Final = 0.5
CHARGE_LIMIT_MAX: Final = 1.0
