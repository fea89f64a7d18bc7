"""Smartcar webhook deliveries (envelope v4.0): signatures, VERIFY, and the signals they carry.

A delivery is checked before it is parsed: `SC-Signature` is the hex HMAC-SHA256 of the raw
body keyed with the application management token, compared in constant time. VERIFY is
answered with the same HMAC of its challenge. VEHICLE_STATE carries v4.0 signals (the codes of
API v3, for v2 and v3 applications alike) and becomes the same models a read produces;
VEHICLE_ERROR carries errors in state ERROR or RESOLVED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
import hashlib
import hmac
import json
from typing import Any, Final

from . import _v3
from .const import Signal, UnitSystem
from .errors import SmartcarResponseError
from .models import SignalReading

# A delivery holds one car's signals: a few kilobytes. Bigger bodies are refused unread.
MAX_BODY_BYTES: Final = 256 * 1024
SIGNATURE_HEADER: Final = "SC-Signature"

VERIFY: Final = "VERIFY"
VEHICLE_STATE: Final = "VEHICLE_STATE"
VEHICLE_ERROR: Final = "VEHICLE_ERROR"


def hmac_hex(token: str, message: bytes | str) -> str:
    """Lowercase hex HMAC-SHA256 of `message` keyed with the management token."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(token.encode(), data, hashlib.sha256).hexdigest()


def hash_challenge(token: str, challenge: str) -> str:
    """What VERIFY must be answered with."""
    return hmac_hex(token, challenge)


def signature_valid(token: str, body: bytes, signature: str | None) -> bool:
    """Whether `SC-Signature` is the HMAC of the raw body (constant-time comparison)."""
    if not signature:
        return False
    return hmac.compare_digest(hmac_hex(token, body), signature.strip().lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookError:
    """One error of a VEHICLE_ERROR delivery."""

    type: str
    code: str | None = None
    state: str = "ERROR"  # or RESOLVED
    resolution: str | None = None
    signals: tuple[str, ...] = ()
    description: str | None = None

    @property
    def resolved(self) -> bool:
        """The condition is over."""
        return self.state.upper() == "RESOLVED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A parsed delivery: what it is, for which car, and what it carries."""

    event_id: str
    event_type: str
    vehicle_id: str | None = None
    user_id: str | None = None
    webhook_id: str | None = None
    challenge: str | None = None
    readings: dict[Signal, SignalReading] = field(default_factory=dict)
    raw: dict[Signal, dict[str, Any]] = field(default_factory=dict, repr=False)
    errors: tuple[WebhookError, ...] = ()
    test: bool = False


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _error(item: Mapping[str, Any]) -> WebhookError | None:
    type_ = _text(item.get("type"))
    if type_ is None:
        return None
    codes: list[str] = []
    signals = item.get("signals")
    for signal in signals if isinstance(signals, list) else ():
        # {name, group, code}, or an older "Group.Name" string.
        code = _text(signal.get("code")) if isinstance(signal, Mapping) else _text(signal)
        if code is not None:
            codes.append(code.lower())
    return WebhookError(
        type=type_.upper(),
        code=_text(item.get("code")),
        state=_text(item.get("state")) or "ERROR",
        resolution=_text(_mapping(item.get("resolution")).get("type"))
        or _text(item.get("resolution")),
        signals=tuple(codes),
        description=_text(item.get("description")),
    )


def parse_delivery(body: bytes, unit_system: UnitSystem = UnitSystem.METRIC) -> Delivery:
    """Parse a delivery's raw body (check its signature first)."""
    try:
        envelope = json.loads(body)
    except ValueError as err:
        raise SmartcarResponseError("webhook: body is not JSON") from err
    if not isinstance(envelope, Mapping):
        raise SmartcarResponseError("webhook: body is not a JSON object")
    event_type = _text(envelope.get("eventType")) or _text(envelope.get("eventName"))
    event_id = _text(envelope.get("eventId"))
    if event_type is None or event_id is None:
        raise SmartcarResponseError("webhook: no eventId or eventType")
    data = _mapping(envelope.get("data"))
    meta = _mapping(envelope.get("meta"))
    vehicle = _mapping(data.get("vehicle"))
    delivery = Delivery(
        event_id=event_id,
        event_type=event_type.upper(),
        vehicle_id=_text(vehicle.get("id")) or _text(envelope.get("vehicleId")),
        user_id=_text(_mapping(data.get("user")).get("id")),
        webhook_id=_text(meta.get("webhookId")),
        challenge=_text(data.get("challenge")),
        test=str(meta.get("mode", "")).upper() == "TEST",
    )
    if delivery.event_type == VEHICLE_STATE:
        items = data.get("signals")
        signals = _v3.signals_by_code(items if isinstance(items, list) else ())
        readings: dict[Signal, SignalReading] = {}
        raw: dict[Signal, dict[str, Any]] = {}
        for group in _v3.CODES:
            result = _v3.group_result(group, signals, unit_system)
            # A group whose signals all failed (unsupported, not charging) brings nothing:
            # what is shown stays, nothing flaps.
            if result is not None and result.reading is not None:
                readings[group] = result.reading
                if result.raw is not None:
                    raw[group] = result.raw
        return replace(delivery, readings=readings, raw=raw)
    if delivery.event_type == VEHICLE_ERROR:
        items = data.get("errors")
        errors = tuple(
            error
            for item in (items if isinstance(items, list) else ())
            if isinstance(item, Mapping) and (error := _error(item)) is not None
        )
        return replace(delivery, errors=errors)
    return delivery
