"""Smartcar API v3 beside v2 on the same server.

- `POST /oauth2/token` (the IAM token endpoint): client credentials grant with the application's
  v3 credentials; application tokens live `token_ttl` seconds of virtual time (1 h).
- `GET /v3/connections` with an application token: the JSON:API list with `filter[userId]`,
  `filter[vehicleId]`, `page[number]`, `page[size]` (other callers get the older form, `api.py`).
- `GET /v3/vehicles/{id}`, `GET /v3/vehicles/{id}/signals`, `GET /v3/vehicles/{id}/signals/{code}`
  (404 `SIGNALS_NOT_FOUND` while the car is not subscribed to a webhook, see `V3App`).
- `POST /v3/vehicles/{id}/commands/...` (lock/unlock, charge start/stop/set-limit, navigation
  set-destination) -> a command execution: 200 when it ran, 202 PENDING when the application
  set a `command_delay`; `GET /v3/vehicles/{id}/command-executions/{executionId}` follows it.

Vehicle calls take an application token plus `sc-user-id`, or (as Smartcar's Python SDK sends
them) a v2 user access token, the user then being the token's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import functools
import json
import math
import secrets
from typing import Any, Final
import uuid
import weakref

from aiohttp import web

from . import api, endpoints, errors, signals
from .accounts import ACTIVE, Connection
from .clock import isoformat_ms
from .errors import SmartcarError
from .fleet import CHARGE, CHARGE_LIMIT, NAVIGATION_DESTINATION, SECURITY
from .httputil import apply_fault, client_credentials, json_response, request_id, simulator
from .simulator import Simulator
from .tokens import ALL_PERMISSIONS
from .vehicles import Vehicle

DEFAULT_V3_CLIENT_ID: Final = "client_sim-v3-application"
DEFAULT_V3_CLIENT_SECRET: Final = "sim-v3-client-secret"
DEFAULT_APPLICATION_ID: Final = "3c8a1e52-7f0d-4b6e-9a21-5d4c3b2a1f09"
DEFAULT_TOKEN_TTL: Final = 3600
PAGE_SIZE_DEFAULT: Final = 10
PAGE_SIZE_MAX: Final = 100

# v3 command path -> (commandType, the v2 command it performs, builder of the v2 body)
_COMMANDS: Final[Mapping[str, tuple[str, str, Callable[[Mapping[str, Any]], dict[str, Any]]]]] = {
    "security/lock": ("security-lock", SECURITY, lambda _: {"action": "LOCK"}),
    "security/unlock": ("security-unlock", SECURITY, lambda _: {"action": "UNLOCK"}),
    "charge/start": ("charge-start", CHARGE, lambda _: {"action": "START"}),
    "charge/stop": ("charge-stop", CHARGE, lambda _: {"action": "STOP"}),
    "charge/set-limit": (
        "charge-set-limit",
        CHARGE_LIMIT,
        lambda a: {"limit": a["percent"] / 100.0},
    ),
    "navigation/set-destination": (
        "navigation-set-destination",
        NAVIGATION_DESTINATION,
        lambda a: {"latitude": a["latitude"], "longitude": a["longitude"]},
    ),
}


@dataclass(slots=True)
class Execution:
    """One v3 command execution."""

    id: str
    vehicle_id: str
    command_type: str
    v2_path: str
    v2_body: dict[str, Any]
    parameters: dict[str, Any]
    executed_at: float
    due_at: float
    status: str = "PENDING"  # PENDING | SUCCESS | FAILURE
    completed_at: float | None = None
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """`{"data": {"id", "type": "command-execution", "attributes", "meta"}}`."""
        status: dict[str, Any] = {"value": self.status}
        if self.error is not None:
            status["error"] = self.error
        done = self.completed_at
        return {
            "data": {
                "id": self.id,
                "type": "command-execution",
                "attributes": {
                    "commandType": self.command_type,
                    "status": status,
                    "executionMode": "sync" if self.due_at == self.executed_at else "async",
                    "parameters": self.parameters,
                },
                "meta": {
                    "executedAt": _iso(self.executed_at),
                    "completedAt": _iso(done) if done is not None else None,
                    "durationInSeconds": round(done - self.executed_at, 3)
                    if done is not None
                    else None,
                },
            }
        }


@dataclass(slots=True)
class V3App:
    """The application's v3 side: credentials, application tokens, command executions.

    `command_delay` (virtual seconds): 0 runs commands at once (200); more answers 202 PENDING
    and the command completes when the clock has moved that far.

    `auto_subscribe` is the Dashboard's "automatically subscribe all vehicles" webhook switch;
    when it is off, only the vehicles (ids) in `subscribed` have signals, the others answer
    404 `SIGNALS_NOT_FOUND` on `/signals` and `/signals/{code}`.
    """

    client_id: str = DEFAULT_V3_CLIENT_ID
    client_secret: str = DEFAULT_V3_CLIENT_SECRET
    application_id: str = DEFAULT_APPLICATION_ID
    token_ttl: int = DEFAULT_TOKEN_TTL
    command_delay: float = 0.0
    auto_subscribe: bool = True
    subscribed: set[str] = field(default_factory=set)  # vehicle ids
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires_at
    executions: dict[str, Execution] = field(default_factory=dict)


_APPS: weakref.WeakKeyDictionary[Simulator, V3App] = weakref.WeakKeyDictionary()


def app_of(sim: Simulator) -> V3App:
    """The simulator's v3 application (created with the defaults on first use)."""
    found = _APPS.get(sim)
    if found is None:
        found = _APPS[sim] = V3App()
    return found


def issue_app_token(sim: Simulator) -> str:
    """An application token without the token endpoint (valid `token_ttl` virtual seconds)."""
    app = app_of(sim)
    token = "v3_" + secrets.token_urlsafe(24)
    now = sim.clock.timestamp()
    app.tokens = {t: exp for t, exp in app.tokens.items() if exp > now}
    app.tokens[token] = now + app.token_ttl
    return token


def settings(sim: Simulator) -> dict[str, Any]:
    """`GET /sim/v3`: the application's switches and identifiers (never the client secret)."""
    app = app_of(sim)
    return {
        "client_id": app.client_id,
        "application_id": app.application_id,
        "auto_subscribe": app.auto_subscribe,
        "subscribed": sorted(app.subscribed),
        "command_delay": app.command_delay,
        "token_ttl": app.token_ttl,
    }


def _command_delay(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("'command_delay' must be a number of seconds")
    if value < 0:
        raise ValueError("'command_delay' must be zero or more")
    return float(value)


def _token_ttl(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("'token_ttl' must be a positive whole number of seconds")
    return value


def configure(
    sim: Simulator,
    *,
    auto_subscribe: bool | None = None,
    subscribed: list[str] | None = None,
    command_delay: float | None = None,
    token_ttl: int | None = None,
) -> V3App:
    """`POST /sim/v3`: change what is given (all checked first); ValueError when one is wrong.

    `subscribed` replaces the set and takes vehicle keys or ids.
    """
    app = app_of(sim)
    if auto_subscribe is not None and not isinstance(auto_subscribe, bool):
        raise ValueError("'auto_subscribe' must be true or false")
    vehicle_ids: set[str] | None = None
    if subscribed is not None:
        if not isinstance(subscribed, list) or not all(isinstance(v, str) for v in subscribed):
            raise ValueError("'subscribed' must be a list of vehicle ids")
        try:
            vehicle_ids = {sim.vehicle(v).id for v in subscribed}
        except KeyError as err:
            raise ValueError(f"unknown vehicle {err.args[0]}") from None
    delay = None if command_delay is None else _command_delay(command_delay)
    ttl = None if token_ttl is None else _token_ttl(token_ttl)
    if auto_subscribe is not None:
        app.auto_subscribe = auto_subscribe
    if vehicle_ids is not None:
        app.subscribed = vehicle_ids
    if delay is not None:
        app.command_delay = delay
    if ttl is not None:
        app.token_ttl = ttl
    return app


def subscribe(sim: Simulator, key_or_id: str) -> None:
    """Subscribe one vehicle (by key or id) to the application's webhook: its signals answer."""
    app_of(sim).subscribed.add(sim.vehicle(key_or_id).id)


def add_user(sim: Simulator, user_id: str, vehicle_keys_or_ids: list[str]) -> None:
    """Another user of the application, connected to these vehicles of the fleet."""
    for key in vehicle_keys_or_ids:
        sim.accounts.connect(user_id, sim.vehicle(key).id)
    sim.changed(urgent=True)


def _iso(timestamp: float) -> str:
    return isoformat_ms(datetime.fromtimestamp(timestamp, UTC))


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


# -- errors -------------------------------------------------------------------------------------


def error_body(err: SmartcarError, rid: str) -> dict[str, Any]:
    """The v3 error: the v2 fields (what Smartcar's SDKs read) plus `title`, `detail`, `status`."""
    body = err.body(rid)
    body["title"] = err.type.replace("_", " ").title()
    body["detail"] = body["description"]
    body["status"] = err.status_code
    return body


def error_response(request: web.Request, err: SmartcarError) -> web.Response:
    headers = {}
    if (retry_after := err.retry_after_header) is not None:
        headers["retry-after"] = retry_after
    return json_response(error_body(err, request_id(request)), err.status_code, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _v3_errors(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SmartcarError as err:
            return error_response(request, err)

    return wrapped


# -- IAM token endpoint -------------------------------------------------------------------------


def _oauth_error(error: str, description: str, status: int) -> web.Response:
    return json_response({"error": error, "error_description": description}, status)


async def token(request: web.Request) -> web.Response:
    """`POST /oauth2/token`: `grant_type=client_credentials`, JSON or form body (or Basic)."""
    sim = simulator(request)
    app = app_of(sim)
    params: dict[str, Any] = {}
    if request.content_type == "application/json":
        try:
            loaded = json.loads(await request.text() or "{}")
        except ValueError:
            return _oauth_error("invalid_request", "The body is not valid JSON.", 400)
        params = loaded if isinstance(loaded, dict) else {}
    else:
        params = {k: str(v) for k, v in (await request.post()).items()}
    grant_type = str(params.get("grant_type") or "")
    sim.meter.count_token(grant_type or "(missing)")
    fault = sim.faults.fire(["/oauth2/token", request.path], "POST")
    if fault is not None and (
        response := await apply_fault(request, fault, "/oauth2/token", oauth=True)
    ):
        return response
    if grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials.", 400)
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    if (basic := client_credentials(request)) is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        return _oauth_error("invalid_request", "client_id and client_secret are required.", 400)
    if client_id != app.client_id or client_secret != app.client_secret:
        return _oauth_error("invalid_client", "Invalid client credentials.", 401)
    return json_response(
        {"access_token": issue_app_token(sim), "token_type": "Bearer", "expires_in": app.token_ttl},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


# -- authentication -----------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _is_app_token(sim: Simulator, token: str | None) -> bool | None:
    """True: a live application token; False: an expired one; None: not an application token."""
    if token is None:
        return None
    expires_at = app_of(sim).tokens.get(token)
    if expires_at is None:
        return None
    return expires_at > sim.clock.timestamp()


def check_app_token(sim: Simulator, request: web.Request) -> None:
    """401 unless the request carries a live application token (management calls)."""
    is_app = _is_app_token(sim, _bearer(request))
    if is_app is None:
        raise errors.authentication("An application token is required.")
    if not is_app:
        raise errors.authentication("The application token has expired.")


def _user(sim: Simulator, request: web.Request) -> str:
    """The user a vehicle call acts for: `sc-user-id` with an app token, else the v2 token's."""
    token = _bearer(request)
    header = request.headers.get("sc-user-id", "").strip() or None
    is_app = _is_app_token(sim, token)
    if is_app:
        if header is None:
            raise SmartcarError(
                "VALIDATION", "MISSING_PARAMETER", "Missing required header sc-user-id (userId)."
            )
        if header not in sim.accounts.user_ids:
            raise errors.permission("The user has not connected a vehicle to this application.")
        return header
    grant = sim.tokens.authenticate(token) if token and is_app is None else None
    if grant is None:
        raise errors.authentication()
    if header is not None and header != grant.user_id:
        raise errors.permission("sc-user-id is not the user of this access token.")
    return grant.user_id


def _vehicle(sim: Simulator, request: web.Request) -> Vehicle:
    user = _user(sim, request)
    vehicle = sim.fleet.get(request.match_info["id"])
    if vehicle is None or not sim.accounts.has_vehicle(user, vehicle.id):
        raise errors.vehicle_not_found()
    _settle(sim, vehicle.id)
    return vehicle


def _check_subscribed(sim: Simulator, vehicle: Vehicle) -> None:
    """404 `SIGNALS_NOT_FOUND` for a car not subscribed to a webhook (auto-subscribe off)."""
    app = app_of(sim)
    if not app.auto_subscribe and vehicle.id not in app.subscribed:
        raise SmartcarError(
            "RESOURCE_NOT_FOUND",
            "SIGNALS_NOT_FOUND",
            "No signals are available for this vehicle.",
        )


def _check_rate(sim: Simulator, vehicle: Vehicle) -> None:
    retry_after = sim.meter.retry_after(vehicle.id, sim.clock.timestamp())
    if retry_after is not None:
        raise errors.rate_limited(retry_after)


def _bill(sim: Simulator, vehicle: Vehicle, key: str) -> None:
    sim.meter.bill(vehicle.id, [key], sim.clock.timestamp())


async def _fault(
    request: web.Request, sim: Simulator, short: str, vehicle: Vehicle | None
) -> tuple[web.Response | None, bool]:
    """(response to send or None, billed?) for a fault named `short`, `/v3<short>` or the path."""
    fault = sim.faults.fire(
        [short, "/v3" + short, request.path], request.method, vehicle.id if vehicle else None
    )
    if fault is None:
        return None, True
    return await apply_fault(request, fault, short), fault.billed


# -- vehicles and signals -----------------------------------------------------------------------


@_v3_errors
async def get_vehicle(request: web.Request) -> web.StreamResponse:
    """`GET /v3/vehicles/{id}` (not billed)."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    response, _ = await _fault(request, sim, "/vehicle", vehicle)
    if response is not None:
        return response
    return json_response({"data": signals.vehicle_resource(vehicle, _base(request))})


@_v3_errors
async def get_signals(request: web.Request) -> web.StreamResponse:
    """`GET /v3/vehicles/{id}/signals`: every signal the car has; billed once."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    _check_subscribed(sim, vehicle)
    _check_rate(sim, vehicle)
    billed = True
    try:
        response, billed = await _fault(request, sim, "/signals", vehicle)
        if response is not None:
            return response
        base, now = _base(request), sim.clock.now()
        data = [signals.signal_resource(vehicle, c, now, base) for c in signals.codes_of(vehicle)]
        return json_response(
            {
                "data": data,
                "meta": {"totalCount": len(data), "pageSize": len(data), "pageNumber": 1},
                "links": {"self": f"{base}{request.path}"},
                "included": {"vehicle": signals.vehicle_resource(vehicle, base)},
            }
        )
    finally:
        if billed:
            _bill(sim, vehicle, "GET /v3/signals")


@_v3_errors
async def get_one_signal(request: web.Request) -> web.StreamResponse:
    """`GET /v3/vehicles/{id}/signals/{code}`: billed once; a code the car lacks -> 501."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    _check_subscribed(sim, vehicle)
    code = request.match_info["code"].lower()
    if code not in signals.CODES:
        raise SmartcarError("RESOURCE_NOT_FOUND", "SIGNAL_NOT_FOUND", f"No signal {code}.")
    _check_rate(sim, vehicle)
    billed = True
    try:
        if code not in signals.codes_of(vehicle):
            raise errors.not_capable()
        response, billed = await _fault(request, sim, f"/signals/{code}", vehicle)
        if response is not None:
            return response
        base = _base(request)
        return json_response(
            {
                "data": signals.signal_resource(vehicle, code, sim.clock.now(), base),
                "included": {"vehicle": signals.vehicle_resource(vehicle, base)},
            }
        )
    finally:
        if billed:
            _bill(sim, vehicle, f"GET /v3/signals/{code}")


# -- commands -----------------------------------------------------------------------------------


def _attributes(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    return attributes if isinstance(attributes, dict) else {}


def _validate(command: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The command's parameters; 400 VALIDATION when they are wrong."""
    if command == "charge/set-limit":
        percent = attributes.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise errors.validation("data.attributes.percent must be a number.")
        if not 50 <= percent <= 100:
            raise errors.validation("data.attributes.percent must be between 50 and 100.")
        return {"percent": percent}
    if command == "navigation/set-destination":
        lat, lon = attributes.get("latitude"), attributes.get("longitude")
        return {"latitude": lat, "longitude": lon}
    return {}


def _run(sim: Simulator, execution: Execution, at: float) -> None:
    vehicle = sim.fleet[execution.vehicle_id]
    try:
        endpoints.execute_command(execution.v2_path, vehicle, execution.v2_body)
    except SmartcarError as err:
        execution.status = "FAILURE"
        execution.error = {"type": err.type, "code": err.code, "detail": err.description}
    except ValueError as err:
        execution.status = "FAILURE"
        execution.error = {"type": "VEHICLE_STATE", "code": None, "detail": str(err)}
    else:
        execution.status = "SUCCESS"
    execution.completed_at = at


def _settle(sim: Simulator, vehicle_id: str) -> None:
    """Complete the car's pending executions whose time has come."""
    now = sim.clock.timestamp()
    for execution in app_of(sim).executions.values():
        if (
            execution.vehicle_id == vehicle_id
            and execution.status == "PENDING"
            and execution.due_at <= now
        ):
            _run(sim, execution, execution.due_at)


@_v3_errors
async def post_command(request: web.Request) -> web.StreamResponse:
    """`POST /v3/vehicles/{id}/commands/<group>/<action>`: billed once."""
    sim = simulator(request)
    command = request.match_info["path"].strip("/")
    vehicle = _vehicle(sim, request)
    if command not in _COMMANDS:
        raise errors.path_not_found(f"/commands/{command}")
    command_type, v2_path, v2_body = _COMMANDS[command]
    _check_rate(sim, vehicle)
    billed = True
    try:
        endpoints.check_access(endpoints.COMMANDS[v2_path], vehicle, ALL_PERMISSIONS)
        try:
            raw = await request.json() if request.body_exists else None
        except ValueError:
            raw = None
        parameters = _validate(command, _attributes(raw))
        body = v2_body(parameters)
        endpoints.validate_command(v2_path, body)
        response, billed = await _fault(request, sim, f"/commands/{command}", vehicle)
        if response is not None:
            return response
        app = app_of(sim)
        now = sim.clock.timestamp()
        execution = Execution(
            id=f"exec_{uuid.uuid4().hex}",
            vehicle_id=vehicle.id,
            command_type=command_type,
            v2_path=v2_path,
            v2_body=body,
            parameters=parameters,
            executed_at=now,
            due_at=now + app.command_delay,
        )
        if app.command_delay <= 0:
            endpoints.execute_command(v2_path, vehicle, body)  # raises 409 when it cannot
            execution.status, execution.completed_at = "SUCCESS", now
            app.executions[execution.id] = execution
            return json_response(execution.as_json())
        app.executions[execution.id] = execution
        return json_response(execution.as_json(), status=202)
    finally:
        if billed:
            _bill(sim, vehicle, f"POST /v3/commands/{command}")


@_v3_errors
async def get_execution(request: web.Request) -> web.StreamResponse:
    """`GET /v3/vehicles/{id}/command-executions/{executionId}` (not billed)."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    execution = app_of(sim).executions.get(request.match_info["execution_id"])
    if execution is None or execution.vehicle_id != vehicle.id:
        raise SmartcarError("RESOURCE_NOT_FOUND", "EXECUTION_NOT_FOUND", "No such execution.")
    return json_response(execution.as_json())


@_v3_errors
async def unknown_vehicle_path(request: web.Request) -> web.StreamResponse:
    """Any other `/v3/vehicles/...` path: 404 in the v3 form."""
    raise errors.path_not_found(request.path)


# -- management: connections --------------------------------------------------------------------


def page_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.validation(f"{name} must be an integer.") from None
    if not 1 <= value <= maximum:
        raise errors.validation(f"{name} must be 1..{maximum}.")
    return value


def _connection_item(sim: Simulator, conn: Connection) -> dict[str, Any]:
    vehicle = sim.fleet.get(conn.vehicle_id)
    attrs = signals.vehicle_resource(vehicle, "")["attributes"] if vehicle else {}
    return {
        "id": conn.id,
        "type": "connection",
        "attributes": {
            "permissions": sorted(ALL_PERMISSIONS),
            "vehicle": attrs,
            "user": {"id": conn.user_id},
        },
        "relationships": {
            "vehicle": {"data": {"id": conn.vehicle_id, "type": "vehicle"}},
            "user": {"data": {"id": conn.user_id, "type": "user"}},
        },
        "meta": {"createdAt": _iso(conn.created), "updatedAt": _iso(conn.created)},
    }


async def list_connections(request: web.Request) -> web.StreamResponse:
    """`GET /v3/connections`: the JSON:API list for an application token, else `api.py`'s."""
    sim = simulator(request)
    is_app = _is_app_token(sim, _bearer(request))
    if is_app is None:
        return await api.list_connections(request)
    try:
        if not is_app:
            raise errors.authentication("The application token has expired.")
        number = page_param(request, "page[number]", 1, 1_000_000)
        size = page_param(request, "page[size]", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
        response, _ = await _fault(request, sim, "/connections", None)
        if response is not None:
            return response
    except SmartcarError as err:
        return error_response(request, err)
    user, vehicle = request.query.get("filter[userId]"), request.query.get("filter[vehicleId]")
    found = [
        c
        for c in sim.accounts.connections.values()
        if c.status == ACTIVE and user in (None, c.user_id) and vehicle in (None, c.vehicle_id)
    ]
    found.sort(key=lambda c: c.created, reverse=True)  # stable: ties keep creation order
    total = len(found)
    last = max(1, -(-total // size))
    base = f"{_base(request)}{request.path}"

    def link(page: int) -> str:
        query = dict(request.query)
        query["page[number]"] = str(page)
        query["page[size]"] = str(size)
        return f"{base}?" + "&".join(f"{k}={v}" for k, v in query.items())

    start = (number - 1) * size
    return json_response(
        {
            "data": [_connection_item(sim, c) for c in found[start : start + size]],
            "meta": {
                "pageNumber": number,
                "pageSize": size,
                "totalCount": total,
                "orderBy": "createdAt",
                "orderDirection": "DESC",
            },
            "links": {
                "self": link(number),
                "first": link(1),
                "last": link(last),
                "next": link(number + 1) if number < last else None,
                "prev": link(number - 1) if 1 < number <= last + 1 else None,
            },
        }
    )


def routes() -> list[web.RouteDef]:
    """The v3 routes (`GET /v3/connections` replaces api.py's, which it falls back to)."""
    return [
        web.post("/oauth2/token", token),
        web.get("/v3/connections", list_connections),
        web.get("/v3/vehicles/{id}", get_vehicle),
        web.get("/v3/vehicles/{id}/signals", get_signals),
        web.get("/v3/vehicles/{id}/signals/{code}", get_one_signal),
        web.post("/v3/vehicles/{id}/commands/{path:.+}", post_command),
        web.get("/v3/vehicles/{id}/command-executions/{execution_id}", get_execution),
        web.route("*", "/v3/vehicles/{tail:.*}", unknown_vehicle_path),
    ]
