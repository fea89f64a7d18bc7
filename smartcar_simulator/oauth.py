"""Smartcar Connect (consent page) and the OAuth token endpoint."""

from __future__ import annotations

from collections.abc import Mapping
import html
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from . import v3
from .httputil import apply_fault, client_credentials, json_response, simulator
from .simulator import Simulator
from .tokens import PERMISSIONS, OAuthError, parse_scope

_QUERY_FIELDS: Final = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "mode",
    "approval_prompt",
)
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:2em auto}}
button{{font-size:1.1em;padding:.4em 1.2em;margin-right:.5em}}</style></head>
<body>
{content}
</body>
</html>
"""


def _page(title: str, content: str, status: int = 200) -> web.Response:
    return web.Response(
        text=_PAGE.format(title=html.escape(title), content=content),
        status=status,
        content_type="text/html",
    )


def _error_page(message: str) -> web.Response:
    return _page(
        "Smartcar Connect - error",
        f'<h1>Something went wrong</h1><p id="error">{html.escape(message)}</p>',
        400,
    )


def _check_request(sim: Simulator, params: Mapping[str, str]) -> str | None:
    """An error message when the authorize parameters are unusable, else None."""
    client_id = params.get("client_id", "")
    if not sim.check_client(client_id) and client_id != v3.app_of(sim).application_id:
        return "Invalid client_id: this application is not registered."
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        return "Missing redirect_uri."
    if urlsplit(redirect_uri).scheme not in {"http", "https"} and ":" not in redirect_uri:
        return "Invalid redirect_uri."
    if params.get("response_type", "code") != "code":
        return "Invalid response_type: only 'code' is supported."
    if not parse_scope(params.get("scope", "")):
        return "Invalid scope: ask for at least one known permission."
    return None


async def _fault(
    request: web.Request, sim: Simulator, path: str, method: str
) -> web.Response | None:
    """What an injected fault on this OAuth endpoint answers instead, if one fires."""
    if (fault := sim.faults.fire([path], method)) is None:
        return None
    return await apply_fault(request, fault, path, oauth=True)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def authorize_page(request: web.Request) -> web.Response:
    """`GET /oauth/authorize`: the consent page."""
    sim = simulator(request)
    params = {k: request.query[k] for k in _QUERY_FIELDS if k in request.query}
    if (response := await _fault(request, sim, "/oauth/authorize", "GET")) is not None:
        return response
    if (problem := _check_request(sim, params)) is not None:
        return _error_page(problem)
    permissions = sorted(parse_scope(params.get("scope", "")))
    cars = "".join(
        f"<li>{html.escape(spec.make)} {html.escape(spec.model)} {spec.year}</li>"
        for spec in (
            sim.vehicle(vid).spec for vid in sim.accounts.vehicles_of(sim.user_id, everyone=True)
        )
    )
    asked = "".join(
        f'<li data-permission="{p}">{html.escape(PERMISSIONS[p])} <code>{p}</code></li>'
        for p in permissions
    )
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
        for k, v in params.items()
    )
    mode = html.escape(params.get("mode", "live"))
    content = (
        f"<h1>{html.escape(sim.app_name)} wants to access your vehicles</h1>"
        f'<p>Mode: <span id="mode">{mode}</span></p>'
        f'<h2>Vehicles</h2><ul id="vehicles">{cars}</ul>'
        f'<h2>Permissions</h2><ul id="permissions">{asked}</ul>'
        f'<form method="post" action="/oauth/authorize">{hidden}'
        '<button id="approve" name="action" value="approve">Approve</button>'
        '<button id="deny" name="action" value="deny">Deny</button>'
        "</form>"
    )
    return _page("Smartcar Connect", content)


async def authorize_submit(request: web.Request) -> web.Response:
    """`POST /oauth/authorize`: approve -> code, deny -> access_denied; both redirect."""
    sim = simulator(request)
    form = await request.post()
    params = {k: str(form[k]) for k in (*_QUERY_FIELDS, "action") if k in form}
    if (response := await _fault(request, sim, "/oauth/authorize", "POST")) is not None:
        return response
    if (problem := _check_request(sim, params)) is not None:
        return _error_page(problem)
    redirect_uri = params["redirect_uri"]
    extra = {"state": params["state"]} if "state" in params else {}
    action = params.get("action")
    if action == "approve":
        sim.accounts.reconnect(sim.user_id)
        code = sim.tokens.create_code(
            params["client_id"], redirect_uri, sim.user_id, parse_scope(params["scope"])
        )
        sim.changed(urgent=True)
        if params["client_id"] == v3.app_of(sim).application_id:
            # A v3 application (its Application ID as client_id) learns the user id.
            extra = {"user_id": sim.user_id, **extra}
        location = _with_query(redirect_uri, {"code": code, **extra})
    elif action == "deny":
        location = _with_query(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "User denied access to application.",
                **extra,
            },
        )
    else:
        return _error_page("Choose Approve or Deny.")
    raise web.HTTPFound(location)


def _token_error(error: OAuthError) -> web.Response:
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Smartcar"'
    return json_response(error.body(), error.status, headers)


async def token(request: web.Request) -> web.Response:
    """`POST /oauth/token`: authorization_code and refresh_token grants, Basic client auth."""
    sim = simulator(request)
    form = await request.post()
    grant_type = str(form.get("grant_type", ""))
    sim.meter.count_token(grant_type or "(missing)")
    if (response := await _fault(request, sim, "/oauth/token", "POST")) is not None:
        return response
    credentials = client_credentials(request)
    if credentials is None or not sim.check_client(*credentials):
        return _token_error(
            OAuthError(
                "invalid_client",
                "Invalid or missing client credentials (HTTP Basic authentication).",
                401,
            )
        )
    client_id = credentials[0]
    try:
        if grant_type == "authorization_code":
            code = str(form.get("code", ""))
            redirect_uri = str(form.get("redirect_uri", ""))
            if not code or not redirect_uri:
                raise OAuthError("invalid_request", "code and redirect_uri are required.")
            tokens = sim.tokens.exchange_code(client_id, code, redirect_uri)
        elif grant_type == "refresh_token":
            refresh_token = str(form.get("refresh_token", ""))
            if not refresh_token:
                raise OAuthError("invalid_request", "refresh_token is required.")
            tokens = sim.tokens.refresh(client_id, refresh_token)
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )
    except OAuthError as err:
        return _token_error(err)
    sim.changed(urgent=True)
    return json_response(tokens.as_response(), headers=dict(_NO_STORE))


def routes() -> list[web.RouteDef]:
    """The /oauth routes."""
    return [
        web.get("/oauth/authorize", authorize_page),
        web.post("/oauth/authorize", authorize_submit),
        web.post("/oauth/token", token),
    ]
