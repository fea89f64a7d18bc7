"""Fixtures: a frozen-clock simulator served on 127.0.0.1 and a real aiohttp client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from smartcar_simulator import Simulator, SimulatorServer, TokenSet, VirtualClock
from tests.conftest import TEST_NOW


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Overrides the root fixture: simulator tests need no Home Assistant instance."""


@pytest.fixture(autouse=True)
def _allow_loopback_sockets(socket_enabled: None) -> None:
    """The HA test plugin blocks sockets; the simulator needs real ones on 127.0.0.1."""


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """Extra Simulator(...) arguments; override in a module to change them."""
    return {}


@pytest.fixture
def sim(sim_options: dict[str, Any]) -> Simulator:
    """A simulator with a frozen virtual clock at `tests.conftest.TEST_NOW`."""
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), **sim_options)


@pytest.fixture
async def server(sim: Simulator) -> AsyncIterator[SimulatorServer]:
    """The simulator served on 127.0.0.1, a free port."""
    async with SimulatorServer(sim, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def http(server: SimulatorServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A real client bound to the server's base URL."""
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


@pytest.fixture
def tokens(sim: Simulator) -> TokenSet:
    """Tokens with every permission."""
    return sim.issue_tokens()


def iso_ms(moment: datetime) -> str:
    """A moment as Smartcar writes it ("2026-11-02T08:00:00.000Z"), for expected values.

    Written out here rather than taken from the simulator, which it checks.
    """
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def bearer(tokens: TokenSet | str) -> dict[str, str]:
    """The Authorization header for an access token."""
    token = tokens if isinstance(tokens, str) else tokens.access_token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(tokens: TokenSet) -> dict[str, str]:
    """Authorization header with every permission."""
    return bearer(tokens)
