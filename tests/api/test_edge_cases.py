"""Shapes the simulator never sends, over real HTTP from a stub server; wire format checks."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import parse_qs

import aiohttp
import pytest

from custom_components.smartcar.api import (
    AbstractAuth,
    Resolution,
    Signal,
    SmartcarApiError,
    SmartcarClient,
    SmartcarConnectedServicesAccountError,
    SmartcarNotFoundError,
    SmartcarOAuth,
    SmartcarOAuthError,
    SmartcarRateLimitError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarUpstreamError,
    SmartcarValidationError,
    SmartcarVehicleStateError,
    UnitSystem,
    errors,
)
from smartcar_simulator import Simulator
from tests.const import EV_ID

from .conftest import ClientFactory, StubServer, batch_errors, batch_readings

VID = "vehicle-1"


# -- paging --------------------------------------------------------------------------------------


async def test_vehicle_ids_without_paging(stub: StubServer, stub_client: SmartcarClient) -> None:
    """No paging object: the page's own ids are all there is; junk ids are dropped."""
    stub.add("GET", "/v2.0/vehicles", {"vehicles": ["a", "", 5, None, "b"]})
    assert await stub_client.async_get_vehicle_ids() == ["a", "b"]
    page = await stub_client.async_get_vehicle_ids_page(offset=7)
    assert (page.vehicle_ids, page.count, page.offset) == (("a", "b"), 9, 7)
    assert [r.query for r in stub.requests] == [
        {"limit": "50", "offset": "0"},
        {"limit": "50", "offset": "7"},
    ]


async def test_vehicle_ids_stop_on_an_empty_page(
    stub: StubServer, stub_client: SmartcarClient
) -> None:
    """A count that promises more than the pages hold does not loop forever."""
    stub.add("GET", "/v2.0/vehicles", {"vehicles": ["a"], "paging": {"count": 5, "offset": 0}})
    stub.add("GET", "/v2.0/vehicles", {"vehicles": [], "paging": {"count": 5, "offset": 1}})
    assert await stub_client.async_get_vehicle_ids() == ["a"]
    assert len(stub.requests) == 2


async def test_vehicle_ids_paging_count_not_a_number(
    stub: StubServer, stub_client: SmartcarClient
) -> None:
    """A paging object without an integer count counts what was received."""
    stub.add("GET", "/v2.0/vehicles", {"vehicles": ["a", "b"], "paging": {"count": "many"}})
    page = await stub_client.async_get_vehicle_ids_page()
    assert page.count == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"permissions": ["read_odometer", 7, "read_battery"]},
        {"permissions": ["read_odometer", 7, "read_battery"], "paging": "none"},
        {"permissions": ["read_odometer", 7, "read_battery"], "paging": {"count": "3"}},
    ],
)
async def test_permissions_without_usable_paging(
    stub: StubServer, stub_client: SmartcarClient, answer: dict[str, object]
) -> None:
    """Without a usable count the first page is taken as everything; junk entries dropped."""
    stub.add("GET", f"/v2.0/vehicles/{VID}/permissions", answer)
    assert await stub_client.async_get_permissions(VID) == {"read_odometer", "read_battery"}
    assert len(stub.requests) == 1


async def test_permissions_stop_on_an_empty_page(
    stub: StubServer, stub_client: SmartcarClient
) -> None:
    """A count larger than what comes does not loop forever."""
    path = f"/v2.0/vehicles/{VID}/permissions"
    stub.add("GET", path, {"permissions": ["read_vin"], "paging": {"count": 9}})
    stub.add("GET", path, {"permissions": [], "paging": {"count": 9}})
    assert await stub_client.async_get_permissions(VID) == {"read_vin"}
    assert [r.query["offset"] for r in stub.requests] == ["0", "1"]


# -- odd batch answers -------------------------------------------------------------------------


async def test_batch_with_odd_items(stub: StubServer, stub_client: SmartcarClient) -> None:
    """Junk items are skipped; odd codes, bodies and headers fail only their own signal."""
    stub.add(
        "POST",
        f"/v2.0/vehicles/{VID}/batch",
        {
            "responses": [
                "not an item",
                {"path": ["/battery"], "code": 200, "body": {}},
                {"path": "/tires/pressure", "code": 200, "body": {}},
                {"path": "/fuel", "code": 200, "body": {"percentRemaining": 0.5}},  # not asked
                {"path": "/battery", "code": "200", "body": {"percentRemaining": 0.5}},
                {"path": "/odometer", "code": 200, "body": [1, 2], "headers": "none"},
                {
                    "path": "/location",
                    "code": 429,
                    "body": {"type": "RATE_LIMIT", "resolution": "RETRY_LATER"},
                    "headers": {"Retry-After": "12"},
                },
                {
                    "path": "/charge",
                    "code": 409,
                    "body": None,
                    "headers": {"retry-after": 5},
                },
                {"path": "/engine/oil", "code": 200, "body": {"lifeRemaining": 0.5}, "headers": []},
            ]
        },
        headers={"SC-Request-Id": "batch-rid", "sc-unit-system": "imperial"},
    )
    wanted = [
        Signal.BATTERY,
        Signal.ODOMETER,
        Signal.LOCATION,
        Signal.CHARGE,
        Signal.ENGINE_OIL,
        Signal.SECURITY,
    ]
    result = await stub_client.async_batch(VID, wanted)
    assert list(result.results) == wanted
    assert result.meta.request_id == "batch-rid"
    assert result.meta.unit_system is UnitSystem.IMPERIAL
    errors_ = batch_errors(result)
    battery = errors_[Signal.BATTERY]
    assert type(battery) is SmartcarServerError  # a code that is no number
    assert battery.status == 500
    assert isinstance(errors_[Signal.ODOMETER], SmartcarResponseError)
    location = errors_[Signal.LOCATION]
    assert isinstance(location, SmartcarRateLimitError)
    assert location.retry_after == 12.0
    assert location.resolution is Resolution.RETRY_LATER  # the spec's string form
    assert location.request_id == "batch-rid"
    charge = errors_[Signal.CHARGE]
    assert isinstance(charge, SmartcarVehicleStateError)
    assert charge.retry_after is None  # not a header string
    oil = batch_readings(result)[Signal.ENGINE_OIL]
    assert oil.meta.request_id == "batch-rid"
    assert oil.meta.unit_system is None
    assert result.results[Signal.ENGINE_OIL].raw == {"body": {"lifeRemaining": 0.5}, "headers": {}}
    security = errors_[Signal.SECURITY]
    assert str(security) == "/security: missing from batch answer"
    assert Signal.FUEL not in result.results
    sent = json.loads(stub.requests[0].body)
    assert sent == {"requests": [{"path": "/battery"}, {"path": "/odometer"}, {"path": "/location"},
                                 {"path": "/charge"}, {"path": "/engine/oil"}, {"path": "/security"}]}  # fmt: skip


# -- broken answers ------------------------------------------------------------------------------


async def test_invalid_utf8_answer(stub: StubServer, stub_client: SmartcarClient) -> None:
    """Bytes that are no UTF-8 are "not JSON", not a UnicodeDecodeError."""
    stub.add("GET", "/v2.0/user", raw=b'\xff\xfe{"id": "u"}')
    with pytest.raises(SmartcarResponseError, match="not JSON"):
        await stub_client.async_get_user()
    stub.add("GET", "/v2.0/vehicles", raw=b"\xff\xfe", status=500)
    with pytest.raises(SmartcarServerError):
        await stub_client.async_get_vehicle_ids()


async def test_proxy_error_page(stub: StubServer, stub_client: SmartcarClient) -> None:
    """An HTML 503 from a proxy maps by status, with the request id and retry-after headers."""
    stub.add(
        "GET",
        "/v2.0/user",
        text="<html>Service Unavailable</html>",
        status=503,
        content_type="text/html",
        headers={"SC-Request-Id": "rid-9", "Retry-After": "120"},
    )
    with pytest.raises(SmartcarUpstreamError) as caught:
        await stub_client.async_get_user()
    err = caught.value
    assert (err.status, err.type, err.code, err.description) == (503, "UPSTREAM", None, None)
    assert (err.request_id, err.retry_after) == ("rid-9", 120.0)
    assert str(err) == "Smartcar UPSTREAM (503)"


async def test_unknown_status_without_body(stub: StubServer, stub_client: SmartcarClient) -> None:
    """A status Smartcar does not use: the base API error (or a server error from 500 up)."""
    stub.add("GET", "/v2.0/user", status=418)
    with pytest.raises(SmartcarApiError) as caught:
        await stub_client.async_get_user()
    assert type(caught.value) is SmartcarApiError
    assert caught.value.type is None
    assert str(caught.value) == "Smartcar ERROR (418)"
    stub.add("GET", "/v2.0/vehicles", status=599, body=["not", "an", "object"])
    with pytest.raises(SmartcarServerError) as server:
        await stub_client.async_get_vehicle_ids()
    assert server.value.type == "SERVER"


@pytest.mark.parametrize(
    ("body", "message"),
    [([], "no user id"), ({"id": ""}, "no user id"), ({"id": 5}, "no user id")],
)
async def test_user_without_id(
    stub: StubServer, stub_client: SmartcarClient, body: object, message: str
) -> None:
    """A /user answer without a usable id."""
    stub.add("GET", "/v2.0/user", body)
    with pytest.raises(SmartcarResponseError, match=message):
        await stub_client.async_get_user()


async def test_management_empty_answers(stub: StubServer, stub_client: SmartcarClient) -> None:
    """DELETEs answered 204 without a body are fine; sparse connections parse."""
    stub.add("DELETE", "/v3/connections/c1", status=204)
    stub.add("DELETE", "/v3/users/u1", status=204)
    stub.add("GET", "/v3/connections", {"connections": [{"id": "c1", "status": "PAUSED"}]})
    await stub_client.async_remove_connection("c1")
    await stub_client.async_remove_user("u1")
    [connection] = await stub_client.async_list_connections()
    assert (connection.id, connection.status, connection.created) == ("c1", None, None)
    assert [(r.method, r.path) for r in stub.requests] == [
        ("DELETE", "/v3/connections/c1"),
        ("DELETE", "/v3/users/u1"),
        ("GET", "/v3/connections"),
    ]


# -- what goes over the wire ---------------------------------------------------------------------


class _RotatingAuth(AbstractAuth):
    """A new token for every request (as an OAuth session refreshing often would)."""

    def __init__(self) -> None:
        self.calls = 0

    async def async_get_access_token(self) -> str:
        self.calls += 1
        return f"token-{self.calls}"


async def test_request_headers_and_bodies(stub: StubServer, session: aiohttp.ClientSession) -> None:
    """Bearer token asked for each request, unit system header, JSON command bodies."""
    auth = _RotatingAuth()
    client = SmartcarClient(
        session, auth, api_url=f"{stub.url}/v2.0/", unit_system=UnitSystem.IMPERIAL
    )
    ok = {"status": "success", "message": "ok"}
    for path in ("charge", "charge/limit", "security", "navigation/destination"):
        stub.add("POST", f"/v2.0/vehicles/{VID}/{path}", ok)
    await client.async_start_charging(VID)
    await client.async_stop_charging(VID)
    await client.async_set_charge_limit(VID, 0.85)
    await client.async_lock(VID)
    await client.async_unlock(VID)
    await client.async_set_destination(VID, 1, 2)
    await client.async_set_destination(VID, 1.5, -2.5)
    assert [json.loads(r.body) for r in stub.requests] == [
        {"action": "START"},
        {"action": "STOP"},
        {"limit": 0.85},
        {"action": "LOCK"},
        {"action": "UNLOCK"},
        {"latitude": 1.0, "longitude": 2.0},
        {"latitude": 1.5, "longitude": -2.5},
    ]
    assert [r.headers["Authorization"] for r in stub.requests] == [
        f"Bearer token-{n}" for n in range(1, 8)
    ]
    assert {r.headers["SC-Unit-System"] for r in stub.requests} == {"imperial"}
    assert {r.headers["Content-Type"] for r in stub.requests} == {"application/json"}


async def test_token_request_wire_format(stub: StubServer, session: aiohttp.ClientSession) -> None:
    """HTTP Basic client authentication and a form body, for both grants."""
    answer = {"access_token": "a", "refresh_token": "r", "expires_in": 60}
    stub.add("POST", "/oauth/token", answer)
    oauth = SmartcarOAuth(
        session, client_id="id", client_secret="s3cr:et", token_url=f"{stub.url}/oauth/token"
    )
    await oauth.async_exchange_code("the-code", "https://example.com/cb")
    await oauth.async_refresh("the-refresh")
    for request in stub.requests:
        assert (
            request.headers["Authorization"] == "Basic " + base64.b64encode(b"id:s3cr:et").decode()
        )
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.headers["Accept"] == "application/json"
    assert [parse_qs(r.body.decode()) for r in stub.requests] == [
        {
            "grant_type": ["authorization_code"],
            "code": ["the-code"],
            "redirect_uri": ["https://example.com/cb"],
        },
        {"grant_type": ["refresh_token"], "refresh_token": ["the-refresh"]},
    ]


@pytest.mark.parametrize(
    ("status", "body", "error", "description"),
    [
        (401, None, "invalid_request", None),
        (400, {"error": "", "error_description": 5}, "invalid_request", None),
        (400, {"error": "invalid_grant", "error_description": "Used."}, "invalid_grant", "Used."),
        (401, "<html>", "invalid_request", None),
    ],
)
async def test_token_endpoint_odd_errors(
    stub: StubServer,
    session: aiohttp.ClientSession,
    status: int,
    body: object,
    error: str,
    description: str | None,
) -> None:
    """400/401 from the token endpoint are OAuth errors whatever their body."""
    if body == "<html>":
        stub.add("POST", "/oauth/token", text="<html>", status=status, content_type="text/html")
    else:
        stub.add("POST", "/oauth/token", body, status=status)
    oauth = SmartcarOAuth(
        session, client_id="id", client_secret="secret", token_url=f"{stub.url}/oauth/token"
    )
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_refresh("r")
    assert (caught.value.status, caught.value.error, caught.value.description) == (
        status,
        error,
        description,
    )


async def test_token_endpoint_not_found(stub: StubServer, session: aiohttp.ClientSession) -> None:
    """Other statuses map like API errors."""
    stub.add("POST", "/oauth/token", {"error": "nope"}, status=404)
    oauth = SmartcarOAuth(
        session, client_id="id", client_secret="secret", token_url=f"{stub.url}/oauth/token"
    )
    with pytest.raises(SmartcarNotFoundError):
        await oauth.async_refresh("r")


# -- cancellation -----------------------------------------------------------------------------


async def test_cancellation_is_not_swallowed(
    make_client: ClientFactory, simulator: Simulator
) -> None:
    """Cancelling a call in flight raises CancelledError, not a SmartcarError."""
    client = make_client()
    # The answer is held far longer than the test takes: the call is surely in flight.
    simulator.inject_fault(path="/battery", kind="slow", delay=600, count=1)
    task = asyncio.create_task(client.async_batch(EV_ID, [Signal.BATTERY]))
    # Wait (bounded) until the simulator holds the request: the fault is then used up.
    deadline = asyncio.get_running_loop().time() + 60
    while simulator.faults.list():
        assert asyncio.get_running_loop().time() < deadline, "the request never arrived"
        await asyncio.sleep(0.01)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- error objects in every form ---------------------------------------------------------------


def test_error_spec_form() -> None:
    """The spec's form: `detail` (else `title`) as description, resolution as a string."""
    err = errors.error_from_response(
        409,
        {
            "type": "VEHICLE_STATE",
            "code": "ASLEEP",
            "title": "Asleep",
            "detail": "The vehicle is asleep.",
            "status": 409,
            "resolution": "RETRY_LATER",
            "suggestedUserMessage": "Try later.",
        },
    )
    assert isinstance(err, SmartcarVehicleStateError)
    assert err.description == "The vehicle is asleep."
    assert err.resolution is Resolution.RETRY_LATER
    assert err.suggested_user_message == "Try later."
    titled = errors.error_from_response(400, {"title": "Bad request", "resolution": "NOPE"})
    assert isinstance(titled, SmartcarValidationError)
    assert titled.description == "Bad request"
    assert titled.resolution is None


def test_error_type_wins_over_status() -> None:
    """CONNECTED_SERVICES_ACCOUNT shares 400 with VALIDATION: the type decides."""
    err = errors.error_from_response(
        400,
        {
            "type": "CONNECTED_SERVICES_ACCOUNT",
            "code": "SUBSCRIPTION",
            "resolution": {"type": "CONTACT_SUPPORT"},
            "requestId": "",
        },
        request_id="from-header",
    )
    assert type(err) is SmartcarConnectedServicesAccountError
    assert err.request_id == "from-header"  # an empty requestId is no id
    assert err.resolution is Resolution.CONTACT_SUPPORT
    unknown = errors.error_from_response(400, {"type": "SOMETHING_NEW"})
    assert type(unknown) is SmartcarValidationError
    assert unknown.type == "SOMETHING_NEW"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("30", 30.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-1", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Only finite, non-negative delta-seconds count."""
    assert errors.parse_retry_after(value) == expected
