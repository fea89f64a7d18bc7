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

from .api import Charge, ChargeState, Location, Security, Signal, SignalReading

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
ACTIVE_SIGNALS = frozenset(
    {Signal.BATTERY, Signal.CHARGE, Signal.SECURITY, Signal.LOCATION, Signal.FUEL}
)
# When not everything due is affordable, what matters most to people goes first: an unlocked
# car, then what the car has to go on, then where it is.
PRIORITY: Mapping[Signal, float] = {
    Signal.SECURITY: 3.0,
    Signal.CHARGE: 2.0,
    Signal.BATTERY: 2.0,
    Signal.FUEL: 2.0,
    Signal.LOCATION: 1.5,
}
ACTIVE_WINDOW = timedelta(minutes=45)
# The activity profile's resolution: quarters of an hour.
SLOT_MINUTES = 15
SLOTS = 24 * 60 // SLOT_MINUTES
# The activity profile: how fast a habit fades (per day), its ceiling, what counts as a habit,
# and how long after a habitual stretch of use the car is looked at.
ACTIVITY_FADE = 0.8
ACTIVITY_CAP = 5.0
ACTIVITY_HABIT = 1.5
PROBE_MARGIN = timedelta(minutes=20)
# How far ahead of an even spend over the month polling may run: enough for a busy evening
# or a night of charging, never so much that the last days go dark.
SLACK_MIN = 12.0
SLACK_SHARE = 0.05
# How many times the pace busy times may spend at once.
BURST = 5.0
# Share of the pace that the quiet baseline may use; the rest pays for busy times.
BASELINE_SHARE = 0.2
# A signal the car keeps not refreshing is asked for at most this much less often.
MAX_BACKOFF = 2.0
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
    if signal is Signal.BATTERY and s.plugged_in:
        return 8 * HOUR  # plugged in and not charging: the level does not move
    if signal is Signal.CHARGE and s.plugged_in:
        return 6 * fast  # a charge scheduled in the car may start any time
    if signal is Signal.SECURITY and s.unlocked:
        return fast
    if signal in (Signal.LOCATION, Signal.BATTERY, Signal.FUEL) and s.moving:
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


@dataclass(slots=True)
class ActivityProfile:
    """When in the day this car is usually in use, learnt from its `sc-data-age`.

    Each fresh report adds to its quarter of an hour of the day (UTC); every weight fades by a
    fifth a day, so a habit of recent days counts and an old one is forgotten.
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
        """The car reported at `report`."""
        self._fade(now)
        report = report.astimezone(UTC)
        slot = (report.hour * 60 + report.minute) // SLOT_MINUTES
        self.weights[slot] = min(self.weights[slot] + 1.0, ACTIVITY_CAP)

    def habitual(self, slot: int) -> bool:
        """Whether the car is usually in use in this quarter of an hour of the day."""
        return self.weights[slot % SLOTS] >= ACTIVITY_HABIT

    def probes(self, now: datetime) -> list[datetime]:
        """The end of each habitual stretch, yesterday, today and tomorrow (plus a margin)."""
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        ends = [s + 1 for s in range(SLOTS) if self.habitual(s) and not self.habitual(s + 1)]
        return sorted(
            day + timedelta(days=offset, minutes=end * SLOT_MINUTES) + PROBE_MARGIN
            for end in ends
            for offset in (-1, 0, 1)
        )


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

    def next_check(self, given: PlanInput) -> datetime:
        """When to look again, changing nothing (after answers changed the situation)."""

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """Signals to read at once because the answers just received show them stale."""

    def observe(self, signal: Signal, fresh: bool, report: datetime | None, now: datetime) -> None:
        """Learn whether the car had new data for a signal (reported at `report`)."""


@dataclass(slots=True)
class FixedPolicy:
    """Every needed signal every `interval`, whatever it costs (for comparison)."""

    interval: timedelta

    @staticmethod
    def _last_full_poll(given: PlanInput) -> datetime | None:
        """When every needed signal was last read together (a confirmation reads only one)."""
        times = [given.polled.get(signal) for signal in given.needed]
        if not times or None in times:
            return None
        return min(t for t in times if t is not None)

    def plan(self, given: PlanInput) -> Plan:
        """All needed signals once the interval has passed since the last full poll."""
        last = self._last_full_poll(given)
        if last is not None and given.now - last < self.interval:
            return Plan((), last + self.interval)
        return Plan(tuple(sorted(given.needed)), given.now + self.interval)

    def next_check(self, given: PlanInput) -> datetime:
        """One interval after the last full poll."""
        return (self._last_full_poll(given) or given.now) + self.interval

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """A fixed schedule follows nothing up."""
        return ()

    def observe(self, signal: Signal, fresh: bool, report: datetime | None, now: datetime) -> None:
        """A fixed schedule learns nothing."""


@dataclass(slots=True)
class AdaptivePolicy:
    """Spend the monthly budget on the signals most likely to have changed.

    - The lock state is the heartbeat: cheap, important, and its `sc-data-age` tells when the
      car last reported. It is read at the end of the car's habitual times of use (learnt from
      earlier reports), often in busy situations, and otherwise at a paced quiet rhythm.
    - Battery, charge, location and fuel follow when the car reported since their reading
      (their data is known to be stale), in busy situations (charging, moving, unlocked), and
      otherwise rarely; slow signals on their own long intervals.
    - Quiet intervals stretch so their steady cost stays within a share of the pace the budget
      allows for the rest of the month; a poll never goes past the polling room.
    """

    budget: int
    min_interval: timedelta
    memory: dict[Signal, SignalMemory] = field(default_factory=dict)
    activity: ActivityProfile = field(default_factory=ActivityProfile)
    _reports: set[datetime] = field(default_factory=set)

    def observe(self, signal: Signal, fresh: bool, report: datetime | None, now: datetime) -> None:
        """Fresh data: back to the situation's pace and learn the hour; stale: ask less often."""
        mem = self.memory.setdefault(signal, SignalMemory())
        mem.backoff = 1.0 if fresh else min(MAX_BACKOFF, mem.backoff * 2)
        if fresh and report is not None and report not in self._reports:
            # One report of the car shows in several signals: learn it once.
            self._reports = {r for r in self._reports if now - r < timedelta(days=2)}
            self._reports.add(report)
            self.activity.record(report, now)

    def _pace(self, given: PlanInput) -> float:
        """Requests per hour the rest of the month can afford."""
        end = month_bounds(given.now)[1]
        left_hours = max((end - given.now) / HOUR, 1.0)
        return max(polling_room(self.budget, given.usage, given.now), 0.0) / left_hours

    def intervals(self, given: PlanInput) -> dict[Signal, timedelta]:
        """Each needed signal's interval now: staleness, situation, habit, then pacing."""
        now_situation = situation(given.readings, given.previous, given.now)
        ages = [r.meta.data_age for r in given.readings.values() if r.meta.data_age is not None]
        latest_report = max(ages, default=None)
        probe = self._last_probe(given.now)
        busy: dict[Signal, timedelta] = {}
        quiet: dict[Signal, timedelta] = {}
        for signal in given.needed:
            interval = situational_interval(signal, now_situation, self.min_interval)
            polled = given.polled.get(signal)
            overdue_now = max(self.min_interval, given.now - polled) if polled else None
            if (
                signal in ACTIVE_SIGNALS
                and polled is not None
                and overdue_now is not None
                and latest_report is not None
                and polled < latest_report
            ):
                # The car reported after this reading: it is known to be out of date.
                busy[signal] = overdue_now
            elif (
                signal is Signal.SECURITY
                and probe is not None
                and overdue_now is not None
                and polled is not None
                and polled < probe
            ):
                # The car's usual time of use just ended: has it reported since? (If so, the
                # rule above fetches what it changed.)
                busy[signal] = overdue_now
            elif interval < BASE_INTERVAL[signal]:
                busy[signal] = max(self.min_interval, interval)
            else:
                backoff = self.memory.get(signal, SignalMemory()).backoff
                quiet[signal] = max(self.min_interval, interval * backoff)
        pace = self._pace(given)
        allowed = BASELINE_SHARE * pace * self._catch_up(given)
        demand = sum(HOUR / interval for interval in quiet.values())
        if demand > allowed:
            stretch = min(demand / max(allowed, 1e-9), MAX_STRETCH)
            quiet = {s: i * stretch for s, i in quiet.items()}
        # Busy times may spend faster than the pace, but only so much faster.
        burst = BURST * pace
        demand = sum(HOUR / interval for interval in busy.values())
        if demand > burst:
            stretch = min(demand / max(burst, 1e-9), MAX_STRETCH)
            busy = {s: i * stretch for s, i in busy.items()}
        return busy | quiet

    def _catch_up(self, given: PlanInput) -> float:
        """More than the baseline share while behind the month's even spend, less when ahead."""
        start, end = month_bounds(given.now)
        expected = self.budget * (1 - COMMAND_RESERVE) * ((given.now - start) / (end - start))
        return min(max((expected + 10) / (given.usage.used + 10), 0.5), 4.0)

    def _last_probe(self, now: datetime) -> datetime | None:
        """The latest probe time that passed within the last two hours."""
        passed = [t for t in self.activity.probes(now) if now - 2 * HOUR <= t <= now]
        return max(passed, default=None)

    def _next_probe(self, now: datetime) -> datetime | None:
        return min((t for t in self.activity.probes(now) if t > now), default=None)

    def plan(self, given: PlanInput) -> Plan:
        """Every due signal the polling room allows, most important and overdue first."""
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
        overdue = {
            s: (given.now - given.polled[s]) / intervals[s] if s in given.polled else math.inf
            for s, at in due_at.items()
            if at <= given.now
        }
        ranked = sorted(overdue, key=lambda s: (-overdue[s] * PRIORITY.get(s, 1.0), s))
        room = math.floor(polling_room(self.budget, given.usage, given.now))
        ahead = math.floor(self._even_line(given.now) + self._slack - given.usage.used)
        chosen = tuple(sorted(ranked[: max(min(room, ahead), 0)]))
        if room <= len(chosen):
            # Out of budget: look again when the month turns.
            return Plan(chosen, month_bounds(given.now)[1])
        later = [at for s, at in due_at.items() if s not in chosen and at > given.now]
        if len(chosen) < len(ranked):
            # Ahead of the month's even spend: wait until the line has moved on.
            later.append(
                given.now + HOUR * max(len(ranked) - ahead, 1) / self._line_rate(given.now)
            )
        return Plan(chosen, self._next(given, later))

    @property
    def _slack(self) -> float:
        """How far ahead of the even spend busy times may run."""
        return max(SLACK_MIN, SLACK_SHARE * self.budget)

    def _line_rate(self, now: datetime) -> float:
        """Requests per hour of an even spend over the month."""
        start, end = month_bounds(now)
        return self.budget * (1 - COMMAND_RESERVE) / ((end - start) / HOUR)

    def _even_line(self, now: datetime) -> float:
        """What an even spend would have used by now."""
        start, _ = month_bounds(now)
        return self._line_rate(now) * ((now - start) / HOUR)

    def _next(self, given: PlanInput, later: list[datetime]) -> datetime:
        probe = self._next_probe(given.now)
        if probe is not None:
            later.append(probe)
        return max(given.now + self.min_interval, min(later, default=given.now + 24 * HOUR))

    def next_check(self, given: PlanInput) -> datetime:
        """When the next signal falls due in the situation the latest answers show."""
        if polling_room(self.budget, given.usage, given.now) < 1:
            return month_bounds(given.now)[1]
        intervals = self.intervals(given)
        due_at = [
            given.polled[signal] + interval if signal in given.polled else given.now
            for signal, interval in intervals.items()
        ]
        return self._next(given, [at for at in due_at if at > given.now])

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """What the car changed since it was read, as the lock state's data age just showed.

        Read in the same refresh rather than a minimum interval later: the car was just seen
        reporting, so these answers are what it left behind (battery, location, charge, fuel).
        """
        latest = self._latest_report(given)
        if latest is None:
            return ()
        stale = [
            signal
            for signal in sorted(given.needed)
            if signal in ACTIVE_SIGNALS
            and (polled := given.polled.get(signal)) is not None
            and polled < latest
        ]
        room = math.floor(polling_room(self.budget, given.usage, given.now))
        ahead = math.floor(self._even_line(given.now) + self._slack - given.usage.used)
        return tuple(stale[: max(min(room, ahead), 0)])

    @staticmethod
    def _latest_report(given: PlanInput) -> datetime | None:
        ages = [r.meta.data_age for r in given.readings.values() if r.meta.data_age is not None]
        return max(ages, default=None)
