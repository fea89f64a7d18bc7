"""Smartcar webhook deliveries (envelope v4.0) from the simulator to an application's callback.

One `WebhookSender` per simulator (`sender_of(sim)`) knows, per webhook id of `sim.webhooks`,
its callback `url`, the application management token (AMT, the HMAC key), a `name`, the signal
codes it carries and its `auto_subscribe` switch. It sends:

- VERIFY on request (`await sender.verify(webhook_id)`): the webhook is verified only when the
  callback answers 200 JSON `{"challenge": hex(HMAC-SHA256(AMT, challenge))}` within the timeout.
- VEHICLE_STATE whenever a subscribed car's *report* changes a signal the webhook carries
  (every report of the car is seen: vehicles call `report_listeners`), and a FIRST_DELIVERY
  when a vehicle becomes subscribed (or the webhook verified).
- VEHICLE_ERROR when injected (`sender.inject_error(...)`).

Nothing is sent by itself: `await sender.deliver_due()` sends everything due at the virtual
clock's now (new reports, injected errors, retries whose time has come). `SimulatorServer`
runs `deliver_due()` every real second while the clock runs (not when it is frozen: tests and
benchmarks advance the clock and call it). A failed delivery (non-2xx, timeout, connection
error) is retried 25, 50 and 100 virtual seconds later with the same `eventId` and a new
`deliveryId`, then dropped. Faults (`duplicate`, `reorder`, `bad_signature`, `drop`) disturb
deliveries on purpose. Every body is signed: `SC-Signature: hex(HMAC-SHA256(AMT, raw body))`.

Also here: the v3 management subscriptions API (`/v3/subscriptions`) and the `/sim/webhooks`
control endpoints.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import hmac
import itertools
import json
import logging
import secrets
from typing import Any, Final
import uuid
import weakref

import aiohttp
from aiohttp import web

from . import errors, signals, v3
from .accounts import ACTIVE
from .clock import isoformat_ms
from .errors import SmartcarError
from .httputil import json_response, read_json, simulator
from .simulator import Simulator
from .vehicles import Vehicle, VehicleState

_LOGGER = logging.getLogger(__name__)

VERSION: Final = "4.0"
USER_AGENT: Final = "Smartcar/4.0 (smartcar-simulator)"
SIGNATURE_HEADER: Final = "SC-Signature"
TIMEOUT: Final = 15.0  # real seconds an answer may take
RETRY_DELAYS: Final = (25.0, 50.0, 100.0)  # virtual seconds after each failed attempt
TICK: Final = 1.0  # real seconds between background `deliver_due()` calls
LOG_SIZE: Final = 500
MAX_REPORTS: Final = 1000  # reports kept per vehicle between two `deliver_due()` calls
DEFAULT_NAME: Final = "Home Assistant"

VERIFY: Final = "VERIFY"
VEHICLE_STATE: Final = "VEHICLE_STATE"
VEHICLE_ERROR: Final = "VEHICLE_ERROR"
FAULT_KINDS: Final = frozenset({"duplicate", "reorder", "bad_signature", "drop"})
ERROR_STATES: Final = frozenset({"ERROR", "RESOLVED"})
COUNTER_NAMES: Final = ("sent", "acknowledged", "failed", "retried", "dropped")
_SUBSCRIPTION_NS: Final = uuid.UUID("0c7d2b4e-6a1f-4e3d-9b8c-5f2a1e0d3c4b")


class WebhookNotReady(Exception):
    """The webhook cannot deliver this (no url, not verified, the vehicle not subscribed)."""


def sign(management_token: str, message: bytes | str) -> str:
    """Lowercase hex HMAC-SHA256 keyed with the AMT (SC-Signature, VERIFY's answer)."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(management_token.encode(), data, hashlib.sha256).hexdigest()


def epoch_ms(timestamp: float) -> int:
    """POSIX seconds -> whole milliseconds (Smartcar's webhook times)."""
    return round(timestamp * 1000)


def _iso(timestamp: float) -> str:
    return isoformat_ms(datetime.fromtimestamp(timestamp, UTC))


class _Unset:
    """Marks a `configure()` argument that was not given."""


UNSET: Final = _Unset()


@dataclass(slots=True)
class WebhookConfig:
    """One webhook of the application (what the Dashboard holds)."""

    id: str
    url: str | None = None
    management_token: str | None = None  # None: the simulator's AMT
    name: str = DEFAULT_NAME
    signals: list[str] | None = None  # None: every signal code the car has
    auto_subscribe: bool | None = None  # None: follow the v3 application's switch
    verified: bool = False
    verification: dict[str, Any] | None = None  # the last VERIFY's result

    def as_json(self) -> dict[str, Any]:
        """JSON form (never the AMT)."""
        return {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "signals": list(self.signals) if self.signals is not None else None,
            "auto_subscribe": self.auto_subscribe,
            "verified": self.verified,
            "verification": self.verification,
        }


@dataclass(slots=True)
class Event:
    """One event: the same `eventId` on every attempt."""

    event_id: str
    event_type: str
    webhook_id: str
    vehicle_id: str | None
    data: dict[str, Any]
    triggers: list[dict[str, Any]] | None
    due_at: float
    seq: int
    signal_count: int | None = None
    attempts: int = 0


@dataclass(slots=True)
class DeliveryFault:
    """A fault on deliveries (VEHICLE_STATE and VEHICLE_ERROR; never VERIFY)."""

    kind: str
    count: int | None = 1  # attempts it disturbs; None: until cleared
    vehicle_id: str | None = None
    webhook_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    fired: int = 0

    def matches(self, event: Event) -> bool:
        """True when the fault applies to (the next attempt of) this event."""
        if self.count is not None and self.fired >= self.count:
            return False
        return self.vehicle_id in (None, event.vehicle_id) and self.webhook_id in (
            None,
            event.webhook_id,
        )

    def as_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "count": self.count,
            "vehicle_id": self.vehicle_id,
            "webhook_id": self.webhook_id,
            "fired": self.fired,
        }


@dataclass(slots=True)
class Subscription:
    """One vehicle subscribed to one webhook (what `/v3/subscriptions` lists)."""

    id: str
    webhook_id: str
    vehicle_id: str
    user_id: str
    created: float

    def as_json(self) -> dict[str, Any]:
        """The JSON:API item (assumed form)."""
        return {
            "id": self.id,
            "type": "subscription",
            "attributes": {
                "webhookId": self.webhook_id,
                "userId": self.user_id,
                "vehicleId": self.vehicle_id,
                "vehicle": {"mode": "live"},
            },
            "meta": {"createdAt": _iso(self.created)},
        }


@dataclass(slots=True)
class _Pending:
    """An attempt ready to go out (held back by a `reorder` fault until the next one)."""

    event: Event
    delivery_id: str
    body: bytes
    headers: dict[str, str]
    faults: list[str]


class WebhookSender:
    """Webhook configuration, the delivery queue, retries, faults, counters and the log."""

    def __init__(self, sim: Simulator) -> None:
        self._sim_ref = weakref.ref(sim)
        self.timeout = TIMEOUT
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.configs: dict[str, WebhookConfig] = {}
        self.faults: list[DeliveryFault] = []
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._counters: dict[str, dict[str, int]] = {}
        self._queue: list[Event] = []
        self._held: dict[str, list[_Pending]] = {}
        self._reports: dict[str, list[tuple[VehicleState, float]]] = {}
        self._baseline: dict[str, dict[str, dict[str, str]]] = {}  # webhook -> vehicle -> code
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._seq = itertools.count()
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        for vehicle in sim.fleet.values():
            vehicle.report_listeners.append(self._on_report)

    @property
    def sim(self) -> Simulator:
        """The simulator (held weakly: the sender lives as long as it does)."""
        sim = self._sim_ref()
        if sim is None:
            raise RuntimeError("the simulator is gone")
        return sim

    # -- configuration ----------------------------------------------------------------------

    def config(self, webhook_id: str) -> WebhookConfig:
        """A webhook's configuration; KeyError when the simulator has no such webhook."""
        if webhook_id not in self.sim.webhooks:
            raise KeyError(webhook_id)
        found = self.configs.get(webhook_id)
        if found is None:
            found = self.configs[webhook_id] = WebhookConfig(webhook_id)
        return found

    def management_token(self, webhook_id: str) -> str:
        """The HMAC key of a webhook (its own AMT, else the simulator's)."""
        return self.config(webhook_id).management_token or self.sim.management_token

    def configure(
        self,
        webhook_id: str,
        *,
        url: str | _Unset | None = UNSET,
        management_token: str | _Unset | None = UNSET,
        name: str | _Unset = UNSET,
        signals: Iterable[str] | _Unset | None = UNSET,
        auto_subscribe: bool | _Unset | None = UNSET,
        verified: bool | _Unset = UNSET,
    ) -> WebhookConfig:
        """Change what is given (all checked first; ValueError / KeyError otherwise).

        A new `url` makes the webhook unverified (Smartcar verifies again on a URL change);
        `verified=True` skips VERIFY (benchmarks). `signals` None: every code the car has.
        """
        cfg = self.config(webhook_id)
        changes: dict[str, Any] = {}
        if not isinstance(url, _Unset):
            if url is not None and (
                not isinstance(url, str) or not url.startswith(("http://", "https://"))
            ):
                raise ValueError("'url' must be an http(s) URL or null")
            changes["url"] = url
        if not isinstance(management_token, _Unset):
            if management_token is not None and (
                not isinstance(management_token, str) or not management_token
            ):
                raise ValueError("'management_token' must be a non-empty string or null")
            changes["management_token"] = management_token
        if not isinstance(name, _Unset):
            if not isinstance(name, str) or not name:
                raise ValueError("'name' must be a non-empty string")
            changes["name"] = name
        if not isinstance(signals, _Unset):
            changes["signals"] = None if signals is None else _check_codes(signals)
        if not isinstance(auto_subscribe, _Unset):
            if auto_subscribe is not None and not isinstance(auto_subscribe, bool):
                raise ValueError("'auto_subscribe' must be true, false or null")
            changes["auto_subscribe"] = auto_subscribe
        if not isinstance(verified, _Unset):
            if not isinstance(verified, bool):
                raise ValueError("'verified' must be true or false")
            if verified and changes.get("url", cfg.url) is None:
                raise ValueError("a webhook without a url cannot be verified")
        if "url" in changes and changes["url"] != cfg.url:
            cfg.verified = False
        for key, value in changes.items():
            setattr(cfg, key, value)
        if not isinstance(verified, _Unset):
            cfg.verified = verified
        return cfg

    def settings(self, webhook_id: str) -> dict[str, Any]:
        """`GET /sim/webhooks/{id}`: the configuration, subscribed vehicles and counters."""
        return {
            **self.config(webhook_id).as_json(),
            "subscribed": self.subscribed_vehicles(webhook_id),
            "counters": self.counters.get(webhook_id, _zero()),
            "pending": sum(1 for e in self._queue if e.webhook_id == webhook_id),
            "held": len(self._held.get(webhook_id, [])),
        }

    # -- subscriptions ----------------------------------------------------------------------

    def subscribed_vehicles(self, webhook_id: str) -> list[str]:
        """The vehicle ids this webhook delivers for (fleet order), see the contract.

        `sim.webhooks[id]` (v2 subscribe, `/v3/subscriptions`, `sim.subscribe_webhook`), plus,
        while the webhook follows the application (`auto_subscribe` None), the v3
        application's `subscribed`; plus every connected vehicle when auto-subscribe is on
        (the webhook's own switch, else the application's). Only vehicles with an active
        connection count.
        """
        sim = self.sim
        cfg = self.config(webhook_id)
        app = v3.app_of(sim)
        connected = {c.vehicle_id for c in sim.accounts.connections.values() if c.status == ACTIVE}
        ids = set(sim.webhooks[webhook_id])
        if cfg.auto_subscribe is None:
            ids |= app.subscribed
        auto = app.auto_subscribe if cfg.auto_subscribe is None else cfg.auto_subscribe
        if auto:
            ids |= connected
        return [vehicle_id for vehicle_id in sim.fleet if vehicle_id in ids & connected]

    def _user_of(self, vehicle_id: str, preferred: str | None = None) -> str | None:
        users = [
            c.user_id
            for c in self.sim.accounts.connections.values()
            if c.vehicle_id == vehicle_id and c.status == ACTIVE
        ]
        if preferred in users:
            return preferred
        return users[0] if users else None

    def subscriptions(self) -> list[Subscription]:
        """The explicit subscriptions (`sim.webhooks`) of connected vehicles."""
        found: list[Subscription] = []
        now = self.sim.clock.timestamp()
        for webhook_id, vehicle_ids in self.sim.webhooks.items():
            for vehicle_id in self.sim.fleet:
                if vehicle_id not in vehicle_ids:
                    continue
                record = self._subscriptions.get((webhook_id, vehicle_id))
                user = self._user_of(vehicle_id, record.user_id if record else None)
                if user is None:
                    continue
                if record is None:
                    record = self._subscription(webhook_id, vehicle_id, user, now)
                record.user_id = user
                found.append(record)
        return found

    def _subscription(
        self, webhook_id: str, vehicle_id: str, user_id: str, created: float
    ) -> Subscription:
        record = Subscription(
            str(uuid.uuid5(_SUBSCRIPTION_NS, f"{webhook_id}/{vehicle_id}")),
            webhook_id,
            vehicle_id,
            user_id,
            created,
        )
        self._subscriptions[(webhook_id, vehicle_id)] = record
        return record

    def subscribe(self, webhook_id: str, key_or_id: str, user_id: str | None = None) -> bool:
        """`POST /v3/subscriptions`: add the vehicle to the webhook and to the v3 application's
        `subscribed` (its signals answer); False when it already was in the webhook's list."""
        sim = self.sim
        self.config(webhook_id)
        vehicle = sim.vehicle(key_or_id)
        if vehicle.id in sim.webhooks[webhook_id]:
            return False
        user = user_id or self._user_of(vehicle.id) or sim.user_id
        self._subscription(webhook_id, vehicle.id, user, sim.clock.timestamp())
        sim.subscribe_webhook(webhook_id, vehicle.id)
        v3.app_of(sim).subscribed.add(vehicle.id)
        return True

    def unsubscribe(self, webhook_id: str, key_or_id: str) -> None:
        """`DELETE /v3/subscriptions/{id}`: out of the webhook's list (and of the v3
        application's `subscribed` when no other webhook lists it)."""
        sim = self.sim
        vehicle = sim.vehicle(key_or_id)
        sim.unsubscribe_webhook(webhook_id, vehicle.id)
        self._subscriptions.pop((webhook_id, vehicle.id), None)
        if not any(vehicle.id in ids for ids in sim.webhooks.values()):
            v3.app_of(sim).subscribed.discard(vehicle.id)

    # -- events -----------------------------------------------------------------------------

    def _on_report(self, vehicle: Vehicle, state: VehicleState, at: float) -> None:
        if not any(cfg.verified and cfg.url for cfg in self.configs.values()):
            return
        reports = self._reports.setdefault(vehicle.id, [])
        reports.append((state, at))
        if len(reports) > MAX_REPORTS:
            del reports[0]

    def _codes(self, cfg: WebhookConfig, vehicle: Vehicle) -> list[str]:
        return cfg.signals if cfg.signals is not None else signals.codes_of(vehicle)

    def _signals(
        self,
        cfg: WebhookConfig,
        vehicle: Vehicle,
        state: VehicleState,
        reported_at: float,
        retrieved_at: float,
    ) -> list[dict[str, Any]]:
        has = set(signals.codes_of(vehicle))
        out: list[dict[str, Any]] = []
        for code in self._codes(cfg, vehicle):
            if code in has:
                attrs = signals.signal_attributes(vehicle, code, state)
            else:
                name, group = signals.describe(code)
                attrs = {
                    "code": code,
                    "name": name,
                    "group": group,
                    "status": {
                        "value": "ERROR",
                        "error": {
                            "type": "COMPATIBILITY",
                            "code": "VEHICLE_NOT_CAPABLE",
                            "title": "Compatibility",
                            "detail": "The vehicle does not support this signal.",
                        },
                    },
                }
            item: dict[str, Any] = {
                "code": code,
                "name": attrs["name"],
                "group": attrs["group"],
            }
            if "body" in attrs:
                item["body"] = attrs["body"]
            item["meta"] = {
                "oemUpdatedAt": epoch_ms(reported_at),
                "retrievedAt": epoch_ms(retrieved_at),
            }
            item["status"] = attrs["status"]
            out.append(item)
        return out

    def _vehicle_data(self, vehicle: Vehicle) -> dict[str, Any]:
        attrs = signals.vehicle_resource(vehicle, "")["attributes"]
        return {
            "id": vehicle.id,
            "make": attrs["make"],
            "model": attrs["model"],
            "year": attrs["year"],
            "mode": "live",
            "powertrainType": attrs["powertrainType"],
        }

    def _user_data(self, webhook_id: str, vehicle_id: str) -> dict[str, Any]:
        record = self._subscriptions.get((webhook_id, vehicle_id))
        user = self._user_of(vehicle_id, record.user_id if record else None)
        return {"id": user or self.sim.user_id}

    def _enqueue(
        self,
        *,
        event_type: str,
        webhook_id: str,
        vehicle_id: str | None,
        data: dict[str, Any],
        triggers: list[dict[str, Any]] | None,
        due_at: float,
        signal_count: int | None = None,
    ) -> Event:
        event = Event(
            event_id=str(uuid.uuid4()),
            event_type=event_type,
            webhook_id=webhook_id,
            vehicle_id=vehicle_id,
            data=data,
            triggers=triggers,
            due_at=due_at,
            seq=next(self._seq),
            signal_count=signal_count,
        )
        self._queue.append(event)
        return event

    def _state_event(
        self,
        cfg: WebhookConfig,
        vehicle: Vehicle,
        items: list[dict[str, Any]],
        triggers: list[dict[str, Any]],
        due_at: float,
    ) -> Event:
        data = {
            "user": self._user_data(cfg.id, vehicle.id),
            "vehicle": self._vehicle_data(vehicle),
            "signals": items,
        }
        return self._enqueue(
            event_type=VEHICLE_STATE,
            webhook_id=cfg.id,
            vehicle_id=vehicle.id,
            data=data,
            triggers=triggers,
            due_at=due_at,
            signal_count=len(items),
        )

    def _collect(self, now: float) -> None:
        """Turn new reports and new subscriptions into VEHICLE_STATE events."""
        sim = self.sim
        active = [cfg for w in sim.webhooks if (cfg := self.config(w)).verified and cfg.url]
        for webhook_id in list(self._baseline):
            if webhook_id not in {cfg.id for cfg in active}:
                del self._baseline[webhook_id]  # verified again later: FIRST_DELIVERY again
        if not active:
            self._reports.clear()
            return
        subscribed = {cfg.id: self.subscribed_vehicles(cfg.id) for cfg in active}
        for vehicle_id in dict.fromkeys(v for ids in subscribed.values() for v in ids):
            sim.fleet[vehicle_id].sync()  # reports due by now reach `_on_report`
        reports, self._reports = self._reports, {}
        for cfg in active:
            baseline = self._baseline.setdefault(cfg.id, {})
            for vehicle_id in [v for v in baseline if v not in subscribed[cfg.id]]:
                del baseline[vehicle_id]  # subscribed again later: FIRST_DELIVERY again
            for vehicle_id in subscribed[cfg.id]:
                vehicle = sim.fleet[vehicle_id]
                if vehicle_id not in baseline:
                    state, reported_at = vehicle.reported()
                    items = self._signals(cfg, vehicle, state, reported_at.timestamp(), now)
                    baseline[vehicle_id] = _fingerprint(items)
                    self._state_event(cfg, vehicle, items, [{"type": "FIRST_DELIVERY"}], now)
                    continue
                for state, at in reports.get(vehicle_id, []):
                    items = self._signals(cfg, vehicle, state, at, at)
                    prints = _fingerprint(items)
                    before = baseline[vehicle_id]
                    changed = [i for i in items if before.get(i["code"]) != prints[i["code"]]]
                    baseline[vehicle_id] = prints
                    if changed:
                        triggers = [
                            {
                                "type": "SIGNAL_UPDATED",
                                "signal": {
                                    "name": i["name"],
                                    "code": i["code"],
                                    "group": i["group"],
                                },
                            }
                            for i in changed
                        ]
                        self._state_event(cfg, vehicle, items, triggers, max(at, now))

    def inject_error(
        self,
        webhook_id: str,
        key_or_id: str,
        *,
        type: str,
        code: str | None = None,
        state: str = "ERROR",
        resolution: str | None = None,
        signals: Iterable[str] = (),
        description: str | None = None,
        suggested_user_message: str | None = None,
    ) -> Event:
        """Queue a VEHICLE_ERROR (sent by the next `deliver_due()`).

        KeyError: unknown webhook or vehicle; ValueError: a wrong field; WebhookNotReady:
        the webhook has no url / is not verified, or the vehicle is not subscribed to it.
        `resolution` None takes the error type's usual one.
        """
        sim = self.sim
        cfg = self.config(webhook_id)
        vehicle = sim.vehicle(key_or_id)
        if not isinstance(type, str) or not type:
            raise ValueError("'type' must be a non-empty string")
        if code is not None and not isinstance(code, str):
            raise ValueError("'code' must be a string or null")
        if state not in ERROR_STATES:
            raise ValueError("'state' must be ERROR or RESOLVED")
        if resolution is not None and not isinstance(resolution, str):
            raise ValueError("'resolution' must be a string or null")
        codes = _check_codes(signals)
        for name, value in (
            ("description", description),
            ("suggested_user_message", suggested_user_message),
        ):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"'{name}' must be a string or null")
        if not (cfg.url and cfg.verified):
            raise WebhookNotReady(f"webhook {webhook_id} has no verified url")
        if vehicle.id not in self.subscribed_vehicles(webhook_id):
            raise WebhookNotReady(f"vehicle {vehicle.id} is not subscribed to {webhook_id}")
        template = SmartcarError(type, code, description).body("")
        error = {
            "type": type,
            "code": code,
            "description": template["description"],
            "docURL": template["docURL"],
            "resolution": {"type": resolution or template["resolution"]["type"]},
            "suggestedUserMessage": suggested_user_message or template["suggestedUserMessage"],
            "state": state,
            "signals": [
                {"name": name, "group": group, "code": c}
                for c in codes
                for name, group in [_describe(c)]
            ],
        }
        data = {
            "user": self._user_data(webhook_id, vehicle.id),
            "vehicle": self._vehicle_data(vehicle),
            "errors": [error],
        }
        return self._enqueue(
            event_type=VEHICLE_ERROR,
            webhook_id=webhook_id,
            vehicle_id=vehicle.id,
            data=data,
            triggers=None,
            due_at=sim.clock.timestamp(),
        )

    # -- faults -----------------------------------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        count: int | None = 1,
        vehicle_id: str | None = None,
        webhook_id: str | None = None,
    ) -> DeliveryFault:
        """Disturb the next `count` attempts (None: until cleared) of matching deliveries.

        `duplicate`: sent twice (same deliveryId and body); `reorder`: held back and sent just
        after the next delivery to that webhook; `bad_signature`: a wrong SC-Signature (what
        the answer then causes follows: a 401 is retried); `drop`: never sent (not retried).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(sorted(FAULT_KINDS))}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ValueError("'count' must be a positive whole number or null")
        if count is not None and count < 1:
            raise ValueError("'count' must be a positive whole number or null")
        if vehicle_id is not None:
            vehicle_id = self.sim.vehicle(vehicle_id).id
        if webhook_id is not None:
            self.config(webhook_id)
        fault = DeliveryFault(kind, count, vehicle_id, webhook_id)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every delivery fault."""
        self.faults.clear()

    def _fire(self, event: Event) -> list[str]:
        kinds: list[str] = []
        for fault in self.faults:
            if fault.kind not in kinds and fault.matches(event):
                fault.fired += 1
                kinds.append(fault.kind)
        self.faults = [f for f in self.faults if f.count is None or f.fired < f.count]
        return kinds

    # -- counters and log -------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, dict[str, int]]:
        """Per webhook id: sent, acknowledged, failed, retried, dropped (a copy)."""
        return {w: dict(c) for w, c in self._counters.items()}

    def reset_counters(self) -> None:
        """Zero the counters and empty the log."""
        self._counters.clear()
        self.log.clear()

    def _count(self, webhook_id: str, name: str) -> None:
        counters = self._counters.setdefault(webhook_id, _zero())
        counters[name] += 1

    @property
    def pending(self) -> list[Event]:
        """Queued events (due now or later: retries), in due order."""
        return sorted(self._queue, key=lambda e: (e.due_at, e.seq))

    # -- sending ----------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    def _headers(self, webhook_id: str, body: bytes, *, bad: bool = False) -> dict[str, str]:
        key = self.management_token(webhook_id)
        signature = sign(key + "-not-the-amt" if bad else key, body)
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            "User-Agent": USER_AGENT,
        }

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        """(status, error, answer body); status None on a timeout or connection error."""
        try:
            async with self._client().post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                return response.status, None, await response.read()
        except TimeoutError:
            return None, "timeout", b""
        except aiohttp.ClientError as err:
            return None, f"{err.__class__.__name__}: {err}", b""

    def _envelope(self, event: Event, delivery_id: str, now: float) -> bytes:
        cfg = self.config(event.webhook_id)
        body: dict[str, Any] = {
            "eventId": event.event_id,
            "eventType": event.event_type,
            "data": event.data,
        }
        if event.triggers is not None:
            body["triggers"] = event.triggers
        meta: dict[str, Any] = {
            "deliveryId": delivery_id,
            "deliveredAt": epoch_ms(now),
            "version": VERSION,
            "webhookId": cfg.id,
            "webhookName": cfg.name,
            "mode": "LIVE",
        }
        if event.signal_count is not None:
            meta["signalCount"] = event.signal_count
        body["meta"] = meta
        return json.dumps(body, separators=(",", ":")).encode()

    def _record(
        self,
        event: Event,
        delivery_id: str,
        outcome: str,
        *,
        status: int | None = None,
        error: str | None = None,
        faults: list[str] | None = None,
    ) -> dict[str, Any]:
        record = {
            "eventId": event.event_id,
            "deliveryId": delivery_id,
            "eventType": event.event_type,
            "webhookId": event.webhook_id,
            "vehicleId": event.vehicle_id,
            "attempt": event.attempts,
            "status": status,
            "outcome": outcome,
            "error": error,
            "faults": list(faults or []),
            "triggers": [
                t["signal"]["code"] if "signal" in t else t["type"] for t in event.triggers or []
            ],
            "at": _iso(self.sim.clock.timestamp()),
        }
        self.log.append(record)
        return record

    async def _send(self, pending: _Pending) -> list[dict[str, Any]]:
        """POST one attempt (twice with `duplicate`), then retry or drop it when it failed."""
        event = pending.event
        url = self.config(event.webhook_id).url
        records: list[dict[str, Any]] = []
        ok = False
        for copy in range(2 if "duplicate" in pending.faults else 1):
            status: int | None = None
            error: str | None = "the webhook has no url"  # removed while a fault held it
            if url is not None:
                status, error, _ = await self._post(url, pending.body, pending.headers)
            self._count(event.webhook_id, "sent")
            good = status is not None and 200 <= status < 300
            self._count(event.webhook_id, "acknowledged" if good else "failed")
            if copy == 0:
                ok = good
            outcome = "acknowledged" if good else "failed"
            records.append(
                self._record(
                    event,
                    pending.delivery_id,
                    outcome,
                    status=status,
                    error=error,
                    faults=pending.faults,
                )
            )
        if not ok:
            if event.attempts <= len(self.retry_delays):
                event.due_at = self.sim.clock.timestamp() + self.retry_delays[event.attempts - 1]
                self._queue.append(event)
            else:
                self._count(event.webhook_id, "dropped")
                records.append(self._record(event, pending.delivery_id, "dropped"))
        return records

    async def _attempt(self, event: Event) -> list[dict[str, Any]]:
        cfg = self.config(event.webhook_id)
        event.attempts += 1
        delivery_id = str(uuid.uuid4())
        if event.attempts > 1:
            self._count(event.webhook_id, "retried")
        if not (cfg.verified and cfg.url):
            self._count(event.webhook_id, "dropped")
            return [self._record(event, delivery_id, "dropped", error="webhook not verified")]
        faults = self._fire(event)
        if "drop" in faults:
            self._count(event.webhook_id, "dropped")
            return [self._record(event, delivery_id, "dropped", faults=faults)]
        body = self._envelope(event, delivery_id, self.sim.clock.timestamp())
        headers = self._headers(event.webhook_id, body, bad="bad_signature" in faults)
        pending = _Pending(event, delivery_id, body, headers, faults)
        if "reorder" in faults:
            self._held.setdefault(event.webhook_id, []).append(pending)
            return [self._record(event, delivery_id, "held", faults=faults)]
        records = await self._send(pending)
        for held in self._held.pop(event.webhook_id, []):
            records += await self._send(held)
        return records

    async def deliver_due(self) -> list[dict[str, Any]]:
        """Send everything due at the virtual now; the log records of what happened.

        New reports of subscribed cars become VEHICLE_STATE events, newly subscribed cars a
        FIRST_DELIVERY; queued events (injected errors, retries) whose time has come go out in
        due order. One call at a time (a lock).
        """
        async with self._lock:
            now = self.sim.clock.timestamp()
            self._collect(now)
            due = sorted(
                (e for e in self._queue if e.due_at <= now), key=lambda e: (e.due_at, e.seq)
            )
            self._queue = [e for e in self._queue if e.due_at > now]
            records: list[dict[str, Any]] = []
            for event in due:
                records += await self._attempt(event)
            return records

    async def verify(self, webhook_id: str) -> dict[str, Any]:
        """Send VERIFY now; the webhook is verified only by a right answer (recorded, returned).

        Right: HTTP 200 with a JSON object whose `challenge` is hex(HMAC-SHA256(AMT,
        challenge)), within `timeout` real seconds. WebhookNotReady when there is no url.
        """
        cfg = self.config(webhook_id)
        if cfg.url is None:
            raise WebhookNotReady(f"webhook {webhook_id} has no url")
        key = self.management_token(webhook_id)
        challenge = secrets.token_hex(16)
        event_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        now = self.sim.clock.timestamp()
        body = json.dumps(
            {
                "eventId": event_id,
                "eventType": VERIFY,
                "data": {"challenge": challenge},
                "meta": {
                    "version": VERSION,
                    "webhookId": cfg.id,
                    "webhookName": cfg.name,
                    "deliveryId": delivery_id,
                    "deliveredAt": epoch_ms(now),
                },
            },
            separators=(",", ":"),
        ).encode()
        status, error, answer = await self._post(cfg.url, body, self._headers(webhook_id, body))
        expected = sign(key, challenge)
        got: Any = None
        if status is not None:
            try:
                parsed = json.loads(answer or b"null")
            except ValueError:
                parsed = None
            got = parsed.get("challenge") if isinstance(parsed, dict) else None
            if status != 200:
                error = f"HTTP {status}"
            elif not isinstance(got, str):
                error = "the answer is not a JSON object with a challenge"
            elif not hmac.compare_digest(got, expected):
                error = "wrong challenge answer"
        verified = error is None
        result = {
            "verified": verified,
            "status": status,
            "error": error,
            "challenge": challenge,
            "expected": expected,
            "answer": got,
            "eventId": event_id,
            "deliveryId": delivery_id,
            "at": _iso(now),
        }
        cfg.verified = verified
        cfg.verification = result
        self.log.append(
            {
                "eventId": event_id,
                "deliveryId": delivery_id,
                "eventType": VERIFY,
                "webhookId": webhook_id,
                "vehicleId": None,
                "attempt": 1,
                "status": status,
                "outcome": "verified" if verified else "not verified",
                "error": error,
                "faults": [],
                "triggers": [],
                "at": _iso(now),
            }
        )
        return result

    # -- background loop --------------------------------------------------------------------

    def start(self, interval: float = TICK) -> None:
        """Call `deliver_due()` every `interval` real seconds (until `close()`)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(interval), name="smartcar-sim-webhooks")

    @property
    def running(self) -> bool:
        """True while the background loop runs."""
        return self._task is not None and not self._task.done()

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("webhook delivery failed")

    async def close(self) -> None:
        """Stop the background loop and close the HTTP session."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTER_NAMES, 0)


def _fingerprint(items: list[dict[str, Any]]) -> dict[str, str]:
    """code -> its status and body (what a change is measured on; not the times)."""
    return {i["code"]: json.dumps([i["status"], i.get("body")], sort_keys=True) for i in items}


def _check_codes(codes: Iterable[str]) -> list[str]:
    """Known signal codes, without repeats; ValueError otherwise."""
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise ValueError("'signals' must be a list of signal codes")
    found = list(codes)
    if not all(isinstance(code, str) for code in found):
        raise ValueError("'signals' must be a list of signal codes")
    if unknown := sorted(set(found) - signals.CODES):
        raise ValueError(f"unknown signal codes: {', '.join(unknown)}")
    return list(dict.fromkeys(found))


def _known_codes() -> frozenset[str]:
    """Every known v3 signal code (`signals` is a parameter name in some methods)."""
    return signals.CODES


def _describe(code: str) -> tuple[str, str]:
    """(name, group) of a code."""
    return signals.describe(code)


_SENDERS: weakref.WeakKeyDictionary[Simulator, WebhookSender] = weakref.WeakKeyDictionary()


def sender_of(sim: Simulator) -> WebhookSender:
    """The simulator's webhook sender (created on first use)."""
    found = _SENDERS.get(sim)
    if found is None:
        found = _SENDERS[sim] = WebhookSender(sim)
    return found


def existing_sender(sim: Simulator) -> WebhookSender | None:
    """The sender if one was created (the server closes it)."""
    return _SENDERS.get(sim)


# -- HTTP: the v3 management subscriptions API -----------------------------------------------------


def _not_found(code: str, description: str) -> SmartcarError:
    return SmartcarError("RESOURCE_NOT_FOUND", code, description)


async def create_subscription(request: web.Request) -> web.Response:
    """`POST /v3/subscriptions` `{"data": {"attributes": {webhookId, userId, vehicleId}}}` -> 202."""
    sim = simulator(request)
    try:
        v3.check_app_token(sim, request)
        body = await read_json(request)
        data = body.get("data") if isinstance(body, dict) else None
        attrs = data.get("attributes") if isinstance(data, dict) else None
        attrs = attrs if isinstance(attrs, dict) else {}
        fields = {name: attrs.get(name) for name in ("webhookId", "userId", "vehicleId")}
        if missing := [n for n, v in fields.items() if not isinstance(v, str) or not v]:
            raise errors.validation(
                "data.attributes." + ", data.attributes.".join(missing) + " required."
            )
        webhook_id, user_id, vehicle_id = (str(fields[n]) for n in fields)
        if webhook_id not in sim.webhooks:
            raise _not_found("WEBHOOK_NOT_FOUND", f"No webhook {webhook_id}.")
        if user_id not in sim.accounts.user_ids:
            raise _not_found("USER_NOT_FOUND", f"No user {user_id}.")
        if vehicle_id not in sim.fleet or not sim.accounts.has_vehicle(user_id, vehicle_id):
            raise errors.vehicle_not_found()
        if not sender_of(sim).subscribe(webhook_id, vehicle_id, user_id):
            raise SmartcarError(
                "CONFLICT",
                "SUBSCRIPTION_EXISTS",
                "The vehicle is already subscribed to this webhook.",
                status=409,
            )
    except SmartcarError as err:
        return v3.error_response(request, err)
    return json_response({"meta": {"message": "subscription creation in progress"}}, 202)


async def list_subscriptions(request: web.Request) -> web.Response:
    """`GET /v3/subscriptions?filter[userId|webhookId|vehicleId|vehicle.mode]&page[...]`."""
    sim = simulator(request)
    try:
        v3.check_app_token(sim, request)
        number = v3.page_param(request, "page[number]", 1, 1_000_000)
        size = v3.page_param(request, "page[size]", v3.PAGE_SIZE_DEFAULT, v3.PAGE_SIZE_MAX)
    except SmartcarError as err:
        return v3.error_response(request, err)
    query = request.query
    wanted = {
        "userId": query.get("filter[userId]"),
        "webhookId": query.get("filter[webhookId]"),
        "vehicleId": query.get("filter[vehicleId]"),
    }
    mode = query.get("filter[vehicle.mode]")
    found = [
        s.as_json()
        for s in sender_of(sim).subscriptions()
        if mode in (None, "live")
        and all(v is None or s.as_json()["attributes"][k] == v for k, v in wanted.items())
    ]
    total = len(found)
    start = (number - 1) * size
    return json_response(
        {
            "data": found[start : start + size],
            "meta": {"pageNumber": number, "pageSize": size, "totalCount": total},
            "links": {"self": str(request.rel_url)},
        }
    )


def _find_subscription(sim: Simulator, subscription_id: str) -> Subscription:
    for record in sender_of(sim).subscriptions():
        if record.id == subscription_id:
            return record
    raise _not_found("SUBSCRIPTION_NOT_FOUND", f"No subscription {subscription_id}.")


async def get_subscription(request: web.Request) -> web.Response:
    """`GET /v3/subscriptions/{id}` -> `{"data": subscription}`."""
    sim = simulator(request)
    try:
        v3.check_app_token(sim, request)
        record = _find_subscription(sim, request.match_info["id"])
    except SmartcarError as err:
        return v3.error_response(request, err)
    return json_response({"data": record.as_json()})


async def delete_subscription(request: web.Request) -> web.Response:
    """`DELETE /v3/subscriptions/{id}` -> 202 (assumed form)."""
    sim = simulator(request)
    try:
        v3.check_app_token(sim, request)
        record = _find_subscription(sim, request.match_info["id"])
    except SmartcarError as err:
        return v3.error_response(request, err)
    sender_of(sim).unsubscribe(record.webhook_id, record.vehicle_id)
    return json_response({"meta": {"message": "subscription deletion in progress"}}, 202)


# -- HTTP: /sim/webhooks control endpoints -------------------------------------------------------

CONFIG_FIELDS: Final = frozenset(
    {"url", "management_token", "name", "signals", "auto_subscribe", "verified"}
)
ERROR_FIELDS: Final = frozenset(
    {
        "vehicle",
        "type",
        "code",
        "state",
        "resolution",
        "signals",
        "description",
        "suggested_user_message",
    }
)
FAULT_FIELDS: Final = frozenset({"kind", "count", "vehicle_id", "webhook_id"})


def _bad(message: str, status: int = 400) -> web.Response:
    return json_response({"error": message}, status)


async def _object(request: web.Request) -> dict[str, Any] | None:
    if not request.body_exists:
        return {}
    body = await read_json(request)
    return body if isinstance(body, dict) else None


def _webhook(sim: Simulator, request: web.Request) -> WebhookConfig | None:
    try:
        return sender_of(sim).config(request.match_info["id"])
    except KeyError:
        return None


async def sim_list(request: web.Request) -> web.Response:
    """`GET /sim/webhooks`: every webhook, the faults."""
    sender = sender_of(simulator(request))
    return json_response(
        {
            "webhooks": [sender.settings(w) for w in sender.sim.webhooks],
            "faults": [f.as_json() for f in sender.faults],
            "running": sender.running,
        }
    )


async def sim_get(request: web.Request) -> web.Response:
    """`GET /sim/webhooks/{id}`."""
    sim = simulator(request)
    if (cfg := _webhook(sim, request)) is None:
        return _bad("unknown webhook", 404)
    return json_response(sender_of(sim).settings(cfg.id))


async def sim_configure(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/{id}` `{url?, management_token?, name?, signals?, auto_subscribe?,
    verified?}`: change what is given."""
    sim = simulator(request)
    if (cfg := _webhook(sim, request)) is None:
        return _bad("unknown webhook", 404)
    body = await _object(request)
    if body is None:
        return _bad("the body must be a JSON object")
    if unknown := set(body) - CONFIG_FIELDS:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        sender_of(sim).configure(cfg.id, **body)
    except ValueError as err:
        return _bad(str(err))
    return json_response(sender_of(sim).settings(cfg.id))


async def sim_verify(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/{id}/verify`: send VERIFY now -> the result."""
    sim = simulator(request)
    if (cfg := _webhook(sim, request)) is None:
        return _bad("unknown webhook", 404)
    try:
        return json_response(await sender_of(sim).verify(cfg.id))
    except WebhookNotReady as err:
        return _bad(str(err), 409)


async def sim_error(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/{id}/error` `{vehicle, type, code?, state?, resolution?, signals?,
    description?, suggested_user_message?}` -> 202 `{"eventId"}` (sent by the next delivery)."""
    sim = simulator(request)
    if (cfg := _webhook(sim, request)) is None:
        return _bad("unknown webhook", 404)
    body = await _object(request)
    if body is None:
        return _bad("the body must be a JSON object")
    if unknown := set(body) - ERROR_FIELDS:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    vehicle = body.pop("vehicle", None)
    if not isinstance(vehicle, str):
        return _bad("'vehicle' (id or key) is required")
    if "type" not in body:
        return _bad("'type' is required")
    signal_codes = body.pop("signals", [])
    if not isinstance(signal_codes, list):
        return _bad("'signals' must be a list of signal codes")
    try:
        event = sender_of(sim).inject_error(cfg.id, vehicle, signals=signal_codes, **body)
    except KeyError:
        return _bad("unknown vehicle", 404)
    except WebhookNotReady as err:
        return _bad(str(err), 409)
    except (TypeError, ValueError) as err:
        return _bad(str(err))
    return json_response({"eventId": event.event_id}, 202)


async def sim_deliver(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/deliver`: `deliver_due()` now -> `{"deliveries": [...]}`."""
    return json_response({"deliveries": await sender_of(simulator(request)).deliver_due()})


async def sim_log(request: web.Request) -> web.Response:
    """`GET /sim/webhooks/log`: the last deliveries (oldest first) and the counters."""
    sender = sender_of(simulator(request))
    return json_response({"deliveries": list(sender.log), "counters": sender.counters})


async def sim_reset(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/reset`: zero the counters, empty the log."""
    sender = sender_of(simulator(request))
    sender.reset_counters()
    return json_response({"deliveries": [], "counters": sender.counters})


async def sim_faults(request: web.Request) -> web.Response:
    """`GET /sim/webhooks/faults`."""
    return json_response({"faults": [f.as_json() for f in sender_of(simulator(request)).faults]})


async def sim_add_fault(request: web.Request) -> web.Response:
    """`POST /sim/webhooks/faults` `{kind, count?, vehicle_id?, webhook_id?}` -> 201."""
    sim = simulator(request)
    body = await _object(request)
    if body is None:
        return _bad("the body must be a JSON object")
    if unknown := set(body) - FAULT_FIELDS:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    kind = body.pop("kind", None)
    if not isinstance(kind, str):
        return _bad("'kind' is required")
    try:
        fault = sender_of(sim).add_fault(kind, **body)
    except KeyError:
        return _bad("unknown vehicle or webhook", 404)
    except (TypeError, ValueError) as err:
        return _bad(str(err))
    return json_response(fault.as_json(), 201)


async def sim_clear_faults(request: web.Request) -> web.Response:
    """`DELETE /sim/webhooks/faults`."""
    sender_of(simulator(request)).clear_faults()
    return json_response({"faults": []})


def routes() -> list[web.RouteDef]:
    """`/v3/subscriptions` and `/sim/webhooks` (fixed paths before `{id}`)."""
    return [
        web.post("/v3/subscriptions", create_subscription),
        web.get("/v3/subscriptions", list_subscriptions),
        web.get("/v3/subscriptions/{id}", get_subscription),
        web.delete("/v3/subscriptions/{id}", delete_subscription),
        web.get("/sim/webhooks", sim_list),
        web.post("/sim/webhooks/deliver", sim_deliver),
        web.get("/sim/webhooks/log", sim_log),
        web.post("/sim/webhooks/reset", sim_reset),
        web.get("/sim/webhooks/faults", sim_faults),
        web.post("/sim/webhooks/faults", sim_add_fault),
        web.delete("/sim/webhooks/faults", sim_clear_faults),
        web.get("/sim/webhooks/{id}", sim_get),
        web.post("/sim/webhooks/{id}", sim_configure),
        web.post("/sim/webhooks/{id}/verify", sim_verify),
        web.post("/sim/webhooks/{id}/error", sim_error),
    ]
