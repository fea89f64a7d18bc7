"""The simulated world: clock, fleet, users, tokens, counters and faults (no HTTP here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, Unpack

from .accounts import Accounts
from .billing import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, Meter
from .clock import VirtualClock, parse_iso
from .faults import Fault, FaultSet, FaultSpec, make_fault
from .fleet import USER_ID, VehicleSpec, default_fleet
from .tokens import (
    DEFAULT_ACCESS_TTL,
    DEFAULT_REFRESH_GRACE,
    DEFAULT_REFRESH_TTL,
    TokenSet,
    TokenStore,
    parse_scope,
)
from .vehicles import Vehicle, build_fleet

DEFAULT_CLIENT_ID: Final = "sim-client-id"
DEFAULT_CLIENT_SECRET: Final = "sim-client-secret"
DEFAULT_APP_NAME: Final = "Home Assistant"
# The application management token (AMT) of Smartcar's Dashboard: unsubscribes a vehicle from a
# webhook (`DELETE /vehicles/{id}/webhooks/{webhook_id}`, `Authorization: Bearer <AMT>`) and
# authenticates the v2 management API (`/v2.0/management/connections`, Basic `default:<AMT>`).
DEFAULT_MANAGEMENT_TOKEN: Final = "sim-management-token"
# The one webhook the simulated application has configured in its Dashboard.
DEFAULT_WEBHOOK_ID: Final = "5e0a3f2c-8b1d-4c7e-9f6a-2d4b8c0e1f53"

ACTIONS: Final = frozenset({"plug", "unplug", "drive", "park", "set"})


class Simulator:
    """Everything the server serves; every control endpoint is a method here."""

    def __init__(
        self,
        *,
        clock: VirtualClock | None = None,
        fleet: Iterable[VehicleSpec] | None = None,
        extra_vehicles: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        app_name: str = DEFAULT_APP_NAME,
        user_id: str = USER_ID,
        access_token_ttl: int = DEFAULT_ACCESS_TTL,
        refresh_token_ttl: int = DEFAULT_REFRESH_TTL,
        refresh_grace: float = DEFAULT_REFRESH_GRACE,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        rate_limit_window: float = DEFAULT_RATE_WINDOW,
        management_token: str = DEFAULT_MANAGEMENT_TOKEN,
        webhook_ids: Iterable[str] = (DEFAULT_WEBHOOK_ID,),
        v2_retired: bool = False,
    ) -> None:
        self.clock = clock if clock is not None else VirtualClock()
        specs = list(fleet) if fleet is not None else default_fleet(extra_vehicles)
        if fleet is not None and extra_vehicles:
            specs += default_fleet(extra_vehicles)[3:]
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_name = app_name
        self.management_token = management_token
        # True: every `/v2.0/...` request answers 410 VERSION `API_VERSION_RETIRED` (not billed).
        self.v2_retired = v2_retired
        # webhook id -> the vehicle ids subscribed to it
        self.webhooks: dict[str, set[str]] = {webhook_id: set() for webhook_id in webhook_ids}
        self.user_id = user_id
        self.fleet: dict[str, Vehicle] = build_fleet(specs, self.clock)
        self._by_key = {vehicle.key: vehicle for vehicle in self.fleet.values()}
        self.accounts = Accounts({user_id: list(self.fleet)}, self.clock)
        self.tokens = TokenStore(
            self.clock,
            access_ttl=access_token_ttl,
            refresh_ttl=refresh_token_ttl,
            refresh_grace=refresh_grace,
        )
        self.meter = Meter(rate_limit, rate_limit_window)
        self.faults = FaultSet()
        self._listeners: list[Callable[[bool], None]] = []
        for vehicle in self.fleet.values():
            vehicle.on_change = self._vehicle_changed

    # -- change notification (the state file listens) -------------------------------------------

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(urgent)` on every change (urgent: tokens, which must not be lost)."""
        self._listeners.append(listener)

    def changed(self, *, urgent: bool = False) -> None:
        """Tell the listeners something changed."""
        for listener in self._listeners:
            listener(urgent)

    def _vehicle_changed(self) -> None:
        self.changed()

    # -- vehicles -----------------------------------------------------------------------------

    def vehicle(self, key_or_id: str) -> Vehicle:
        """A vehicle by key ("ev") or id; KeyError when unknown."""
        vehicle = self._by_key.get(key_or_id) or self.fleet.get(key_or_id)
        if vehicle is None:
            raise KeyError(key_or_id)
        return vehicle

    @property
    def vehicles(self) -> list[Vehicle]:
        """Every vehicle, in fleet order."""
        return list(self.fleet.values())

    def vehicle_action(self, key_or_id: str, action: str, params: Mapping[str, Any]) -> Vehicle:
        """`POST /sim/vehicles/{id}/actions`; raises KeyError / ValueError."""
        vehicle = self.vehicle(key_or_id)
        if action == "plug":
            vehicle.plug_in()
        elif action == "unplug":
            vehicle.unplug()
        elif action == "drive":
            vehicle.drive_to(
                params.get("latitude"),  # type: ignore[arg-type]  # validated by drive_to
                params.get("longitude"),  # type: ignore[arg-type]
                params.get("speed_kmh", 50.0),
            )
        elif action == "park":
            vehicle.park()
        elif action == "set":
            vehicle.set(**{k: val for k, val in params.items() if k != "action"})
        else:
            raise ValueError(f"action must be one of {', '.join(sorted(ACTIONS))}")
        return vehicle

    def deny_permissions(self, key_or_id: str, deny: Iterable[str]) -> frozenset[str]:
        """Withhold permissions on one vehicle from every token (replaces the earlier denial)."""
        vehicle = self.vehicle(key_or_id)
        denied = self.accounts.deny(vehicle.id, deny)
        self.changed()
        return denied

    # -- tokens -------------------------------------------------------------------------------

    def issue_tokens(
        self, scope: str | Iterable[str] | None = None, *, user_id: str | None = None
    ) -> TokenSet:
        """Tokens without the OAuth dance; `scope=None` grants every permission."""
        user = user_id or self.user_id
        self.accounts.reconnect(user)
        tokens = self.tokens.issue(user, self.client_id, parse_scope(scope))
        self.changed(urgent=True)
        return tokens

    def revoke_tokens(self, user_id: str | None = None) -> int:
        """Invalidate every access and refresh token (of one user)."""
        count = self.tokens.revoke(user_id)
        self.changed(urgent=True)
        return count

    def check_client(self, client_id: str, client_secret: str | None = None) -> bool:
        """True for the configured client (and secret, when given)."""
        if client_id != self.client_id:
            return False
        return client_secret is None or client_secret == self.client_secret

    # -- webhooks -----------------------------------------------------------------------------

    def subscribe_webhook(self, webhook_id: str, key_or_id: str) -> None:
        """Subscribe a vehicle to a webhook (again is fine); KeyError for an unknown webhook."""
        vehicle = self.vehicle(key_or_id)
        self.webhooks[webhook_id].add(vehicle.id)
        self.changed()

    def unsubscribe_webhook(self, webhook_id: str, key_or_id: str) -> None:
        """Unsubscribe a vehicle (not subscribed is fine); KeyError for an unknown webhook."""
        vehicle = self.vehicle(key_or_id)
        self.webhooks[webhook_id].discard(vehicle.id)
        self.changed()

    def subscriptions(self, key_or_id: str) -> list[str]:
        """The webhook ids a vehicle is subscribed to."""
        vehicle_id = self.vehicle(key_or_id).id
        return [w for w, vehicle_ids in self.webhooks.items() if vehicle_id in vehicle_ids]

    # -- faults -------------------------------------------------------------------------------

    def inject_fault(self, *, vehicle_id: str | None = None, **fields: Unpack[FaultSpec]) -> Fault:
        """Activate a fault (see the contract); `vehicle_id` may also be a key ("ev")."""
        if vehicle_id is not None:
            vehicle_id = self.vehicle(vehicle_id).id
        return self.faults.add(make_fault(vehicle_id=vehicle_id, **fields))

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    # -- counters and clock -------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, Any]:
        """A plain-dict snapshot: billed (per vehicle), http_requests, token_requests."""
        return self.meter.snapshot()

    def reset_counters(self) -> None:
        """Zero every counter (and the rate-limit windows)."""
        self.meter.reset()

    def set_clock(self, *, advance: float | None = None, at: str | datetime | None = None) -> None:
        """`POST /sim/clock`: advance by seconds or jump to a time."""
        if advance is not None:
            self.clock.advance(advance)
        if at is not None:
            self.clock.set(parse_iso(at) if isinstance(at, str) else at)
        self.changed()

    def state(self) -> dict[str, Any]:
        """`GET /sim/state`: the clock and the truth about every vehicle."""
        return {
            "clock": self.clock.as_dict(),
            "client_id": self.client_id,
            "users": {
                user: {"vehicles": self.accounts.vehicles_of(user)}
                for user in self.accounts.user_ids
            },
            "connections": [c.as_json() for c in self.accounts.connections.values()],
            "vehicles": {vehicle.id: vehicle.as_dict() for vehicle in self.fleet.values()},
            "permissions_denied": {
                vehicle.id: sorted(denied)
                for vehicle in self.fleet.values()
                if (denied := self.accounts.denied(vehicle.id))
            },
            "faults": [fault.as_json() for fault in self.faults.list()],
            "webhooks": {w: sorted(vehicle_ids) for w, vehicle_ids in self.webhooks.items()},
            "rate_limit": {"limit": self.meter.rate_limit, "window": self.meter.window},
            "v2_retired": self.v2_retired,
        }
