"""Fixtures for the API client tests: a session, clients on the simulator, and a stub server.

The simulator is the main counterpart. The stub server (`stub`) answers canned responses for the
few shapes the simulator never produces (missing paging, odd batch items, broken charsets, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
import json
import socket
from typing import Any
import uuid

import aiohttp
from aiohttp import web
import pytest

from custom_components.smartcar.api import (
    AbstractAuth,
    ApplicationTokenAuth,
    BatchResult,
    Signal,
    SignalReading,
    SmartcarClient,
    SmartcarOAuth,
    SmartcarV3Client,
    StaticAuth,
    UnitSystem,
)
from smartcar_simulator import Simulator, SimulatorServer, v3 as sim_v3
from tests.const import CLIENT_ID, CLIENT_SECRET, EV_ID, PETROL_ID, PHEV_ID, USER_ID

VEHICLE_IDS = [EV_ID, PHEV_ID, PETROL_ID]
REDIRECT_URI = "https://my.home-assistant.io/redirect/oauth"

ClientFactory = Callable[..., SmartcarClient]


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    """A real aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_client(
    simulator: Simulator, sim_url: str, session: aiohttp.ClientSession
) -> ClientFactory:
    """Build a client on the simulator: `make_client(scope=..., unit_system=..., timeout=...)`."""

    def build(
        *,
        scope: list[str] | None = None,
        token: str | None = None,
        unit_system: UnitSystem = UnitSystem.METRIC,
        timeout: float = 10.0,
        base_url: str | None = None,
    ) -> SmartcarClient:
        if token is None:
            token = simulator.issue_tokens(scope).access_token
        base = base_url or sim_url
        return SmartcarClient(
            session,
            StaticAuth(token),
            api_url=f"{base}/v2.0/",
            management_url=f"{base}/v3",
            unit_system=unit_system,
            timeout=timeout,
        )

    return build


@pytest.fixture
def client(make_client: ClientFactory) -> SmartcarClient:
    """A metric client whose token has every permission."""
    return make_client()


@pytest.fixture
def oauth(sim_url: str, session: aiohttp.ClientSession) -> SmartcarOAuth:
    """The token endpoint client with the simulator's app credentials."""
    return SmartcarOAuth(
        session,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_url=f"{sim_url}/oauth/token",
    )


async def read[R](client: SmartcarClient, vehicle_id: str, signal: Signal, kind: type[R]) -> R:
    """One signal the way the integration reads it (`POST /batch`): the reading, or its error."""
    item = (await client.async_batch(vehicle_id, [signal])).results[signal]
    if item.error is not None:
        raise item.error
    assert isinstance(item.reading, kind)
    return item.reading


def batch_readings(result: BatchResult) -> dict[Signal, SignalReading]:
    """The readings of a batch that succeeded."""
    return {s: r.reading for s, r in result.results.items() if r.reading is not None}


def batch_errors(result: BatchResult) -> dict[Signal, Exception]:
    """The signals of a batch that failed, and why."""
    return {s: r.error for s, r in result.results.items() if r.error is not None}


def is_uuid(value: str | None) -> bool:
    """Whether `value` is a UUID (as Smartcar's request ids are)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def http_requests(simulator: Simulator) -> dict[str, int]:
    """Every HTTP request the simulator saw (API, OAuth), by "METHOD /path/template"."""
    return dict(simulator.counters["http_requests"])


def billed(simulator: Simulator, vehicle_id: str) -> dict[str, int]:
    """The billed requests of one vehicle, by "METHOD /path"."""
    return dict(simulator.counters["billed"].get(vehicle_id, {}).get("by_path", {}))


@pytest.fixture
async def serve() -> AsyncGenerator[Callable[[Simulator], Awaitable[str]]]:
    """Serve another simulator (e.g. a bigger fleet) for the test; returns its URL."""
    servers: list[SimulatorServer] = []

    async def start(sim: Simulator) -> str:
        server = SimulatorServer(sim, host="127.0.0.1", port=0)
        await server.start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        await server.stop()


# -- a stub HTTP server with canned answers ---------------------------------------------------


@dataclass
class Canned:
    """One canned answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class StubServer:
    """Answers `(method, path)` with queued canned responses (the last one repeats)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], list[Canned]] = {}
        self.requests: list[Seen] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def add(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        text: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        delay: float = 0.0,
    ) -> None:
        """Queue an answer: `body` as JSON, or `text`, or `raw` bytes (empty when none)."""
        if raw is not None:
            data = raw
        elif text is not None:
            data = text.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        else:
            data = b""
        self._answers.setdefault((method.upper(), path), []).append(
            Canned(status, data, {"Content-Type": content_type, **(headers or {})}, delay)
        )

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        queue = self._answers.get((request.method, request.path))
        if not queue:
            return web.Response(status=599, text="no canned answer")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)

    async def start(self) -> None:
        """Serve on 127.0.0.1, a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def stub(socket_enabled: None) -> AsyncGenerator[StubServer]:
    """A running stub server."""
    server = StubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def stub_client(stub: StubServer, session: aiohttp.ClientSession) -> SmartcarClient:
    """A client whose API and management URLs point at the stub."""
    return SmartcarClient(
        session,
        StaticAuth("stub-access-token"),
        api_url=f"{stub.url}/v2.0",
        management_url=f"{stub.url}/v3",
        timeout=5.0,
    )


@pytest.fixture
def closed_port(socket_enabled: None) -> int:
    """A port on 127.0.0.1 nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- API v3 ------------------------------------------------------------------------------------

V3ClientFactory = Callable[..., SmartcarV3Client]


@pytest.fixture
def make_v3_client(
    simulator: Simulator, sim_url: str, session: aiohttp.ClientSession
) -> V3ClientFactory:
    """A v3 client on the simulator: `make_v3_client(user_id=..., unit_system=..., auth=...)`.

    Its `ApplicationTokenAuth` (the default) reads the simulator's virtual clock.
    """

    def build(
        *,
        user_id: str = USER_ID,
        auth: AbstractAuth | None = None,
        unit_system: UnitSystem = UnitSystem.METRIC,
        command_poll_interval: float = 0.01,
        command_timeout: float = 10.0,
        timeout: float = 10.0,
    ) -> SmartcarV3Client:
        if auth is None:
            auth = make_v3_auth(simulator, sim_url, session)
        return SmartcarV3Client(
            session,
            auth,
            user_id=user_id,
            api_url=f"{sim_url}/v3",
            management_url=f"{sim_url}/v3",
            unit_system=unit_system,
            timeout=timeout,
            command_poll_interval=command_poll_interval,
            command_timeout=command_timeout,
        )

    return build


def make_v3_auth(
    simulator: Simulator,
    sim_url: str,
    session: aiohttp.ClientSession,
    *,
    client_secret: str | None = None,
    margin: float = 300.0,
) -> ApplicationTokenAuth:
    """The application token source of the simulator's v3 application."""
    app = sim_v3.app_of(simulator)
    return ApplicationTokenAuth(
        session,
        client_id=app.client_id,
        client_secret=app.client_secret if client_secret is None else client_secret,
        iam_url=f"{sim_url}/oauth2/token",
        clock=simulator.clock.timestamp,
        margin=margin,
    )


@pytest.fixture
def v3_client(make_v3_client: V3ClientFactory) -> SmartcarV3Client:
    """A metric v3 client for the simulator's user."""
    return make_v3_client()


@pytest.fixture
def v3_stub_client(stub: StubServer, session: aiohttp.ClientSession) -> SmartcarV3Client:
    """A v3 client whose vehicle and management URLs point at the stub (a fixed token)."""
    return SmartcarV3Client(
        session,
        StaticAuth("stub-app-token"),
        user_id=USER_ID,
        api_url=f"{stub.url}/v3",
        management_url=f"{stub.url}/v3",
        timeout=5.0,
        command_poll_interval=0.01,
        command_timeout=5.0,
    )


def v3_signal(
    code: str,
    body: Any = None,
    *,
    error: dict[str, Any] | None = None,
    updated: str = "2026-11-02T07:55:00.000Z",
    retrieved: str = "2026-11-02T08:00:00.000Z",
) -> dict[str, Any]:
    """One v3 signal resource as `GET /signals` lists it (ERROR when `error` is given)."""
    attributes: dict[str, Any] = {"code": code, "name": code, "group": code.partition("-")[0]}
    if error is not None:
        attributes["status"] = {"value": "ERROR", "error": error}
    else:
        attributes["status"] = {"value": "SUCCESS"}
    if body is not None:
        attributes["body"] = body
    return {
        "id": code,
        "type": "signal",
        "attributes": attributes,
        "meta": {"oemUpdatedAt": updated, "retrievedAt": retrieved},
    }


def v3_signals(*items: dict[str, Any]) -> dict[str, Any]:
    """A `GET /signals` answer holding these signals."""
    return {
        "data": list(items),
        "meta": {"totalCount": len(items), "pageSize": len(items), "pageNumber": 1},
    }
