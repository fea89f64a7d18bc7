"""Smartcar Connect and the token endpoint against the simulator (HTTP Basic client auth)."""

from __future__ import annotations

from html.parser import HTMLParser
import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from custom_components.smartcar.api import (
    DEFAULT_CONNECT_URL,
    Mode,
    Resolution,
    SmartcarAuthenticationError,
    SmartcarClient,
    SmartcarOAuth,
    SmartcarOAuthError,
    SmartcarResponseError,
    SmartcarServerError,
    SmartcarTimeoutError,
    StaticAuth,
    TokenSet,
    build_authorize_url,
    parse_token,
)
from smartcar_simulator import Simulator
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, USER_ID

from .conftest import REDIRECT_URI, http_requests

SCOPE = ["read_vehicle_info", "read_odometer", "control_security"]


class _Form(HTMLParser):
    """The consent form's fields (hidden inputs) and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}
        self.action: str | None = None
        self.cars: list[str] = []
        self._in_vehicles = False
        self._in_li = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = attr.get("action")
        elif tag == "input" and attr.get("type") == "hidden":
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "button":
            self.buttons[attr["id"]] = (attr["name"], attr["value"])
        elif tag == "ul":
            self._in_vehicles = attr.get("id") == "vehicles"
        elif tag == "li" and self._in_vehicles:
            self._in_li = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._in_li = False
        elif tag == "ul":
            self._in_vehicles = False

    def handle_data(self, data: str) -> None:
        if self._in_li:
            self.cars.append(data)


async def _connect(
    session: aiohttp.ClientSession, sim_url: str, button: str = "approve", state: str = "s-123"
) -> dict[str, list[str]]:
    """Go through Connect like a browser; return the redirect's query (without following it)."""
    url = build_authorize_url(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        scope=SCOPE,
        state=state,
        mode=Mode.SIMULATED,
        approval_prompt="force",
        connect_url=f"{sim_url}/oauth/authorize",
    )
    async with session.get(url) as response:
        assert response.status == 200
        page = await response.text()
    form = _Form()
    form.feed(page)
    assert form.action == "/oauth/authorize"
    assert form.cars == ["Tesla Model 3 2023", "Toyota RAV4 Prime 2022", "Ford Focus 2019"]
    assert form.fields["scope"] == " ".join(SCOPE)
    assert form.fields["redirect_uri"] == REDIRECT_URI
    assert form.fields["mode"] == "simulated"
    name, value = form.buttons[button]
    async with session.post(
        f"{sim_url}{form.action}", data={**form.fields, name: value}, allow_redirects=False
    ) as response:
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


# -- Connect URL ------------------------------------------------------------------------------


def test_build_authorize_url() -> None:
    """Every Connect parameter, URL-encoded, on the default Connect URL."""
    url = build_authorize_url(
        client_id="my-client",
        redirect_uri="https://example.com/cb?x=1",
        scope=["read_vehicle_info", "read_battery"],
        state="st&te",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == DEFAULT_CONNECT_URL
    assert parse_qs(parts.query, keep_blank_values=True) == {
        "response_type": ["code"],
        "client_id": ["my-client"],
        "redirect_uri": ["https://example.com/cb?x=1"],
        "scope": ["read_vehicle_info read_battery"],
        "state": ["st&te"],
        "mode": ["live"],
        "approval_prompt": ["auto"],
    }


def test_build_authorize_url_on_a_url_with_query() -> None:
    """A Connect URL that already has a query gets `&`, and a mode given as text works."""
    url = build_authorize_url(
        client_id="c",
        redirect_uri="r",
        scope=(),
        state="s",
        mode="simulated",  # type: ignore[arg-type]
        approval_prompt="force",
        connect_url="http://127.0.0.1:1/oauth/authorize?flavor=test",
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    assert query["flavor"] == ["test"]
    assert query["mode"] == ["simulated"]
    assert query["approval_prompt"] == ["force"]
    assert query["scope"] == [""]
    assert url.count("?") == 1


def test_build_authorize_url_rejects_unknown_mode() -> None:
    """Only live and simulated exist."""
    with pytest.raises(ValueError, match="not a valid Mode"):
        build_authorize_url(
            client_id="c",
            redirect_uri="r",
            scope=[],
            state="s",
            mode="test",  # type: ignore[arg-type]
        )


# -- the full Connect flow ------------------------------------------------------------------------


async def test_connect_flow(
    session: aiohttp.ClientSession, sim_url: str, simulator: Simulator, oauth: SmartcarOAuth
) -> None:
    """Consent page, approve, code from the redirect, code exchange, then API calls."""
    query = await _connect(session, sim_url)
    assert query["state"] == ["s-123"]
    code = query["code"][0]
    tokens = await oauth.async_exchange_code(code, REDIRECT_URI)
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in == 7200.0
    assert tokens.refresh_expires_in == 5184000.0
    assert tokens.access_token != tokens.refresh_token
    assert {"access_token", "refresh_token", "expiration"} <= set(tokens.raw)
    assert simulator.counters["token_requests"] == {"authorization_code": 1}

    client = SmartcarClient(
        session,
        StaticAuth(tokens.access_token),
        api_url=f"{sim_url}/v2.0",
        management_url=f"{sim_url}/v3",
    )
    assert (await client.async_get_user()).id == USER_ID
    assert await client.async_get_permissions(EV_ID) == frozenset(SCOPE)
    assert (await client.async_get_attributes(EV_ID)).vin is None  # read_vin not asked

    # A code is single use.
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_exchange_code(code, REDIRECT_URI)
    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")


async def test_connect_code_needs_the_same_redirect_uri(
    session: aiohttp.ClientSession, sim_url: str, oauth: SmartcarOAuth
) -> None:
    """The redirect_uri of the exchange must be the one of the authorization."""
    code = (await _connect(session, sim_url))["code"][0]
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_exchange_code(code, "https://elsewhere.example/cb")
    assert caught.value.error == "invalid_grant"


async def test_connect_deny(session: aiohttp.ClientSession, sim_url: str) -> None:
    """Deny redirects with access_denied and the state, and no code."""
    query = await _connect(session, sim_url, button="deny", state="xyz")
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert "code" not in query


async def test_code_expires(
    session: aiohttp.ClientSession, sim_url: str, simulator: Simulator, oauth: SmartcarOAuth
) -> None:
    """A code is worth 10 minutes of virtual time."""
    code = (await _connect(session, sim_url))["code"][0]
    simulator.clock.advance(601)
    with pytest.raises(SmartcarOAuthError, match="invalid_grant"):
        await oauth.async_exchange_code(code, REDIRECT_URI)


# -- refresh ---------------------------------------------------------------------------------


async def test_refresh_rotates_with_grace_window(
    simulator: Simulator, oauth: SmartcarOAuth, session: aiohttp.ClientSession, sim_url: str
) -> None:
    """Each refresh rotates the refresh token; the old one works for 60 s, then invalid_grant."""
    first = simulator.issue_tokens()
    second = await oauth.async_refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.expires_in == 7200.0

    client = SmartcarClient(session, StaticAuth(second.access_token), api_url=f"{sim_url}/v2.0")
    assert (await client.async_get_user()).id == USER_ID

    simulator.clock.advance(59)
    again = await oauth.async_refresh(first.refresh_token)  # within the grace window
    assert again.refresh_token not in {first.refresh_token, second.refresh_token}

    simulator.clock.advance(2)  # 61 s after the first use
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_refresh(first.refresh_token)
    err = caught.value
    assert isinstance(err, SmartcarAuthenticationError)
    assert (err.status, err.error, err.code) == (400, "invalid_grant", "invalid_grant")
    assert err.type == "AUTHENTICATION"
    assert err.resolution is Resolution.REAUTHENTICATE
    assert err.description
    assert first.refresh_token not in str(err)

    # The rotated token still works.
    third = await oauth.async_refresh(second.refresh_token)
    assert third.refresh_token != second.refresh_token
    assert simulator.counters["token_requests"] == {"refresh_token": 4}


async def test_refresh_unknown_token(oauth: SmartcarOAuth) -> None:
    """An unknown refresh token is invalid_grant."""
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_refresh("never-issued")
    assert caught.value.error == "invalid_grant"


@pytest.mark.parametrize(
    ("client_id", "client_secret"),
    [(CLIENT_ID, "wrong-secret"), ("wrong-client", CLIENT_SECRET)],
)
async def test_wrong_client_credentials(
    session: aiohttp.ClientSession,
    sim_url: str,
    simulator: Simulator,
    client_id: str,
    client_secret: str,
) -> None:
    """Wrong client credentials: 401 invalid_client; the secret is not in the message."""
    oauth = SmartcarOAuth(
        session,
        client_id=client_id,
        client_secret=client_secret,
        token_url=f"{sim_url}/oauth/token",
    )
    refresh_token = simulator.issue_tokens().refresh_token
    with pytest.raises(SmartcarOAuthError) as caught:
        await oauth.async_refresh(refresh_token)
    err = caught.value
    assert (err.status, err.error) == (401, "invalid_client")
    assert err.description
    for secret in (client_secret, CLIENT_SECRET, refresh_token):
        assert secret not in str(err)
        assert secret not in repr(err)
    assert http_requests(simulator) == {"POST /oauth/token": 1}


async def test_token_endpoint_faults(
    simulator: Simulator, oauth: SmartcarOAuth, sim_url: str, session: aiohttp.ClientSession
) -> None:
    """Server error, OAuth error, captive portal, broken answer and timeout on the token endpoint."""
    refresh_token = simulator.issue_tokens().refresh_token

    simulator.inject_fault(path="/oauth/token", error={"type": "SERVER", "status": 500}, count=1)
    with pytest.raises(SmartcarServerError) as server:
        await oauth.async_refresh(refresh_token)
    assert server.value.status == 500

    simulator.inject_fault(
        path="/oauth/token",
        error={"type": "VALIDATION", "code": "invalid_request", "status": 400},
        count=1,
    )
    with pytest.raises(SmartcarOAuthError) as oauth_error:
        await oauth.async_refresh(refresh_token)
    assert oauth_error.value.error == "invalid_request"

    simulator.inject_fault(path="/oauth/token", kind="non_json", count=1)
    with pytest.raises(SmartcarResponseError, match="not JSON"):
        await oauth.async_refresh(refresh_token)

    simulator.inject_fault(path="/oauth/token", kind="malformed", count=1)
    with pytest.raises(SmartcarResponseError, match="tokens missing"):
        await oauth.async_refresh(refresh_token)

    simulator.inject_fault(path="/oauth/token", kind="slow", delay=600, count=1)
    impatient = SmartcarOAuth(
        session,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_url=f"{sim_url}/oauth/token",
        timeout=0.2,
    )
    with pytest.raises(SmartcarTimeoutError, match="token endpoint"):
        await impatient.async_refresh(refresh_token)

    # The refresh token was never used by those failed attempts.
    assert (await oauth.async_refresh(refresh_token)).refresh_token != refresh_token


# -- TokenSet and parse_token ------------------------------------------------------------------


def test_tokenset_repr_hides_tokens() -> None:
    """repr() and str() of a TokenSet show no token (not even inside raw)."""
    body = {
        "access_token": "AT-very-secret",
        "refresh_token": "RT-very-secret",
        "expires_in": 7200,
        "token_type": "Bearer",
    }
    tokens = parse_token(body)
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert "AT-very-secret" not in text
        assert "RT-very-secret" not in text
    assert repr(tokens) == "TokenSet(expires_in=7200.0)"
    assert tokens.raw == body
    assert tokens.refresh_expires_in is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "not a JSON object"),
        (["access_token"], "not a JSON object"),
        ({"refresh_token": "r", "expires_in": 1}, "tokens missing"),
        ({"access_token": "a", "refresh_token": "", "expires_in": 1}, "tokens missing"),
        ({"access_token": "a", "refresh_token": 5, "expires_in": 1}, "tokens missing"),
        ({"access_token": "a", "refresh_token": "r"}, "expires_in missing"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": True}, "expires_in missing"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": "7200"}, "expires_in"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": math.nan}, "expires_in"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": math.inf}, "expires_in"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": -5}, "expires_in"),
        ({"access_token": "a", "refresh_token": "r", "expires_in": 10**400}, "expires_in"),
    ],
)
def test_parse_token_rejects(body: Any, message: str) -> None:
    """Anything but two tokens and a usable lifetime is a SmartcarResponseError."""
    with pytest.raises(SmartcarResponseError, match=message):
        parse_token(body)


@pytest.mark.parametrize(
    ("refresh_expires_in", "expected"),
    [(5184000, 5184000.0), (1.5, 1.5), (True, None), ("60", None), (math.inf, None), (None, None)],
)
def test_parse_token_refresh_lifetime(refresh_expires_in: Any, expected: float | None) -> None:
    """refresh_expires_in is optional and only a finite number counts."""
    tokens = parse_token(
        {
            "access_token": "a",
            "refresh_token": "r",
            "expires_in": 3600.5,
            "refresh_expires_in": refresh_expires_in,
            "token_type": None,
        }
    )
    assert tokens.refresh_expires_in == expected
    assert tokens.expires_in == 3600.5
    assert tokens.token_type == "Bearer"
    assert isinstance(tokens, TokenSet)
