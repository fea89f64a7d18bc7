"""A real stack for the end-to-end tests: the simulator and `hass` as subprocesses on 127.0.0.1.

Started as `scripts/develop` starts it (scripts/devstack.py, scripts/hass_client.py), on free
ports in a temporary directory, with what only tests need on top: the simulator's /sim control
endpoints, a few more Home Assistant calls, and a stack that is stopped whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import socket
from typing import Any, Literal

import pytest
import pytest_socket
from requests import Response

from scripts.devstack import (
    LOCALHOST,
    ROOT,
    HassProcess,
    SimulatorProcess,
    http,
    prepare_config_dir,
    wait_until,
)
from scripts.hass_client import HassClient
from tests.const import EV_ID, PETROL_ID, PHEV_ID, USER_ID

ARTIFACTS = ROOT / "test-artifacts"
USERNAME = "e2e"
PASSWORD = "e2e-password-1234"
# Frozen virtual time: the cars change only through commands and /sim actions. Short access
# tokens (22 s; Home Assistant refreshes 20 s before expiry) make Home Assistant rotate the
# refresh token during the run, as it does every 2 hours in real life.
SIM_ARGS = ("--frozen", "--start", "2026-11-02T08:00:00+00:00", "--access-token-ttl", "22")
# The simulated cars' entity ids start with these.
CAR_NAMES = {EV_ID: "tesla_model_3", PHEV_ID: "toyota_rav4_prime", PETROL_ID: "ford_focus"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


class Simulator(SimulatorProcess):
    """The simulator process and its /sim control endpoints."""

    def get(self, path: str) -> Any:
        """GET a /sim endpoint; the JSON."""
        return http("GET", f"{self.url}{path}", expect=(200,)).json()

    def post(self, path: str, body: Any = None) -> Any:
        """POST to a /sim endpoint; the JSON."""
        return http("POST", f"{self.url}{path}", json=body or {}, expect=(200, 201)).json()

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        http("DELETE", f"{self.url}/sim/faults", expect=(200,))

    def revoke_tokens(self) -> int:
        """Smartcar revokes every token of the simulated user; how many."""
        return int(self.post("/sim/tokens/revoke", {"user_id": USER_ID})["revoked"])

    def counters(self) -> dict[str, Any]:
        """Billed, HTTP and token request counters."""
        return dict(self.get("/sim/counters"))

    def vehicle(self, vehicle_id: str) -> dict[str, Any]:
        """The truth about one vehicle."""
        return dict(self.get(f"/sim/vehicles/{vehicle_id}"))

    def car(self, vehicle_id: str = EV_ID) -> dict[str, Any]:
        """One vehicle's true state (the Tesla's unless said)."""
        return dict(self.vehicle(vehicle_id)["state"])

    def set_car(self, vehicle_id: str = EV_ID, **values: Any) -> None:
        """Overwrite fields of a vehicle's state (it reports them at once)."""
        self.post(f"/sim/vehicles/{vehicle_id}/actions", {"action": "set", **values})


class Client(HassClient):
    """The owner's client, with what the tests look at."""

    def states(self) -> dict[str, dict[str, Any]]:
        """Every state, by entity id."""
        return {s["entity_id"]: s for s in self.get("/api/states")}

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """One state, or None when there is no such entity."""
        answer = self.request("GET", f"/api/states/{entity_id}", expect=(200, 404))
        return None if answer.status_code == 404 else dict(answer.json())

    def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Response:
        """Call an action over REST; the response whatever its status."""
        return self.request("POST", f"/api/services/{domain}/{service}", data)

    def act(self, domain: str, service: str, **data: Any) -> None:
        """Call an action; it must succeed."""
        answer = self.call_service(domain, service, data)
        assert answer.status_code == 200, f"{domain}.{service}: {answer.status_code} {answer.text}"

    def wait_state(self, entity_id: str, want: str, timeout: float = 15) -> None:
        """Wait until an entity shows a state."""
        wait_until(
            f"{entity_id} to be {want}",
            lambda: (s := self.state(entity_id)) is not None and s["state"] == want,
            timeout=timeout,
        )

    def reauth_flows(self) -> list[dict[str, Any]]:
        """Smartcar reauthentication flows in progress (websocket)."""
        flows = self.ws_result({"type": "config_entries/flow/progress"})
        return [
            f
            for f in flows
            if f["handler"] == "smartcar" and f["context"].get("source") == "reauth"
        ]

    def reauthenticate(self, flow_id: str) -> dict[str, Any]:
        """Complete a reauthentication flow through Connect; the flow's last result."""
        result = dict(self.get(f"/api/config/config_entries/flow/{flow_id}"))
        if result.get("type") == "form":
            result = dict(self.post(f"/api/config/config_entries/flow/{flow_id}", {}))
        return self.finish_oauth(result)


@dataclass
class Stack:
    """The running simulator and Home Assistant, and the owner's client for the latter.

    `api`: the Smartcar API version of the application whose credentials Home Assistant holds
    ("2" or "3"; the entry, when connected, was made through that version's flow).
    """

    sim: Simulator
    hass: HassProcess
    client: Client
    config_dir: Path
    api: str = "2"

    def stop_hass(self) -> None:
        """Stop Home Assistant (it must exit cleanly)."""
        code = self.hass.stop()
        assert code == 0, f"Home Assistant exited with {code}:\n{self.hass.log_tail()}"

    def start_hass(self) -> None:
        """Start Home Assistant again; wait until it runs."""
        self.hass.start()
        self.client.wait_running()


@contextlib.contextmanager
def running_stack(
    name: str,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    connect: bool,
    api: str = "2",
    extras: tuple[str, ...] = (),
) -> Iterator[Stack]:
    """Simulator and Home Assistant, onboarded with the credentials of the simulator's API
    v`api` application, optionally connected through that version's flow; logs in
    test-artifacts/e2e/<name>/. Both are stopped on the way out, failures included."""
    pytest_socket.enable_socket()  # the harness disabled sockets before fixtures run
    logs = ARTIFACTS / "e2e" / name
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    tmp = tmp_path_factory.mktemp(f"e2e-{name}")
    with contextlib.ExitStack() as running:
        sim = Simulator(free_port(), tmp / "simulator.json", logs / "simulator.log", SIM_ARGS)
        running.callback(sim.stop)
        port = free_port()
        prepare_config_dir(tmp / "config", port, sim.url, extras)
        hass = HassProcess(tmp / "config", port, logs / "home-assistant.log")
        running.callback(hass.stop)
        client = Client.onboard(hass.url, USERNAME, PASSWORD)
        client.wait_running()
        client.ensure_credentials(api)
        if connect:
            client.connect("simulated", api=api)
            client.wait_entry_state("loaded")
        yield Stack(sim, hass, client, tmp / "config", api)


def stack_fixture(
    name: str,
    *,
    connect: bool,
    scope: Literal["session", "module"] = "module",
    apis: tuple[str, ...] = ("2",),
    extras: tuple[str, ...] = (),
) -> Callable[..., Any]:
    """A fixture `name` that runs its own stack for the scope (logs under its name).

    With more than one API version in `apis` it is parametrized over them (ids `v2`, `v3`):
    every test using it runs against a stack of each, and logs of a v3 stack go under
    `<name>-v3`.
    """

    several = len(apis) > 1

    @pytest.fixture(
        scope=scope,
        name=name,
        params=apis if several else None,
        ids=[f"v{api}" for api in apis] if several else None,
    )
    def running(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Stack]:
        api = str(request.param) if several else apis[0]
        logs = name if api == "2" else f"{name}-v{api}"
        with running_stack(
            logs, tmp_path_factory, connect=connect, api=api, extras=extras
        ) as stack:
            yield stack

    return running
