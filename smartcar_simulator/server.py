"""The aiohttp application and `SimulatorServer` (loopback only)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import ipaddress
import re
from types import TracebackType
from typing import Final, Self
import uuid

from aiohttp import web

from . import api, control, errors, oauth, v3, webhooks
from .errors import SmartcarError
from .httputil import REQUEST_ID, SIMULATOR, error_response
from .simulator import Simulator

_TEMPLATES: Final = (
    (re.compile(r"^/v2\.0/vehicles/[^/]+"), "/v2.0/vehicles/{id}"),
    (re.compile(r"^/v3/connections/[^/]+"), "/v3/connections/{id}"),
    (re.compile(r"^/v3/users/[^/]+"), "/v3/users/{id}"),
    (re.compile(r"^/v3/vehicles/[^/]+"), "/v3/vehicles/{id}"),
)
_V2_PREFIX: Final = "/v2.0/"
_API_PREFIXES: Final = (_V2_PREFIX, "/v3/")


def request_key(method: str, path: str) -> str:
    """The `http_requests` counter key: "GET /v2.0/vehicles/{id}/battery"."""
    for pattern, template in _TEMPLATES:
        path, replaced = pattern.subn(template, path, count=1)
        if replaced:
            break
    return f"{method} {path}"


@web.middleware
async def _middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count requests; on API paths add `sc-request-id` and turn errors into error objects.

    While `sim.v2_retired`, every `/v2.0/...` request answers 410 before anything else (no
    auth, fault or billing).
    """
    path = request.path
    sim = request.app[SIMULATOR]
    if not path.startswith("/sim/"):
        sim.meter.count_http(request_key(request.method, path))
    if not path.startswith(_API_PREFIXES):
        return await handler(request)
    rid = str(uuid.uuid4())
    request[REQUEST_ID] = rid
    try:
        if sim.v2_retired and path.startswith(_V2_PREFIX):
            raise errors.version_retired()
        response = await handler(request)
    except SmartcarError as err:
        response = error_response(request, err)
    except web.HTTPNotFound, web.HTTPMethodNotAllowed:
        response = error_response(request, errors.path_not_found(path))
    response.headers["sc-request-id"] = rid
    return response


def create_app(sim: Simulator) -> web.Application:
    """The whole simulator as one aiohttp application."""
    app = web.Application(middlewares=[_middleware], client_max_size=1024 * 1024)
    app[SIMULATOR] = sim
    app.add_routes(oauth.routes())
    app.add_routes(v3.routes())
    app.add_routes(webhooks.routes())
    # v3's `GET /v3/connections` answers application tokens and hands the rest to api.py's.
    app.add_routes(r for r in api.routes() if (r.method, r.path) != ("GET", "/v3/connections"))
    app.add_routes(control.routes())
    return app


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"the simulator only binds loopback addresses, not {host!r}")


class SimulatorServer:
    """Serve a Simulator over real HTTP on loopback: `async with SimulatorServer(sim) as s:`.

    `deliver_webhooks`: run the webhook sender's `deliver_due()` every real second while
    serving; None (default) does so when the clock is not frozen (a frozen clock's tests call
    `webhooks.sender_of(sim).deliver_due()` themselves). The sender is closed on `stop()`.
    """

    def __init__(
        self,
        sim: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        deliver_webhooks: bool | None = None,
    ) -> None:
        self.sim = sim
        self.host = _loopback(host)
        self.deliver_webhooks = deliver_webhooks
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (after `start()`)."""
        if self._port is None:
            raise RuntimeError("the server is not running")
        return self._port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve."""
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(
            create_app(self.sim),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        background = self.deliver_webhooks
        if background is None:
            background = not self.sim.clock.frozen
        if background:
            webhooks.sender_of(self.sim).start()

    async def stop(self) -> None:
        """Stop serving (pending requests are cancelled after a second)."""
        runner, self._runner = self._runner, None
        if (sender := webhooks.existing_sender(self.sim)) is not None:
            await sender.close()
        if runner is not None:
            await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
