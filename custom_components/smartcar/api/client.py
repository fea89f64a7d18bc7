"""The async Smartcar API client: the Vehicles API v2.0 operations the integration uses, and
the management API."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
import math
from typing import Any, Final

import aiohttp

from . import _v2, _v3
from ._http import RawResponse, send
from .auth import AbstractAuth
from .const import (
    CHARGE_LIMIT_MAX,
    CHARGE_LIMIT_MIN,
    DEFAULT_API_URL,
    DEFAULT_MANAGEMENT_URL,
    DEFAULT_TIMEOUT,
    ApiVersion,
    Signal,
    UnitSystem,
)
from .errors import (
    SmartcarCompatibilityError,
    SmartcarError,
    SmartcarInvalidArgumentError,
    SmartcarResponseError,
    error_from_response,
    parse_retry_after,
)
from .models import (
    BatchResult,
    CommandResult,
    Connection,
    SignalReading,
    SignalResult,
    User,
    VehicleAttributes,
    VehicleIds,
)

_PAGE_SIZE = 50


def _in_range(value: float, name: str, minimum: float, maximum: float) -> float:
    """`value` as a float when it is a finite number from `minimum` to `maximum`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SmartcarInvalidArgumentError(name, minimum, maximum)
    try:
        number = float(value)  # an int beyond the float range raises OverflowError
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and minimum <= number <= maximum):
        raise SmartcarInvalidArgumentError(name, minimum, maximum)
    return number


def validate_charge_limit(limit: float) -> float:
    """A charge limit as a fraction 0.5..1.0, or SmartcarInvalidArgumentError."""
    return _in_range(limit, "charge_limit", CHARGE_LIMIT_MIN, CHARGE_LIMIT_MAX)


def validate_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    """Latitude in -90..90 and longitude in -180..180, or SmartcarInvalidArgumentError."""
    return _in_range(latitude, "latitude", -90, 90), _in_range(longitude, "longitude", -180, 180)


class SmartcarClient:
    """Talks to Smartcar for one user; the session and the token source are injected."""

    api_version: Final = ApiVersion.V2
    # Each path of a batch is billed: a read costs as many requests as it holds signals.
    reads_all: Final = False
    signals: Final = frozenset(_v2.PATHS)

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: AbstractAuth,
        *,
        api_url: str = DEFAULT_API_URL,
        management_url: str = DEFAULT_MANAGEMENT_URL,
        unit_system: UnitSystem = UnitSystem.METRIC,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Keep what every request needs."""
        self._session = session
        self._auth = auth
        self._api_url = api_url.rstrip("/")
        self._management_url = management_url.rstrip("/")
        self.unit_system = unit_system
        self._timeout = timeout

    @staticmethod
    def cost(signals: Collection[Signal]) -> int:
        """Billed requests of one batch of these signals: one per path."""
        return len(set(signals))

    async def _request(
        self,
        method: str,
        base: str,
        path: str,
        *,
        what: str,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse:
        token = await self._auth.async_get_access_token()
        return await send(
            self._session,
            method,
            f"{base}{path}",
            timeout=self._timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "SC-Unit-System": self.unit_system.value,
            },
            json_body=json_body,
            params=params,
            what=what,
        )

    async def _vehicle(
        self, method: str, vehicle_id: str, path: str, json_body: Any = None
    ) -> RawResponse:
        return await self._request(
            method,
            self._api_url,
            f"/vehicles/{vehicle_id}{path}",
            what=path or "/vehicles/{id}",
            json_body=json_body,
        )

    # --- user and vehicles -------------------------------------------------------------

    async def async_get_user(self) -> User:
        """`GET /user`: the id of the user the token belongs to."""
        raw = await self._request("GET", self._api_url, "/user", what="/user")
        meta = _v2.parse_meta(raw.headers)
        body = raw.body
        if not isinstance(body, Mapping) or not isinstance(body.get("id"), str) or not body["id"]:
            raise SmartcarResponseError("/user: no user id")
        return User(id=body["id"], meta=meta)

    async def async_get_vehicle_ids_page(
        self, *, limit: int = _PAGE_SIZE, offset: int = 0
    ) -> VehicleIds:
        """`GET /vehicles`: one page of the user's vehicle ids."""
        raw = await self._request(
            "GET",
            self._api_url,
            "/vehicles",
            what="/vehicles",
            params={"limit": limit, "offset": offset},
        )
        body = raw.body
        if not isinstance(body, Mapping) or not isinstance(body.get("vehicles"), list):
            raise SmartcarResponseError("/vehicles: no vehicle list")
        ids = tuple(v for v in body["vehicles"] if isinstance(v, str) and v)
        paging = body.get("paging")
        count = len(ids) + offset
        if isinstance(paging, Mapping) and isinstance(paging.get("count"), int):
            count = paging["count"]
        return VehicleIds(vehicle_ids=ids, count=count, offset=offset)

    async def async_get_vehicle_ids(self) -> list[str]:
        """Every vehicle id of the user, following the pages."""
        ids: list[str] = []
        while True:
            page = await self.async_get_vehicle_ids_page(offset=len(ids))
            ids.extend(page.vehicle_ids)
            if not page.vehicle_ids or len(ids) >= page.count:
                return ids

    async def async_get_attributes(self, vehicle_id: str) -> VehicleAttributes:
        """`GET /vehicles/{id}`: make, model, year (and VIN when granted)."""
        raw = await self._vehicle("GET", vehicle_id, "")
        return _v2.parse_attributes(raw.body, _v2.parse_meta(raw.headers))

    async def async_get_permissions(self, vehicle_id: str) -> frozenset[str]:
        """`GET /vehicles/{id}/permissions`: what the user granted for this vehicle."""
        permissions: set[str] = set()
        offset = 0
        while True:
            raw = await self._request(
                "GET",
                self._api_url,
                f"/vehicles/{vehicle_id}/permissions",
                what="/permissions",
                params={"limit": _PAGE_SIZE, "offset": offset},
            )
            body = raw.body
            if not isinstance(body, Mapping) or not isinstance(body.get("permissions"), list):
                raise SmartcarResponseError("/permissions: no permission list")
            page = [p for p in body["permissions"] if isinstance(p, str)]
            permissions.update(page)
            offset += len(page)
            paging = body.get("paging")
            total = paging.get("count") if isinstance(paging, Mapping) else None
            if not page or not isinstance(total, int) or offset >= total:
                return frozenset(permissions)

    # --- signals -----------------------------------------------------------------------

    async def async_batch(self, vehicle_id: str, signals: Iterable[Signal]) -> BatchResult:
        """`POST /batch`: read several signals at once; each keeps its own outcome."""
        asked = list(dict.fromkeys(signals))
        # Signals only API v3 has are no path of v2.0: the car cannot answer them here.
        wanted = [s for s in asked if s in _v2.PATHS]
        results: dict[Signal, SignalResult] = {
            s: SignalResult(
                signal=s,
                error=SmartcarCompatibilityError(
                    status=501,
                    code="NOT_IN_API_VERSION",
                    description=f"{s.value}: only API v3 reads it",
                ),
            )
            for s in asked
            if s not in _v2.PATHS
        }
        if not wanted:
            return BatchResult(results=results)
        raw = await self._vehicle(
            "POST",
            vehicle_id,
            "/batch",
            json_body={"requests": [{"path": _v2.PATHS[s]} for s in wanted]},
        )
        body = raw.body
        if not isinstance(body, Mapping) or not isinstance(body.get("responses"), list):
            raise SmartcarResponseError("/batch: no responses list")
        request_id = raw.headers.get("sc-request-id")
        for item in body["responses"]:
            if not isinstance(item, Mapping):
                continue
            path = item.get("path")
            signal = _v2.SIGNAL_BY_PATH.get(path) if isinstance(path, str) else None
            if signal is None or signal not in wanted:
                continue
            results[signal] = _batch_item(signal, item, request_id)
        for signal in wanted:
            if signal not in results:
                results[signal] = SignalResult(
                    signal=signal,
                    error=SmartcarResponseError(f"{_v2.PATHS[signal]}: missing from batch answer"),
                )
        return BatchResult(results=results, meta=_v2.parse_meta(raw.headers))

    @staticmethod
    def restore_reading(signal: Signal, raw: Mapping[str, Any]) -> SignalReading:
        """Rebuild a reading from the `raw` of a SignalResult (kept in storage), or of a
        webhook delivery, which brings Smartcar's v3 signals whatever the API version."""
        if "v3" in raw:
            # Metric: a reading says its unit system, and v3 signals say their units.
            return _v3.restore(signal, raw, UnitSystem.METRIC)
        headers = raw.get("headers")
        return _v2.parse_reading(
            signal,
            raw.get("body"),
            _v2.parse_meta(headers if isinstance(headers, Mapping) else None),
        )

    # --- commands ----------------------------------------------------------------------

    async def _command(self, vehicle_id: str, path: str, body: dict[str, Any]) -> CommandResult:
        raw = await self._vehicle("POST", vehicle_id, path, json_body=body)
        return _v2.parse_command(raw.body, _v2.parse_meta(raw.headers))

    async def async_start_charging(self, vehicle_id: str) -> CommandResult:
        """`POST /charge` START."""
        return await self._command(vehicle_id, "/charge", {"action": "START"})

    async def async_stop_charging(self, vehicle_id: str) -> CommandResult:
        """`POST /charge` STOP."""
        return await self._command(vehicle_id, "/charge", {"action": "STOP"})

    async def async_set_charge_limit(self, vehicle_id: str, limit: float) -> CommandResult:
        """`POST /charge/limit`; `limit` is a fraction 0.5..1.0, checked before sending."""
        return await self._command(
            vehicle_id, "/charge/limit", {"limit": validate_charge_limit(limit)}
        )

    async def async_lock(self, vehicle_id: str) -> CommandResult:
        """`POST /security` LOCK."""
        return await self._command(vehicle_id, "/security", {"action": "LOCK"})

    async def async_unlock(self, vehicle_id: str) -> CommandResult:
        """`POST /security` UNLOCK."""
        return await self._command(vehicle_id, "/security", {"action": "UNLOCK"})

    async def async_set_destination(
        self, vehicle_id: str, latitude: float, longitude: float
    ) -> CommandResult:
        """`POST /navigation/destination`; coordinates are checked before sending.

        Smartcar's API (and its SDKs) take the destination there, as `{latitude, longitude}`
        only; the seed spec's `/commands/set-destination` with an `address` is not Smartcar's.
        """
        lat, lon = validate_coordinates(latitude, longitude)
        return await self._command(
            vehicle_id, "/navigation/destination", {"latitude": lat, "longitude": lon}
        )

    # --- webhooks ----------------------------------------------------------------------

    async def async_subscribe_webhook(self, vehicle_id: str, webhook_id: str) -> None:
        """`POST /vehicles/{id}/webhooks/{webhook_id}`: the car's deliveries go to it."""
        await self._vehicle("POST", vehicle_id, f"/webhooks/{webhook_id}")

    # --- management API ----------------------------------------------------------------
    # Not called by the integration yet: the v3 work needs `/connections` to find the user of
    # a connection; getting and removing one belong to the same resource.

    async def async_list_connections(self) -> list[Connection]:
        """`GET /connections` of the management API."""
        raw = await self._request("GET", self._management_url, "/connections", what="/connections")
        body = raw.body
        if not isinstance(body, Mapping) or not isinstance(body.get("connections"), list):
            raise SmartcarResponseError("/connections: no connection list")
        return [_v2.parse_connection(item) for item in body["connections"]]

    async def async_get_connection(self, connection_id: str) -> Connection:
        """`GET /connections/{id}`."""
        raw = await self._request(
            "GET", self._management_url, f"/connections/{connection_id}", what="/connections/{id}"
        )
        return _v2.parse_connection(raw.body)

    async def async_remove_connection(self, connection_id: str) -> None:
        """`DELETE /connections/{id}`: revoke access to that vehicle."""
        await self._request(
            "DELETE",
            self._management_url,
            f"/connections/{connection_id}",
            what="/connections/{id}",
        )

    async def async_remove_user(self, user_id: str) -> None:
        """`DELETE /users/{id}`: remove every connection of that user."""
        await self._request("DELETE", self._management_url, f"/users/{user_id}", what="/users/{id}")


def _batch_item(signal: Signal, item: Mapping[str, Any], request_id: str | None) -> SignalResult:
    code = item.get("code")
    body = item.get("body")
    raw_headers = item.get("headers")
    headers: Mapping[Any, Any] = raw_headers if isinstance(raw_headers, Mapping) else {}
    meta = _v2.parse_meta(headers, request_id)
    if not isinstance(code, int) or code >= 400:
        # A rate-limited item carries its own `retry-after` header.
        retry_after = {str(k).lower(): v for k, v in headers.items()}.get("retry-after")
        return SignalResult(
            signal=signal,
            error=error_from_response(
                code if isinstance(code, int) else 500,
                body,
                request_id=request_id,
                retry_after=parse_retry_after(retry_after)
                if isinstance(retry_after, str)
                else None,
            ),
        )
    try:
        reading = _v2.parse_reading(signal, body, meta)
    except SmartcarError as err:
        return SignalResult(signal=signal, error=err)
    return SignalResult(
        signal=signal, reading=reading, raw={"body": body, "headers": dict(headers)}
    )
