"""Fixtures for the integration: endpoints pointing at the simulator, credentials, an entry."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
import os
import time
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.components.homeassistant import DOMAIN as HA_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar.const import DOMAIN
from scripts.devstack import endpoints
from smartcar_simulator import Simulator, VirtualClock, v3 as sim_v3
from tests.conftest import token_data
from tests.const import CLIENT_ID, CLIENT_SECRET, USER_ID
from tests.fixed_policy import FixedPolicy


class Clock:
    """One clock for Home Assistant and the simulator: the simulator's virtual clock.

    Home Assistant reads it as `dt_util.utcnow()` and, for OAuth token expiry and the
    timestamps of states and events, as `time.time()`; the simulator stamps its cars' reports and checks token expiry with it.
    Moving it moves both. The event loop's clock is left alone: jumping it under the real
    server's open connections breaks them (keep-alive and timeouts follow it).
    """

    def __init__(self, virtual: VirtualClock) -> None:
        self._virtual = virtual

    def __call__(self) -> datetime:
        return self._virtual.now()

    @property
    def now(self) -> datetime:
        """The shared now."""
        return self._virtual.now()

    @now.setter
    def now(self, moment: datetime) -> None:
        self._virtual.set(moment)

    def advance(self, elapsed: timedelta) -> datetime:
        """Let `elapsed` pass for everyone; the new now."""
        return self._virtual.advance(elapsed.total_seconds())

    def timestamp(self) -> float:
        """The shared now as POSIX seconds (what `time.time()` answers Home Assistant)."""
        return self._virtual.timestamp()


class _TimeModule:
    """The `time` module as HA's OAuth2 helper sees it: `time()` from the shared clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def time(self) -> float:
        return self._clock.timestamp()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture(autouse=True)
def clock(simulator: Simulator) -> Generator[Clock]:
    """Every integration test runs on the simulator's clock, from `tests.conftest.TEST_NOW`."""
    shared = Clock(simulator.clock)
    with (
        patch("homeassistant.util.dt.utcnow", shared),
        patch("homeassistant.helpers.config_entry_oauth2_flow.time", _TimeModule(shared)),
        # State and event timestamps (what the recorder and its statistics see).
        patch("homeassistant.core.time", _TimeModule(shared)),
        patch("homeassistant.helpers.entity.timer", shared.timestamp),
    ):
        yield shared


@pytest.fixture(autouse=True)
async def time_zone(hass: HomeAssistant) -> None:
    """Home Assistant's time zone: `SMARTCAR_TEST_TZ` (e.g. Europe/Amsterdam) or the harness's."""
    if zone := os.environ.get("SMARTCAR_TEST_TZ", "").strip():
        await hass.config.async_set_time_zone(zone)


async def poll(
    hass: HomeAssistant, entry: MockConfigEntry, clock: Clock, elapsed: timedelta
) -> None:
    """Let `elapsed` pass (for Home Assistant and the cars) and run every car's refresh."""
    clock.advance(elapsed)
    for coordinator in entry.runtime_data.coordinators.values():
        await coordinator.async_refresh()
    await hass.async_block_till_done()


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up against the simulator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def ha_services(hass: HomeAssistant) -> None:
    """The `homeassistant` integration, which provides `update_entity`."""
    assert await async_setup_component(hass, HA_DOMAIN, {})


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default enabled (for snapshots)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


async def add_credentials(hass: HomeAssistant, sim_url: str) -> None:
    """configuration.yaml pointing at the simulator, and the app's credentials stored."""
    assert await async_setup_component(hass, "application_credentials", {})
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: endpoints(sim_url)})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), DOMAIN
    )


@pytest.fixture
async def setup_credentials(hass: HomeAssistant, sim_url: str) -> None:
    """configuration.yaml pointing at the simulator, and the app's credentials stored."""
    await add_credentials(hass, sim_url)


@pytest.fixture
def scope() -> list[str] | None:
    """Permissions granted to the entry's tokens (None: all)."""
    return None


@pytest.fixture
def options() -> dict[str, Any]:
    """Options of the entry."""
    return {}


@pytest.fixture
def polling() -> timedelta | None:
    """Read every needed signal at this fixed interval instead of the adaptive policy."""
    return None


@pytest.fixture(autouse=True)
def polling_policy(polling: timedelta | None) -> Generator[None]:
    """The fixed-interval comparison policy where a test asks for it (`polling`)."""
    if polling is None:
        yield
        return
    with patch(
        "custom_components.smartcar.coordinator.make_policy",
        lambda options: FixedPolicy(polling),
    ):
        yield


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
    await setup_entry(hass, config_entry)
    return config_entry


# --- API v3 ----------------------------------------------------------------------------------


async def add_v3_credentials(
    hass: HomeAssistant, sim_url: str, simulator: Simulator, auth_domain: str = DOMAIN
) -> None:
    """configuration.yaml pointing at the simulator, and its v3 application's credentials
    (beside the v2 ones when given an `auth_domain` of their own)."""
    app = sim_v3.app_of(simulator)
    assert await async_setup_component(hass, "application_credentials", {})
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: endpoints(sim_url)})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(app.client_id, app.client_secret), auth_domain
    )


@pytest.fixture
async def setup_v3_credentials(hass: HomeAssistant, sim_url: str, simulator: Simulator) -> None:
    """The simulator's v3 application credentials stored in Home Assistant."""
    await add_v3_credentials(hass, sim_url, simulator)


def v3_entry(simulator: Simulator, options: dict[str, Any] | None = None) -> MockConfigEntry:
    """An API v3 entry of the simulator's user: no tokens, the user id and Application ID."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Smartcar",
        unique_id=USER_ID,
        version=1,
        data={
            "auth_implementation": DOMAIN,
            "api_version": "3",
            "application_id": sim_v3.app_of(simulator).application_id,
            "user_id": USER_ID,
            "mode": "live",
        },
        options=options or {},
    )


@pytest.fixture
async def init_v3(
    hass: HomeAssistant,
    setup_v3_credentials: None,
    simulator: Simulator,
    options: dict[str, Any],
) -> MockConfigEntry:
    """An API v3 entry, set up against the simulator."""
    entry = v3_entry(simulator, options)
    await setup_entry(hass, entry)
    return entry
