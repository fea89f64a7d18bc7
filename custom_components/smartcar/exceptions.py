"""Translated errors: what a user reads when Smartcar or the car says no.

The client's own English never reaches a translated message. A message names what failed in
the user's language and carries Smartcar's error identifier (`TYPE:CODE`, as Smartcar's
documentation lists them) so it can be looked up. When Smartcar sends words meant for the
user (`suggestedUserMessage`, or a command's answer), the message quotes them as Smartcar's
own, in the language Smartcar wrote them in.
"""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    SmartcarApiError,
    SmartcarConnectionError,
    SmartcarInvalidArgumentError,
    SmartcarResponseError,
    SmartcarTimeoutError,
)
from .const import DOMAIN

# Where the error was never an answer of Smartcar's API, an identifier of ours in its style.
TIMEOUT = "TIMEOUT"
CONNECTION = "CONNECTION"
INVALID_RESPONSE = "INVALID_RESPONSE"
UNKNOWN = "UNKNOWN"


def error_code(err: BaseException | None) -> str:
    """Smartcar's identifier of an error (`TYPE:CODE`, or `TYPE`, or the HTTP status), or
    ours for what was not an answer of the API."""
    match err:
        case SmartcarApiError():
            return ":".join(p for p in (err.type, err.code) if p) or f"HTTP_{err.status}"
        case SmartcarTimeoutError():
            return TIMEOUT
        case SmartcarConnectionError():
            return CONNECTION
        case SmartcarResponseError():
            return INVALID_RESPONSE
        case _:
            return UNKNOWN


def smartcar_message(err: BaseException | None) -> str | None:
    """The words Smartcar wrote for the user about this error, if any."""
    if isinstance(err, SmartcarApiError):
        return err.suggested_user_message or None
    return None


def failure[E: HomeAssistantError](
    error_class: type[E],
    key: str,
    code: str,
    message: str | None = None,
    **placeholders: str,
) -> E:
    """`key`'s translated error with Smartcar's `code`; with Smartcar's own words for the user
    the variant `<key>_smartcar_message` quotes them."""
    placeholders["code"] = code
    if message:
        key = f"{key}_smartcar_message"
        placeholders["smartcar_message"] = message
    return error_class(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def smartcar_failure[E: HomeAssistantError](
    error_class: type[E], key: str, err: BaseException | None, **placeholders: str
) -> E:
    """`failure` for a client error: its code and Smartcar's words, if any."""
    return failure(error_class, key, error_code(err), smartcar_message(err), **placeholders)


# Arguments the client takes in another unit than the user gives them: the charge limit is a
# fraction for Smartcar, a percentage for the user.
SCALES = {"charge_limit": 100.0}


def invalid_argument(err: SmartcarInvalidArgumentError) -> ServiceValidationError:
    """A refused argument, by name, with its range as the user gives it."""
    scale = SCALES.get(err.argument, 1.0)

    def shown(bound: float) -> str:
        return f"{bound * scale:g}"

    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=f"invalid_{err.argument}",
        translation_placeholders={"minimum": shown(err.minimum), "maximum": shown(err.maximum)},
    )
