"""Property tests: arbitrary JSON never breaks response parsing."""

from __future__ import annotations

from datetime import datetime
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeLimit,
    ChargeState,
    Diagnostics,
    EngineOil,
    Fuel,
    Location,
    Meta,
    Odometer,
    Opening,
    Security,
    Signal,
    SmartcarApiError,
    SmartcarClient,
    SmartcarResponseError,
    TroubleCode,
    UnitSystem,
    _v2,
    errors,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What `json.loads` can give: note NaN/Infinity and integers beyond the float range.
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**308, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(
        ["CHARGING", "FULLY_CHARGED", "NOT_CHARGING", "LOCKED", "2026-11-02T08:00:00.000Z", ""]
    )
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS: dict[Signal, list[str]] = {
    Signal.BATTERY: ["percentRemaining", "range"],
    Signal.CHARGE: ["isPluggedIn", "state"],
    Signal.CHARGE_LIMIT: ["limit"],
    Signal.SECURITY: ["isLocked", "doors", "windows", "sunroof", "storage", "chargingPort"],
    Signal.LOCATION: ["latitude", "longitude"],
    Signal.ODOMETER: ["distance"],
    Signal.FUEL: ["percentRemaining", "amountRemaining", "range"],
    Signal.ENGINE_OIL: ["lifeRemaining"],
    Signal.DIAGNOSTICS: ["activeCodes"],
}
OPENING = st.fixed_dictionaries({}, optional={"type": JSON_VALUES, "status": JSON_VALUES})
CODE = st.fixed_dictionaries({}, optional={"code": JSON_VALUES, "timestamp": JSON_VALUES})
FIELD_VALUES = JSON_VALUES | st.lists(OPENING | CODE | JSON_VALUES, max_size=4)


def _bodies(signal: Signal) -> st.SearchStrategy[Any]:
    """Any JSON value, or an object with the signal's own keys holding any JSON value."""
    keyed = st.fixed_dictionaries({}, optional=dict.fromkeys(KEYS[signal], FIELD_VALUES))
    return JSON_VALUES | keyed


def _number(value: object, low: float, high: float = math.inf) -> bool:
    return value is None or (type(value) is float and math.isfinite(value) and low <= value <= high)


def _check_meta(meta: Meta) -> None:
    assert meta.data_age is None or (
        isinstance(meta.data_age, datetime) and meta.data_age.tzinfo is not None
    )
    assert meta.fetched_at is None or meta.fetched_at.tzinfo is not None
    assert meta.unit_system is None or isinstance(meta.unit_system, UnitSystem)
    assert meta.request_id is None or isinstance(meta.request_id, str)


def _check_openings(openings: object) -> None:
    assert isinstance(openings, tuple)
    for opening in openings:
        assert isinstance(opening, Opening)
        assert isinstance(opening.type, str)
        assert isinstance(opening.status, str)


def _check(signal: Signal, body: Any, reading: Any) -> None:
    """Every field None or of the right type and range; issues name fields of the body."""
    assert isinstance(reading.issues, tuple)
    assert set(reading.issues) <= set(KEYS[signal])
    for issue in reading.issues:
        assert body.get(issue) is not None
    _check_meta(reading.meta)
    match reading:
        case Battery():
            assert signal is Signal.BATTERY
            assert _number(reading.percent_remaining, 0, 1)
            assert _number(reading.range, 0)
        case Charge():
            assert reading.is_plugged_in in (None, True, False)
            assert reading.state is None or isinstance(reading.state, ChargeState)
        case ChargeLimit():
            assert _number(reading.limit, 0.5, 1)
        case Security():
            assert reading.is_locked in (None, True, False)
            for openings in (
                reading.doors,
                reading.windows,
                reading.sunroof,
                reading.storage,
                reading.charging_port,
            ):
                _check_openings(openings)
        case Location():
            assert _number(reading.latitude, -90, 90)
            assert _number(reading.longitude, -180, 180)
            assert (reading.latitude is None) == (reading.longitude is None)
        case Odometer():
            assert _number(reading.distance, 0)
        case Fuel():
            assert _number(reading.percent_remaining, 0, 1)
            assert _number(reading.amount_remaining, 0)
            assert _number(reading.range, 0)
        case EngineOil():
            assert _number(reading.life_remaining, 0, 1)
        case Diagnostics():
            assert reading.active_codes is None or isinstance(reading.active_codes, tuple)
            for code in reading.active_codes or ():
                assert isinstance(code, TroubleCode)
                assert isinstance(code.code, str)
                assert code.timestamp is None or code.timestamp.tzinfo is not None
        case _:  # pragma: no cover - a new reading type needs a check here
            pytest.fail(f"unchecked reading {reading!r}")


@pytest.mark.parametrize("signal", sorted(SmartcarClient.signals))
def test_parse_reading_fuzz(signal: Signal) -> None:
    """Any JSON body for any signal: a valid reading or SmartcarResponseError, nothing else."""

    @FUZZ
    @given(body=_bodies(signal), headers=st.dictionaries(st.text(max_size=16), JSON_VALUES))
    def check(body: Any, headers: dict[str, Any]) -> None:
        meta = _v2.parse_meta(headers)
        try:
            reading = _v2.parse_reading(signal, body, meta)
        except SmartcarResponseError:
            assert not isinstance(body, dict)
            return
        assert isinstance(body, dict)
        _check(signal, body, reading)

    check()


@FUZZ
@given(
    body=JSON_VALUES
    | st.fixed_dictionaries(
        {},
        optional={
            k: JSON_VALUES | st.text(alphabet="0123456789²٣", max_size=6)
            for k in ("id", "make", "model", "year", "vin")
        },
    )
)
def test_parse_attributes_fuzz(body: Any) -> None:
    """Attributes: strings or None, a year as int or None; no id is a SmartcarResponseError."""
    try:
        attributes = _v2.parse_attributes(body, Meta())
    except SmartcarResponseError:
        return
    assert isinstance(attributes.id, str)
    assert attributes.id
    for value in (attributes.make, attributes.model, attributes.vin):
        assert value is None or (isinstance(value, str) and value)
    assert attributes.year is None or type(attributes.year) is int


@FUZZ
@given(
    body=JSON_VALUES
    | st.fixed_dictionaries(
        {},
        optional={
            k: JSON_VALUES | st.sampled_from(["ACTIVE", "REVOKED"])
            for k in ("id", "vehicleId", "userId", "status", "created")
        },
    )
)
def test_parse_connection_and_command_fuzz(body: Any) -> None:
    """Connections and command answers never raise anything but SmartcarResponseError."""
    try:
        connection = _v2.parse_connection(body)
    except SmartcarResponseError:
        pass
    else:
        assert isinstance(connection.id, str)
        assert connection.status is None or connection.status.value in ("ACTIVE", "REVOKED")
    try:
        command = _v2.parse_command(body, Meta())
    except SmartcarResponseError:
        assert body is not None
        assert not isinstance(body, dict)
    else:
        assert command.status is None or isinstance(command.status, str)


@FUZZ
@given(
    status=st.integers(min_value=100, max_value=599),
    body=JSON_VALUES
    | st.fixed_dictionaries(
        {},
        optional={
            k: JSON_VALUES | st.sampled_from(["RATE_LIMIT", "RETRY_LATER", "x"])
            for k in ("type", "code", "description", "title", "detail", "requestId")
        }
        | {"resolution": JSON_VALUES | st.fixed_dictionaries({"type": JSON_VALUES})},
    ),
    retry_after=st.none() | st.text(max_size=8) | st.sampled_from(["30", "inf", "-1", "nan"]),
)
def test_error_from_response_fuzz(status: int, body: Any, retry_after: str | None) -> None:
    """Any error body builds an API error with typed fields."""
    err = errors.error_from_response(
        status, body, request_id="rid", retry_after=errors.parse_retry_after(retry_after)
    )
    assert isinstance(err, SmartcarApiError)
    assert err.status == status
    assert err.retry_after is None or (math.isfinite(err.retry_after) and err.retry_after >= 0)
    for value in (err.type, err.code, err.description, err.request_id, err.doc_url):
        assert value is None or isinstance(value, str)
    assert isinstance(str(err), str)
    json.dumps(err.args)  # the message is plain text
