"""Constants of the Smartcar integration."""

from __future__ import annotations

import logging
from typing import Final

from .api import Permission

DOMAIN: Final = "smartcar"
LOGGER = logging.getLogger(__package__)
# Where an application's credentials, Application ID and webhooks are managed.
SMARTCAR_DASHBOARD_URL: Final = "https://dashboard.smartcar.com/"

# configuration.yaml overrides of Smartcar's endpoints (simulator, demo, tests).
CONF_CONNECT_URL: Final = "connect_url"
CONF_TOKEN_URL: Final = "token_url"
CONF_API_URL: Final = "api_url"
CONF_MANAGEMENT_URL: Final = "management_url"
CONF_IAM_URL: Final = "iam_url"
CONF_VEHICLE_API_URL: Final = "vehicle_api_url"

# Config entry data and options.
CONF_MODE: Final = "mode"
# API v3 entries: no tokens stored, the Smartcar user and the application's Connect id.
CONF_API_VERSION: Final = "api_version"
CONF_APPLICATION_ID: Final = "application_id"
CONF_USER_ID: Final = "user_id"
# Webhooks: the application management token (the HMAC key; an option), the cloudhook of
# the entry's webhook, and the id Smartcar gave its webhook (learnt from VERIFY).
CONF_MANAGEMENT_TOKEN: Final = "management_token"
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
CONF_SMARTCAR_WEBHOOK_ID: Final = "smartcar_webhook_id"
CONF_UNIT_SYSTEM: Final = "unit_system"
CONF_MONTHLY_BUDGET: Final = "monthly_budget"
CONF_MIN_INTERVAL: Final = "min_interval"
CONF_UNLOCK_PIN: Final = "unlock_pin"

DEFAULT_MONTHLY_BUDGET: Final = 500
DEFAULT_MIN_INTERVAL_MINUTES: Final = 30

# Concurrent requests to Smartcar per account (the vehicles of one entry share them).
MAX_CONCURRENT_REQUESTS: Final = 2

# Every permission the integration can use: Connect asks for all of them.
SCOPES: Final[tuple[Permission, ...]] = (
    Permission.READ_VEHICLE_INFO,
    Permission.READ_VIN,
    Permission.READ_BATTERY,
    Permission.READ_CHARGE,
    Permission.CONTROL_CHARGE,
    Permission.READ_SECURITY,
    Permission.CONTROL_SECURITY,
    Permission.READ_LOCATION,
    Permission.READ_ODOMETER,
    Permission.READ_FUEL,
    Permission.READ_ENGINE_OIL,
    Permission.READ_DIAGNOSTICS,
    Permission.CONTROL_NAVIGATION,
)
# API v3 reads more: tyres, temperatures, the 12 V battery.
SCOPES_V3: Final[tuple[Permission, ...]] = (
    *SCOPES,
    Permission.READ_TIRES,
    Permission.READ_THERMOMETER,
    Permission.READ_EXTENDED_VEHICLE_INFO,
)

ATTR_LATITUDE: Final = "latitude"
ATTR_LONGITUDE: Final = "longitude"
ATTR_ADDRESS: Final = "address"
ATTR_DEVICE_ID: Final = "device_id"
SERVICE_SET_DESTINATION: Final = "set_destination"
SERVICE_REFRESH: Final = "refresh"
