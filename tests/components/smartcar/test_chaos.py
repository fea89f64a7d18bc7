"""Chaos: hundreds of hourly refreshes of four cars while Smartcar fails in every way it can.

A seeded random schedule injects one-shot faults: every Smartcar error type on random paths
and on whole batches, garbage answers (non-JSON, malformed, empty), slow answers that time
out and a failing token endpoint, while tokens rotate, commands are sent and virtual time
runs. Afterwards, with the faults gone, two refreshes must bring every entity back, except
those a 403 or 501 legitimately took away, and the entry must still hold a refresh token
Smartcar accepts.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
import functools
import logging
import random
import time
from typing import Any

from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, SERVICE_LOCK, SERVICE_UNLOCK
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartcar import SmartcarClient
from custom_components.smartcar.api import Signal
from custom_components.smartcar.api.const import DEFAULT_TIMEOUT
from custom_components.smartcar.const import DOMAIN
from smartcar_simulator import Simulator, VirtualClock
from smartcar_simulator.faults import Fault
from tests.conftest import TEST_NOW

from .conftest import Clock, poll
from .helpers import ALL_DESCRIPTIONS, HOUR, expire_access_token, reauth_flows, refresh_accepted

SEED = 20261102
CYCLES = 240
CLIENT_TIMEOUT = 0.5  # seconds; a "slow" fault answers after SLOW_DELAY
SLOW_DELAY = 1.0

# Where Smartcar serves each signal. This repeats the client's table (PATHS in
# custom_components/smartcar/api/_v2.py) on purpose, as an independent oracle: the faults go
# where Smartcar would fail, not wherever the client happens to look. Keep it a copy; do not
# import it.
PATHS: dict[Signal, str] = {
    Signal.BATTERY: "/battery",
    Signal.CHARGE: "/charge",
    Signal.CHARGE_LIMIT: "/charge/limit",
    Signal.SECURITY: "/security",
    Signal.LOCATION: "/location",
    Signal.ODOMETER: "/odometer",
    Signal.FUEL: "/fuel",
    Signal.ENGINE_OIL: "/engine/oil",
    Signal.DIAGNOSTICS: "/diagnostics/dtcs",
}
# Every error type Smartcar documents, with its status.
ERRORS: dict[str, int] = {
    "AUTHENTICATION": 401,
    "PERMISSION": 403,
    "RESOURCE_NOT_FOUND": 404,
    "VEHICLE_STATE": 409,
    "RATE_LIMIT": 429,
    "BILLING": 430,
    "SERVER": 500,
    "COMPATIBILITY": 501,
    "UPSTREAM": 502,
    "VALIDATION": 400,
    "CONNECTED_SERVICES_ACCOUNT": 400,
}
KINDS = ("non_json", "malformed", "empty", "slow")
# A 403 or 501 on a path takes its entities away (until reload, or for good): a few only,
# so that enough is left to check at the end.
RARE = {"PERMISSION": 3, "COMPATIBILITY": 3}

# Entity key (the unique id after the vehicle id) -> the signal it shows.
KEY_SIGNAL: dict[str, Signal] = {d.key: d.signal for d in ALL_DESCRIPTIONS}


@pytest.fixture
def polling() -> timedelta:
    """Every needed path every hour: every cycle asks every car for everything."""
    return timedelta(minutes=60)


@pytest.fixture
def simulator() -> Simulator:
    """The three default cars and a generated one."""
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), extra_vehicles=1)


class Chaos:
    """Drives the cycles, injects the faults and keeps the books."""

    def __init__(
        self,
        hass: HomeAssistant,
        simulator: Simulator,
        entry: MockConfigEntry,
        clock: Clock,
    ) -> None:
        self.hass = hass
        self.simulator = simulator
        self.entry = entry
        self.clock = clock
        self.rng = random.Random(SEED)
        self.faults: list[tuple[str, Fault]] = []
        self.rare: Counter[str] = Counter()
        self.reauths = 0
        self.reloads = 0
        self.commands: Counter[str] = Counter()
        self.client_timeout = CLIENT_TIMEOUT

    # --- faults ----------------------------------------------------------------------------

    def _error(self, *, on_batch: bool) -> dict[str, Any]:
        while True:
            kind = self.rng.choice(list(ERRORS))
            if kind not in RARE or on_batch:
                break
            if self.rare[kind] < RARE[kind]:
                self.rare[kind] += 1
                break
        error: dict[str, Any] = {"type": kind, "status": ERRORS[kind]}
        if kind == "RATE_LIMIT":
            error["retry_after"] = self.rng.choice([30, 600, 3600, 7200])
        return error

    def inject(self) -> None:
        """A few one-shot faults on random cars, paths, batches or the token endpoint."""
        coordinators = list(self.entry.runtime_data.coordinators.values())
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            target = self.rng.choices(["path", "batch", "token"], weights=[6, 3, 1])[0]
            if target == "token":
                spec: dict[str, Any] = self.rng.choice(
                    [
                        {"error": {"type": "SERVER", "status": 500}},
                        {"error": {"type": "UPSTREAM", "status": 503}},
                        {"kind": "non_json"},
                        {"kind": "empty"},
                    ]
                )
                fault = self.simulator.inject_fault(path="/oauth/token", count=1, **spec)
                self.faults.append((f"token {spec.get('kind') or spec['error']['type']}", fault))
                continue
            coordinator = self.rng.choice(coordinators)
            if target == "path":
                signals = sorted(coordinator.available_signals)
                if not signals:
                    continue
                path = PATHS[self.rng.choice(signals)]
            else:
                path = "/batch"
            if self.rng.random() < 0.3:
                kind = self.rng.choice(KINDS)
                spec = {"kind": kind, **({"delay": SLOW_DELAY} if kind == "slow" else {})}
                name = kind
            else:
                spec = {"error": self._error(on_batch=target == "batch")}
                name = spec["error"]["type"]
            fault = self.simulator.inject_fault(
                vehicle_id=coordinator.vehicle.id, path=path, count=1, **spec
            )
            self.faults.append((f"{target} {name}", fault))

    # --- time, tokens, reauthentication ----------------------------------------------------

    async def settle(self) -> None:
        """Sign in again when Smartcar refused us; make sure the entry is loaded."""
        await self.hass.async_block_till_done()
        if flows := reauth_flows(self.hass):
            # An injected 401 refuses nothing for real: signing in again gives the same
            # grant, which is what reloading with the tokens on the entry does.
            self.reauths += 1
            for flow in flows:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])
            await self.reload()
        for _ in range(3):
            if self.entry.state is ConfigEntryState.LOADED:
                return
            await self.reload()
        assert self.entry.state is ConfigEntryState.LOADED

    async def reload(self) -> None:
        self.reloads += 1
        await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.hass.async_block_till_done()
        self.entry.runtime_data.client._timeout = self.client_timeout

    async def cycle(self, elapsed: timedelta = HOUR) -> None:
        """Let time pass (one clock for both sides) and run every car's refresh."""
        await poll(self.hass, self.entry, self.clock, elapsed)
        await self.settle()

    # --- commands --------------------------------------------------------------------------

    async def command(self) -> None:
        """A random command on a random car; a failure must be a HomeAssistantError."""
        ids = [
            e.entity_id
            for e in er.async_entries_for_config_entry(er.async_get(self.hass), self.entry.entry_id)
            if e.domain in (LOCK_DOMAIN, SWITCH_DOMAIN, NUMBER_DOMAIN) and not e.disabled
        ]
        entity_id = self.rng.choice(sorted(ids))
        domain = entity_id.split(".")[0]
        data: dict[str, Any] = {ATTR_ENTITY_ID: entity_id}
        if domain == LOCK_DOMAIN:
            service = self.rng.choice([SERVICE_LOCK, SERVICE_UNLOCK])
        elif domain == SWITCH_DOMAIN:
            service = self.rng.choice([SERVICE_TURN_ON, SERVICE_TURN_OFF])
        else:
            service = SERVICE_SET_VALUE
            data[ATTR_VALUE] = self.rng.randint(50, 100)
        try:
            await self.hass.services.async_call(domain, service, data, blocking=True)
        except HomeAssistantError:
            self.commands["refused"] += 1
        else:
            self.commands["sent"] += 1
        await self.settle()


async def test_chaos(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hundreds of hourly refreshes under random faults: nothing crashes, nothing is lost."""
    caplog.set_level(logging.INFO, logger="custom_components.smartcar")
    # Short client timeouts, so that "slow" faults time out (also after reloads).
    monkeypatch.setattr(
        "custom_components.smartcar.SmartcarClient",
        functools.partial(SmartcarClient, timeout=CLIENT_TIMEOUT),
    )
    init_integration.runtime_data.client._timeout = CLIENT_TIMEOUT
    entry = init_integration
    registry = er.async_get(hass)
    baseline = {
        e.entity_id: hass.states.get(e.entity_id).state
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if not e.disabled
    }
    assert len(entry.runtime_data.coordinators) == 4
    first_refresh_token = entry.data["token"]["refresh_token"]

    chaos = Chaos(hass, simulator, entry, clock)
    started = time.monotonic()
    for index in range(CYCLES):
        chaos.inject()
        await chaos.cycle()
        if index % 7 == 3:
            await chaos.command()

    # Calm returns: two refreshes later everything is back.
    simulator.clear_faults()
    monkeypatch.undo()
    chaos.client_timeout = DEFAULT_TIMEOUT
    entry.runtime_data.client._timeout = DEFAULT_TIMEOUT
    await chaos.settle()
    reauths_before = chaos.reauths
    for _ in range(2):
        await chaos.cycle(25 * HOUR)  # past any retry-after, billing pause or backoff
    assert chaos.reauths == reauths_before, "a reauthentication without an injected 401"

    fired = Counter(name for name, fault in chaos.faults if fault.fired)
    auth_fired = sum(n for name, n in fired.items() if "AUTHENTICATION" in name)
    with capsys.disabled():
        print(
            f"\nchaos: {CYCLES} cycles of {len(entry.runtime_data.coordinators)} cars in "
            f"{time.monotonic() - started:.1f} s; {len(chaos.faults)} faults injected, "
            f"{sum(fired.values())} fired; {chaos.reauths} reauthentications, "
            f"{chaos.reloads} reloads; commands {dict(chaos.commands)}; "
            f"token refreshes {simulator.counters['token_requests'].get('refresh_token', 0)}"
        )
        for name, count in sorted(fired.items()):
            print(f"  {name}: {count}")

    # Nothing crashed.
    assert "Traceback" not in caplog.text
    assert "Unexpected error" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
    unexpected = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and not r.getMessage().startswith(
            ("Error fetching smartcar ", "Authentication failed while fetching smartcar ")
        )
    ]
    assert not unexpected
    # Every reauthentication came from an injected 401.
    assert chaos.reauths <= auth_fired

    # No token was lost: the entry's refresh token is the live one, and it still refreshes.
    assert entry.state is ConfigEntryState.LOADED
    refresh_token = entry.data["token"]["refresh_token"]
    assert refresh_token != first_refresh_token
    assert refresh_accepted(simulator, refresh_token)
    refreshes = simulator.counters["token_requests"]["refresh_token"]
    expire_access_token(hass, entry)
    await chaos.cycle()
    assert simulator.counters["token_requests"]["refresh_token"] == refreshes + 1
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    # Every entity is back, except those a 403 refused (until reload) or a 501 removed.
    assert chaos.rare["PERMISSION"] + chaos.rare["COMPATIBILITY"] > 0
    checked = 0
    for coordinator in entry.runtime_data.coordinators.values():
        vehicle_id = coordinator.vehicle.id
        refused = coordinator.unanswerable - coordinator.unsupported
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
            if not registered.unique_id.startswith(f"{vehicle_id}_") or registered.disabled:
                continue
            signal = KEY_SIGNAL.get(registered.unique_id.removeprefix(f"{vehicle_id}_"))
            assert signal not in coordinator.unsupported, registered.entity_id
            state = hass.states.get(registered.entity_id).state
            if signal in refused:
                assert state == STATE_UNAVAILABLE, registered.entity_id
                continue
            assert state != STATE_UNAVAILABLE, registered.entity_id
            if baseline.get(registered.entity_id) not in (None, STATE_UNKNOWN):
                assert state != STATE_UNKNOWN, registered.entity_id
            checked += 1
    assert checked >= 40
