"""`/sim` control endpoints (no auth): thin wrappers around Simulator methods."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import v3
from .faults import FaultSpec
from .httputil import json_response, read_json, simulator
from .simulator import Simulator
from .vehicles import Vehicle


def _bad(message: str, status: int = 400) -> web.Response:
    return json_response({"error": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "the body must be a JSON object"}', content_type="application/json"
        )
    return body


def _vehicle(sim: Simulator, request: web.Request) -> Vehicle:
    try:
        return sim.vehicle(request.match_info["id"])
    except KeyError:
        raise web.HTTPNotFound(
            text='{"error": "unknown vehicle"}', content_type="application/json"
        ) from None


async def get_state(request: web.Request) -> web.Response:
    """`GET /sim/state`."""
    return json_response(simulator(request).state())


async def get_vehicle(request: web.Request) -> web.Response:
    """`GET /sim/vehicles/{id}` (id or key)."""
    return json_response(_vehicle(simulator(request), request).as_dict())


async def vehicle_action(request: web.Request) -> web.Response:
    """`POST /sim/vehicles/{id}/actions` `{"action": plug|unplug|drive|park|set, ...}`."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    body = await _body(request)
    action = body.get("action")
    if not isinstance(action, str):
        return _bad("'action' is required")
    try:
        sim.vehicle_action(vehicle.id, action, body)
    except ValueError as err:
        return _bad(str(err))
    return json_response(vehicle.as_dict())


async def deny_permissions(request: web.Request) -> web.Response:
    """`POST /sim/vehicles/{id}/permissions` `{"deny": [...]}`."""
    sim = simulator(request)
    vehicle = _vehicle(sim, request)
    deny = (await _body(request)).get("deny", [])
    if not isinstance(deny, list) or not all(isinstance(p, str) for p in deny):
        return _bad("'deny' must be a list of permission names")
    return json_response(
        {"vehicle_id": vehicle.id, "denied": sorted(sim.deny_permissions(vehicle.id, deny))}
    )


async def get_clock(request: web.Request) -> web.Response:
    """`GET /sim/clock`."""
    return json_response(simulator(request).clock.as_dict())


async def set_clock(request: web.Request) -> web.Response:
    """`POST /sim/clock` `{"advance": seconds}` or `{"set": iso}`."""
    sim = simulator(request)
    body = await _body(request)
    advance, at = body.get("advance"), body.get("set")
    if advance is None and at is None:
        return _bad("give 'advance' (seconds) or 'set' (ISO time)")
    if advance is not None and (
        isinstance(advance, bool) or not isinstance(advance, int | float) or advance < 0
    ):
        return _bad("'advance' must be a non-negative number of seconds")
    if at is not None and not isinstance(at, str):
        return _bad("'set' must be an ISO 8601 time")
    try:
        sim.set_clock(advance=advance, at=at)
    except ValueError as err:
        return _bad(str(err))
    return json_response(sim.clock.as_dict())


async def get_counters(request: web.Request) -> web.Response:
    """`GET /sim/counters`."""
    return json_response(simulator(request).counters)


async def reset_counters(request: web.Request) -> web.Response:
    """`POST /sim/counters/reset`."""
    sim = simulator(request)
    sim.reset_counters()
    return json_response(sim.counters)


async def list_faults(request: web.Request) -> web.Response:
    """`GET /sim/faults`."""
    return json_response({"faults": [f.as_json() for f in simulator(request).faults.list()]})


async def add_fault(request: web.Request) -> web.Response:
    """`POST /sim/faults` (see the contract for the fields)."""
    sim = simulator(request)
    body = await _body(request)
    allowed = {"vehicle_id", *FaultSpec.__optional_keys__}
    if unknown := set(body) - allowed:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        fault = sim.inject_fault(**body)
    except KeyError:
        return _bad("unknown vehicle", 404)
    except (TypeError, ValueError) as err:
        return _bad(str(err))
    return json_response(fault.as_json(), 201)


async def clear_faults(request: web.Request) -> web.Response:
    """`DELETE /sim/faults`."""
    simulator(request).clear_faults()
    return json_response({"faults": []})


async def delete_fault(request: web.Request) -> web.Response:
    """`DELETE /sim/faults/{id}`."""
    if not simulator(request).faults.remove(request.match_info["id"]):
        return _bad("unknown fault", 404)
    return json_response({"deleted": request.match_info["id"]})


async def revoke_tokens(request: web.Request) -> web.Response:
    """`POST /sim/tokens/revoke` (optionally `{"user_id"}`)."""
    sim = simulator(request)
    user_id = (await _body(request)).get("user_id")
    if user_id is not None and not isinstance(user_id, str):
        return _bad("'user_id' must be a string")
    return json_response({"revoked": sim.revoke_tokens(user_id)})


async def issue_tokens(request: web.Request) -> web.Response:
    """`POST /sim/tokens` (optionally `{"scope": [...] | "a b"}`): tokens without OAuth."""
    sim = simulator(request)
    scope = (await _body(request)).get("scope")
    if scope is not None and not (
        isinstance(scope, str)
        or (isinstance(scope, list) and all(isinstance(p, str) for p in scope))
    ):
        return _bad("'scope' must be a string or a list of permission names")
    return json_response(sim.issue_tokens(scope).as_response())


async def get_v2(request: web.Request) -> web.Response:
    """`GET /sim/v2` -> `{"retired": bool}`."""
    return json_response({"retired": simulator(request).v2_retired})


async def set_v2(request: web.Request) -> web.Response:
    """`POST /sim/v2` `{"retired": bool}`: retire API v2.0 (every /v2.0 request answers 410)."""
    sim = simulator(request)
    body = await _body(request)
    if unknown := set(body) - {"retired"}:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    retired = body.get("retired")
    if not isinstance(retired, bool):
        return _bad("'retired' must be true or false")
    sim.v2_retired = retired
    return json_response({"retired": sim.v2_retired})


V3_FIELDS = frozenset({"auto_subscribe", "subscribed", "command_delay", "token_ttl"})


async def get_v3(request: web.Request) -> web.Response:
    """`GET /sim/v3`: the v3 application's switches (never its client secret)."""
    return json_response(v3.settings(simulator(request)))


async def set_v3(request: web.Request) -> web.Response:
    """`POST /sim/v3` `{"auto_subscribe"?, "subscribed"?, "command_delay"?, "token_ttl"?}`."""
    sim = simulator(request)
    body = await _body(request)
    if unknown := set(body) - V3_FIELDS:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        v3.configure(sim, **body)
    except ValueError as err:
        return _bad(str(err))
    return json_response(v3.settings(sim))


def routes() -> list[web.RouteDef]:
    """The /sim routes."""
    return [
        web.get("/sim/state", get_state),
        web.get("/sim/vehicles/{id}", get_vehicle),
        web.post("/sim/vehicles/{id}/actions", vehicle_action),
        web.post("/sim/vehicles/{id}/permissions", deny_permissions),
        web.get("/sim/clock", get_clock),
        web.post("/sim/clock", set_clock),
        web.get("/sim/counters", get_counters),
        web.post("/sim/counters/reset", reset_counters),
        web.get("/sim/faults", list_faults),
        web.post("/sim/faults", add_fault),
        web.delete("/sim/faults", clear_faults),
        web.delete("/sim/faults/{id}", delete_fault),
        web.post("/sim/tokens/revoke", revoke_tokens),
        web.post("/sim/tokens", issue_tokens),
        web.get("/sim/v2", get_v2),
        web.post("/sim/v2", set_v2),
        web.get("/sim/v3", get_v3),
        web.post("/sim/v3", set_v3),
    ]
