"""Smartcar v2 error objects (`{"type", "code", "description", "docURL", "statusCode", ...}`)."""

from __future__ import annotations

import math
from typing import Any

# type -> (HTTP status, resolution type, suggested user message)
ERROR_TYPES: dict[str, tuple[int, str | None, str]] = {
    "AUTHENTICATION": (
        401,
        "REAUTHENTICATE",
        "Please reconnect your vehicle to continue.",
    ),
    "PERMISSION": (
        403,
        "REAUTHENTICATE",
        "This app does not have permission to do that. Please reconnect your vehicle.",
    ),
    "RESOURCE_NOT_FOUND": (404, None, "The requested resource could not be found."),
    "VEHICLE_STATE": (
        409,
        "RETRY_LATER",
        "Your vehicle could not perform the request right now. Please try again later.",
    ),
    "RATE_LIMIT": (
        429,
        "RETRY_LATER",
        "Your vehicle is temporarily unable to respond. Please wait and try again.",
    ),
    "BILLING": (430, "CONTACT_SUPPORT", "Please contact the app developer."),
    "SERVER": (
        500,
        "RETRY_LATER",
        "Something went wrong on our end. Please try again later.",
    ),
    "COMPATIBILITY": (501, None, "Your vehicle does not support this feature."),
    "UPSTREAM": (
        502,
        "RETRY_LATER",
        "Your vehicle's manufacturer is not responding. Please try again later.",
    ),
    "VALIDATION": (400, None, "The request was not valid."),
    "CONNECTED_SERVICES_ACCOUNT": (
        400,
        "CONTACT_SUPPORT",
        "Please check your connected services account with the vehicle manufacturer.",
    ),
    # Assumed: Smartcar has not published what a retired v2.0 answers (see version_retired).
    "VERSION": (410, "CONTACT_SUPPORT", "Please contact the app developer."),
}

_DESCRIPTIONS: dict[str, str] = {
    "AUTHENTICATION": "The authorization header is missing or malformed, or it contains "
    "invalid or expired authentication credentials (e.g. access token, client ID, "
    "client secret). Please check for missing parameters, spelling and casing mistakes, "
    "and other syntax issues.",
    "PERMISSION": "Your application has insufficient permissions to access the requested "
    "resource. Please prompt the user to re-authenticate using Smartcar Connect.",
    "RESOURCE_NOT_FOUND": "The requested resource was not found.",
    "VEHICLE_STATE": "The vehicle is in a state that cannot execute your request.",
    "RATE_LIMIT": "You have reached the throttling rate limit for this vehicle. Please see "
    "the retry-after header for when to retry the request.",
    "BILLING": "You have reached the request limit of your plan for this vehicle.",
    "SERVER": "An internal Smartcar error has occurred.",
    "COMPATIBILITY": "The vehicle is not capable of performing your request.",
    "UPSTREAM": "Smartcar received an unknown error from the vehicle manufacturer.",
    "VALIDATION": "Request invalid or malformed.",
    "CONNECTED_SERVICES_ACCOUNT": "There is a problem with the user's connected services account.",
    "VERSION": "This version of the API is no longer served.",
}

_DOC_BASE = "https://smartcar.com/docs/errors/api-errors"


class SmartcarError(Exception):
    """An API error; `body(request_id)` gives the JSON error object Smartcar sends."""

    def __init__(
        self,
        type: str,
        code: str | None = None,
        description: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{type}:{code}")
        self.type = type
        self.code = code
        self.description = description
        self.status = status
        self.retry_after = retry_after

    def copy(self) -> SmartcarError:
        """A fresh exception with the same fields (safe to raise again and again)."""
        return SmartcarError(self.type, self.code, self.description, self.status, self.retry_after)

    @property
    def status_code(self) -> int:
        """The HTTP status (explicit, else the type's usual status, else 500)."""
        if self.status is not None:
            return self.status
        known = ERROR_TYPES.get(self.type)
        return known[0] if known else 500

    @property
    def retry_after_header(self) -> str | None:
        """The `retry-after` header value (whole seconds, rounded up), if any."""
        if self.retry_after is None:
            return None
        return str(max(0, math.ceil(self.retry_after)))

    def body(self, request_id: str) -> dict[str, Any]:
        """The error object, as the real v2 API sends it."""
        _, resolution, message = ERROR_TYPES.get(
            self.type, (500, None, "Something went wrong. Please try again later.")
        )
        slug = self.type.lower().replace("_", "-")
        anchor = self.code.lower().replace("_", "-") if self.code else "null"
        return {
            "type": self.type,
            "code": self.code,
            "description": self.description or _DESCRIPTIONS.get(self.type, "Unknown error."),
            "docURL": f"{_DOC_BASE}/{slug}-errors#{anchor}",
            "statusCode": self.status_code,
            "resolution": {"type": resolution},
            "suggestedUserMessage": message,
            "requestId": request_id,
        }


def authentication(description: str | None = None) -> SmartcarError:
    """401: missing, invalid, expired or revoked access token."""
    return SmartcarError("AUTHENTICATION", None, description)


def permission(description: str | None = None) -> SmartcarError:
    """403: the token was not granted the permission the path needs."""
    return SmartcarError("PERMISSION", None, description)


def vehicle_not_found() -> SmartcarError:
    """404: the vehicle id is not one of the token's user's vehicles."""
    return SmartcarError(
        "RESOURCE_NOT_FOUND",
        "VEHICLE_NOT_FOUND",
        "The vehicle you are trying to access could not be found.",
    )


def path_not_found(path: str) -> SmartcarError:
    """404: no such endpoint."""
    return SmartcarError("RESOURCE_NOT_FOUND", "PATH_NOT_FOUND", f"The path {path} was not found.")


def not_capable() -> SmartcarError:
    """501: the vehicle does not have this feature."""
    return SmartcarError("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")


def validation(description: str) -> SmartcarError:
    """400: the request body or parameters are invalid."""
    return SmartcarError("VALIDATION", "PARAMETER", description)


def charge_fault(description: str) -> SmartcarError:
    """409: the vehicle cannot start charging (e.g. unplugged)."""
    return SmartcarError("VEHICLE_STATE", "CHARGE_FAULT", description)


def rate_limited(retry_after: float) -> SmartcarError:
    """429: too many billed requests to this vehicle in the window."""
    return SmartcarError("RATE_LIMIT", "VEHICLE", None, retry_after=retry_after)


def version_retired() -> SmartcarError:
    """410: API v2.0 is retired for the application (`sim.v2_retired`; the form is assumed)."""
    return SmartcarError(
        "VERSION",
        "API_VERSION_RETIRED",
        "API v2.0 is no longer served for this application. Use API v3 credentials.",
    )


def from_spec(spec: dict[str, Any]) -> SmartcarError:
    """Build an error from a fault's `error` spec `{type, code?, status?, retry_after?}`."""
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError("error.type is required")
    code = spec.get("code")
    status = spec.get("status", spec.get("statusCode"))
    retry_after = spec.get("retry_after", spec.get("retryAfter"))
    description = spec.get("description")
    if code is not None and not isinstance(code, str):
        raise ValueError("error.code must be a string")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError("error.status must be an HTTP status")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
    ):
        raise ValueError("error.retry_after must be a number of seconds")
    if retry_after is None and kind == "RATE_LIMIT":
        retry_after = 60
    if description is not None and not isinstance(description, str):
        raise ValueError("error.description must be a string")
    return SmartcarError(kind, code, description, status, retry_after)
