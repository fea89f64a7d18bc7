"""Physics and reporting (in-process), plus the virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import time

import pytest

from smartcar_simulator import Simulator, VirtualClock
from smartcar_simulator.vehicles import haversine_km

from .conftest import START

EV_CHARGE_PER_HOUR = 11 / 75
PHEV_CHARGE_PER_HOUR = 3.6 / 18


@pytest.fixture
def world() -> Simulator:
    return Simulator(clock=VirtualClock(start=START, frozen=True))


def test_clock_frozen_and_running() -> None:
    clock = VirtualClock(start=START, frozen=True)
    assert clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    clock.set(datetime(2027, 1, 1))  # naive means UTC
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)
    fast = VirtualClock(start=START, speed=3600)
    time.sleep(0.02)
    elapsed = (fast.now() - START).total_seconds()
    assert 60 <= elapsed < 600  # 0.02 s real at 3600x: about 72 s virtual
    assert VirtualClock(start=START, frozen=True).as_dict()["now"] == "2026-11-02T08:00:00.000Z"


def test_charging_to_the_limit_then_fully_charged(world: Simulator) -> None:
    ev = world.vehicle("ev")
    ev.plug_in()
    assert ev.state.charge_state == "CHARGING"
    assert ev.state.charging is True
    state, reported_at = ev.reported()
    assert reported_at == START  # plugging in is a change: reported at once

    world.clock.advance(25 * 60)
    state, reported_at = ev.reported()
    assert reported_at == START + timedelta(minutes=20)  # every 10 min while charging
    assert state.battery == pytest.approx(0.62 + EV_CHARGE_PER_HOUR / 3)
    assert ev.state.battery == pytest.approx(0.62 + EV_CHARGE_PER_HOUR * 25 / 60)

    world.clock.advance(3 * 3600)
    seconds_to_full = (0.8 - 0.62) / EV_CHARGE_PER_HOUR * 3600
    state, reported_at = ev.reported()
    assert state.battery == 0.8
    assert state.charge_state == "FULLY_CHARGED"
    assert reported_at.timestamp() == pytest.approx(
        (START + timedelta(seconds=seconds_to_full)).timestamp(), abs=0.01
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
    assert reported_at == START + timedelta(minutes=10)
    assert reported.odometer == pytest.approx(18234.5 + 10)

    world.clock.advance(3600)
    state = ev.state
    assert state.driving is False
    assert state.location == target
    assert state.odometer == pytest.approx(18234.5 + distance)
    reported, reported_at = ev.reported()
    assert reported.location == target  # arrival is reported
    assert reported_at.timestamp() == pytest.approx(  # arrival time, within 2 s
        (START + timedelta(hours=distance / 60)).timestamp(), abs=2
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
    ev.set(dtcs=["P0300"], locked=False, odometer=5.0)
    assert ev.state.dtcs == [{"code": "P0300", "timestamp": "2026-11-02T08:00:00.000Z"}]
    assert ev.reported()[0].locked is False


def test_many_vehicles_are_cheap() -> None:
    sim = Simulator(clock=VirtualClock(start=START, frozen=True), extra_vehicles=97)
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
    assert time.perf_counter() - started < 1.0
