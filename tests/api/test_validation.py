"""Arguments are checked before sending: a bad one never reaches the simulator."""

from __future__ import annotations

from collections.abc import Callable
import math
from typing import Any

import pytest

from custom_components.smartcar.api import (
    SmartcarClient,
    SmartcarError,
    SmartcarInvalidArgumentError,
    validate_charge_limit,
    validate_coordinates,
)
from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import http_requests

BAD_LIMITS: list[Any] = [
    0.49,
    1.01,
    0,
    2,
    -0.8,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    "0.8",
    None,
    pytest.param(10**400, id="int-beyond-float"),
]
BAD_COORDINATES: list[Any] = [
    (90.0001, 0.0),
    (-91, 0.0),
    (0.0, 180.5),
    (0.0, -181),
    (math.nan, 0.0),
    (0.0, math.nan),
    (math.inf, 0.0),
    (0.0, -math.inf),
    (True, 0.0),
    (0.0, False),
    ("52.1", 4.9),
    (52.1, None),
    pytest.param(10**400, 0.0, id="int-beyond-float"),
]


@pytest.mark.parametrize("limit", BAD_LIMITS)
async def test_bad_charge_limit_is_not_sent(
    client: SmartcarClient, simulator: Simulator, limit: Any
) -> None:
    """Outside 0.5..1.0, NaN, infinite, bool or no number: rejected before any request."""
    before = http_requests(simulator)
    with pytest.raises(SmartcarInvalidArgumentError) as err:
        await client.async_set_charge_limit(EV_ID, limit)
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, SmartcarError)
    assert err.value.argument == "charge_limit"
    assert http_requests(simulator) == before == {}
    assert simulator.counters["billed"] == {}
    assert simulator.vehicle("ev").state.charge_limit == 0.8


@pytest.mark.parametrize(("latitude", "longitude"), BAD_COORDINATES)
async def test_bad_destination_is_not_sent(
    client: SmartcarClient, simulator: Simulator, latitude: Any, longitude: Any
) -> None:
    """Latitude outside ±90, longitude outside ±180, NaN, bool, ...: rejected before sending."""
    with pytest.raises(SmartcarInvalidArgumentError) as err:
        await client.async_set_destination(EV_ID, latitude, longitude)
    assert "itude" in str(err.value)
    assert http_requests(simulator) == {}
    assert simulator.counters["billed"] == {}
    assert simulator.vehicle("ev").state.destination is None


@pytest.mark.parametrize("limit", [0.5, 1.0, 1, 0.75])
async def test_boundary_charge_limits_are_sent(
    client: SmartcarClient, simulator: Simulator, limit: float
) -> None:
    """The bounds themselves are valid and reach the car."""
    result = await client.async_set_charge_limit(EV_ID, limit)
    assert result.status == "success"
    assert simulator.vehicle("ev").state.charge_limit == float(limit)
    assert http_requests(simulator) == {"POST /v2.0/vehicles/{id}/charge/limit": 1}


@pytest.mark.parametrize(("latitude", "longitude"), [(90, 180), (-90.0, -180.0), (0, 0)])
async def test_boundary_coordinates_are_sent(
    client: SmartcarClient, simulator: Simulator, latitude: float, longitude: float
) -> None:
    """The poles and the antimeridian are valid destinations."""
    await client.async_set_destination(EV_ID, latitude, longitude)
    assert simulator.vehicle("ev").state.destination == {
        "latitude": float(latitude),
        "longitude": float(longitude),
        "address": None,
    }


def test_validators_return_floats() -> None:
    """The public validators normalise to float."""
    assert validate_charge_limit(1) == 1.0
    assert type(validate_charge_limit(1)) is float
    assert validate_coordinates(-90, 180) == (-90.0, 180.0)
    assert all(type(v) is float for v in validate_coordinates(1, 2))


@pytest.mark.parametrize(
    ("check", "argument", "minimum", "maximum"),
    [
        (lambda: validate_charge_limit(0.2), "charge_limit", 0.5, 1.0),
        (lambda: validate_charge_limit(math.nan), "charge_limit", 0.5, 1.0),
        (lambda: validate_coordinates(91, 0), "latitude", -90, 90),
        (lambda: validate_coordinates(0, 181), "longitude", -180, 180),
        (lambda: validate_coordinates(0, math.inf), "longitude", -180, 180),
    ],
)
def test_validator_errors_say_which_argument_and_range(
    check: Callable[[], object], argument: str, minimum: float, maximum: float
) -> None:
    """Each check names the argument and its range, as data (Home Assistant translates)."""
    with pytest.raises(SmartcarInvalidArgumentError) as caught:
        check()
    assert (caught.value.argument, caught.value.minimum, caught.value.maximum) == (
        argument,
        minimum,
        maximum,
    )
    assert f"{argument} must be a finite number from {minimum} to {maximum}" in str(caught.value)
