"""One error hierarchy for everything that can go wrong talking to Smartcar.

Messages carry Smartcar's own words (type, code, description) and never a token, secret,
VIN or coordinate: nothing we put in them comes from the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
import math
from typing import Any, ClassVar


class Resolution(StrEnum):
    """What Smartcar says should be done about an error."""

    RETRY_LATER = "RETRY_LATER"
    REAUTHENTICATE = "REAUTHENTICATE"
    CONTACT_SUPPORT = "CONTACT_SUPPORT"


class SmartcarError(Exception):
    """Base class of every error this client raises."""


class SmartcarConnectionError(SmartcarError):
    """Smartcar could not be reached (DNS, refused, reset, TLS)."""


class SmartcarTimeoutError(SmartcarConnectionError):
    """Smartcar did not answer in time."""


class SmartcarResponseError(SmartcarError):
    """Smartcar (or something in between) answered with something that is not its API."""


class SmartcarInvalidArgumentError(SmartcarError, ValueError):
    """An argument was rejected before any request was sent: `argument` (its name) must be a
    finite number from `minimum` to `maximum`."""

    def __init__(self, argument: str, minimum: float, maximum: float) -> None:
        """Say which argument and its range."""
        super().__init__(f"{argument} must be a finite number from {minimum} to {maximum}")
        self.argument = argument
        self.minimum = minimum
        self.maximum = maximum


class SmartcarApiError(SmartcarError):
    """An error object answered by the Smartcar API."""

    error_type: ClassVar[str] = ""
    status_codes: ClassVar[tuple[int, ...]] = ()

    def __init__(
        self,
        *,
        status: int,
        type_: str | None = None,
        code: str | None = None,
        description: str | None = None,
        request_id: str | None = None,
        resolution: Resolution | None = None,
        suggested_user_message: str | None = None,
        doc_url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Keep every field of Smartcar's error object."""
        self.status = status
        self.type = type_ or self.error_type or None
        self.code = code
        self.description = description
        self.request_id = request_id
        self.resolution = resolution
        self.suggested_user_message = suggested_user_message
        self.doc_url = doc_url
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.type or 'ERROR'}"
        if self.code:
            head += f":{self.code}"
        text = f"Smartcar {head} ({self.status})"
        if self.description:
            text += f": {self.description}"
        return text


class SmartcarAuthenticationError(SmartcarApiError):
    """The access token is missing, invalid, expired or revoked: reauthenticate."""

    error_type = "AUTHENTICATION"
    status_codes = (401,)


class SmartcarPermissionError(SmartcarApiError):
    """The user did not grant the permission this request needs."""

    error_type = "PERMISSION"
    status_codes = (403,)


class SmartcarNotFoundError(SmartcarApiError):
    """The vehicle or path does not exist (any more) for this user."""

    error_type = "RESOURCE_NOT_FOUND"
    status_codes = (404,)


class SmartcarVehicleStateError(SmartcarApiError):
    """The vehicle cannot do it in its current state (asleep, unplugged, ...)."""

    error_type = "VEHICLE_STATE"
    status_codes = (409,)


class SmartcarRateLimitError(SmartcarApiError):
    """Too many requests; `retry_after` seconds says when to come back."""

    error_type = "RATE_LIMIT"
    status_codes = (429,)


class SmartcarBillingError(SmartcarApiError):
    """The application's plan or the vehicle's monthly limit is exhausted."""

    error_type = "BILLING"
    status_codes = (430,)


class SmartcarServerError(SmartcarApiError):
    """Smartcar failed."""

    error_type = "SERVER"
    status_codes = (500,)


class SmartcarCompatibilityError(SmartcarApiError):
    """The vehicle does not support this signal or command."""

    error_type = "COMPATIBILITY"
    status_codes = (501,)


class SmartcarUpstreamError(SmartcarApiError):
    """The car maker's service failed."""

    error_type = "UPSTREAM"
    status_codes = (502, 503, 504)


class SmartcarValidationError(SmartcarApiError):
    """Smartcar rejected the request's content."""

    error_type = "VALIDATION"
    status_codes = (400,)


class SmartcarConnectedServicesAccountError(SmartcarApiError):
    """The user's account at the car maker needs an action (subscription, terms, ...)."""

    error_type = "CONNECTED_SERVICES_ACCOUNT"


class SmartcarVersionRetiredError(SmartcarApiError):
    """Smartcar no longer serves this API version to the application (v2.0 retired).

    Smartcar has not published what a retired v2.0 answers; taken as HTTP 410 or an error
    whose type or code names the version (see the README).
    """

    error_type = "VERSION"
    status_codes = (410,)


class SmartcarSignalsUnavailableError(SmartcarApiError):
    """API v3 has no signals for a vehicle that is still connected.

    Users report this until the vehicle is subscribed to a webhook in Smartcar's dashboard.
    """

    error_type = "RESOURCE_NOT_FOUND"


class SmartcarOAuthError(SmartcarAuthenticationError):
    """The token endpoint refused a grant or the client credentials."""

    def __init__(self, *, status: int, error: str, description: str | None = None) -> None:
        """Keep the OAuth error name (invalid_grant, invalid_client, ...)."""
        self.error = error
        super().__init__(
            status=status,
            type_="AUTHENTICATION",
            code=error,
            description=description,
            resolution=Resolution.REAUTHENTICATE,
        )


_BY_TYPE: dict[str, type[SmartcarApiError]] = {
    cls.error_type: cls
    for cls in (
        SmartcarAuthenticationError,
        SmartcarPermissionError,
        SmartcarNotFoundError,
        SmartcarVehicleStateError,
        SmartcarRateLimitError,
        SmartcarBillingError,
        SmartcarServerError,
        SmartcarCompatibilityError,
        SmartcarUpstreamError,
        SmartcarValidationError,
        SmartcarConnectedServicesAccountError,
        SmartcarVersionRetiredError,
    )
}
_BY_STATUS: dict[int, type[SmartcarApiError]] = {
    status: cls for cls in _BY_TYPE.values() for status in cls.status_codes
}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resolution(value: Any) -> Resolution | None:
    # The spec writes a string; the real API writes {"type": "RETRY_LATER"}.
    if isinstance(value, Mapping):
        value = value.get("type")
    try:
        return Resolution(value)
    except ValueError:
        return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `retry-after` header (only the delta-seconds form is used by Smartcar)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> SmartcarApiError:
    """Build the matching exception from an HTTP status and Smartcar's error object.

    Copes with the real v2 form (`description`, `statusCode`, `resolution.type`), the spec's
    (`title`, `detail`, `status`, `resolution` as a string) and a body that is no object.
    """
    fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    type_ = _text(fields.get("type"))
    code = _text(fields.get("code"))
    cls = _BY_TYPE.get(type_ or "") or _BY_STATUS.get(status)
    if code is not None and "VERSION" in code.upper() and status in (400, 403, 404, 410):
        cls = SmartcarVersionRetiredError
    if cls is None:
        cls = SmartcarServerError if status >= 500 else SmartcarApiError
    # API v3 writes `detail` and keeps `description` as "Deprecated. Use detail" (recorded).
    description = _text(fields.get("detail")) or _text(fields.get("description"))
    title = _text(fields.get("title"))
    if title and description is None:
        description = title
    return cls(
        status=status,
        type_=type_,
        code=code,
        description=description,
        request_id=_text(fields.get("requestId")) or request_id,
        resolution=_resolution(fields.get("resolution")),
        suggested_user_message=_text(fields.get("suggestedUserMessage")),
        doc_url=_text(fields.get("docURL")),
        retry_after=retry_after,
    )
