"""Smartcar webhook deliveries (envelope v4.0) for the tests, signed like Smartcar signs them."""

from __future__ import annotations

from datetime import datetime
import hashlib
import hmac
import json
from typing import Any, Final
import uuid

from aiohttp import ClientResponse
from homeassistant.const import CONF_WEBHOOK_ID
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from smartcar_simulator import Simulator, signals as sim_signals
from smartcar_simulator.simulator import DEFAULT_WEBHOOK_ID

MANAGEMENT_TOKEN: Final = "amt-for-the-tests"
SMARTCAR_WEBHOOK_ID: Final = DEFAULT_WEBHOOK_ID


# The options of an entry with webhooks on.
WEBHOOK_OPTIONS: Final = {"management_token": MANAGEMENT_TOKEN}


def sign(body: bytes, token: str = MANAGEMENT_TOKEN) -> str:
    """`SC-Signature`: hex HMAC-SHA256 of the raw body."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def vehicle_state(
    simulator: Simulator,
    key: str,
    *,
    event_id: str | None = None,
    codes: tuple[str, ...] | None = None,
    reported_at: datetime | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A VEHICLE_STATE delivery of the car's last report (its signals as the API serves them)."""
    vehicle = simulator.vehicle(key)
    now = simulator.clock.now()
    items = []
    for code in codes or tuple(sim_signals.codes_of(vehicle)):
        resource = sim_signals.signal_resource(vehicle, code, now, "http://sim")
        attributes = resource["attributes"]
        meta = resource["meta"]
        updated = reported_at or datetime.fromisoformat(meta["oemUpdatedAt"])
        item: dict[str, Any] = {
            "code": code,
            "name": attributes["name"],
            "group": attributes["group"],
            "status": attributes["status"],
            "meta": {"oemUpdatedAt": _ms(updated), "retrievedAt": _ms(now)},
        }
        if "body" in attributes:
            item["body"] = attributes["body"]
        if overrides and code in overrides:
            item["body"] = overrides[code]
        items.append(item)
    spec = vehicle.spec
    return {
        "eventId": event_id or str(uuid.uuid4()),
        "eventType": "VEHICLE_STATE",
        "data": {
            "user": {"id": simulator.user_id},
            "vehicle": {
                "id": vehicle.id,
                "make": spec.make.upper(),
                "model": spec.model,
                "year": spec.year,
                "mode": "live",
            },
            "signals": items,
        },
        "triggers": [{"type": "SIGNAL_UPDATED", "signal": {"code": items[0]["code"]}}],
        "meta": {
            "deliveryId": str(uuid.uuid4()),
            "deliveredAt": _ms(now),
            "version": "4.0",
            "webhookId": SMARTCAR_WEBHOOK_ID,
            "webhookName": "Home Assistant",
            "mode": "LIVE",
            "signalCount": len(items),
        },
    }


def vehicle_error(
    simulator: Simulator,
    key: str,
    *,
    type_: str,
    code: str | None,
    state: str = "ERROR",
    resolution: str | None = None,
    signals: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A VEHICLE_ERROR delivery."""
    vehicle = simulator.vehicle(key)
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VEHICLE_ERROR",
        "data": {
            "user": {"id": simulator.user_id},
            "vehicle": {"id": vehicle.id},
            "errors": [
                {
                    "type": type_,
                    "code": code,
                    "description": "test",
                    "resolution": {"type": resolution},
                    "state": state,
                    "signals": [{"code": c, "name": c, "group": c} for c in signals],
                }
            ],
        },
        "meta": {"version": "4.0", "webhookId": SMARTCAR_WEBHOOK_ID, "deliveredAt": 0},
    }


def verify(challenge: str) -> dict[str, Any]:
    """A VERIFY delivery."""
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VERIFY",
        "data": {"challenge": challenge},
        "meta": {"version": "4.0", "webhookId": SMARTCAR_WEBHOOK_ID, "webhookName": "HA"},
    }


def encode(envelope: dict[str, Any]) -> bytes:
    """The raw body as Smartcar would send it."""
    return json.dumps(envelope).encode()


async def post_delivery(
    hass_client_no_auth: ClientSessionGenerator,
    entry: MockConfigEntry,
    body: bytes,
    signature: str | None = "sign",
) -> ClientResponse:
    """POST a raw body to the entry's webhook: signed (default), unsigned (None) or with
    the signature given."""
    client = await hass_client_no_auth()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["SC-Signature"] = sign(body)
    elif signature is not None:
        headers["SC-Signature"] = signature
    return await client.post(
        f"/api/webhook/{entry.data[CONF_WEBHOOK_ID]}", data=body, headers=headers
    )
