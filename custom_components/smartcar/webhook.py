"""Smartcar webhooks: a Home Assistant webhook per entry that takes Smartcar's deliveries.

Every delivery is checked before it is read: bodies over `MAX_BODY_BYTES` are refused unread,
`SC-Signature` must be the HMAC of the raw body keyed with the application management token
(constant-time comparison), and only then is the JSON parsed. VERIFY is answered with the HMAC
of its challenge. A delivery for a car the entry does not have is acknowledged and ignored, so
Smartcar does not retry it; a repeated `eventId` changes nothing.
"""

from __future__ import annotations

from http import HTTPStatus
import importlib
import json
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from .api import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    VEHICLE_ERROR,
    VEHICLE_STATE,
    VERIFY,
    SmartcarError,
    UnitSystem,
    hash_challenge,
    parse_delivery,
    signature_valid,
)
from .const import CONF_CLOUDHOOK_URL, CONF_MANAGEMENT_TOKEN, CONF_SMARTCAR_WEBHOOK_ID, LOGGER
from .coordinator import SmartcarConfigEntry


def management_token(entry: SmartcarConfigEntry) -> str | None:
    """The application management token: webhooks are on when it is set."""
    token = entry.options.get(CONF_MANAGEMENT_TOKEN)
    return token if isinstance(token, str) and token else None


def webhook_url(hass: HomeAssistant, entry: SmartcarConfigEntry) -> str | None:
    """The URL to paste into the Smartcar dashboard (the cloudhook when there is one)."""
    if cloudhook := entry.data.get(CONF_CLOUDHOOK_URL):
        return str(cloudhook)
    if (webhook_id := entry.data.get(CONF_WEBHOOK_ID)) is None:
        return None
    try:
        return webhook.async_generate_url(hass, webhook_id)
    except NoURLAvailableError:
        return None


async def async_setup_webhook(hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
    """Register the entry's webhook; a Home Assistant Cloud cloudhook when the user has one."""
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    webhook.async_register(
        hass,
        entry.domain,
        f"Smartcar {entry.title}",
        webhook_id,
        _handler(entry),
        allowed_methods=["POST"],
    )
    async_subscribe_vehicles(hass, entry)
    if CONF_CLOUDHOOK_URL not in entry.data and _cloud_ready(hass):
        url = await _cloud(hass).async_create_cloudhook(hass, webhook_id)
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_CLOUDHOOK_URL: url})


@callback
def async_subscribe_vehicles(hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
    """Subscribe every car of the entry to the webhook Smartcar named in its VERIFY."""
    webhook_id = entry.data.get(CONF_SMARTCAR_WEBHOOK_ID)
    if not webhook_id:
        return
    for coordinator in entry.runtime_data.coordinators.values():
        entry.async_create_background_task(
            hass,
            coordinator.async_subscribe_webhook(webhook_id),
            f"smartcar subscribe {coordinator.vehicle.name}",
        )


def _cloud(hass: HomeAssistant) -> Any:
    """Home Assistant Cloud's module when it is set up (imported only then: it is heavy)."""
    if "cloud" not in hass.config.components:
        return None
    return importlib.import_module("homeassistant.components.cloud")


def _cloud_ready(hass: HomeAssistant) -> bool:
    cloud = _cloud(hass)
    return bool(
        cloud is not None
        and cloud.async_active_subscription(hass)
        and cloud.async_is_connected(hass)
    )


def async_unregister_webhook(hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
    """Stop taking deliveries (unload); the id stays the entry's."""
    if webhook_id := entry.data.get(CONF_WEBHOOK_ID):
        webhook.async_unregister(hass, webhook_id)


async def async_remove_webhook(hass: HomeAssistant, entry: SmartcarConfigEntry) -> None:
    """The entry is removed: its cloudhook goes too."""
    cloud = _cloud(hass)
    if cloud is not None and entry.data.get(CONF_CLOUDHOOK_URL) and entry.data.get(CONF_WEBHOOK_ID):
        try:
            await cloud.async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
        except cloud.CloudNotAvailable:
            LOGGER.debug("Home Assistant Cloud is not available to remove the cloudhook")


def _handler(entry: SmartcarConfigEntry) -> Any:
    async def handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        return await _async_handle(hass, entry, request)

    return handle


async def _read_body(request: web.Request) -> bytes | None:
    """The raw body, or None when it is over the limit (not read beyond it)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = await request.content.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _challenge(body: bytes) -> str | None:
    """The challenge of a VERIFY (only the event type and challenge are looked at)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or str(envelope.get("eventType", "")).upper() != VERIFY:
        return None
    data = envelope.get("data")
    challenge = data.get("challenge") if isinstance(data, dict) else None
    return challenge if isinstance(challenge, str) and challenge else None


async def _async_handle(
    hass: HomeAssistant, entry: SmartcarConfigEntry, request: web.Request
) -> web.Response:
    token = management_token(entry)
    if token is None:
        return web.Response(status=HTTPStatus.NOT_FOUND)
    body = await _read_body(request)
    if body is None:
        LOGGER.warning("Refused a Smartcar webhook delivery over %d bytes", MAX_BODY_BYTES)
        return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is not None and not signature_valid(token, body, signature):
        LOGGER.warning("Refused a Smartcar webhook delivery with a wrong signature")
        return web.Response(status=HTTPStatus.UNAUTHORIZED)
    if signature is None and _challenge(body) is None:
        # Only a VERIFY may come unsigned (Smartcar does not document that it signs it); its
        # answer is worthless without the token.
        LOGGER.warning("Refused an unsigned Smartcar webhook delivery")
        return web.Response(status=HTTPStatus.UNAUTHORIZED)
    try:
        delivery = parse_delivery(body, _unit_system(entry))
    except SmartcarError as err:
        LOGGER.warning("Smartcar sent a webhook delivery that cannot be read: %s", err)
        return web.Response(status=HTTPStatus.BAD_REQUEST)
    runtime = getattr(entry, "runtime_data", None)
    if delivery.event_type == VERIFY:
        # The id Smartcar gave its webhook: cars are subscribed to it through the API (which
        # only takes this application's webhooks, so a forged VERIFY gains nothing).
        if delivery.webhook_id and entry.data.get(CONF_SMARTCAR_WEBHOOK_ID) != delivery.webhook_id:
            hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_SMARTCAR_WEBHOOK_ID: delivery.webhook_id}
            )
            if runtime is not None:
                async_subscribe_vehicles(hass, entry)
        return web.json_response({"challenge": hash_challenge(token, delivery.challenge or "")})
    if runtime is None or not runtime.account.events.add(delivery.event_id):
        # Not loaded, or a repeat: acknowledged, nothing changes.
        return web.Response(status=HTTPStatus.OK)
    coordinator = runtime.coordinators.get(delivery.vehicle_id or "")
    if coordinator is None:
        LOGGER.debug("Smartcar webhook delivery for a vehicle of no entry: ignored")
        return web.Response(status=HTTPStatus.OK)
    if delivery.event_type == VEHICLE_STATE:
        coordinator.async_push(delivery.readings, delivery.raw, dt_util.utcnow())
    elif delivery.event_type == VEHICLE_ERROR:
        coordinator.last_webhook = dt_util.utcnow()
        coordinator.async_webhook_errors(delivery.errors)
    return web.Response(status=HTTPStatus.OK)


def _unit_system(entry: SmartcarConfigEntry) -> UnitSystem:
    runtime = getattr(entry, "runtime_data", None)
    return runtime.client.unit_system if runtime is not None else UnitSystem.METRIC
