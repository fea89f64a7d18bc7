"""Real Smartcar answers (../shared/fixtures/recorded) through the client's parsing.

Every batch item is parsed on its own (`_v2.parse_reading` / `errors.error_from_response`), and
every recording is replayed over HTTP (stub server) through `SmartcarClient.async_batch`.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeLimit,
    ChargeState,
    EngineOil,
    Fuel,
    Location,
    Meta,
    Odometer,
    Opening,
    Resolution,
    Security,
    Signal,
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarClient,
    SmartcarError,
    SmartcarPermissionError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarTimeoutError,
    StaticAuth,
    UnitSystem,
    _v2,
    errors,
)

from .conftest import StubServer

DEFAULT_RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "recorded"
RECORDED_ENV = "SMARTCAR_RECORDED_DIR"


def _recorded_dir() -> Path:
    """Where the recordings are: `SMARTCAR_RECORDED_DIR`, or ../shared/fixtures/recorded."""
    override = os.environ.get(RECORDED_ENV, "").strip()
    return Path(override).expanduser().resolve() if override else DEFAULT_RECORDED


def _on_ci() -> bool:
    """True under CI (`CI=true`, as GitHub Actions, GitLab and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


RECORDED = _recorded_dir()
MISSING = (
    None
    if RECORDED.is_dir()
    else f"recorded Smartcar payloads not found at {RECORDED} (set {RECORDED_ENV} to their folder)"
)
if MISSING is not None and not _on_ci():
    # On a developer's machine without the recordings: skip, saying why.
    pytestmark = pytest.mark.skip(reason=MISSING)


@pytest.fixture(autouse=True)
def _recordings_present() -> None:
    """Under CI the recordings must be there: every test here fails, naming the folder."""
    if MISSING is not None:
        pytest.fail(f"the recorded payloads are required under CI: {MISSING}", pytrace=False)


API_FILES = sorted(RECORDED.glob("api/*.json")) if MISSING is None else []
VEHICLE_FILES = sorted(RECORDED.glob("vehicles/*.json")) if MISSING is None else []


def _cases(params: list[Any]) -> list[Any]:
    """A test's parameters; without the folder one placeholder, so that the test skips or
    (CI) fails like the others instead of reporting an "empty parameter set"."""
    return params if MISSING is None else [pytest.param(None, id="recordings-missing")]


def _by_stem(paths: list[Path]) -> list[Any]:
    return _cases([pytest.param(path, id=path.stem) for path in paths])


VEHICLE_ID = "a1d50709-3502-4faa-ba43-a5c7565e6a09"
PERMISSION_DESCRIPTION = (
    "Your application has insufficient permissions to access the requested resource. "
    "Please prompt the user to re-authenticate using Smartcar Connect."
)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _batch_items() -> list[Any]:
    return [
        pytest.param(item, id=f"{path.stem}:{item['path']}:{item['code']}")
        for path in API_FILES
        for entry in _load(path)
        if isinstance(entry.get("response"), dict) and "responses" in entry["response"]
        for item in entry["response"]["responses"]
    ]


BATCH_ITEMS = _batch_items()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_recordings_are_there() -> None:
    """The folder holds the files the README promises (guards against an empty glob)."""
    assert len(API_FILES) >= 8
    assert len(VEHICLE_FILES) >= 6
    assert len(BATCH_ITEMS) >= 30


@pytest.mark.parametrize("item", _cases(BATCH_ITEMS))
def test_every_batch_item_parses(item: dict[str, Any]) -> None:
    """Successful items of known paths parse without issues; error items map to their class."""
    headers = item.get("headers") or {}
    meta = _v2.parse_meta(headers)
    for header, value in (("sc-data-age", meta.data_age), ("sc-fetched-at", meta.fetched_at)):
        assert value == (_when(headers[header]) if header in headers else None)
    assert meta.unit_system == (
        UnitSystem(headers["sc-unit-system"]) if "sc-unit-system" in headers else None
    )
    if item["code"] >= 400:
        err = errors.error_from_response(item["code"], item["body"], request_id="fallback")
        assert isinstance(err, SmartcarApiError)
        assert err.status == item["code"] == item["body"]["statusCode"]
        assert err.type == item["body"]["type"]
        assert err.code == item["body"]["code"]
        assert err.description == item["body"]["description"]
        assert err.request_id == item["body"]["requestId"]
        assert err.doc_url == item["body"]["docURL"]
        assert err.resolution is Resolution(item["body"]["resolution"]["type"])
        return
    signal = _v2.SIGNAL_BY_PATH.get(item["path"])
    if signal is None:
        # Paths the client does not ask for (nominal capacity, tire pressure): not signals.
        assert item["path"] in {"/battery/nominal_capacity", "/tires/pressure"}
        return
    reading = _v2.parse_reading(signal, item["body"], meta)
    assert reading.issues == ()
    assert reading.meta == meta
    # Every value the body holds made it into the reading.
    fields = {
        "percentRemaining": "percent_remaining",
        "range": "range",
        "isPluggedIn": "is_plugged_in",
        "state": "state",
        "limit": "limit",
        "isLocked": "is_locked",
        "latitude": "latitude",
        "longitude": "longitude",
        "distance": "distance",
        "amountRemaining": "amount_remaining",
        "lifeRemaining": "life_remaining",
    }
    for key, value in item["body"].items():
        if key in fields:
            assert getattr(reading, fields[key]) == value


def test_vw_id_4_ok_values() -> None:
    """The VW ID.4 recording, value by value."""
    response = _load(RECORDED / "api" / "vw_id_4.ok.json")[0]["response"]
    items = {item["path"]: item for item in response["responses"]}

    def parse(path: str) -> Any:
        item = items[path]
        return _v2.parse_reading(
            _v2.SIGNAL_BY_PATH[path], item["body"], _v2.parse_meta(item["headers"])
        )

    battery = parse("/battery")
    assert battery == Battery(
        percent_remaining=0.68,
        range=275.0,
        meta=Meta(
            data_age=datetime(2025, 5, 9, 15, 40, 57, tzinfo=UTC),
            fetched_at=datetime(2025, 5, 9, 17, 27, 26, 712000, tzinfo=UTC),
            unit_system=UnitSystem.METRIC,
        ),
    )
    charge = parse("/charge")
    assert (charge.is_plugged_in, charge.state) == (False, ChargeState.NOT_CHARGING)
    assert charge.meta.unit_system is None  # not every item says its units
    limit = parse("/charge/limit")
    assert limit.limit == 1.0  # sent as the integer 1
    assert isinstance(limit.limit, float)
    assert parse("/odometer").distance == 21919.0
    location = parse("/location")
    assert (location.latitude, location.longitude) == (37.4292, 122.1381)


def test_unknown_make_security_openings() -> None:
    """The real security answer's extra arrays are kept as reported."""
    response = _load(RECORDED / "api" / "unknown_make.ok.json")[0]["response"]
    item = next(i for i in response["responses"] if i["path"] == "/security")
    security = _v2.parse_reading(Signal.SECURITY, item["body"], Meta())
    assert isinstance(security, Security)
    assert security.is_locked is False
    assert Opening(type="frontRight", status="OPEN") in security.doors
    assert len(security.doors) == 4
    assert security.issues == ()


def test_permission_error_item() -> None:
    """A 403 item: PERMISSION with a null code and the real (object) resolution."""
    response = _load(RECORDED / "api" / "vw_id_4.charging.json")[0]["response"]
    item = next(i for i in response["responses"] if i["path"] == "/engine/oil")
    err = errors.error_from_response(item["code"], item["body"])
    assert type(err) is SmartcarPermissionError
    assert err.code is None
    assert err.resolution is Resolution.REAUTHENTICATE
    assert err.request_id == "1ae8a91d-4898-4f4a-ba08-d20aff3759ca"
    assert err.description == PERMISSION_DESCRIPTION
    assert str(err) == f"Smartcar PERMISSION (403): {PERMISSION_DESCRIPTION}"


# -- replayed over HTTP through the client -------------------------------------------------------


class _RaisingSession:
    """A session whose request raises the recorded side effect (e.g. a connect timeout)."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


def _expected_outcome(path: Path) -> dict[Signal, type[Any]]:
    """What each signal should come out as, from the recording itself."""
    entry = _load(path)[0]
    outcome: dict[Signal, type[Any]] = {}
    readings = {
        Signal.BATTERY: Battery,
        Signal.CHARGE: Charge,
        Signal.CHARGE_LIMIT: ChargeLimit,
        Signal.SECURITY: Security,
        Signal.LOCATION: Location,
        Signal.ODOMETER: Odometer,
        Signal.FUEL: Fuel,
        Signal.ENGINE_OIL: EngineOil,
    }
    for item in entry["response"]["responses"]:
        signal = _v2.SIGNAL_BY_PATH.get(item["path"])
        if signal is not None:
            outcome[signal] = (
                readings[signal]
                if item["code"] < 400
                else errors.error_from_response(item["code"], item["body"]).__class__
            )
    return outcome


@pytest.mark.parametrize("path", _by_stem(API_FILES))
async def test_replay_through_the_client(
    path: Path, stub: StubServer, session: aiohttp.ClientSession
) -> None:
    """Each recording as the client meets it: results per signal, or the right error."""
    entry = _load(path)[0]
    assert entry["method"] == "post"
    assert entry["vehicle_path"] == "/batch"
    wanted = sorted(SmartcarClient.signals)
    side_effect = entry.get("side_effect")
    if side_effect is not None:
        error_class = getattr(aiohttp, side_effect.removeprefix("aiohttp."))
        client = SmartcarClient(_RaisingSession(error_class()), StaticAuth("t"))  # type: ignore[arg-type]
        with pytest.raises(SmartcarTimeoutError):
            await client.async_batch(VEHICLE_ID, wanted)
        return

    stub.add(
        "POST",
        f"/v2.0/vehicles/{VEHICLE_ID}/batch",
        entry["response"],
        status=entry.get("status", 200),
        headers={"sc-request-id": "req-1"},
    )
    client = SmartcarClient(session, StaticAuth("token"), api_url=f"{stub.url}/v2.0")
    response = entry["response"]
    if entry.get("status", 200) >= 400 or not (
        isinstance(response, dict) and "responses" in response
    ):
        expected_error: type[SmartcarError] = {
            500: SmartcarServerError,
            401: SmartcarAuthenticationError,
        }.get(entry.get("status", 200), SmartcarResponseError)
        with pytest.raises(expected_error):
            await client.async_batch(VEHICLE_ID, wanted)
        return

    result = await client.async_batch(VEHICLE_ID, wanted)
    sent = json.loads(stub.requests[0].body)
    assert sent == {"requests": [{"path": _v2.PATHS[s]} for s in wanted]}
    assert result.meta.request_id == "req-1"
    expected = _expected_outcome(path)
    for signal in wanted:
        item = result.results[signal]
        if signal not in expected:
            # Asked but not in the answer: an error for that signal only.
            assert isinstance(item.error, SmartcarResponseError)
            assert "missing from batch answer" in str(item.error)
        elif item.reading is not None:
            assert type(item.reading) is expected[signal]
            assert item.reading.issues == ()
            assert item.reading.meta.request_id == "req-1"
        else:
            assert type(item.error) is expected[signal]
    if path.stem == "vw_id_4.imperial":
        odometer = result.results[Signal.ODOMETER].reading
        assert isinstance(odometer, Odometer)
        assert odometer.meta.unit_system is UnitSystem.IMPERIAL
        assert odometer.distance == 37829.0


# -- vehicle attributes ----------------------------------------------------------------------


@pytest.mark.parametrize("path", _by_stem(VEHICLE_FILES))
def test_vehicle_attributes(path: Path) -> None:
    """`year` as a string or int, missing make/model: parsed, nothing invented."""
    body = _load(path)
    attributes = _v2.parse_attributes(body, Meta())
    assert attributes.id == body["id"]
    assert attributes.vin == body.get("vin")
    assert attributes.make == body.get("make")
    assert attributes.model == body.get("model")
    assert attributes.year == (int(body["year"]) if "year" in body else None)
    assert attributes.year is None or isinstance(attributes.year, int)


def test_vehicle_attributes_values() -> None:
    """The VW answer: make `VW`, year `"2021"` becomes 2021; the unknown make has none."""
    vw = _v2.parse_attributes(_load(RECORDED / "vehicles" / "vw_id_4.json"), Meta())
    assert (vw.make, vw.model, vw.year) == ("VW", "ID.4", 2021)
    unknown = _v2.parse_attributes(_load(RECORDED / "vehicles" / "unknown_make.json"), Meta())
    assert (unknown.make, unknown.model, unknown.year) == (None, None, None)
    assert unknown.vin == "VIWP1AB29P15LA85784N"
    polestar = _v2.parse_attributes(_load(RECORDED / "vehicles" / "polestar_2.json"), Meta())
    assert polestar.year == 2024
