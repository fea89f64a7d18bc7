"""Which signals to ask for, and when: spend a monthly request budget where data changes.

Smartcar bills every path of every batch. The adaptive policy asks for a signal when it is
likely to have changed: often for what moves in the car's current situation (battery and
charge while charging, location after the car moved, the lock while unlocked), rarely for
slow signals, and less and less often for a signal whose `sc-data-age` shows the car has not
reported anything new. Intervals stretch so that the month's budget lasts to its end, and a
poll never takes the count past the budget minus a reserve kept for commands.
No Home Assistant imports: time and state come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
from typing import Protocol

from .api import Charge, ChargeState, Location, Odometer, Security, Signal, SignalReading

HOUR = timedelta(hours=1)

# How often each signal is worth asking for when nothing special is going on.
BASE_INTERVAL: Mapping[Signal, timedelta] = {
    Signal.BATTERY: 4 * HOUR,
    Signal.CHARGE: 4 * HOUR,
    Signal.SECURITY: 3 * HOUR,
    Signal.LOCATION: 4 * HOUR,
    Signal.ODOMETER: 24 * HOUR,
    Signal.FUEL: 12 * HOUR,
    Signal.CHARGE_LIMIT: 72 * HOUR,
    Signal.ENGINE_OIL: 7 * 24 * HOUR,
    Signal.DIAGNOSTICS: 3 * 24 * HOUR,
}
# Signals that change when the car is in use, and how recent a report means "in use".
ACTIVE_SIGNALS = frozenset({Signal.BATTERY, Signal.CHARGE, Signal.SECURITY, Signal.LOCATION})
ACTIVE_WINDOW = timedelta(minutes=45)
# Share of the pace that the quiet baseline may use; the rest pays for busy times.
BASELINE_SHARE = 0.6
# Unspent allowance carried over, in requests: a night of charging or an evening out.
CREDIT_CAP = 12.0
# A signal the car keeps not refreshing is asked for at most this much less often.
MAX_BACKOFF = 4.0
# Intervals never stretch beyond this factor (an empty budget waits for the month's end).
MAX_STRETCH = 1000.0
# Share of the budget kept for commands and their confirmations.
COMMAND_RESERVE = 0.1


@dataclass(frozen=True, slots=True)
class Situation:
    """What the car is doing, as far as the last readings tell."""

    charging: bool = False
    plugged_in: bool = False
    unlocked: bool = False
    moving: bool = False
    # The car reported something lately (a recent `sc-data-age`): it is in use.
    active: bool = False


def situation(
    readings: Mapping[Signal, SignalReading],
    previous: Mapping[Signal, SignalReading],
    now: datetime | None = None,
) -> Situation:
    """Read the situation out of the latest and the previous readings."""
    charge = readings.get(Signal.CHARGE)
    security = readings.get(Signal.SECURITY)
    moving = False
    location, before = readings.get(Signal.LOCATION), previous.get(Signal.LOCATION)
    if isinstance(location, Location) and isinstance(before, Location):
        moving = _distance_km(location, before) > 0.2
    odometer, before_odo = readings.get(Signal.ODOMETER), previous.get(Signal.ODOMETER)
    if isinstance(odometer, Odometer) and isinstance(before_odo, Odometer):
        moving = moving or (odometer.distance or 0) > (before_odo.distance or 0) + 0.2
    ages = [r.meta.data_age for r in readings.values() if r.meta.data_age is not None]
    active = now is not None and bool(ages) and now - max(ages) <= ACTIVE_WINDOW
    return Situation(
        active=active,
        charging=isinstance(charge, Charge) and charge.state is ChargeState.CHARGING,
        plugged_in=isinstance(charge, Charge) and bool(charge.is_plugged_in),
        unlocked=isinstance(security, Security) and security.is_locked is False,
        moving=moving,
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


def situational_interval(signal: Signal, now_situation: Situation, fast: timedelta) -> timedelta:
    """How often a signal is worth asking for in this situation (before budget and backoff)."""
    s = now_situation
    if signal in (Signal.BATTERY, Signal.CHARGE) and s.charging:
        return fast
    if signal is Signal.CHARGE and s.plugged_in:
        return 2 * fast  # a scheduled (off-peak) charge may start any time
    if signal is Signal.BATTERY and s.plugged_in:
        return 8 * HOUR  # plugged in and not charging: the level does not move
    if signal is Signal.SECURITY and s.unlocked:
        return 2 * fast
    if signal in (Signal.LOCATION, Signal.ODOMETER, Signal.BATTERY, Signal.FUEL) and s.moving:
        return fast
    if signal in ACTIVE_SIGNALS and s.active:
        return 2 * fast
    return BASE_INTERVAL[signal]


@dataclass(slots=True)
class Usage:
    """Billed requests counted this calendar month (UTC); `commands` is the part commands took."""

    month: str = ""
    used: int = 0
    commands: int = 0

    def roll(self, now: datetime) -> None:
        """Start counting afresh when the month turned."""
        month = now.astimezone(UTC).strftime("%Y-%m")
        if month != self.month:
            self.month = month
            self.used = 0
            self.commands = 0

    def add(self, now: datetime, count: int, *, command: bool = False) -> None:
        """Count billed requests (a command's, or its confirmation's, with `command`)."""
        self.roll(now)
        self.used += count
        if command:
            self.commands += count


def polling_room(budget: int, usage: Usage, now: datetime) -> float:
    """Requests polling may still spend this month, leaving room for commands.

    Commands are never refused, so polling makes room for them: for the rest of the month
    it keeps back what commands took so far, projected over the time left, and at least a
    tenth of the budget until commands have used that much.
    """
    start, end = month_bounds(now)
    elapsed = max(now - start, timedelta(days=1))
    projected = usage.commands * ((end - now) / elapsed)
    reserve = max(budget * COMMAND_RESERVE - usage.commands, projected, 0.0)
    return budget - usage.used - reserve


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the UTC month `now` falls in."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask for now, and when to look again."""

    signals: tuple[Signal, ...]
    next_check: datetime


@dataclass(slots=True)
class SignalMemory:
    """Per-signal history the adaptive policy keeps."""

    backoff: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanInput:
    """Everything a policy looks at."""

    now: datetime
    needed: Iterable[Signal]
    polled: Mapping[Signal, datetime]
    readings: Mapping[Signal, SignalReading]
    previous: Mapping[Signal, SignalReading]
    usage: Usage
    last_poll: datetime | None


class Policy(Protocol):
    """Decides which signals a refresh asks for."""

    def plan(self, given: PlanInput) -> Plan:
        """The signals to ask for now (maybe none) and when to look again."""

    def observe(self, signal: Signal, fresh: bool) -> None:
        """Learn whether the car had new data for a signal at the last poll."""


@dataclass(slots=True)
class FixedPolicy:
    """Every needed signal every `interval`, whatever it costs (for comparison)."""

    interval: timedelta

    def plan(self, given: PlanInput) -> Plan:
        """All needed signals once the interval has passed."""
        if given.last_poll is not None and given.now - given.last_poll < self.interval:
            return Plan((), given.last_poll + self.interval)
        return Plan(tuple(sorted(given.needed)), given.now + self.interval)

    def observe(self, signal: Signal, fresh: bool) -> None:
        """A fixed schedule learns nothing."""


@dataclass(slots=True)
class AdaptivePolicy:
    """Spend the monthly budget on the signals most likely to have changed.

    Quiet signals are stretched so their steady cost stays within a share of the pace the
    budget allows (what is left over the time left); the rest accrues as credit, capped,
    which pays for busy times: charging, driving, an unlocked car.
    """

    budget: int
    min_interval: timedelta
    memory: dict[Signal, SignalMemory] = field(default_factory=dict)
    credits: float = CREDIT_CAP / 2
    credited_at: datetime | None = None

    def observe(self, signal: Signal, fresh: bool) -> None:
        """Fresh data: back to the situation's pace; stale data: ask less often."""
        mem = self.memory.setdefault(signal, SignalMemory())
        mem.backoff = 1.0 if fresh else min(MAX_BACKOFF, mem.backoff * 2)

    def _pace(self, given: PlanInput) -> float:
        """Requests per hour the rest of the month can afford."""
        end = month_bounds(given.now)[1]
        left_hours = max((end - given.now) / HOUR, 1.0)
        return max(polling_room(self.budget, given.usage, given.now), 0.0) / left_hours

    def intervals(self, given: PlanInput) -> dict[Signal, timedelta]:
        """Each needed signal's interval now: situation, then backoff and pacing if quiet."""
        now_situation = situation(given.readings, given.previous, given.now)
        busy: dict[Signal, timedelta] = {}
        quiet: dict[Signal, timedelta] = {}
        for signal in given.needed:
            interval = situational_interval(signal, now_situation, self.min_interval)
            if interval < BASE_INTERVAL[signal]:
                busy[signal] = max(self.min_interval, interval)
            else:
                backoff = self.memory.get(signal, SignalMemory()).backoff
                quiet[signal] = max(self.min_interval, interval * backoff)
        allowed = BASELINE_SHARE * self._pace(given)
        demand = sum(HOUR / interval for interval in quiet.values())
        if demand > allowed:
            stretch = min(demand / max(allowed, 1e-9), MAX_STRETCH)
            quiet = {s: i * stretch for s, i in quiet.items()}
        return busy | quiet

    def _accrue(self, given: PlanInput) -> None:
        if self.credited_at is not None and given.now > self.credited_at:
            hours = (given.now - self.credited_at) / HOUR
            self.credits = min(CREDIT_CAP, self.credits + hours * self._pace(given))
        self.credited_at = given.now

    def plan(self, given: PlanInput) -> Plan:
        """Due signals that credit and budget allow, most overdue first."""
        given.usage.roll(given.now)
        intervals = self.intervals(given)
        if not intervals:
            return Plan((), given.now + 24 * HOUR)
        due_at = {
            signal: (given.polled[signal] + interval if signal in given.polled else given.now)
            for signal, interval in intervals.items()
        }
        earliest = given.now
        if given.last_poll is not None:
            earliest = given.last_poll + self.min_interval
        if given.now < earliest:
            return Plan((), max(earliest, min(due_at.values())))
        self._accrue(given)
        first_time = not given.polled
        overdue = {
            s: (given.now - given.polled[s]) / intervals[s] if s in given.polled else math.inf
            for s, at in due_at.items()
            if at <= given.now
        }
        ranked = sorted(overdue, key=lambda s: (-overdue[s], s))
        room = math.floor(polling_room(self.budget, given.usage, given.now))
        affordable = room if first_time else min(room, math.floor(self.credits))
        chosen = tuple(sorted(ranked[: max(affordable, 0)]))
        self.credits -= 0 if first_time else len(chosen)
        if room <= 0:
            # Out of budget: look again when the month turns.
            return Plan(chosen, month_bounds(given.now)[1])
        later = [at for s, at in due_at.items() if s not in chosen and at > given.now]
        if len(chosen) < len(ranked):
            # Due but not affordable yet: when the next request's credit has accrued.
            pace = self._pace(given)
            wait = (1 - self.credits) / pace if pace > 0 else 24.0
            later.append(given.now + max(wait, 0.0) * HOUR)
        next_check = max(given.now + self.min_interval, min(later, default=given.now + 24 * HOUR))
        return Plan(chosen, next_check)
