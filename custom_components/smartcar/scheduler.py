"""Which signals to ask for, and when: spend a monthly request budget where data changes.

Smartcar bills every path of every batch, and a car's data only changes when the car reports.
The adaptive policy therefore reads one cheap signal as a heartbeat (the lock state: its
`sc-data-age` tells when the car last reported) and reads the others only when that shows the
car was used since they were read, in the same refresh. Besides: a charge is read again when it
should be done (the rate is learnt from earlier readings), an unlocked or moving car is watched
at the minimum interval, the heartbeat comes right after the car's habitual times of use, and
slow signals come on long intervals. The heartbeat's quiet rhythm is paced so that the month's
budget lasts to its end, and a poll never goes past the polling room.
No Home Assistant imports: time and state come in as arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Protocol

from .api import Charge, ChargeLimit, ChargeState, Location, Security, Signal, SignalReading

HOUR = timedelta(hours=1)

# How long a signal may go unread when nothing suggests it changed. What use of the car
# changes is read after the heartbeat shows use, so its quiet interval is only a safety net.
QUIET_INTERVAL: Mapping[Signal, timedelta] = {
    Signal.SECURITY: 7 * 24 * HOUR,
    Signal.BATTERY: 7 * 24 * HOUR,
    Signal.CHARGE: 7 * 24 * HOUR,
    Signal.LOCATION: 7 * 24 * HOUR,
    Signal.FUEL: 7 * 24 * HOUR,
    Signal.ODOMETER: 7 * 24 * HOUR,
    Signal.CHARGE_LIMIT: 3 * 24 * HOUR,
    Signal.DIAGNOSTICS: 3 * 24 * HOUR,
    Signal.ENGINE_OIL: 7 * 24 * HOUR,
}
# What using the car changes: read again once the car is known to have been used since.
USE_SIGNALS = frozenset(
    {Signal.BATTERY, Signal.CHARGE, Signal.SECURITY, Signal.LOCATION, Signal.FUEL}
)
# The heartbeat: the lock state when some entity needs it, else the first of these needed.
HEARTBEATS = (Signal.SECURITY, Signal.LOCATION, Signal.BATTERY, Signal.FUEL, Signal.CHARGE)
HEARTBEAT_INTERVAL = 4 * HOUR  # before pacing
# What a moving car changes; the rest waits until it has stopped.
MOVING_SIGNALS = frozenset({Signal.BATTERY, Signal.LOCATION, Signal.FUEL})
# The odometer changes with use too, but slowly: after use, at most this often.
ODOMETER_AFTER_USE = 20 * HOUR
# When not everything due is affordable, what matters most to people goes first: an unlocked
# car, then what the car has to go on, then where it is.
PRIORITY: Mapping[Signal, float] = {
    Signal.SECURITY: 3.0,
    Signal.CHARGE: 2.0,
    Signal.BATTERY: 2.0,
    Signal.FUEL: 2.0,
    Signal.LOCATION: 1.5,
}
# A report this soon after a command is the car answering the command, not someone using it.
COMMAND_ECHO = timedelta(minutes=2)
# Use seen this soon after it happened: its user may not be done (an unlocked door): the lock
# is looked at once more, one minimum interval later.
JUST_USED = timedelta(minutes=10)
# A location that changed and was reported this shortly before it was read: still driving.
DRIVING_REPORT = timedelta(minutes=12)
# A charge's expected end is read this much after the predicted moment.
CHARGE_END_MARGIN = timedelta(minutes=10)
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
# How far ahead of an even spend over the month polling may run: enough for a busy evening
# or a night of charging, never so much that the last days go dark.
SLACK_MIN = 12.0
SLACK_SHARE = 0.05
# Share of the pace the quiet rhythm (heartbeat and slow signals) aims at; the rest pays for
# what use of the car makes worth reading.
BASELINE_SHARE = 0.4
# Intervals never stretch beyond this factor (an empty budget waits for the month's end).
MAX_STRETCH = 1000.0
# Share of the budget kept for commands and their confirmations.
COMMAND_RESERVE = 0.1


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


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask for now, and when to look again."""

    signals: tuple[Signal, ...]
    next_check: datetime


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

    def observe(self, given: PlanInput, fetched: Collection[Signal]) -> None:
        """Learn from the answers just received for `fetched` (merged into `given`)."""

    def commanded(self, now: datetime) -> None:
        """A command was sent to the car: its report is the command's, not use."""

    def export(self) -> dict[str, Any]:
        """What was learnt, JSON-friendly (kept across restarts)."""

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what `export` gave (ignoring anything unreadable)."""


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

    def observe(self, given: PlanInput, fetched: Collection[Signal]) -> None:
        """A fixed schedule learns nothing."""

    def commanded(self, now: datetime) -> None:
        """A fixed schedule does not care."""

    def export(self) -> dict[str, Any]:
        """Nothing learnt."""
        return {}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Nothing to take back."""


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
class AdaptivePolicy:
    """Spend the monthly budget where the car's data changed.

    - The lock state is the heartbeat: cheap, important, and its `sc-data-age` tells when the
      car last reported. It comes right after the car's habitual times of use (learnt from
      earlier use), once more right after use was seen (a door left unlocked), at the minimum
      interval while unlocked, and otherwise at a quiet rhythm the budget paces.
    - A report that is not explained by a charge in progress, a command just sent or locking
      again after an unlock means the car was used (a plug-in or unplug always does): battery,
      charge, location, lock and fuel read before it are read at once (and the odometer, at
      most daily).
    - A charge is read when it should be done; a moving car at the minimum interval.
    - A poll never goes past the polling room, nor far ahead of an even spend over the month.
    """

    budget: int
    min_interval: timedelta
    activity: ActivityProfile = field(default_factory=ActivityProfile)
    charge: ChargeTracker = field(default_factory=ChargeTracker)
    # Reports up to this moment are explained (charge, command, lock change): not use.
    explained_until: datetime | None = None
    # The latest report that showed use, and when that use was seen.
    last_use: datetime | None = None
    use_seen_at: datetime | None = None

    # --- learning ----------------------------------------------------------------------

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
            self.activity.faded_at = _time(data.get("faded_at"))
        rate = _number(data.get("charge_rate"))
        self.charge.rate = rate if rate is not None and 0 < rate < math.inf else None
        self.charge.since = _time(data.get("charging_since"))
        level = _number(data.get("charge_start_level"))
        self.charge.start_level = level if level is not None and 0 <= level <= 1 else None
        self.explained_until = _time(data.get("explained_until"))
        self.last_use = _time(data.get("last_use"))
        self.use_seen_at = _time(data.get("use_seen_at"))

    def commanded(self, now: datetime) -> None:
        """The car reports what a command changed: that report is not use."""
        self._explain(now + COMMAND_ECHO)

    def _explain(self, until: datetime | None) -> None:
        if until is not None and (self.explained_until is None or until > self.explained_until):
            self.explained_until = until

    def observe(self, given: PlanInput, fetched: Collection[Signal]) -> None:
        """Learn the charge, what explains the latest reports, and whether the car was used."""
        plugged_changed = self._observe_charge(given, fetched)
        security, before = given.readings.get(Signal.SECURITY), given.previous.get(Signal.SECURITY)
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
        latest = _latest_report(given.readings, fetched)
        if latest is not None:
            if self.charge.since is not None:
                # Charging: the car reports its progress; that is not use.
                self._explain(latest)
            if self.explained_until is None or latest > self.explained_until:
                use = latest
        if use is not None and (self.last_use is None or use > self.last_use):
            self.last_use = use
            self.use_seen_at = given.now
            self.activity.record(use, given.now)

    def _observe_charge(self, given: PlanInput, fetched: Collection[Signal]) -> datetime | None:
        """Follow the charge; return the report of a plug-in or unplug, if one was just seen."""
        battery = given.readings.get(Signal.BATTERY)
        level = getattr(battery, "percent_remaining", None)
        level_at = battery.meta.data_age if battery is not None else None
        if Signal.BATTERY in fetched and level is not None and level_at is not None:
            self.charge.learn(level_at, level)
        charge, before = given.readings.get(Signal.CHARGE), given.previous.get(Signal.CHARGE)
        if Signal.CHARGE not in fetched or not isinstance(charge, Charge):
            return None
        at = charge.meta.data_age or given.now
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

    # --- deciding ----------------------------------------------------------------------

    def _pace(self, given: PlanInput) -> float:
        """Requests per hour the rest of the month can afford."""
        end = month_bounds(given.now)[1]
        left_hours = max((end - given.now) / HOUR, 1.0)
        return max(polling_room(self.budget, given.usage, given.now), 0.0) / left_hours

    def _used_since_read(self, signal: Signal, given: PlanInput) -> bool:
        """Whether the car was used after this signal was last read."""
        polled = given.polled.get(signal)
        return (
            signal in USE_SIGNALS
            and polled is not None
            and self.last_use is not None
            and polled < self.last_use
        ) or (
            signal is Signal.ODOMETER
            and polled is not None
            and self.last_use is not None
            and polled < self.last_use
            and given.now - polled >= ODOMETER_AFTER_USE
        )

    def _stale(self, signal: Signal, given: PlanInput, state: Situation) -> bool:
        """Used since it was read, and not left to a charge's end or a drive's stop."""
        return (
            self._used_since_read(signal, given)
            and not (state.charging and signal in (Signal.BATTERY, Signal.CHARGE))
            and not (state.moving and signal not in MOVING_SIGNALS)
        )

    def due(self, given: PlanInput) -> dict[Signal, datetime]:
        """When each needed signal is next worth reading (now or earlier: due)."""
        return self._due(given)[0]

    def _due(self, given: PlanInput) -> tuple[dict[Signal, datetime], set[Signal]]:
        """When each needed signal is next worth reading, and which of them are quiet."""
        now = given.now
        state = situation(given.readings, given.previous, given.polled)
        heartbeat = _heartbeat(given.needed)
        busy: dict[Signal, datetime] = {}
        quiet: dict[Signal, timedelta] = {}
        for signal in given.needed:
            polled = given.polled.get(signal)
            if polled is None:
                busy[signal] = now
                continue
            fast = polled + self.min_interval
            if signal in (Signal.BATTERY, Signal.CHARGE) and state.charging:
                busy[signal] = self._charge_due(given, polled)
            elif signal in MOVING_SIGNALS and state.moving:
                busy[signal] = fast
            elif self._stale(signal, given, state):
                busy[signal] = max(fast, now)
            elif (signal is Signal.SECURITY and state.unlocked) or (
                signal is heartbeat and (self._just_used(polled) or self._probe_passed(now, polled))
            ):
                busy[signal] = fast
            elif signal is heartbeat:
                quiet[signal] = HEARTBEAT_INTERVAL
            else:
                quiet[signal] = QUIET_INTERVAL[signal]
        return self._paced(given, busy, quiet, heartbeat), set(quiet)

    def _paced(
        self,
        given: PlanInput,
        busy: dict[Signal, datetime],
        quiet: dict[Signal, timedelta],
        heartbeat: Signal | None,
    ) -> dict[Signal, datetime]:
        """Quiet intervals sized to the budget's pace (busy ones are bounded by the line)."""
        pace = self._pace(given)
        allowed = BASELINE_SHARE * pace
        slow = sum(HOUR / i for s, i in quiet.items() if s is not heartbeat)
        if slow > allowed / 2:
            # Slow signals get at most half of the quiet share, the heartbeat the rest.
            stretch = min(slow / max(allowed / 2, 1e-9), MAX_STRETCH)
            quiet = {s: i * stretch for s, i in quiet.items()}
            slow = allowed / 2
        if heartbeat in quiet:
            beat = min(HOUR / max(allowed - slow, 1e-9), HEARTBEAT_INTERVAL * MAX_STRETCH)
            quiet[heartbeat] = max(self.min_interval, beat)
        due = {s: given.polled[s] + i for s, i in quiet.items()}
        return due | busy

    def _charge_due(self, given: PlanInput, polled: datetime) -> datetime:
        """When a charge in progress should be done, or one minimum interval if unknown."""
        fast = polled + self.min_interval
        battery = given.readings.get(Signal.BATTERY)
        limit_reading = given.readings.get(Signal.CHARGE_LIMIT)
        level = getattr(battery, "percent_remaining", None)
        limit = limit_reading.limit if isinstance(limit_reading, ChargeLimit) else None
        at = battery.meta.data_age if battery is not None else None
        if level is None or at is None:
            return fast
        end = self.charge.expected_end(level, at, 1.0 if limit is None else limit)
        if end is None or end + CHARGE_END_MARGIN <= polled:
            # No rate known yet, or the charge took longer than expected.
            return fast
        return max(fast, end + CHARGE_END_MARGIN)

    def _just_used(self, polled: datetime) -> bool:
        """Use was seen right as it happened and the lock has not been read since."""
        return (
            self.use_seen_at is not None
            and self.last_use is not None
            and self.use_seen_at - self.last_use <= JUST_USED
            and polled <= self.use_seen_at
        )

    def _probe_passed(self, now: datetime, polled: datetime) -> bool:
        """A habitual time of use ended (plus a margin) since the lock was last read."""
        probe = self._last_probe(now)
        return probe is not None and polled < probe

    def _last_probe(self, now: datetime) -> datetime | None:
        """The latest probe time that passed within the last two hours."""
        passed = [t for t in self.activity.probes(now) if now - 2 * HOUR <= t <= now]
        return max(passed, default=None)

    def _next_probe(self, now: datetime) -> datetime | None:
        return min((t for t in self.activity.probes(now) if t > now), default=None)

    def plan(self, given: PlanInput) -> Plan:
        """Every due signal the polling room allows, most important and overdue first."""
        given.usage.roll(given.now)
        due_at, quiet = self._due(given)
        if not due_at:
            return Plan((), given.now + 24 * HOUR)
        earliest = given.now
        if given.last_poll is not None:
            earliest = given.last_poll + self.min_interval
        if given.now < earliest:
            return Plan((), max(earliest, min(due_at.values())))
        overdue = {
            s: (given.now - at) / HOUR + (math.inf if s not in given.polled else 0.0)
            for s, at in due_at.items()
            if at <= given.now
        }
        ranked = sorted(overdue, key=lambda s: (-PRIORITY.get(s, 1.0), -overdue[s], s))
        allowed = self._affordable(given)
        busy = [s for s in ranked if s not in quiet][:allowed]
        # The quiet rhythm never runs ahead of the even spend: the slack is for busy times.
        quiet_allowed = min(allowed - math.ceil(self._slack(given)), allowed - len(busy))
        chosen = tuple(sorted(busy + [s for s in ranked if s in quiet][: max(quiet_allowed, 0)]))
        room = math.floor(polling_room(self.budget, given.usage, given.now))
        if room <= len(chosen):
            # Out of budget: look again when the month turns.
            return Plan(chosen, month_bounds(given.now)[1])
        later = [at for s, at in due_at.items() if s not in chosen and at > given.now]
        if len(chosen) < len(ranked):
            # Ahead of the month's even spend: wait until the line has moved on.
            later.append(
                given.now + HOUR * max(len(ranked) - allowed, 1) / max(self._line_rate(given), 1e-9)
            )
        return Plan(chosen, self._next(given, later))

    def _affordable(self, given: PlanInput) -> int:
        """How many requests may go now: within the room, not far ahead of an even spend."""
        room = math.floor(polling_room(self.budget, given.usage, given.now))
        polled = given.usage.used - given.usage.commands
        ahead = math.floor(self._even_line(given) + self._slack(given) - polled)
        return max(min(room, ahead), 0)

    def _slack(self, given: PlanInput) -> float:
        """How far ahead of the even spend busy times may run.

        Never more than half of what an even spend has left for the rest of the month, so
        that running ahead never leaves the last days without requests.
        """
        left = (month_bounds(given.now)[1] - given.now) / HOUR
        return min(max(SLACK_MIN, SLACK_SHARE * self.budget), self._line_rate(given) * left / 2)

    def _line_rate(self, given: PlanInput) -> float:
        """Polling requests per hour of an even spend of what commands leave of the budget.

        Commands are set aside at their pace so far (at least the reserve), so that polling
        is not held back twice for them: once by the room, once by this line.
        """
        start, end = month_bounds(given.now)
        elapsed = max(given.now - start, timedelta(days=1))
        commands = max(
            self.budget * COMMAND_RESERVE, given.usage.commands * ((end - start) / elapsed)
        )
        return max(self.budget - commands, 0.0) / ((end - start) / HOUR)

    def _even_line(self, given: PlanInput) -> float:
        """What an even spend on polling would have used by now."""
        start, _ = month_bounds(given.now)
        return self._line_rate(given) * ((given.now - start) / HOUR)

    def _next(self, given: PlanInput, later: list[datetime]) -> datetime:
        probe = self._next_probe(given.now)
        if probe is not None:
            later.append(probe)
        return max(given.now + self.min_interval, min(later, default=given.now + 24 * HOUR))

    def next_check(self, given: PlanInput) -> datetime:
        """When the next signal falls due in the situation the latest answers show."""
        if polling_room(self.budget, given.usage, given.now) < 1:
            return month_bounds(given.now)[1]
        return self._next(given, list(self.due(given).values()))

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """What the car changed since it was read, as the answers just received showed.

        Read in the same refresh rather than a minimum interval later: the car was just seen
        in use, so these answers are what it left behind (battery, location, charge, fuel).
        """
        state = situation(given.readings, given.previous, given.polled)
        stale = [signal for signal in sorted(given.needed) if self._stale(signal, given, state)]
        return tuple(stale[: self._affordable(given)])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _time(value: Any) -> datetime | None:
    """An aware datetime from ISO text, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _heartbeat(needed: Iterable[Signal]) -> Signal | None:
    """The signal read to learn whether the car reported (the lock state if it is needed)."""
    wanted = set(needed)
    return next((signal for signal in HEARTBEATS if signal in wanted), None)


def _latest_report(
    readings: Mapping[Signal, SignalReading], fetched: Collection[Signal]
) -> datetime | None:
    ages = [
        reading.meta.data_age
        for signal, reading in readings.items()
        if signal in fetched and reading.meta.data_age is not None
    ]
    return max(ages, default=None)
