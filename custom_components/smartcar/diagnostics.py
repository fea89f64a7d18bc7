"""Diagnostics: what a bug report needs, without tokens, secrets, VINs, ids or positions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import SmartcarConfigEntry

TO_REDACT = {
    "access_token",
    "refresh_token",
    "client_secret",
    "client_id",
    "token",
    "vin",
    "id",
    "latitude",
    "longitude",
    "request_id",
    "unique_id",
    "unlock_pin",
    "user_id",
    "application_id",
    "management_token",
    "webhook_id",
    "cloudhook_url",
    "smartcar_webhook_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SmartcarConfigEntry
) -> dict[str, Any]:
    """Entry settings and, per vehicle, what was granted, supported and last read."""
    vehicles = []
    for coordinator in entry.runtime_data.coordinators.values():
        vehicle = coordinator.vehicle
        vehicles.append(
            {
                "attributes": asdict(vehicle.attributes),
                "permissions": sorted(vehicle.permissions),
                "unanswerable": sorted(coordinator.unanswerable),
                "schedule": {
                    "last_read": coordinator.scheduler.last_read,
                    "last_reason": coordinator.scheduler.last_reason,
                    "next_check": coordinator.scheduler.next_check,
                    "next_reason": coordinator.scheduler.next_reason,
                },
                "webhook": {
                    "last_delivery": coordinator.last_webhook,
                    "signals": sorted(coordinator.pushed_signals),
                },
                "last_update_success": coordinator.last_update_success,
                "requests_this_month": coordinator.requests_this_month,
                "budget_remaining": coordinator.budget_remaining,
                "readings": {
                    signal.value: asdict(reading)
                    for signal, reading in sorted(coordinator.data.readings.items())
                },
                "failed": {
                    signal.value: f"{type(error).__name__}: {error}"
                    for signal, error in sorted(coordinator.data.failed.items())
                },
            }
        )
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "api_version": entry.runtime_data.client.api_version.value,
            "webhook": {
                "enabled": bool(entry.options.get("management_token")),
                "cloudhook": bool(entry.data.get("cloudhook_url")),
                "verified": bool(entry.data.get("smartcar_webhook_id")),
            },
            "vehicles": vehicles,
        },
        TO_REDACT,
    )
