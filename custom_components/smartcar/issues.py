"""Repair issues: what a user must do when Smartcar refuses for reasons only they can fix."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, SMARTCAR_DASHBOARD_URL


def _issue_id(entry_id: str, vehicle_id: str, kind: str) -> str:
    return f"{entry_id}_{vehicle_id}_{kind}"


def _raise_for_vehicle(
    hass: HomeAssistant,
    entry_id: str,
    vehicle_id: str,
    kind: str,
    *,
    translation_key: str,
    placeholders: dict[str, str],
    learn_more_url: str | None = None,
) -> None:
    """A warning about one vehicle of an entry, shown until it is cleared."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(entry_id, vehicle_id, kind),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders=placeholders,
        learn_more_url=learn_more_url,
    )


def _clear_for_vehicle(hass: HomeAssistant, entry_id: str, vehicle_id: str, kind: str) -> None:
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry_id, vehicle_id, kind))


def missing_permission(
    hass: HomeAssistant, entry_id: str, vehicle_id: str, vehicle: str, permission: str
) -> None:
    """The owner did not grant a permission an entity needs."""
    _raise_for_vehicle(
        hass,
        entry_id,
        vehicle_id,
        f"permission_{permission}",
        translation_key="missing_permission",
        placeholders={"vehicle": vehicle, "permission": permission},
    )


def clear_missing_permission(
    hass: HomeAssistant, entry_id: str, vehicle_id: str, permission: str
) -> None:
    """The permission is there again (a webhook's RESOLVED)."""
    _clear_for_vehicle(hass, entry_id, vehicle_id, f"permission_{permission}")


def account_action(
    hass: HomeAssistant, entry_id: str, vehicle_id: str, vehicle: str, code: str | None
) -> None:
    """The car maker's account needs something only its owner can do (a subscription, ...)."""
    _raise_for_vehicle(
        hass,
        entry_id,
        vehicle_id,
        "account",
        translation_key="account_action",
        placeholders={"vehicle": vehicle, "code": code or "ACCOUNT_ISSUE"},
    )


def clear_account_action(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> None:
    """The account problem is resolved."""
    _clear_for_vehicle(hass, entry_id, vehicle_id, "account")


def billing_limit(hass: HomeAssistant, entry_id: str, vehicle_id: str, vehicle: str) -> None:
    """Smartcar's plan or the vehicle's monthly request limit is used up."""
    _raise_for_vehicle(
        hass,
        entry_id,
        vehicle_id,
        "billing",
        translation_key="billing_limit",
        placeholders={"vehicle": vehicle},
    )


def clear_billing_limit(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> None:
    """Requests go through again."""
    _clear_for_vehicle(hass, entry_id, vehicle_id, "billing")


def signals_unavailable(hass: HomeAssistant, entry_id: str, vehicle_id: str, vehicle: str) -> None:
    """API v3 has no signals for a connected car: it is not subscribed to a webhook."""
    _raise_for_vehicle(
        hass,
        entry_id,
        vehicle_id,
        "signals_unavailable",
        translation_key="signals_unavailable",
        placeholders={"vehicle": vehicle},
        learn_more_url=SMARTCAR_DASHBOARD_URL,
    )


def clear_signals_unavailable(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> None:
    """The car's signals arrive."""
    _clear_for_vehicle(hass, entry_id, vehicle_id, "signals_unavailable")


def version_retired(hass: HomeAssistant, entry_id: str, title: str) -> None:
    """Smartcar no longer serves API v2.0 to the entry's application: move to v3."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{entry_id}_v2_retired",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="v2_retired",
        translation_placeholders={"entry": title},
        learn_more_url=SMARTCAR_DASHBOARD_URL,
    )


def _clear_starting(hass: HomeAssistant, prefix: str) -> None:
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


def clear_entry(hass: HomeAssistant, entry_id: str) -> None:
    """Forget every issue of an entry (at setup: what still holds is raised again)."""
    _clear_starting(hass, f"{entry_id}_")


def clear_vehicle(hass: HomeAssistant, entry_id: str, vehicle_id: str) -> None:
    """Forget every issue of a vehicle that left the account."""
    _clear_starting(hass, f"{entry_id}_{vehicle_id}_")
