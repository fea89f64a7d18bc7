"""The month: one Home Assistant, one policy, the two cars' life, virtual time in lockstep.

The simulator's frozen clock and Home Assistant's `dt_util.utcnow` are the same virtual
time. It advances from point to point: every 5-minute sampling tick, every event of the
scenario, and every moment Home Assistant's refresh timer of a coordinator comes due (the
timer is Home Assistant's own rule replayed in virtual time, see `VirtualTimer`). At each
point the events happen (commands through Home Assistant's services), due coordinators
refresh, and what Home Assistant's states show is compared with the simulator's truth;
that comparison holds until the next point (time-weighted).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import time
from typing import Any, Final
from unittest.mock import patch

from homeassistant.components.lock import LockState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.smartcar.api import Signal, SmartcarClient, SmartcarV3Client
from custom_components.smartcar.const import CONF_MANAGEMENT_TOKEN
from custom_components.smartcar.coordinator import SmartcarCoordinator
from smartcar_simulator import Simulator, SimulatorServer, VirtualClock, webhooks
from smartcar_simulator.fleet import default_vehicles
from tests.fixed_policy import FixedPolicy

from .harness import (
    V2,
    V3,
    VirtualTimer,
    entity_id,
    make_entry,
    make_v3_entry,
    setup_credentials,
    token_data,
    virtual_time,
    webhook_sender,
)
from .metrics import CHARGING, LEVEL, LOCATION, LOCK, PLUGGED, CarResult, MonthResult, Tally
from .scenario import END, START, TOKEN_LIFETIME, Event, Life, Place, build_life, distance_km

TICK: Final = timedelta(minutes=5)
LATE: Final = timedelta(minutes=1)  # a refresh this much after `next_poll` counts as late


@dataclass(frozen=True, slots=True)
class Policy:
    """A polling policy to compare: ours (the entry's defaults) or a fixed interval.

    `api`: the Smartcar API version of the application ("2": v2.0, a billed request per path
    read; "3": v3, one billed request reads every signal). `webhooks`: the entry has the
    application management token, so Smartcar's deliveries (the simulator's sender, over real
    HTTP to Home Assistant's webhook) bring what the cars report.
    """

    key: str
    label: str
    description: str
    fixed: timedelta | None = None
    api: str = V2
    webhooks: bool = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Make the coordinators use this policy (the fixed ones exist for comparison only)."""
        if self.fixed is None:
            yield
            return
        interval = self.fixed
        with patch(
            "custom_components.smartcar.coordinator.make_policy",
            lambda options: FixedPolicy(interval),
        ):
            yield


POLICIES: Final = (
    Policy("a", "(a) ours", "the integration's defaults (adaptive, 500 requests/month)"),
    Policy(
        "a3",
        "(a) ours v3",
        "(a) for an API v3 application (one billed read brings every signal)",
        api=V3,
    ),
    Policy("b", "(b) 6 h", "every enabled path every 6 hours", timedelta(hours=6)),
    Policy("c", "(c) 30 min", "every enabled path every 30 minutes", timedelta(minutes=30)),
    Policy(
        "d",
        "(d) webhooks",
        "(a) with the management token set: every report the car makes is delivered to "
        "Home Assistant's webhook (signed, real HTTP) as the month's clock moves",
        webhooks=True,
    ),
)

CARS: Final = {"ev": "Tesla Model 3", "petrol": "Ford Focus"}


def make_simulator() -> Simulator:
    """The EV and the petrol car, frozen at the start of the month, both locked."""
    specs = [s for s in default_vehicles() if s.key in CARS]
    sim = Simulator(
        clock=VirtualClock(start=START, frozen=True),
        fleet=specs,
        access_token_ttl=TOKEN_LIFETIME,
        refresh_token_ttl=TOKEN_LIFETIME,
    )
    sim.vehicle("petrol").set(locked=True)
    return sim


def the_life(sim: Simulator) -> Life:
    """The scenario, with each car's home where the simulator parks it."""
    homes = {k: Place(*sim.vehicle(k).state.location) for k in CARS}
    return build_life(homes)


def _billed(sim: Simulator, vehicle_id: str) -> int:
    return int(sim.counters["billed"].get(vehicle_id, {}).get("total", 0))


def _float(state: Any) -> float | None:
    if state is None:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _Car:
    """One car during the run: its entities, its coordinator, its tallies."""

    def __init__(
        self,
        hass: HomeAssistant,
        sim: Simulator,
        key: str,
        coordinator: SmartcarCoordinator,
        timer: VirtualTimer,
    ) -> None:
        self.hass = hass
        self.timer = timer
        self.vehicle = sim.vehicle(key)
        self.coordinator = coordinator
        electric = self.vehicle.spec.has_battery
        vid = self.vehicle.id
        self.level = entity_id(hass, "sensor", vid, "battery_level" if electric else "fuel_level")
        self.tracker = entity_id(hass, "device_tracker", vid, "location")
        self.lock = entity_id(hass, "lock", vid, "door_lock")
        self.plugged = entity_id(hass, "binary_sensor", vid, "plugged_in") if electric else None
        self.charging = entity_id(hass, "sensor", vid, "charging_state") if electric else None
        self.switch = entity_id(hass, "switch", vid, "charging") if electric else None
        self.result = CarResult(
            key=key, name=CARS[key], level_label="battery" if electric else "fuel"
        )
        figures = {LEVEL: "error", LOCATION: "error", LOCK: "wrong"}
        if electric:
            figures |= {PLUGGED: "wrong", CHARGING: "wrong"}
        self.result.tallies = {k: Tally(kind) for k, kind in figures.items()}
        self.any_unavailable = 0.0
        self.last_refresh: datetime | None = None
        self.current: dict[str, float | bool | None] = {}
        self.trace: list[str] | None = None
        self.asked: dict[str, list[str]] = {}

    def note(self, at: datetime, what: str) -> None:
        """A trace line: what happened, the paths asked for since, the next refresh."""
        if self.trace is None:
            return
        paths = self.asked.pop(self.vehicle.id, [])
        line = f"{at:%a %d %H:%M} {self.result.key:<6} {what:<12}"
        if what.startswith(" ") or what == "setup":
            wanted = self.coordinator.next_poll
            deadline = self.timer.deadline(self.coordinator)
            line += f" asked [{' '.join(paths)}] next_poll {wanted:%a %d %H:%M}" * (
                wanted is not None
            ) + f", HA timer {deadline:%a %d %H:%M}" * (deadline is not None)
        self.trace.append(line)

    def due(self) -> datetime:
        """When Home Assistant's timer refreshes the coordinator next.

        Without an armed timer (a coordinator that schedules itself some other way), the
        moment it asked for; END when it asked for nothing.
        """
        deadline = self.timer.deadline(self.coordinator)
        if deadline is None:
            deadline = self.coordinator.next_poll
        if deadline is None:
            return END
        if self.last_refresh is not None:
            # A zero interval would spin the real timer; here it must still move on.
            deadline = max(deadline, self.last_refresh + timedelta(seconds=1))
        return deadline

    def refreshing(self, now: datetime) -> None:
        """Compare Home Assistant's refresh moment with what the coordinator asked for."""
        wanted = self.coordinator.next_poll
        if wanted is None:
            return
        if now - wanted > LATE:
            self.result.refreshes_late += 1
            self.result.late_hours += (now - wanted).total_seconds() / 3600
        elif wanted - now > LATE:
            self.result.refreshes_early += 1

    def observe(self) -> dict[str, float | bool | None]:
        """What HA shows against the truth: an error, wrong (True/False) or None (nothing)."""
        truth = self.vehicle.state
        states = self.hass.states
        out: dict[str, float | bool | None] = {}
        shown = _float(states.get(self.level)) if self.level else None
        real = truth.battery if self.vehicle.spec.has_battery else truth.fuel
        out[LEVEL] = None if shown is None or real is None else abs(shown - real * 100)
        tracker = states.get(self.tracker) if self.tracker else None
        lat = tracker.attributes.get("latitude") if tracker else None
        lon = tracker.attributes.get("longitude") if tracker else None
        out[LOCATION] = (
            None
            if lat is None or lon is None
            else distance_km(Place(lat, lon), Place(*truth.location))
        )
        lock = states.get(self.lock) if self.lock else None
        shown_lock = {LockState.LOCKED: True, LockState.UNLOCKED: False}.get(
            lock.state if lock else ""
        )
        out[LOCK] = None if shown_lock is None else shown_lock != truth.locked
        if self.plugged is not None:
            plugged = states.get(self.plugged)
            shown_plug = {STATE_ON: True, STATE_OFF: False}.get(plugged.state if plugged else "")
            out[PLUGGED] = None if shown_plug is None else shown_plug != truth.plugged
        if self.charging is not None:
            charging = states.get(self.charging)
            shown_charge = charging.state if charging else None
            if shown_charge not in ("charging", "fully_charged", "not_charging"):
                out[CHARGING] = None
            else:
                out[CHARGING] = shown_charge != (truth.charge_state or "").lower()
        return out

    def hold(self, seconds: float) -> None:
        """The current comparison held for `seconds`."""
        if not self.current or seconds <= 0:
            return
        for key, value in self.current.items():
            self.result.tallies[key].add(value, seconds)
        if any(v is None for v in self.current.values()):
            self.any_unavailable += seconds


async def _act(hass: HomeAssistant, sim: Simulator, car: _Car, event: Event) -> None:
    """Apply one event of the scenario (commands go through Home Assistant's services)."""
    vehicle = car.vehicle
    action = event.action
    if action == "drive":
        assert event.place is not None
        vehicle.drive_to(event.place.latitude, event.place.longitude, event.speed_kmh)
    elif action == "plug":
        vehicle.plug_in()
    elif action == "unplug":
        if not vehicle.state.plugged:
            return
        vehicle.unplug()
    elif action == "lock":
        vehicle.lock()
    elif action == "unlock":
        vehicle.unlock()
    elif action == "refuel":
        fuel = vehicle.state.fuel
        if fuel is None or fuel >= 0.25:
            return
        vehicle.set(fuel=0.95)
    elif action in ("charge_off", "charge_on"):
        # The user's automation: only while the car is plugged in.
        if car.switch is None or not vehicle.state.plugged:
            return
        before = _billed(sim, vehicle.id)
        car.result.commands += 1
        service = "turn_on" if action == "charge_on" else "turn_off"
        try:
            await hass.services.async_call(
                "switch", service, {"entity_id": car.switch}, blocking=True
            )
        except HomeAssistantError:
            car.result.commands_failed += 1
        car.result.billed_commands += _billed(sim, vehicle.id) - before
        car.note(event.at, f"  {action}")
        return
    else:
        raise ValueError(action)
    car.note(event.at, action)


async def run_month(
    hass: HomeAssistant, policy: Policy, *, keep_samples: bool = False, trace: bool = False
) -> MonthResult:
    """Set the integration up with `policy` and live the month; what HA showed vs the truth.

    `keep_samples`: keep every comparison; `trace`: a line per event, refresh and command
    with the paths asked for and when the next refresh is wanted (for tuning).
    """
    started = time.perf_counter()
    sim = make_simulator()
    life = the_life(sim)
    timer = VirtualTimer(sim.clock.now)
    lines: list[str] | None = [] if trace else None
    asked: dict[str, list[str]] = {}
    client_class = SmartcarV3Client if policy.api == V3 else SmartcarClient
    real_batch = client_class.async_batch

    async def batch(client: Any, vehicle_id: str, signals: Iterable[Signal]) -> Any:
        wanted = list(signals)
        asked.setdefault(vehicle_id, []).extend(s.value for s in wanted)
        return await real_batch(client, vehicle_id, wanted)

    deliveries: list[dict[str, Any]] = []

    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            SimulatorServer(sim, host="127.0.0.1", port=0, deliver_webhooks=False)
        )
        with (
            virtual_time(sim.clock.now),
            timer.installed(),
            policy.installed(),
            patch.object(client_class, "async_batch", batch),
        ):
            await setup_credentials(hass, server.url, policy.api)
            options = {CONF_MANAGEMENT_TOKEN: sim.management_token} if policy.webhooks else {}
            if policy.api == V3:
                # No token: the integration fetches an application token (not billed).
                entry = make_v3_entry(options)
            else:
                tokens = sim.issue_tokens()
                entry = make_entry(
                    token_data(tokens.access_token, tokens.refresh_token, tokens.expires_in),
                    options,
                )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            deliver: Callable[[], Awaitable[None]] | None = None
            if policy.webhooks:
                sender = await stack.enter_async_context(
                    webhook_sender(hass, sim, entry.data["webhook_id"])
                )

                async def send() -> None:
                    records = await sender.deliver_due()
                    deliveries.extend(
                        r for r in records if r["eventType"] == webhooks.VEHICLE_STATE
                    )

                deliver = send
            coordinators = entry.runtime_data.coordinators
            cars = {
                key: _Car(hass, sim, key, coordinators[sim.vehicle(key).id], timer) for key in CARS
            }
            for car in cars.values():
                car.result.billed_setup = _billed(sim, car.vehicle.id)
                car.last_refresh = START
                car.trace, car.asked = lines, asked
                car.note(START, "setup")
            samples = await _live(hass, sim, life, cars, keep_samples=keep_samples, deliver=deliver)
            for car in cars.values():
                mine = [d for d in deliveries if d["vehicleId"] == car.vehicle.id]
                car.result.deliveries = sum(d["outcome"] == "acknowledged" for d in mine)
                car.result.deliveries_failed = sum(d["outcome"] != "acknowledged" for d in mine)
                counts = sim.counters["billed"].get(car.vehicle.id, {})
                car.result.billed = int(counts.get("total", 0))
                car.result.by_path = dict(counts.get("by_path", {}))
                car.result.unavailable = car.any_unavailable / (END - START).total_seconds()
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    return MonthResult(
        policy=policy.key,
        label=policy.label,
        cars={key: car.result for key, car in cars.items()},
        wall_seconds=time.perf_counter() - started,
        samples=samples,
        trace=lines or [],
    )


async def _live(
    hass: HomeAssistant,
    sim: Simulator,
    life: Life,
    cars: dict[str, _Car],
    *,
    keep_samples: bool,
    deliver: Callable[[], Awaitable[None]] | None = None,
) -> list[tuple[float, str, str, float | None]]:
    """Step through the month; integrate the comparison between consecutive points.

    With `deliver` (webhooks), what the cars reported up to each point is delivered right
    after the point's events, before due refreshes.
    """
    events = deque(life.events)
    samples: list[tuple[float, str, str, float | None]] = []
    next_tick = START
    last_point = START
    while True:
        point = min([next_tick, *(c.due() for c in cars.values())])
        if events:
            point = min(point, events[0].at)
        if point >= END:
            break
        point = max(point, last_point)
        for car in cars.values():
            car.hold((point - last_point).total_seconds())
        last_point = point
        sim.clock.set(point)
        while events and events[0].at <= point:
            event = events.popleft()
            await _act(hass, sim, cars[event.car], event)
        if deliver is not None:
            await deliver()
        for car in cars.values():
            if car.due() <= point:
                car.refreshing(point)
                before = _billed(sim, car.vehicle.id)
                await car.coordinator.async_refresh()
                car.last_refresh = point
                if _billed(sim, car.vehicle.id) > before:
                    car.result.refreshes += 1
                car.note(point, "  refresh")
        await hass.async_block_till_done()
        if point >= next_tick:
            next_tick += TICK
        for key, car in cars.items():
            car.current = car.observe()
            if keep_samples:
                hours = (point - START).total_seconds() / 3600
                samples.extend((hours, key, f, v) for f, v in car.current.items())
    for car in cars.values():
        car.hold((END - last_point).total_seconds())
    sim.clock.set(END)
    return samples
