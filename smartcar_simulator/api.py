"""The Vehicles API (`/v2.0`) and the management API (`/v3`).

A billed vehicle request goes: bearer token (401) -> vehicle of the token's user (404) ->
rate limit (429) -> permission (403) -> compatibility (501) -> body validation (400) ->
injected fault -> the car. Everything after the rate limit is billed, except the faults that
mimic a network that never reached Smartcar (`non_json`, `empty`).

While `sim.v2_retired` none of the /v2.0 handlers here runs: the server's middleware answers
every /v2.0 request 410 VERSION `API_VERSION_RETIRED` first (`errors.version_retired`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from aiohttp import web

from . import endpoints, errors
from .accounts import ACTIVE, Connection
from .endpoints import IMPERIAL, METRIC, ReadContext
from .faults import Fault
from .httputil import (
    apply_fault,
    client_credentials,
    json_response,
    read_json,
    request_id,
    simulator,
)
from .simulator import Simulator
from .tokens import Grant
from .vehicles import Vehicle

VEHICLES_DEFAULT_LIMIT: Final = 10
VEHICLES_MAX_LIMIT: Final = 50


def _grant(sim: Simulator, request: web.Request) -> Grant:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    grant = sim.tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise errors.authentication()
    return grant


def _vehicle(sim: Simulator, grant: Grant, vehicle_id: str) -> Vehicle:
    vehicle = sim.fleet.get(vehicle_id)
    if vehicle is None or not sim.accounts.has_vehicle(grant.user_id, vehicle_id):
        raise errors.vehicle_not_found()
    return vehicle


def _context(request: web.Request, sim: Simulator, grant: Grant, vehicle: Vehicle) -> ReadContext:
    units = request.headers.get("sc-unit-system", METRIC).strip().lower()
    return ReadContext(
        unit_system=IMPERIAL if units == IMPERIAL else METRIC,
        permissions=sim.accounts.effective(grant.permissions, vehicle.id),
        now=sim.clock.now(),
    )


def _paging(request: web.Request, default: int, maximum: int) -> tuple[int, int]:
    try:
        limit = int(request.query.get("limit", default))
        offset = int(request.query.get("offset", 0))
    except ValueError:
        raise errors.validation("limit and offset must be integers.") from None
    if not 1 <= limit <= maximum or offset < 0:
        raise errors.validation(f"limit must be 1..{maximum} and offset >= 0.")
    return limit, offset


async def _unbilled_fault(
    request: web.Request, sim: Simulator, path: str, vehicle_id: str | None = None
) -> web.Response | None:
    """Faults on endpoints that are never billed (/user, /vehicles, /permissions, /v3)."""
    fault = sim.faults.fire([path, request.path], request.method, vehicle_id)
    return await apply_fault(request, fault, path) if fault is not None else None


# -- /v2.0 not billed -----------------------------------------------------------------------------


async def get_user(request: web.Request) -> web.Response:
    """`GET /user`."""
    sim = simulator(request)
    grant = _grant(sim, request)
    if (response := await _unbilled_fault(request, sim, "/user")) is not None:
        return response
    return json_response({"id": grant.user_id})


async def list_vehicles(request: web.Request) -> web.Response:
    """`GET /vehicles?limit&offset`."""
    sim = simulator(request)
    grant = _grant(sim, request)
    limit, offset = _paging(request, VEHICLES_DEFAULT_LIMIT, VEHICLES_MAX_LIMIT)
    if (response := await _unbilled_fault(request, sim, "/vehicles")) is not None:
        return response
    ids = sim.accounts.vehicles_of(grant.user_id)
    return json_response(
        {"vehicles": ids[offset : offset + limit], "paging": {"count": len(ids), "offset": offset}}
    )


async def get_permissions(request: web.Request) -> web.Response:
    """`GET /vehicles/{id}/permissions`."""
    sim = simulator(request)
    grant = _grant(sim, request)
    vehicle = _vehicle(sim, grant, request.match_info["id"])
    limit, offset = _paging(request, 25, 100)
    if (response := await _unbilled_fault(request, sim, "/permissions", vehicle.id)) is not None:
        return response
    granted = sorted(sim.accounts.effective(grant.permissions, vehicle.id))
    return json_response(
        {
            "permissions": granted[offset : offset + limit],
            "paging": {"count": len(granted), "offset": offset},
        }
    )


async def disconnect(request: web.Request) -> web.Response:
    """`DELETE /vehicles/{id}/application`: the app stops having access to this car."""
    sim = simulator(request)
    grant = _grant(sim, request)
    vehicle = _vehicle(sim, grant, request.match_info["id"])
    _remove_connections(sim, [c.id for c in _connections_of(sim, grant.user_id, vehicle.id)])
    return json_response({"status": "success"})


# -- /v2.0 billed -------------------------------------------------------------------------------


class _Billing:
    """Bills `keys` to the vehicle when the request leaves the pipeline (unless cancelled)."""

    def __init__(self, sim: Simulator, vehicle: Vehicle, keys: list[str]) -> None:
        retry_after = sim.meter.retry_after(vehicle.id, sim.clock.timestamp(), len(keys))
        if retry_after is not None:
            raise errors.rate_limited(retry_after)
        self.sim, self.vehicle, self.keys = sim, vehicle, keys
        self.billed = True

    def skip_for(self, fault: Fault | None) -> None:
        if fault is not None and not fault.billed:
            self.billed = False

    def __enter__(self) -> _Billing:
        return self

    def __exit__(self, *_: object) -> None:
        if self.billed:
            self.sim.meter.bill(self.vehicle.id, self.keys, self.sim.clock.timestamp())


def _start(request: web.Request) -> tuple[Simulator, Grant, Vehicle]:
    sim = simulator(request)
    grant = _grant(sim, request)
    return sim, grant, _vehicle(sim, grant, request.match_info["id"])


async def _faulted(
    request: web.Request, sim: Simulator, billing: _Billing, path: str, vehicle: Vehicle
) -> web.Response | None:
    fault = sim.faults.fire([path, request.path], request.method, vehicle.id)
    if fault is None:
        return None
    billing.skip_for(fault)
    return await apply_fault(request, fault, path)


async def get_attributes(request: web.Request) -> web.Response:
    """`GET /vehicles/{id}` and `GET /vehicles/{id}/` (the official SDKs ask with the slash)."""
    return await _read(request, "/")


async def get_signal(request: web.Request) -> web.Response:
    """`GET /vehicles/{id}/<signal path>`."""
    return await _read(request, endpoints.normalize_path(request.match_info["path"]))


async def _read(request: web.Request, path: str) -> web.Response:
    sim, grant, vehicle = _start(request)
    if path not in endpoints.READS:
        raise errors.path_not_found(path)
    with _Billing(sim, vehicle, [f"GET {path}"]) as billing:
        ctx = _context(request, sim, grant, vehicle)
        endpoints.check_access(endpoints.READS[path][0], vehicle, ctx.permissions)
        if (response := await _faulted(request, sim, billing, path, vehicle)) is not None:
            return response
        body, headers = endpoints.read(path, vehicle, ctx)
        return json_response(body, headers=headers)


async def get_signals(request: web.Request) -> web.Response:
    """`GET /vehicles/{id}/signals`: billed once."""
    sim, grant, vehicle = _start(request)
    with _Billing(sim, vehicle, ["GET /signals"]) as billing:
        if (response := await _faulted(request, sim, billing, "/signals", vehicle)) is not None:
            return response
        body, headers = endpoints.signals(vehicle, _context(request, sim, grant, vehicle))
        return json_response(body, headers=headers)


async def post_command(request: web.Request) -> web.Response:
    """`POST /vehicles/{id}/charge|charge/limit|security|navigation/destination` (and the
    seed spec's `commands/set-destination`, which behaves the same)."""
    path = endpoints.normalize_path(request.match_info["path"])
    sim, grant, vehicle = _start(request)
    endpoint = endpoints.COMMANDS.get(path)
    if endpoint is None:
        raise errors.path_not_found(path)
    with _Billing(sim, vehicle, [f"POST {path}"]) as billing:
        permissions = sim.accounts.effective(grant.permissions, vehicle.id)
        endpoints.check_access(endpoint, vehicle, permissions)
        body = await read_json(request)
        endpoints.validate_command(path, body)
        if (response := await _faulted(request, sim, billing, path, vehicle)) is not None:
            return response
        return json_response(endpoints.execute_command(path, vehicle, body))


def _batch_paths(body: Any) -> list[str]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise errors.validation("'requests' must be a non-empty array of {path} objects.")
    paths = []
    for item in requests:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise errors.validation("Every request needs a 'path' string.")
        paths.append(item["path"])
    return paths


async def _batch_item(
    request: web.Request, sim: Simulator, vehicle: Vehicle, raw_path: str, ctx: ReadContext
) -> dict[str, Any]:
    path = endpoints.normalize_path(raw_path)
    try:
        entry = endpoints.READS.get(path)
        if entry is None:
            raise errors.path_not_found(path)
        endpoints.check_access(entry[0], vehicle, ctx.permissions)
        fault = sim.faults.fire([path], "GET", vehicle.id, explicit_path=True)
        if fault is not None:
            if fault.kind in {"slow", "timeout"}:
                await asyncio.sleep(fault.delay)
            elif fault.kind == "non_json":
                return {"path": raw_path, "code": 200, "body": endpoints.CAPTIVE_PORTAL_HTML}
            elif fault.kind == "empty":
                return {"path": raw_path, "code": 200, "body": None}
            elif fault.kind == "malformed":
                _, headers = endpoints.read(path, vehicle, ctx)
                return {
                    "path": raw_path,
                    "code": 200,
                    "body": endpoints.malformed(path),
                    "headers": headers,
                }
            elif fault.error is not None:
                raise fault.error.copy()
        body, headers = endpoints.read(path, vehicle, ctx)
    except errors.SmartcarError as err:
        item: dict[str, Any] = {
            "path": raw_path,
            "code": err.status_code,
            "body": err.body(request_id(request)),
        }
        if (retry_after := err.retry_after_header) is not None:
            item["headers"] = {"retry-after": retry_after}
        return item
    return {"path": raw_path, "code": 200, "body": body, "headers": headers}


async def batch(request: web.Request) -> web.Response:
    """`POST /vehicles/{id}/batch`: every path is one billed `GET <path>`."""
    sim, grant, vehicle = _start(request)
    paths = _batch_paths(await read_json(request))
    keys = [f"GET {endpoints.normalize_path(p)}" for p in paths]
    with _Billing(sim, vehicle, keys) as billing:
        if (response := await _faulted(request, sim, billing, "/batch", vehicle)) is not None:
            return response
        ctx = _context(request, sim, grant, vehicle)
        responses = [await _batch_item(request, sim, vehicle, p, ctx) for p in paths]
        return json_response({"responses": responses})


# -- webhook subscriptions ---------------------------------------------------------------------
# Smartcar's v2 `POST /vehicles/{id}/webhooks/{webhook_id}` (the user's Bearer token) and
# `DELETE` of the same path (`Authorization: Bearer <application management token>`).
# Assumed where Smartcar's documentation is silent: neither is billed nor rate limited (they
# manage the application's subscriptions and never reach the car); subscribing needs no
# particular permission; subscribing twice and unsubscribing a vehicle that is not subscribed
# both succeed; an unknown webhook id is 404 RESOURCE_NOT_FOUND `WEBHOOK_NOT_FOUND`.


def _webhook_id(sim: Simulator, request: web.Request) -> str:
    webhook_id = request.match_info["webhook_id"]
    if webhook_id not in sim.webhooks:
        raise errors.SmartcarError(
            "RESOURCE_NOT_FOUND", "WEBHOOK_NOT_FOUND", f"No webhook {webhook_id}."
        )
    return webhook_id


async def subscribe_webhook(request: web.Request) -> web.Response:
    """`POST /vehicles/{id}/webhooks/{webhook_id}` -> `{"webhookId", "vehicleId"}`."""
    sim, _, vehicle = _start(request)
    webhook_id = _webhook_id(sim, request)
    if (response := await _unbilled_fault(request, sim, "/webhooks", vehicle.id)) is not None:
        return response
    sim.subscribe_webhook(webhook_id, vehicle.id)
    return json_response({"webhookId": webhook_id, "vehicleId": vehicle.id})


async def unsubscribe_webhook(request: web.Request) -> web.Response:
    """`DELETE /vehicles/{id}/webhooks/{webhook_id}` with the management token -> success."""
    sim = simulator(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token.strip() != sim.management_token:
        raise errors.authentication("Unsubscribing needs the application management token.")
    vehicle = sim.fleet.get(request.match_info["id"])
    if vehicle is None:
        raise errors.vehicle_not_found()
    webhook_id = _webhook_id(sim, request)
    if (response := await _unbilled_fault(request, sim, "/webhooks", vehicle.id)) is not None:
        return response
    sim.unsubscribe_webhook(webhook_id, vehicle.id)
    return json_response({"status": "success"})


# -- v2 management API -------------------------------------------------------------------------
# Smartcar's v2 `GET|DELETE /v2.0/management/connections` (what the SDKs' get_connections /
# delete_connections call): HTTP Basic `default:<application management token>`; the user name
# is not checked. Connections are the same as the /v3 ones, in the v2 form
# `{vehicleId, userId, connectedAt}`; only active ones are listed.
MANAGEMENT_DEFAULT_LIMIT: Final = 100


def _management_v2(sim: Simulator, request: web.Request) -> None:
    credentials = client_credentials(request)
    if credentials is None or credentials[1] != sim.management_token:
        raise errors.authentication(
            "The management API needs Basic auth with the application management token."
        )


def _v2_connection(conn: Connection) -> dict[str, Any]:
    full = conn.as_json()
    return {
        "vehicleId": full["vehicleId"],
        "userId": full["userId"],
        "connectedAt": full["created"],
    }


def _active_connections(sim: Simulator, request: web.Request) -> list[Connection]:
    user_id, vehicle_id = request.query.get("user_id"), request.query.get("vehicle_id")
    return [c for c in _connections_of(sim, user_id, vehicle_id) if c.status == ACTIVE]


async def list_connections_v2(request: web.Request) -> web.Response:
    """`GET /v2.0/management/connections?user_id&vehicle_id&limit&cursor`."""
    sim = simulator(request)
    _management_v2(sim, request)
    try:
        limit = int(request.query.get("limit", MANAGEMENT_DEFAULT_LIMIT))
        start = int(request.query.get("cursor") or 0)  # the cursor is an offset here
    except ValueError:
        raise errors.validation("limit must be an integer and cursor one this API gave.") from None
    if limit < 1 or start < 0:
        raise errors.validation("limit must be >= 1.")
    if (response := await _unbilled_fault(request, sim, "/management/connections")) is not None:
        return response
    found = _active_connections(sim, request)
    cursor = str(start + limit) if start + limit < len(found) else None
    return json_response(
        {
            "connections": [_v2_connection(c) for c in found[start : start + limit]],
            "paging": {"cursor": cursor},
        }
    )


async def delete_connections_v2(request: web.Request) -> web.Response:
    """`DELETE /v2.0/management/connections?user_id|vehicle_id`: revoke those connections."""
    sim = simulator(request)
    _management_v2(sim, request)
    if ("user_id" in request.query) == ("vehicle_id" in request.query):
        raise errors.validation("Give either user_id or vehicle_id.")
    if (response := await _unbilled_fault(request, sim, "/management/connections")) is not None:
        return response
    found = _active_connections(sim, request)
    _remove_connections(sim, [c.id for c in found])
    return json_response(
        {"connections": [{"vehicleId": c.vehicle_id, "userId": c.user_id} for c in found]}
    )


# -- /v3 management -----------------------------------------------------------------------------


def _management_user(sim: Simulator, request: web.Request) -> str | None:
    """None for the application itself (Basic client credentials), else the token's user."""
    credentials = client_credentials(request)
    if credentials is not None and sim.check_client(*credentials):
        return None
    return _grant(sim, request).user_id


def _connections_of(
    sim: Simulator, user_id: str | None, vehicle_id: str | None = None
) -> list[Connection]:
    return [
        c
        for c in sim.accounts.connections.values()
        if user_id in (None, c.user_id) and vehicle_id in (None, c.vehicle_id)
    ]


def _remove_connections(sim: Simulator, connection_ids: list[str]) -> None:
    users = set()
    for connection_id in connection_ids:
        if (conn := sim.accounts.disconnect(connection_id)) is not None:
            users.add(conn.user_id)
    for user in users:
        if not sim.accounts.vehicles_of(user):
            sim.tokens.revoke(user)
    sim.changed(urgent=True)


async def list_connections(request: web.Request) -> web.Response:
    """`GET /v3/connections?user_id&vehicle_id`."""
    sim = simulator(request)
    user = _management_user(sim, request)
    if (response := await _unbilled_fault(request, sim, "/connections")) is not None:
        return response
    wanted_user = request.query.get("user_id")
    found = [
        c.as_json()
        for c in _connections_of(sim, user, request.query.get("vehicle_id"))
        if wanted_user in (None, c.user_id)
    ]
    return json_response({"connections": found, "paging": {"cursor": None}})


def _connection(sim: Simulator, request: web.Request) -> Connection:
    user = _management_user(sim, request)
    conn = sim.accounts.connections.get(request.match_info["id"])
    if conn is None or user not in (None, conn.user_id):
        raise errors.SmartcarError(
            "RESOURCE_NOT_FOUND", "CONNECTION_NOT_FOUND", "No such connection."
        )
    return conn


async def get_connection(request: web.Request) -> web.Response:
    """`GET /v3/connections/{id}`."""
    sim = simulator(request)
    conn = _connection(sim, request)
    if (response := await _unbilled_fault(request, sim, "/connections")) is not None:
        return response
    return json_response(conn.as_json())


async def delete_connection(request: web.Request) -> web.Response:
    """`DELETE /v3/connections/{id}`: revoke it (the vehicle leaves the user's list)."""
    sim = simulator(request)
    conn = _connection(sim, request)
    if (response := await _unbilled_fault(request, sim, "/connections")) is not None:
        return response
    _remove_connections(sim, [conn.id])
    return json_response(conn.as_json())


async def delete_user(request: web.Request) -> web.Response:
    """`DELETE /v3/users/{id}`: every connection of the user goes, and their tokens."""
    sim = simulator(request)
    user = _management_user(sim, request)
    target = request.match_info["id"]
    if user not in (None, target) or target not in sim.accounts.user_ids:
        raise errors.SmartcarError("RESOURCE_NOT_FOUND", "USER_NOT_FOUND", "No such user.")
    if (response := await _unbilled_fault(request, sim, "/users")) is not None:
        return response
    removed = sim.accounts.remove_user(target)
    sim.tokens.revoke(target)
    sim.changed(urgent=True)
    return json_response({"connections": [c.as_json() for c in removed]})


def routes() -> list[web.RouteDef]:
    """The /v2.0 and /v3 routes (specific paths before the generic signal route)."""
    return [
        web.get("/v2.0/user", get_user),
        web.get("/v2.0/vehicles", list_vehicles),
        web.get("/v2.0/vehicles/{id}", get_attributes),
        web.get("/v2.0/vehicles/{id}/", get_attributes),
        web.get("/v2.0/vehicles/{id}/permissions", get_permissions),
        web.get("/v2.0/vehicles/{id}/signals", get_signals),
        web.post("/v2.0/vehicles/{id}/batch", batch),
        web.delete("/v2.0/vehicles/{id}/application", disconnect),
        web.post("/v2.0/vehicles/{id}/webhooks/{webhook_id}", subscribe_webhook),
        web.delete("/v2.0/vehicles/{id}/webhooks/{webhook_id}", unsubscribe_webhook),
        web.get("/v2.0/vehicles/{id}/{path:.+}", get_signal),
        web.post("/v2.0/vehicles/{id}/{path:.+}", post_command),
        # The SDKs ask with a trailing slash; both forms are served.
        web.get("/v2.0/management/connections", list_connections_v2),
        web.get("/v2.0/management/connections/", list_connections_v2),
        web.delete("/v2.0/management/connections", delete_connections_v2),
        web.delete("/v2.0/management/connections/", delete_connections_v2),
        web.get("/v3/connections", list_connections),
        web.get("/v3/connections/{id}", get_connection),
        web.delete("/v3/connections/{id}", delete_connection),
        web.delete("/v3/users/{id}", delete_user),
    ]
