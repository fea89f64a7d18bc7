"""The identifiers translated errors carry: Smartcar's own, or ours where Smartcar said nothing."""

from __future__ import annotations

import pytest

from custom_components.smartcar.api import (
    SmartcarApiError,
    SmartcarConnectionError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarTimeoutError,
    SmartcarVehicleStateError,
)
from custom_components.smartcar.exceptions import error_code, smartcar_message


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (SmartcarVehicleStateError(status=409, code="ASLEEP"), "VEHICLE_STATE:ASLEEP"),
        (SmartcarServerError(status=500), "SERVER"),
        (SmartcarApiError(status=418), "HTTP_418"),
        (SmartcarTimeoutError("slow"), "TIMEOUT"),
        (SmartcarConnectionError("refused"), "CONNECTION"),
        (SmartcarResponseError("<html>"), "INVALID_RESPONSE"),
        (RuntimeError("not ours"), "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_error_code(err: BaseException | None, code: str) -> None:
    """Smartcar's TYPE:CODE (or TYPE, or the HTTP status); a name of ours otherwise, never the
    error's English text."""
    assert error_code(err) == code


def test_smartcar_message_only_from_smartcar() -> None:
    """Only an answer of Smartcar's API carries words for the user; an empty one is none."""
    words = "Please plug in the car."
    assert smartcar_message(SmartcarServerError(status=500, suggested_user_message=words)) == words
    assert smartcar_message(SmartcarServerError(status=500, suggested_user_message="")) is None
    assert smartcar_message(SmartcarConnectionError(words)) is None
