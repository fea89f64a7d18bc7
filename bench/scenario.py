"""One month in the life of an EV and a petrol car, as a list of timed events (deterministic).

Both cars belong to one household (one Smartcar account, one Home Assistant entry):

- weekdays: to work at about 08:00 and back at about 17:30, 20-30 km each way at city speed;
- Saturdays: errands in town (a few km), except one weekend per car with a trip of about
  150 km (75 km out on Saturday morning, back on Sunday afternoon, at highway speed);
- the EV is plugged in at home on arrival in the evening (all but three weekday evenings). Off-peak
  charging: the user's automation stops the charge through Home Assistant's switch right at
  plug-in (it is triggered by the plug, not by what the integration shows, so every policy
  sees the same life) and starts it at 01:00 through the switch again; the car charges up to
  its charge limit. The user unplugs in the morning before leaving;
- the petrol car is refuelled on the way home when its tank is low;
- a few evenings a car is left unlocked for 1-3 hours before the user locks it with the key
  (in the simulator, not through Home Assistant). Otherwise both cars are locked when parked.

Event actions: `drive` (latitude, longitude, speed km/h), `plug`, `unplug`, `lock`, `unlock`,
`refuel` (when below a quarter tank), `charge_off`/`charge_on` (Home Assistant's switch, only
while the car is plugged in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import os
import random
from typing import Final

START: Final = datetime(2026, 11, 1, tzinfo=UTC)  # the calendar month the budget counts
DAYS: Final = 30
END: Final = START + timedelta(days=DAYS)
# Another month: BENCH_SEED=<n> scripts/bench (the README quotes the default).
SEED: Final = int(os.environ.get("BENCH_SEED", "20261102"))
# Access tokens outlive the virtual month. Home Assistant judges a token's expiry by the
# real clock and the simulator by the virtual one; with Smartcar's two hours the simulator
# would refuse a token Home Assistant still believes valid.
TOKEN_LIFETIME: Final = 90 * 24 * 3600

EARTH_RADIUS_KM: Final = 6371.0088  # as the simulator's haversine


@dataclass(frozen=True, slots=True)
class Place:
    """A point on the map."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True, order=True)
class Event:
    """Something the user (or the user's automation) does at a moment."""

    at: datetime
    seq: int  # keeps events at the same moment in the order they were planned
    car: str  # simulator key: "ev" or "petrol"
    action: str
    place: Place | None = None
    speed_kmh: float = 0.0


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance, as the simulator computes it."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def destination(origin: Place, km: float, bearing_deg: float) -> Place:
    """The place `km` away from `origin` in direction `bearing_deg` (0 = north)."""
    delta = km / EARTH_RADIUS_KM
    theta = math.radians(bearing_deg)
    lat1, lon1 = math.radians(origin.latitude), math.radians(origin.longitude)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * math.sin(lat2),
    )
    return Place(math.degrees(lat2), math.degrees(lon2))


@dataclass(frozen=True, slots=True)
class Car:
    """Where one car lives and goes."""

    key: str
    electric: bool
    home: Place
    work: Place
    trip: Place  # the weekend trip's destination
    shops: Place
    trip_weekend: int  # which Saturday (0-based) the weekend trip is on
    unlocked_evenings: frozenset[int]  # day numbers left unlocked after coming home
    unplugged_evenings: frozenset[int]  # weekday evenings the EV is not plugged in


@dataclass(slots=True)
class Life:
    """The month: both cars and every event, sorted."""

    cars: dict[str, Car]
    events: list[Event]
    seed: int

    def count(self, action: str, car: str | None = None) -> int:
        """How many events of a kind (for the printed description)."""
        return sum(1 for e in self.events if e.action == action and car in (None, e.car))

    def driven_km(self, car: str) -> float:
        """Planned distance of one car over the month."""
        total = 0.0
        where = self.cars[car].home
        for event in self.events:
            if event.car == car and event.action == "drive" and event.place is not None:
                total += distance_km(where, event.place)
                where = event.place
        return total


class _Planner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[Event] = []
        self.plugged: dict[str, bool] = {}

    def add(
        self,
        at: datetime,
        car: str,
        action: str,
        place: Place | None = None,
        speed_kmh: float = 0.0,
    ) -> None:
        self.events.append(Event(at, len(self.events), car, action, place, speed_kmh))

    def jitter(self, base: datetime, minutes: int) -> datetime:
        return base + timedelta(minutes=self.rng.randint(-minutes, minutes))

    def drive(self, car: Car, at: datetime, origin: Place, to: Place, speed: float) -> datetime:
        """Leave at `at` (unplugging first); return the arrival time."""
        if self.plugged.get(car.key):
            self.add(at - timedelta(minutes=3), car.key, "unplug")
            self.plugged[car.key] = False
        self.add(at, car.key, "drive", place=to, speed_kmh=speed)
        hours = distance_km(origin, to) / speed
        return at + timedelta(hours=hours)

    def come_home(self, car: Car, arrival: datetime, day: int, *, plug: bool) -> None:
        """Arrived at home: plug in (EV), maybe leave the car unlocked for a while."""
        if car.electric and plug:
            plug_at = arrival + timedelta(minutes=2)
            self.add(plug_at, car.key, "plug")
            self.add(plug_at + timedelta(minutes=1), car.key, "charge_off")
            self.plugged[car.key] = True
            night = (arrival + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
            if night < END:
                self.add(night, car.key, "charge_on")
        if day in car.unlocked_evenings:
            unlock_at = arrival + timedelta(minutes=4)
            self.add(unlock_at, car.key, "unlock")
            hours = self.rng.uniform(1.0, 3.0)
            self.add(unlock_at + timedelta(hours=hours), car.key, "lock")


def _car(rng: random.Random, key: str, home: Place, *, electric: bool, trip_weekend: int) -> Car:
    work = destination(home, rng.uniform(20.0, 30.0), rng.uniform(0.0, 360.0))
    trip = destination(home, rng.uniform(72.0, 78.0), rng.uniform(0.0, 360.0))
    shops = destination(home, rng.uniform(3.0, 6.0), rng.uniform(0.0, 360.0))
    weekdays = [d for d in range(DAYS) if (START + timedelta(days=d)).weekday() < 5]
    unlocked = frozenset(rng.sample(weekdays, 4))
    unplugged = frozenset(rng.sample(weekdays, 3))
    return Car(key, electric, home, work, trip, shops, trip_weekend, unlocked, unplugged)


def build_life(homes: dict[str, Place], seed: int = SEED) -> Life:
    """The month of the EV ("ev") and the petrol car ("petrol"), living at `homes`."""
    rng = random.Random(seed)  # noqa: S311  (a reproducible scenario, not cryptography)
    cars = {
        "ev": _car(rng, "ev", homes["ev"], electric=True, trip_weekend=1),
        "petrol": _car(rng, "petrol", homes["petrol"], electric=False, trip_weekend=2),
    }
    plan = _Planner(rng)
    for day in range(DAYS):
        date = START + timedelta(days=day)
        weekday = date.weekday()
        saturday_index = day // 7  # START is a Monday, so day // 7 counts the weeks
        for car in cars.values():
            if weekday < 5:
                speed = rng.uniform(35.0, 45.0)
                leave = plan.jitter(date.replace(hour=8), 15)
                plan.drive(car, leave, car.home, car.work, speed)
                leave = plan.jitter(date.replace(hour=17, minute=30), 15)
                if not car.electric:
                    plan.add(leave - timedelta(minutes=1), car.key, "refuel")
                arrival = plan.drive(car, leave, car.work, car.home, rng.uniform(35.0, 45.0))
                plan.come_home(car, arrival, day, plug=day not in car.unplugged_evenings)
            elif weekday == 5 and saturday_index == car.trip_weekend:
                leave = plan.jitter(date.replace(hour=10), 20)
                plan.drive(car, leave, car.home, car.trip, rng.uniform(95.0, 110.0))
            elif weekday == 6 and saturday_index == car.trip_weekend:
                leave = plan.jitter(date.replace(hour=15), 30)
                arrival = plan.drive(car, leave, car.trip, car.home, rng.uniform(95.0, 110.0))
                plan.come_home(car, arrival, day, plug=True)
            elif weekday == 5:
                leave = plan.jitter(date.replace(hour=10, minute=30), 30)
                arrival = plan.drive(car, leave, car.home, car.shops, 30.0)
                leave = arrival + timedelta(minutes=rng.randint(45, 120))
                plan.drive(car, leave, car.shops, car.home, 30.0)
    events = sorted(e for e in plan.events if START <= e.at < END)
    return Life(cars=cars, events=events, seed=seed)


def describe(life: Life) -> list[str]:
    """A few lines saying what the month holds."""
    lines = []
    for key, car in life.cars.items():
        commute = distance_km(car.home, car.work)
        trip = START + timedelta(days=7 * car.trip_weekend + 5)
        text = (
            f"  {'EV' if car.electric else 'petrol'}: {life.driven_km(key):.0f} km, "
            f"commute {commute:.1f} km each way, weekend trip {2 * distance_km(car.home, car.trip):.0f} km "
            f"({trip:%a %d %b}), unlocked {life.count('unlock', key)} evenings for 1-3 h"
        )
        if car.electric:
            text += (
                f", plugged in {life.count('plug', key)} evenings "
                "(charging stopped at plug-in, started at 01:00, both through Home Assistant)"
            )
        lines.append(text)
    return lines
