"""A real stack for the end-to-end tests: the simulator and `hass` as subprocesses on 127.0.0.1.

Started once per session (a few seconds) and shared by the tests, which talk to it only over
HTTP: Home Assistant's REST API (and its websocket for what has no REST form), the simulator's
/sim control endpoints. Every process is stopped at the end, failures included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_socket

from scripts._hass_dev import (
    ROOT,
    HassClient,
    HassProcess,
    SimulatorProcess,
    free_port,
    onboard,
    prepare_config_dir,
)

ARTIFACTS = ROOT / "test-artifacts"
USERNAME = "e2e"
PASSWORD = "e2e-password-1234"
# Frozen virtual time: the cars change only through commands and /sim actions. Short access
# tokens (22 s; Home Assistant refreshes 20 s before expiry) make Home Assistant rotate the
# refresh token during the run, as it does every 2 hours in real life.
SIM_ARGS = ["--frozen", "--start", "2026-11-02T08:00:00+00:00", "--access-token-ttl", "22"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replace the suite-wide fixture: no in-process test instance of Home Assistant here."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """HTTP to 127.0.0.1 (the harness disables sockets for every test)."""


@dataclass
class Stack:
    """The running simulator and Home Assistant, and an admin client for the latter."""

    sim: SimulatorProcess
    hass: HassProcess
    client: HassClient
    config_dir: Path
    logs: Path

    def stop_hass(self) -> None:
        """Stop Home Assistant (it must exit cleanly)."""
        code = self.hass.stop()
        assert code == 0, f"Home Assistant exited with {code}:\n{self.hass.log_tail()}"

    def start_hass(self) -> None:
        """Start Home Assistant again; wait until it runs."""
        self.hass = HassProcess(self.config_dir, self.hass.port, self.logs / "home-assistant.log")
        self.client.wait_running()

    def stop(self) -> None:
        """Stop both, Home Assistant first."""
        try:
            self.hass.stop()
        finally:
            self.sim.stop()


def start_stack(name: str, tmp: Path, *, connect: bool) -> Stack:
    """Simulator, Home Assistant onboarded with the app credentials, optionally connected."""
    pytest_socket.enable_socket()  # the harness disabled sockets before fixtures run
    logs = ARTIFACTS / "e2e" / name
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    config_dir = tmp / "config"
    sim = SimulatorProcess(free_port(), tmp / "simulator.json", logs / "simulator.log", SIM_ARGS)
    hass: HassProcess | None = None
    try:
        hass_port = free_port()
        prepare_config_dir(config_dir, hass_port, sim)
        hass = HassProcess(config_dir, hass_port, logs / "home-assistant.log")
        client = HassClient(hass.url, onboard(hass.url, USERNAME, PASSWORD))
        client.wait_running()
        client.ensure_credentials()
        if connect:
            client.connect("simulated")
            client.wait_entry_state("loaded")
    except BaseException:
        if hass is not None:
            hass.stop()
        sim.stop()
        raise
    return Stack(sim, hass, client, config_dir, logs)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The shared stack with the simulated Smartcar account connected."""
    running = start_stack("api", tmp_path_factory.mktemp("e2e-api"), connect=True)
    try:
        yield running
    finally:
        running.stop()
