"""Fixtures shared by every test: the simulator on 127.0.0.1 and a Smartcar entry using it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import os
from typing import Any

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from smartcar_simulator import Simulator, SimulatorServer, VirtualClock

pytest_plugins = ["pytest_homeassistant_custom_component"]

DEFAULT_TEST_NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _test_now() -> datetime:
    """The instant every test starts from: `SMARTCAR_TEST_NOW` (ISO 8601) or a fixed default.

    Never the wall clock, so the suite passes on any date; set the variable to try one.
    """
    text = os.environ.get("SMARTCAR_TEST_NOW", "").strip()
    if not text:
        return DEFAULT_TEST_NOW
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


TEST_NOW = _test_now()


def relative_times(data: Any, path: Any) -> Any:
    """A moment as its distance from TEST_NOW, so that snapshots hold whatever the start."""
    moment = data if isinstance(data, datetime) else None
    if isinstance(data, str) and len(data) >= 19 and data[4:5] == "-" and data[10:11] == "T":
        try:
            moment = datetime.fromisoformat(data)
        except ValueError:
            return data
    if moment is None or moment.tzinfo is None:
        return data
    offset = moment - TEST_NOW
    sign = "+" if offset >= timedelta(0) else "-"
    return f"<TEST_NOW {sign} {abs(offset)}>"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots through Home Assistant's serializer, times relative to TEST_NOW."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension).with_defaults(
        matcher=relative_times
    )


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/smartcar in every test."""


@pytest.fixture
def simulator() -> Simulator:
    """A fresh simulated Smartcar world with a frozen virtual clock."""
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True))


@pytest.fixture
async def sim_url(simulator: Simulator, socket_enabled: None) -> AsyncGenerator[str]:
    """The simulator served on 127.0.0.1 (a free port); its base URL."""
    async with SimulatorServer(simulator, host="127.0.0.1", port=0) as server:
        yield server.url


def token_data(simulator: Simulator, **kwargs: Any) -> dict[str, Any]:
    """Tokens for the simulator's user, as Home Assistant stores them in an entry."""
    tokens = simulator.issue_tokens(**kwargs)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": int(tokens.expires_in),
        "expires_at": simulator.clock.timestamp() + tokens.expires_in,
    }
