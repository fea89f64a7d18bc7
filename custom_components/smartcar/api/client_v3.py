"""The async Smartcar API v3 client: one application token, `sc-user-id` on every call.

It offers what `SmartcarClient` (v2.0) offers and answers with the same models, so the
integration above does not care which one it holds (`VehicleApi`). Reading is
`GET /vehicles/{id}/signals`: every signal of the car for one billed request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping
import math
from typing import Any, Final

import aiohttp

from . import _v3
from ._http import RawResponse, send
from .auth import AbstractAuth
from .client import validate_charge_limit, validate_coordinates
from .const import (
    DEFAULT_MANAGEMENT_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_VEHICLE_API_URL,
    ApiVersion,
    Signal,
    UnitSystem,
)
from .errors import (
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarError,
    SmartcarNotFoundError,
    SmartcarResponseError,
    SmartcarSignalsUnavailableError,
)
from .models import (
    BatchResult,
    CommandResult,
    Connection,
    Meta,
    SignalReading,
    VehicleAttributes,
)

_PAGE_SIZE: Final = 100
# Codes of a 404 that say the vehicle itself is unknown (not that it has no signals yet).
_VEHICLE_GONE: Final = frozenset({"VEHICLE_NOT_FOUND", "CONNECTION_NOT_FOUND", "USER_NOT_FOUND"})


class SmartcarV3Client:
    """Talks to Smartcar API v3 for one user of one application."""

    api_version: Final = ApiVersion.V3
    # One request reads every signal and is billed once, whatever it holds.
    reads_all: Final = True
    signals: Final = frozenset(_v3.CODES)

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: AbstractAuth,
        *,
        user_id: str,
        api_url: str = DEFAULT_VEHICLE_API_URL,
        management_url: str = DEFAULT_MANAGEMENT_URL,
        unit_system: UnitSystem = UnitSystem.METRIC,
        timeout: float = DEFAULT_TIMEOUT,
        command_poll_interval: float = 2.0,
        command_timeout: float = 180.0,
    ) -> None:
        """Keep what every request needs."""
        self._session = session
        self._auth = auth
        self.user_id = user_id
        self._api_url = api_url.rstrip("/")
        self._management_url = management_url.rstrip("/")
        self.unit_system = unit_system
        self._timeout = timeout
        self._poll_interval = command_poll_interval
        self._command_timeout = command_timeout
        self._permissions: dict[str, frozenset[str]] = {}

    @staticmethod
    def cost(signals: Collection[Signal]) -> int:
        """Billed requests of reading these signals: one signals list."""
        return 1 if signals else 0

    async def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        user: bool = True,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse:
        """Send with the application token; a refused token is fetched again once."""
        for attempt in (1, 2):
            token = await self._auth.async_get_access_token()
            headers = {"Authorization": f"Bearer {token}"}
            if user:
                headers["sc-user-id"] = self.user_id
            try:
                return await send(
                    self._session,
                    method,
                    url,
                    timeout=self._timeout,
                    headers=headers,
                    json_body=json_body,
                    params=params,
                    what=what,
                )
            except SmartcarAuthenticationError:
                if attempt == 2:
                    raise
                await self._auth.async_invalidate(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _vehicle_url(self, vehicle_id: str, path: str = "") -> str:
        return f"{self._api_url}/vehicles/{vehicle_id}{path}"

    # --- connections (management API, not billed) --------------------------------------

    async def async_list_connections(
        self, *, user_id: str | None = None, vehicle_id: str | None = None
    ) -> list[Connection]:
        """`GET /connections` of the application, filtered, every page."""
        connections: list[Connection] = []
        page = 1
        while True:
            params: dict[str, str | int] = {"page[number]": page, "page[size]": _PAGE_SIZE}
            if user_id is not None:
                params["filter[userId]"] = user_id
            if vehicle_id is not None:
                params["filter[vehicleId]"] = vehicle_id
            raw = await self._request(
                "GET",
                f"{self._management_url}/connections",
                what="/connections",
                user=False,
                params=params,
            )
            items, more = _v3.parse_connections(raw.body)
            connections.extend(items)
            if not more or not items:
                return connections
            page += 1

    async def async_get_vehicle_ids(self) -> list[str]:
        """The vehicles this user connected to the application (and what they granted)."""
        connections = await self.async_list_connections(user_id=self.user_id)
        ids: list[str] = []
        for connection in connections:
            if connection.user_id not in (None, self.user_id) or connection.vehicle_id is None:
                continue
            vehicle = connection.vehicle_id
            self._permissions[vehicle] = (
                self._permissions.get(vehicle, frozenset()) | connection.permissions
                if vehicle in ids
                else connection.permissions
            )
            if vehicle not in ids:
                ids.append(vehicle)
        return ids

    async def async_is_connected(self, vehicle_id: str) -> bool:
        """Whether this user still has this vehicle connected."""
        return vehicle_id in await self.async_get_vehicle_ids()

    async def async_get_permissions(self, vehicle_id: str) -> frozenset[str]:
        """What the user granted for this vehicle (from its connection)."""
        if vehicle_id not in self._permissions:
            await self.async_get_vehicle_ids()
        if vehicle_id not in self._permissions:
            raise SmartcarNotFoundError(
                status=404, code="VEHICLE_NOT_FOUND", description="no connection for this vehicle"
            )
        return self._permissions[vehicle_id]

    async def async_subscribe_webhook(self, vehicle_id: str, webhook_id: str) -> None:
        """`POST /subscriptions` (management API): the car's deliveries go to the webhook.

        Already subscribed (409) is success.
        """
        try:
            await self._request(
                "POST",
                f"{self._management_url}/subscriptions",
                what="/subscriptions",
                user=False,
                json_body={
                    "data": {
                        "attributes": {
                            "webhookId": webhook_id,
                            "userId": self.user_id,
                            "vehicleId": vehicle_id,
                        }
                    }
                },
            )
        except SmartcarApiError as err:
            if err.status != 409:
                raise

    # --- vehicle -----------------------------------------------------------------------

    async def async_get_attributes(self, vehicle_id: str) -> VehicleAttributes:
        """Make, model and year (`GET /vehicles/{id}`), and the VIN signal (billed once)."""
        raw = await self._request("GET", self._vehicle_url(vehicle_id), what="/vehicles/{id}")
        vin: str | None = None
        try:
            vin = _v3.parse_vin(await self.async_get_signal(vehicle_id, _v3.VIN_CODE))
        except SmartcarError:
            # A car without the VIN signal (or not yet subscribed) is still a car.
            vin = None
        return _v3.parse_vehicle(raw.body, vin)

    async def async_get_signal(self, vehicle_id: str, code: str) -> Any:
        """`GET /vehicles/{id}/signals/{code}`: one signal's JSON."""
        raw = await self._request(
            "GET", self._vehicle_url(vehicle_id, f"/signals/{code}"), what="/signals/{code}"
        )
        return raw.body

    async def async_batch(self, vehicle_id: str, signals: Iterable[Signal]) -> BatchResult:
        """`GET /vehicles/{id}/signals`: every group the car reports, plus `signals` it lacks.

        A 404 (or an empty list) for a vehicle still connected is
        `SmartcarSignalsUnavailableError`: the car is not subscribed to a webhook yet.
        """
        wanted = list(dict.fromkeys(signals))
        try:
            raw = await self._request(
                "GET", self._vehicle_url(vehicle_id, "/signals"), what="/signals"
            )
        except SmartcarNotFoundError as err:
            if err.code in _VEHICLE_GONE or not await self.async_is_connected(vehicle_id):
                raise
            raise SmartcarSignalsUnavailableError(
                status=404, code=err.code, description=err.description, request_id=err.request_id
            ) from err
        body = raw.body
        if isinstance(body, Mapping) and body.get("data") == []:
            raise SmartcarSignalsUnavailableError(
                status=200, code="NO_SIGNALS", description="the vehicle has no signals yet"
            )
        request_id = raw.headers.get("sc-request-id")
        results = _v3.parse_signals(body, wanted, self.unit_system, request_id)
        return BatchResult(
            results=results, meta=Meta(unit_system=self.unit_system, request_id=request_id)
        )

    def restore_reading(self, signal: Signal, raw: Mapping[str, Any]) -> SignalReading:
        """Rebuild a reading from the `raw` of a SignalResult (kept in storage)."""
        return _v3.restore(signal, raw, self.unit_system)

    # --- commands ----------------------------------------------------------------------

    async def _command(self, vehicle_id: str, path: str, attributes: Any = None) -> CommandResult:
        """Send a command and follow its execution until it ends (or `command_timeout`)."""
        body = None if attributes is None else {"data": {"attributes": attributes}}
        raw = await self._request(
            "POST",
            self._vehicle_url(vehicle_id, f"/commands/{path}"),
            what=f"/commands/{path}",
            json_body=body,
        )
        execution_id, result = _v3.parse_command(raw.body)
        looks = max(1, math.ceil(self._command_timeout / max(self._poll_interval, 1e-3)))
        while result.status == "pending" and execution_id is not None:
            if looks == 0:
                return result
            looks -= 1
            await asyncio.sleep(self._poll_interval)
            raw = await self._request(
                "GET",
                self._vehicle_url(vehicle_id, f"/command-executions/{execution_id}"),
                what="/command-executions/{id}",
            )
            execution_id, result = _v3.parse_command(raw.body)
        if result.status is None:
            raise SmartcarResponseError(f"/commands/{path}: no execution status")
        return result

    async def async_start_charging(self, vehicle_id: str) -> CommandResult:
        """`POST /commands/charge/start`."""
        return await self._command(vehicle_id, "charge/start")

    async def async_stop_charging(self, vehicle_id: str) -> CommandResult:
        """`POST /commands/charge/stop`."""
        return await self._command(vehicle_id, "charge/stop")

    async def async_set_charge_limit(self, vehicle_id: str, limit: float) -> CommandResult:
        """`POST /commands/charge/set-limit`; `limit` is a fraction 0.5..1.0 (sent as percent)."""
        percent = round(validate_charge_limit(limit) * 100)
        return await self._command(vehicle_id, "charge/set-limit", {"percent": percent})

    async def async_lock(self, vehicle_id: str) -> CommandResult:
        """`POST /commands/security/lock`."""
        return await self._command(vehicle_id, "security/lock")

    async def async_unlock(self, vehicle_id: str) -> CommandResult:
        """`POST /commands/security/unlock`."""
        return await self._command(vehicle_id, "security/unlock")

    async def async_set_destination(
        self, vehicle_id: str, latitude: float, longitude: float
    ) -> CommandResult:
        """`POST /commands/navigation/set-destination`; coordinates are checked first."""
        lat, lon = validate_coordinates(latitude, longitude)
        return await self._command(
            vehicle_id, "navigation/set-destination", {"latitude": lat, "longitude": lon}
        )
