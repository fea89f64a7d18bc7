"""Home Assistant around the simulator: credentials, an entry, virtual time, entity lookups."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
import time
from typing import Any, Final
from unittest.mock import patch

from aiohttp.test_utils import TestServer
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    USER_ID,
    Simulator,
    webhooks,
)
from smartcar_simulator.simulator import DEFAULT_WEBHOOK_ID
from smartcar_simulator.v3 import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_V3_CLIENT_ID,
    DEFAULT_V3_CLIENT_SECRET,
)

V2: Final = "2"
V3: Final = "3"


def token_data(access_token: str, refresh_token: str, expires_in: float) -> dict[str, Any]:
    """Tokens as Home Assistant keeps them in an entry."""
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(expires_in),
        "expires_at": time.time() + expires_in,
    }


async def setup_credentials(hass: HomeAssistant, url: str, api: str = V2) -> None:
    """configuration.yaml pointing at the simulator at `url`, and the app's credentials.

    `api`: "2" the v2.0 application's client id and secret, "3" the v3 application's.
    """
    assert await async_setup_component(hass, "application_credentials", {})
    endpoints = {
        "connect_url": f"{url}/oauth/authorize",
        "token_url": f"{url}/oauth/token",
        "api_url": f"{url}/v2.0",
        "management_url": f"{url}/v3",
        "iam_url": f"{url}/oauth2/token",
        "vehicle_api_url": f"{url}/v3",
    }
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: endpoints})
    credential = (
        ClientCredential(DEFAULT_V3_CLIENT_ID, DEFAULT_V3_CLIENT_SECRET)
        if api == V3
        else ClientCredential(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    )
    await async_import_client_credential(hass, DOMAIN, credential, DOMAIN)


def make_entry(token: dict[str, Any], options: dict[str, Any]) -> MockConfigEntry:
    """A Smartcar entry for the simulator's user, as the config flow leaves it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Smartcar",
        unique_id=USER_ID,
        version=1,
        data={"auth_implementation": DOMAIN, "token": token, "mode": "live"},
        options=options,
    )


def make_v3_entry(options: dict[str, Any]) -> MockConfigEntry:
    """An API v3 entry for the simulator's user, as the v3 config flow leaves it (no token:
    the integration fetches an application token with the credential's id and secret)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Smartcar",
        unique_id=USER_ID,
        version=1,
        data={
            "auth_implementation": DOMAIN,
            "api_version": V3,
            "application_id": DEFAULT_APPLICATION_ID,
            "user_id": USER_ID,
            "mode": "live",
        },
        options=options,
    )


@contextmanager
def virtual_time(now: Callable[[], datetime]) -> Generator[None]:
    """Home Assistant's notion of now follows `now` (the simulator's virtual clock).

    Only `dt_util.utcnow` and the time trackers move: the event loop's clock stays real,
    as it must under open sockets (keep-alive and timeouts follow it).
    """

    def timestamp() -> float:
        return now().timestamp()

    with (
        patch("homeassistant.util.dt.utcnow", now),
        patch("homeassistant.helpers.event.time_tracker_utcnow", now),
        patch("homeassistant.helpers.event.time_tracker_timestamp", timestamp),
    ):
        yield


class Now:
    """A virtual now that moves only when told (`value`), for `virtual_time`."""

    def __init__(self, start: datetime) -> None:
        """Now is `start` until `value` changes."""
        self.value = start

    def __call__(self) -> datetime:
        """The virtual now."""
        return self.value


class VirtualTimer:
    """Home Assistant's coordinator refresh timer, in virtual time.

    `DataUpdateCoordinator` arms a `loop.call_at` on the event loop's real clock: after each
    refresh, after `async_set_updated_data` (a command's optimistic state and confirmation)
    and when the first entity listens, it schedules the next refresh `update_interval` later
    (or `retry_after` after a failure). Here the same rules arm a virtual deadline instead,
    and the benchmark refreshes the coordinator when virtual time reaches it.
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        """Deadlines follow `now` (the simulator's clock)."""
        self.now = now
        self.due: dict[int, datetime] = {}

    def deadline(self, coordinator: DataUpdateCoordinator[Any]) -> datetime | None:
        """When Home Assistant would refresh this coordinator next (None: not armed)."""
        return self.due.get(id(coordinator))

    @contextmanager
    def installed(self) -> Generator[None]:
        """Replace the real-time timer of every coordinator while in the block."""
        timer = self

        def schedule(coordinator: DataUpdateCoordinator[Any]) -> None:
            # As DataUpdateCoordinator._schedule_refresh, with a virtual deadline.
            seconds = coordinator._update_interval_seconds
            if seconds is None:
                return
            entry = coordinator.config_entry
            if entry is not None and entry.pref_disable_polling:
                return
            if coordinator._retry_after is not None:
                seconds = coordinator._retry_after
                coordinator._retry_after = None
            timer.due[id(coordinator)] = timer.now() + timedelta(seconds=seconds)

        def unschedule(coordinator: DataUpdateCoordinator[Any]) -> None:
            timer.due.pop(id(coordinator), None)

        with (
            patch.object(DataUpdateCoordinator, "_schedule_refresh", schedule),
            patch.object(DataUpdateCoordinator, "_async_unsub_refresh", unschedule),
        ):
            yield


def entity_id(hass: HomeAssistant, domain: str, vehicle_id: str, key: str) -> str | None:
    """The entity id of one of a vehicle's entities (by unique id), None when it has none."""
    return er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{vehicle_id}_{key}")


@asynccontextmanager
async def http_server(hass: HomeAssistant) -> AsyncGenerator[str]:
    """Home Assistant's HTTP application served on a real socket; yields its base URL.

    The harness does not start Home Assistant's own server; this serves the same
    application (its middlewares, the webhook view) as the test client does, on
    127.0.0.1 and a free port, for clients of any kind (the simulator's webhook sender).
    """
    server = TestServer(hass.http.app)
    # Views registered after the start (other integrations' setup) still work.
    server.app._router.freeze = lambda: None
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def webhook_sender(
    hass: HomeAssistant, sim: Simulator, webhook_id: str
) -> AsyncGenerator[webhooks.WebhookSender]:
    """The simulator's webhook sender, delivering to the entry's webhook over real HTTP.

    Home Assistant's HTTP application is served on a socket (`http_server`); Smartcar's
    webhook (the simulator's default one, with every connected car subscribed) gets that
    callback URL, is verified (VERIFY itself is the tests' business) and signs with the
    simulator's management token, the one the entry's options hold. Nothing goes out until
    `deliver_due()` is awaited.
    """
    sender = webhooks.sender_of(sim)
    async with http_server(hass) as base:
        sender.configure(
            DEFAULT_WEBHOOK_ID,
            url=f"{base}/api/webhook/{webhook_id}",
            management_token=sim.management_token,
            verified=True,
        )
        try:
            yield sender
        finally:
            await sender.close()
