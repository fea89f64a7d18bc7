"""What a car's answers teach: its situation, when it is used, and how fast it charges.

A report that is not explained by a charge in progress, a command just sent or locking again
after an unlock means the car was used (a plug-in or unplug always does). Uses are learnt per
quarter of an hour of the day (UTC) and fade, so that a habit of recent days counts. What was
learnt is exported for the entry's store and restored after a restart.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
from typing import Any

from ..api import (
    Charge,
    ChargeState,
    Location,
    Security,
    Signal,
    SignalReading,
    finite_float,
    parse_datetime,
)

HOUR = timedelta(hours=1)

# A report this soon after a command is the car answering the command, not someone using it.
COMMAND_ECHO = timedelta(minutes=2)
# A location that changed and was reported this shortly before it was read: still driving.
DRIVING_REPORT = timedelta(minutes=12)
# The shortest stretch of charging a rate is learnt from.
RATE_SPAN = timedelta(minutes=10)
# The activity profile's resolution: quarters of an hour.
SLOT_MINUTES = 15
SLOTS = 24 * 60 // SLOT_MINUTES
# The activity profile: how fast a habit fades (per day), its ceiling, what counts as a habit,
# and how long after a habitual stretch of use the car is looked at.
ACTIVITY_FADE = 0.8
ACTIVITY_CAP = 5.0
ACTIVITY_HABIT = 1.5
PROBE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Situation:
    """What the car is doing, as far as the last readings tell."""

    charging: bool = False
    unlocked: bool = False
    moving: bool = False


def situation(
    readings: Mapping[Signal, SignalReading],
    previous: Mapping[Signal, SignalReading],
    polled: Mapping[Signal, datetime] | None = None,
) -> Situation:
    """Read the situation out of the latest and the previous readings (read at `polled`)."""
    charge = readings.get(Signal.CHARGE)
    security = readings.get(Signal.SECURITY)
    moving = False
    location, before = readings.get(Signal.LOCATION), previous.get(Signal.LOCATION)
    if isinstance(location, Location) and isinstance(before, Location):
        age, read = location.meta.data_age, (polled or {}).get(Signal.LOCATION)
        recent = age is None or read is None or read - age <= DRIVING_REPORT
        moving = recent and _distance_km(location, before) > 0.2
    plugged_in = isinstance(charge, Charge) and bool(charge.is_plugged_in)
    return Situation(
        charging=isinstance(charge, Charge) and charge.state is ChargeState.CHARGING,
        unlocked=isinstance(security, Security) and security.is_locked is False,
        moving=moving and not plugged_in,
    )


def _distance_km(a: Location, b: Location) -> float:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return 0.0
    lat1, lon1 = math.radians(a.latitude or 0), math.radians(a.longitude or 0)
    lat2, lon2 = math.radians(b.latitude or 0), math.radians(b.longitude or 0)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass(slots=True)
class ActivityProfile:
    """When in the day this car is usually in use, learnt from the reports that showed use.

    Each use adds to its quarter of an hour of the day (UTC); every weight fades by a fifth a
    day, so a habit of recent days counts and an old one is forgotten.
    """

    weights: list[float] = field(default_factory=lambda: [0.0] * SLOTS)
    faded_at: datetime | None = None

    def _fade(self, now: datetime) -> None:
        if self.faded_at is None:
            self.faded_at = now
            return
        days = (now - self.faded_at) / timedelta(days=1)
        if days >= 1:
            self.weights = [w * ACTIVITY_FADE**days for w in self.weights]
            self.faded_at = now

    def record(self, report: datetime, now: datetime) -> None:
        """The car was in use at `report`."""
        self._fade(now)
        report = report.astimezone(UTC)
        slot = (report.hour * 60 + report.minute) // SLOT_MINUTES
        self.weights[slot] = min(self.weights[slot] + 1.0, ACTIVITY_CAP)

    def habitual(self, slot: int) -> bool:
        """Whether the car is usually in use in this quarter of an hour of the day.

        Its neighbours count too: a habit keeps its hour only roughly from day to day.
        """
        near = (self.weights[(slot + offset) % SLOTS] for offset in (-1, 0, 1))
        return sum(near) >= ACTIVITY_HABIT

    def probes(self, now: datetime) -> list[datetime]:
        """The end of each habitual stretch, yesterday, today and tomorrow (plus a margin)."""
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        ends = [s + 1 for s in range(SLOTS) if self.habitual(s) and not self.habitual(s + 1)]
        return sorted(
            day + timedelta(days=offset, minutes=end * SLOT_MINUTES) + PROBE_MARGIN
            for end in ends
            for offset in (-1, 0, 1)
        )

    def last_probe(self, now: datetime) -> datetime | None:
        """The latest probe time that passed within the last two hours."""
        passed = [t for t in self.probes(now) if now - 2 * HOUR <= t <= now]
        return max(passed, default=None)

    def next_probe(self, now: datetime) -> datetime | None:
        """The next probe time after `now`."""
        return min((t for t in self.probes(now) if t > now), default=None)


@dataclass(slots=True)
class ChargeTracker:
    """The charge in progress, and how fast this car charges (battery share per hour)."""

    rate: float | None = None
    since: datetime | None = None  # when the car was first seen charging this time
    start_level: float | None = None  # the battery level when it started, if known

    def started(self, at: datetime, level: float | None) -> None:
        """The car was seen charging for the first time since `at`."""
        self.since, self.start_level = at, level

    def learn(self, at: datetime, level: float) -> None:
        """A battery level reported at `at` during (or at the end of) this charge."""
        if self.since is None or self.start_level is None or at - self.since < RATE_SPAN:
            return
        gained = level - self.start_level
        if gained > 0:
            self.rate = gained / ((at - self.since) / HOUR)

    def stopped(self) -> None:
        """The charge is over."""
        self.since = self.start_level = None

    def expected_end(self, level: float, at: datetime, limit: float) -> datetime | None:
        """When a charge at `level` (reported at `at`) reaches `limit`, if the rate is known."""
        if self.rate is None or self.since is None:
            return None
        return max(at, self.since) + HOUR * max(limit - level, 0.0) / self.rate


@dataclass(slots=True)
class Learnt:
    """Everything learnt about one car: its habits, its charging and its latest use."""

    activity: ActivityProfile = field(default_factory=ActivityProfile)
    charge: ChargeTracker = field(default_factory=ChargeTracker)
    # Reports up to this moment are explained (charge, command, lock change): not use.
    explained_until: datetime | None = None
    # The latest report that showed use, and when that use was seen.
    last_use: datetime | None = None
    use_seen_at: datetime | None = None

    def export(self) -> dict[str, Any]:
        """The habits, the charge and what is known of the car's use, JSON-friendly."""
        return {
            "activity": [round(w, 4) for w in self.activity.weights],
            "faded_at": _iso(self.activity.faded_at),
            "charge_rate": self.charge.rate,
            "charging_since": _iso(self.charge.since),
            "charge_start_level": self.charge.start_level,
            "explained_until": _iso(self.explained_until),
            "last_use": _iso(self.last_use),
            "use_seen_at": _iso(self.use_seen_at),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what `export` gave; anything unreadable is left at its default."""
        weights = data.get("activity")
        if (
            isinstance(weights, list)
            and len(weights) == SLOTS
            and all(isinstance(w, int | float) and 0 <= w <= ACTIVITY_CAP for w in weights)
        ):
            self.activity.weights = [float(w) for w in weights]
            self.activity.faded_at = parse_datetime(data.get("faded_at"))
        rate = finite_float(data.get("charge_rate"))
        self.charge.rate = rate if rate is not None and rate > 0 else None
        self.charge.since = parse_datetime(data.get("charging_since"))
        level = finite_float(data.get("charge_start_level"))
        self.charge.start_level = level if level is not None and 0 <= level <= 1 else None
        self.explained_until = parse_datetime(data.get("explained_until"))
        self.last_use = parse_datetime(data.get("last_use"))
        self.use_seen_at = parse_datetime(data.get("use_seen_at"))

    def commanded(self, now: datetime) -> None:
        """The car reports what a command changed: that report is not use."""
        self._explain(now + COMMAND_ECHO)

    def _explain(self, until: datetime | None) -> None:
        if until is not None and (self.explained_until is None or until > self.explained_until):
            self.explained_until = until

    def observe(
        self,
        now: datetime,
        readings: Mapping[Signal, SignalReading],
        previous: Mapping[Signal, SignalReading],
        fetched: Collection[Signal],
    ) -> None:
        """Learn the charge, what explains the latest reports, and whether the car was used."""
        plugged_changed = self._observe_charge(now, readings, previous, fetched)
        security, before = readings.get(Signal.SECURITY), previous.get(Signal.SECURITY)
        if (
            Signal.SECURITY in fetched
            and isinstance(security, Security)
            and isinstance(before, Security)
            and security.is_locked is True
            and before.is_locked is False
        ):
            # Locked again after it was seen unlocked (and watched closely since): nothing else
            # changed with that report. An unlock is use: a drive may follow or have preceded.
            self._explain(security.meta.data_age)
        use = plugged_changed
        latest = _latest_report(readings, fetched)
        if latest is not None:
            if self.charge.since is not None:
                # Charging: the car reports its progress; that is not use.
                self._explain(latest)
            if self.explained_until is None or latest > self.explained_until:
                use = latest
        if use is not None and (self.last_use is None or use > self.last_use):
            self.last_use = use
            self.use_seen_at = now
            self.activity.record(use, now)

    def _observe_charge(
        self,
        now: datetime,
        readings: Mapping[Signal, SignalReading],
        previous: Mapping[Signal, SignalReading],
        fetched: Collection[Signal],
    ) -> datetime | None:
        """Follow the charge; return the report of a plug-in or unplug, if one was just seen."""
        battery = readings.get(Signal.BATTERY)
        level = getattr(battery, "percent_remaining", None)
        level_at = battery.meta.data_age if battery is not None else None
        if Signal.BATTERY in fetched and level is not None and level_at is not None:
            self.charge.learn(level_at, level)
        charge, before = readings.get(Signal.CHARGE), previous.get(Signal.CHARGE)
        if Signal.CHARGE not in fetched or not isinstance(charge, Charge):
            return None
        at = charge.meta.data_age or now
        if charge.state is ChargeState.CHARGING:
            if self.charge.since is None:
                self.charge.started(at, level)
            self._explain(at)
        elif self.charge.since is not None:
            self.charge.stopped()
            self._explain(at)  # the report that the charge ended
        if (
            isinstance(before, Charge)
            and None not in (charge.is_plugged_in, before.is_plugged_in)
            and charge.is_plugged_in != before.is_plugged_in
        ):
            return at
        return None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _latest_report(
    readings: Mapping[Signal, SignalReading], fetched: Collection[Signal]
) -> datetime | None:
    ages = [
        reading.meta.data_age
        for signal, reading in readings.items()
        if signal in fetched and reading.meta.data_age is not None
    ]
    return max(ages, default=None)
