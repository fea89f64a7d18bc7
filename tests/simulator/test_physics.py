"""Physics and reporting (in-process), plus the virtual clock."""

from __future__ import annotations

from datetime import UTC, timedelta
import time

import pytest

from smartcar_simulator import Simulator, VirtualClock
from smartcar_simulator.vehicles import haversine_km
from tests.conftest import TEST_NOW

from .conftest import iso_ms

EV_CHARGE_PER_HOUR = 11 / 75
PHEV_CHARGE_PER_HOUR = 3.6 / 18


@pytest.fixture
def world() -> Simulator:
    return Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True))


def test_clock_frozen_and_running() -> None:
    clock = VirtualClock(start=TEST_NOW, frozen=True)
    assert clock.now() == TEST_NOW
    assert clock.advance(90) == TEST_NOW + timedelta(seconds=90)
    assert clock.now() == TEST_NOW + timedelta(seconds=90)  # frozen: stays there
    tomorrow = (TEST_NOW + timedelta(days=1)).replace(tzinfo=None)
    clock.set(tomorrow)  # naive means UTC
    assert clock.now() == tomorrow.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)
    assert VirtualClock(start=TEST_NOW, frozen=True).as_dict()["now"] == iso_ms(TEST_NOW)


def test_running_clock_follows_real_time_times_speed() -> None:
    """At 3600x, virtual time is real (monotonic) time times 3600, bounded on both sides.

    No fixed sleep: wait (bounded) until a virtual minute has passed, then check the reading
    against the real time measured around it.
    """
    before = time.monotonic()
    fast = VirtualClock(start=TEST_NOW, speed=3600)
    created = time.monotonic()
    deadline = created + 30
    while (fast.now() - TEST_NOW) < timedelta(minutes=1):
        assert time.monotonic() < deadline, "the running clock did not move"
        time.sleep(0.001)
    asked = time.monotonic()
    elapsed = (fast.now() - TEST_NOW).total_seconds()
    after = time.monotonic()
    slack = 0.001  # timedelta keeps microseconds
    assert 3600 * (asked - created) - slack <= elapsed <= 3600 * (after - before) + slack
    assert elapsed >= 60


def test_charging_to_the_limit_then_fully_charged(world: Simulator) -> None:
    ev = world.vehicle("ev")
    ev.plug_in()
    assert ev.state.charge_state == "CHARGING"
    assert ev.state.charging is True
    state, reported_at = ev.reported()
    assert reported_at == TEST_NOW  # plugging in is a change: reported at once

    world.clock.advance(25 * 60)
    state, reported_at = ev.reported()
    assert reported_at == TEST_NOW + timedelta(minutes=20)  # every 10 min while charging
    assert state.battery == pytest.approx(0.62 + EV_CHARGE_PER_HOUR / 3)
    assert ev.state.battery == pytest.approx(0.62 + EV_CHARGE_PER_HOUR * 25 / 60)

    world.clock.advance(3 * 3600)
    seconds_to_full = (0.8 - 0.62) / EV_CHARGE_PER_HOUR * 3600
    state, reported_at = ev.reported()
    assert state.battery == 0.8
    assert state.charge_state == "FULLY_CHARGED"
    assert reported_at.timestamp() == pytest.approx(
        (TEST_NOW + timedelta(seconds=seconds_to_full)).timestamp(), abs=0.01
    )
    world.clock.advance(3600)  # idle: no new report
    assert ev.reported()[1] == reported_at
    assert ev.state.battery == 0.8

    ev.set_charge_limit(0.9)  # a higher limit resumes charging
    assert ev.state.charge_state == "CHARGING"
    ev.unplug()
    assert ev.state.charge_state == "NOT_CHARGING"
    world.clock.advance(3600)
    assert ev.state.battery == pytest.approx(0.8)


def test_phev_charges_slower(world: Simulator) -> None:
    phev = world.vehicle("phev")
    phev.plug_in()
    world.clock.advance(3600)
    assert phev.state.battery == pytest.approx(0.45 + PHEV_CHARGE_PER_HOUR)
    assert phev.state.charge_state == "CHARGING"
    world.clock.advance(3 * 3600)
    assert phev.state.battery == 1.0
    assert phev.state.charge_state == "FULLY_CHARGED"


def test_plugging_in_at_the_limit_is_fully_charged(world: Simulator) -> None:
    ev = world.vehicle("ev")
    ev.set(battery=0.8)
    ev.plug_in()
    assert ev.state.charge_state == "FULLY_CHARGED"
    assert ev.state.charging is False
    with pytest.raises(ValueError, match="plugged"):
        world.vehicle("phev").start_charge()


def test_driving_moves_location_and_odometer(world: Simulator) -> None:
    ev = world.vehicle("ev")
    start = ev.state.location
    target = (52.0907, 5.1214)  # Utrecht, about 35 km away
    distance = haversine_km(*start, *target)
    assert 30 < distance < 40
    ev.plug_in()
    ev.drive_to(*target, speed_kmh=60)
    assert ev.state.plugged is False  # driving off unplugs
    assert ev.state.driving is True

    world.clock.advance(15 * 60)
    state = ev.state
    assert state.odometer == pytest.approx(18234.5 + 15)
    assert haversine_km(*start, *state.location) == pytest.approx(15, rel=0.01)
    assert state.battery == pytest.approx(0.62 - 15 * 0.155 / 75)
    reported, reported_at = ev.reported()
    assert reported_at == TEST_NOW + timedelta(minutes=10)
    assert reported.odometer == pytest.approx(18234.5 + 10)

    world.clock.advance(3600)
    state = ev.state
    assert state.driving is False
    assert state.location == target
    assert state.odometer == pytest.approx(18234.5 + distance)
    reported, reported_at = ev.reported()
    assert reported.location == target  # arrival is reported
    assert reported_at.timestamp() == pytest.approx(  # arrival time, within 2 s
        (TEST_NOW + timedelta(hours=distance / 60)).timestamp(), abs=2
    )


def test_park_stops_the_car(world: Simulator) -> None:
    petrol = world.vehicle("petrol")
    petrol.drive_to(52.5, 5.1214, speed_kmh=100)
    world.clock.advance(6 * 60)
    petrol.park()
    odometer = petrol.state.odometer
    assert odometer == pytest.approx(96310.2 + 10)
    assert petrol.state.fuel == pytest.approx(0.41 - 10 * 0.062 / 52)
    assert petrol.state.oil_life == pytest.approx(0.37 - 10 / 15000)
    world.clock.advance(3600)
    assert petrol.state.odometer == odometer


def test_phev_uses_battery_first_then_fuel(world: Simulator) -> None:
    phev = world.vehicle("phev")
    phev.set(battery=0.1)  # 0.1 * 18 kWh / 0.26 kWh/km = 6.9 km electric
    phev.drive_to(53.0, 4.8952, speed_kmh=100)
    world.clock.advance(6 * 60)  # 10 km
    state = phev.state
    assert state.battery == 0.0
    electric_km = 0.1 * 18 / 0.26
    assert state.fuel == pytest.approx(0.7 - (10 - electric_km) * 0.065 / 55)
    assert state.driving is True


def test_ev_stops_when_the_battery_is_empty(world: Simulator) -> None:
    ev = world.vehicle("ev")
    ev.set(battery=0.01)  # 0.75 kWh: about 4.8 km
    ev.drive_to(53.5, 4.9041, speed_kmh=50)
    world.clock.advance(3600)
    state = ev.state
    assert state.battery == 0.0
    assert state.driving is False
    assert state.odometer == pytest.approx(18234.5 + 0.75 / 0.155, abs=0.01)


def test_set_validates(world: Simulator) -> None:
    ev = world.vehicle("ev")
    with pytest.raises(ValueError, match="unknown"):
        ev.set(colour="red")
    with pytest.raises(ValueError, match="between"):
        ev.set(battery=1.5)
    with pytest.raises(ValueError, match="fuel tank"):
        ev.set(fuel=0.5)
    with pytest.raises(ValueError, match="traction battery"):
        world.vehicle("petrol").set(battery=0.5)
    with pytest.raises(ValueError, match="latitude"):
        ev.drive_to(95, 0)
    world.clock.advance(90)
    ev.set(dtcs=["P0300"], locked=False, odometer=5.0)
    # A new code is stamped with the simulator's now; a change is reported at once.
    assert ev.state.dtcs == [
        {"code": "P0300", "timestamp": iso_ms(TEST_NOW + timedelta(seconds=90))}
    ]
    reported, reported_at = ev.reported()
    assert (reported.locked, reported.odometer) == (False, 5.0)
    assert reported_at == TEST_NOW + timedelta(seconds=90)


def test_many_vehicles_are_cheap() -> None:
    sim = Simulator(clock=VirtualClock(start=TEST_NOW, frozen=True), extra_vehicles=97)
    assert len(sim.vehicles) == 100
    kinds = [v.spec.kind for v in sim.vehicles[3:7]]
    assert kinds == ["ev", "petrol", "ev", "petrol"]
    assert len({v.spec.vin for v in sim.vehicles}) == 100
    for vehicle in sim.vehicles[3::2]:
        vehicle.plug_in()
    started = time.perf_counter()
    for _ in range(50):
        sim.clock.advance(300)
        for vehicle in sim.vehicles:
            vehicle.reported()
    # A few milliseconds normally; the bound only catches a pathological slowdown.
    assert time.perf_counter() - started < 10.0
    # And the time did pass for them: 50 x 5 min of charging filled every plugged-in battery.
    for vehicle in sim.vehicles[3::2]:
        assert vehicle.state.charge_state == "FULLY_CHARGED"
