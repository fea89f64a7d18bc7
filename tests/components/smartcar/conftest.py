"""Fixtures for the integration: endpoints pointing at the simulator, credentials, an entry."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator
from tests.conftest import CLIENT_ID, CLIENT_SECRET, token_data


class Clock:
    """Home Assistant's notion of now (`dt_util.utcnow`), moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Generator[Clock]:
    """Move what the integration reads as the time without moving the event loop's clock.

    The simulator is a real server: jumping the loop's clock under open connections breaks
    them (keep-alive and timeouts follow that clock), so tests move `utcnow` only.
    """
    fake = Clock(dt_util.utcnow())
    with patch("homeassistant.util.dt.utcnow", fake):
        yield fake


async def poll(
    hass: HomeAssistant, entry: MockConfigEntry, clock: Clock, elapsed: timedelta
) -> None:
    """Let `elapsed` pass and run every car's scheduled refresh."""
    clock.now += elapsed
    for coordinator in entry.runtime_data.coordinators.values():
        await coordinator.async_refresh()
    await hass.async_block_till_done()


USER_ID = "7d2a7c2e-5b1e-4a39-9c0c-2b4f0e1d5a11"
EV_ID = "0f4e1b7a-9c3d-4e2f-8a61-5b7c9d1e2f30"
PHEV_ID = "1a5f2c8b-0d4e-4f3a-9b72-6c8d0e2f3a41"
PETROL_ID = "2b6a3d9c-1e5f-4a4b-8c83-7d9e1f3a4b52"


def endpoints(sim_url: str) -> dict[str, str]:
    """The `smartcar:` block of configuration.yaml for this simulator."""
    return {
        "connect_url": f"{sim_url}/oauth/authorize",
        "token_url": f"{sim_url}/oauth/token",
        "api_url": f"{sim_url}/v2.0",
        "management_url": f"{sim_url}/v3",
    }


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default enabled (for snapshots)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
async def setup_credentials(hass: HomeAssistant, sim_url: str) -> None:
    """configuration.yaml pointing at the simulator, and the app's credentials stored."""
    assert await async_setup_component(hass, "application_credentials", {})
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: endpoints(sim_url)})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), DOMAIN
    )


@pytest.fixture
def scope() -> list[str] | None:
    """Permissions granted to the entry's tokens (None: all)."""
    return None


@pytest.fixture
def options() -> dict[str, Any]:
    """Options of the entry."""
    return {}


@pytest.fixture
def config_entry(
    simulator: Simulator, scope: list[str] | None, options: dict[str, Any]
) -> MockConfigEntry:
    """A Smartcar entry holding valid tokens from the simulator."""
    kwargs = {} if scope is None else {"scope": scope}
    return MockConfigEntry(
        domain=DOMAIN,
        title="Smartcar",
        unique_id=USER_ID,
        version=1,
        data={
            "auth_implementation": DOMAIN,
            "token": token_data(simulator, **kwargs),
            "mode": "live",
        },
        options=options,
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, setup_credentials: None, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The entry, set up against the simulator."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
