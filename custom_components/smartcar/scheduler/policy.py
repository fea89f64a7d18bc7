"""The adaptive policy: which signals are worth reading now, and when the next one will be.

Smartcar bills every path of every batch, and a car's data only changes when the car reports.
The lock state is the heartbeat (its `sc-data-age` tells when the car last reported); the other
signals are read when the heartbeat shows the car was used since they were read. Besides: a
charge is read when it should be done, an unlocked or moving car is watched at the minimum
interval, the heartbeat comes right after the car's habitual times of use, and slow signals come
on long intervals. The quiet rhythm is paced so that the month's budget lasts to its end.
Every decision carries its reason. Plans change none of their inputs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Any, Protocol

from ..api import ChargeLimit, Signal, SignalReading
from .budget import HOUR, Budget, Usage, month_bounds
from .learning import Learnt, Situation, situation

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
    # API v3 only, where one read brings every signal: these never cost a read of their own.
    Signal.CLOSURES: 7 * 24 * HOUR,
    Signal.CHARGE_DETAILS: 7 * 24 * HOUR,
    Signal.TIRES: 7 * 24 * HOUR,
    Signal.LOW_VOLTAGE_BATTERY: 7 * 24 * HOUR,
    Signal.CONNECTIVITY: 7 * 24 * HOUR,
    Signal.CLIMATE: 7 * 24 * HOUR,
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
# Use seen this soon after it happened: its user may not be done (an unlocked door): the lock
# is looked at once more, one minimum interval later.
JUST_USED = timedelta(minutes=10)
# A charge's expected end is read this much after the predicted moment.
CHARGE_END_MARGIN = timedelta(minutes=10)
# Share of the pace the quiet rhythm (heartbeat and slow signals) aims at; the rest pays for
# what use of the car makes worth reading.
BASELINE_SHARE = 0.4
# API v3: one read brings every signal for one request. What use makes worth reading then costs
# one request instead of one per signal, and the heartbeat itself brings it all, so the quiet
# rhythm gets a larger share (the month's even spend still holds it back; busy reads keep the
# slack). With v2's 0.4, v3 left about a tenth of the budget unspent (the month's benchmark: 450
# and 401 of 500). 0.7 spends it: on seven seeds of the benchmark the level, location and
# charging errors fell by 10-50 % on every seed; the lock state's, which the minimum interval
# sets, moved either way (on average a little down). 1.0 starved the busy reads (lock worse).
WHOLE_READ_SHARE = 0.7
# Intervals never stretch beyond this factor (an empty budget waits for the month's end).
MAX_STRETCH = 1000.0
# Webhooks: what deliveries bring is not read while they keep coming. The heartbeat alone is
# read once a day, as a safety net: should it show the car reported after the last delivery
# (by more than the margin), deliveries have stopped and polling takes over until they resume.
SAFETY_INTERVAL = 24 * HOUR
MISSED_REPORT_MARGIN = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask for now, when to look again, and why."""

    signals: tuple[Signal, ...]
    next_check: datetime
    reason: str = ""
    next_reason: str = ""


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
    # API v3: one billed request reads every signal, so a read is worth taking whole.
    reads_all: bool = False
    # Webhooks: when a delivery last brought each signal.
    pushed: Mapping[Signal, datetime] = field(default_factory=dict)


def trusted_pushes(given: PlanInput) -> Mapping[Signal, datetime]:
    """The signals deliveries keep fresh; none once a read showed a report they missed."""
    if not given.pushed:
        return {}
    last = max(given.pushed.values())
    for signal in given.pushed:
        reading = given.readings.get(signal)
        age = reading.meta.data_age if reading is not None else None
        if age is not None and age > last + MISSED_REPORT_MARGIN:
            return {}
    return given.pushed


class Policy(Protocol):
    """Decides which signals a refresh asks for, and learns from the answers."""

    @property
    def allowance(self) -> Budget | None:
        """The monthly budget it keeps to, if any."""

    @property
    def min_interval(self) -> timedelta:
        """The shortest time between two reads of the car."""

    def plan(self, given: PlanInput) -> Plan:
        """The signals to ask for now (maybe none), when to look again, and why."""

    def next_check(self, given: PlanInput) -> Plan:
        """When to look again and why (after answers changed the situation); no signals."""

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
class AdaptivePolicy:
    """Spend the monthly budget where the car's data changed (see the module's docstring)."""

    budget: int
    min_interval: timedelta
    learnt: Learnt = field(default_factory=Learnt)

    @property
    def allowance(self) -> Budget:
        """The monthly budget."""
        return Budget(self.budget)

    # --- learning (kept in `learnt`) -------------------------------------------------

    def export(self) -> dict[str, Any]:
        """What was learnt, for the store."""
        return self.learnt.export()

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what was learnt."""
        self.learnt.restore(data)

    def commanded(self, now: datetime) -> None:
        """The car's next report answers the command."""
        self.learnt.commanded(now)

    def observe(self, given: PlanInput, fetched: Collection[Signal]) -> None:
        """Learn from the answers just merged into `given`."""
        self.learnt.observe(given.now, given.readings, given.previous, fetched)

    # --- deciding --------------------------------------------------------------------

    def _used_since_read(self, signal: Signal, given: PlanInput) -> bool:
        """Whether the car was used after this signal was last read."""
        polled, last_use = given.polled.get(signal), self.learnt.last_use
        if polled is None or last_use is None or polled >= last_use:
            return False
        if signal is Signal.ODOMETER:
            return given.now - polled >= ODOMETER_AFTER_USE
        return signal in USE_SIGNALS

    def _stale(self, signal: Signal, given: PlanInput, state: Situation) -> bool:
        """Used since it was read, and not left to a charge's end or a drive's stop."""
        return (
            self._used_since_read(signal, given)
            and not (state.charging and signal in (Signal.BATTERY, Signal.CHARGE))
            and not (state.moving and signal not in MOVING_SIGNALS)
        )

    def due(self, given: PlanInput) -> dict[Signal, datetime]:
        """When each needed signal is next worth reading (now or earlier: due)."""
        return {signal: at for signal, (at, _) in self._due(given)[0].items()}

    def _due(self, given: PlanInput) -> tuple[dict[Signal, tuple[datetime, str]], set[Signal]]:
        """When each needed signal is next worth reading and why, and which are quiet."""
        now = given.now
        state = situation(given.readings, given.previous, given.polled)
        heartbeat = _heartbeat(given.needed)
        busy: dict[Signal, tuple[datetime, str]] = {}
        quiet: dict[Signal, timedelta] = {}
        pushed = trusted_pushes(given)
        for signal in given.needed:
            polled = given.polled.get(signal)
            if signal in pushed:
                if signal is heartbeat:
                    since = max(pushed[signal], polled or pushed[signal])
                    busy[signal] = (since + SAFETY_INTERVAL, "safety read while webhooks deliver")
                continue
            if polled is None:
                busy[signal] = (now, "never read")
                continue
            fast = polled + self.min_interval
            if signal in (Signal.BATTERY, Signal.CHARGE) and state.charging:
                busy[signal] = (self._charge_due(given, polled), "charge should be done")
            elif signal in MOVING_SIGNALS and state.moving:
                busy[signal] = (fast, "moving")
            elif self._stale(signal, given, state):
                busy[signal] = (max(fast, now), "used since read")
            elif signal is Signal.SECURITY and state.unlocked:
                busy[signal] = (fast, "unlocked")
            elif signal is heartbeat and self._just_used(polled):
                busy[signal] = (fast, "heartbeat after use seen as it happened")
            elif signal is heartbeat and self._probe_passed(now, polled):
                busy[signal] = (fast, "heartbeat after a habitual time of use")
            elif signal is heartbeat:
                quiet[signal] = HEARTBEAT_INTERVAL
            else:
                quiet[signal] = QUIET_INTERVAL[signal]
        return self._paced(given, busy, quiet, heartbeat), set(quiet)

    def _paced(
        self,
        given: PlanInput,
        busy: dict[Signal, tuple[datetime, str]],
        quiet: dict[Signal, timedelta],
        heartbeat: Signal | None,
    ) -> dict[Signal, tuple[datetime, str]]:
        """Quiet intervals sized to the budget's pace (busy ones are bounded by the line)."""
        pace = self.allowance.pace(given.usage, given.now)
        allowed = (WHOLE_READ_SHARE if given.reads_all else BASELINE_SHARE) * pace
        slow = sum(HOUR / i for s, i in quiet.items() if s is not heartbeat)
        if given.reads_all:
            # Every read brings the slow signals too: the heartbeat has the quiet share alone.
            slow = 0.0
        elif slow > allowed / 2:
            # Slow signals get at most half of the quiet share, the heartbeat the rest.
            stretch = min(slow / max(allowed / 2, 1e-9), MAX_STRETCH)
            quiet = {s: i * stretch for s, i in quiet.items()}
            slow = allowed / 2
        if heartbeat in quiet:
            beat = min(HOUR / max(allowed - slow, 1e-9), HEARTBEAT_INTERVAL * MAX_STRETCH)
            quiet[heartbeat] = max(self.min_interval, beat)
        due = {
            s: (given.polled[s] + i, "heartbeat" if s is heartbeat else "quiet interval")
            for s, i in quiet.items()
        }
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
        end = self.learnt.charge.expected_end(level, at, 1.0 if limit is None else limit)
        if end is None or end + CHARGE_END_MARGIN <= polled:
            # No rate known yet, or the charge took longer than expected.
            return fast
        return max(fast, end + CHARGE_END_MARGIN)

    def _just_used(self, polled: datetime) -> bool:
        """Use was seen right as it happened and the lock has not been read since."""
        seen, last_use = self.learnt.use_seen_at, self.learnt.last_use
        return (
            seen is not None
            and last_use is not None
            and seen - last_use <= JUST_USED
            and polled <= seen
        )

    def _probe_passed(self, now: datetime, polled: datetime) -> bool:
        """A habitual time of use ended (plus a margin) since the lock was last read."""
        probe = self.learnt.activity.last_probe(now)
        return probe is not None and polled < probe

    def plan(self, given: PlanInput) -> Plan:
        """Every due signal the budget allows, most important and overdue first."""
        budget, now = self.allowance, given.now
        due, quiet = self._due(given)
        if not due:
            return Plan((), now + 24 * HOUR, next_reason="no signal needed")
        if given.last_poll is not None and now < given.last_poll + self.min_interval:
            when, why = min(due.values())
            return Plan(
                (),
                max(given.last_poll + self.min_interval, when),
                next_reason=f"minimum interval, then {_name(due, when)}: {why}",
            )
        overdue = {
            s: (now - at) / HOUR + (math.inf if s not in given.polled else 0.0)
            for s, (at, _) in due.items()
            if at <= now
        }
        ranked = sorted(overdue, key=lambda s: (-PRIORITY.get(s, 1.0), -overdue[s], s))
        allowed = budget.affordable(given.usage, now)
        if given.reads_all:
            return self._plan_whole(given, due, quiet, ranked, allowed)
        busy = [s for s in ranked if s not in quiet][:allowed]
        # The quiet rhythm never runs ahead of the even spend: the slack is for busy times.
        slack = budget.slack(given.usage, now)
        quiet_allowed = min(allowed - math.ceil(slack), allowed - len(busy))
        chosen = tuple(sorted(busy + [s for s in ranked if s in quiet][: max(quiet_allowed, 0)]))
        reason = "; ".join(f"{s.value}: {due[s][1]}" for s in chosen)
        if math.floor(budget.room(given.usage, now)) <= len(chosen):
            end = month_bounds(now)[1]
            return Plan(chosen, end, reason, "out of budget until the month turns")
        later = [(at, f"{s.value}: {why}") for s, (at, why) in due.items() if at > now]
        if len(chosen) < len(ranked):
            # Ahead of the month's even spend: wait until the line has moved on.
            rate = max(budget.line_rate(given.usage, now), 1e-9)
            behind = now + HOUR * max(len(ranked) - allowed, 1) / rate
            later.append((behind, "ahead of the month's even spend"))
        when, why = self._next(now, later)
        return Plan(chosen, when, reason, why)

    def _plan_whole(
        self,
        given: PlanInput,
        due: Mapping[Signal, tuple[datetime, str]],
        quiet: set[Signal],
        ranked: list[Signal],
        allowed: int,
    ) -> Plan:
        """API v3: a read costs one request whatever it holds, so it takes every needed signal.

        It is worth its request when something busy is due, or when something quiet is and the
        month's even spend allows one more (as for v2, the quiet rhythm never runs ahead).
        """
        budget, now = self.allowance, given.now
        busy = [s for s in ranked if s not in quiet]
        worth = bool(busy) or (
            bool(ranked) and allowed - math.ceil(budget.slack(given.usage, now)) >= 1
        )
        chosen = tuple(sorted(given.needed)) if worth and allowed >= 1 else ()
        reason = "; ".join(f"{s.value}: {due[s][1]}" for s in ranked) if chosen else ""
        if chosen and math.floor(budget.room(given.usage, now)) <= 1:
            return Plan(chosen, month_bounds(now)[1], reason, "out of budget until the month turns")
        later = [(at, f"{s.value}: {why}") for s, (at, why) in due.items() if at > now]
        if ranked and not chosen:
            rate = max(budget.line_rate(given.usage, now), 1e-9)
            later.append((now + HOUR / rate, "ahead of the month's even spend"))
        when, why = self._next(now, later)
        return Plan(chosen, when, reason, why)

    def _next(self, now: datetime, later: list[tuple[datetime, str]]) -> tuple[datetime, str]:
        probe = self.learnt.activity.next_probe(now)
        if probe is not None:
            later.append((probe, "a habitual time of use ends"))
        when, why = min(later, default=(now + 24 * HOUR, "nothing due within a day"))
        if when < now + self.min_interval:
            return now + self.min_interval, f"minimum interval, then {why}"
        return when, why

    def next_check(self, given: PlanInput) -> Plan:
        """When the next signal falls due in the situation the latest answers show."""
        if self.allowance.room(given.usage, given.now) < 1:
            end = month_bounds(given.now)[1]
            return Plan((), end, next_reason="out of budget until the month turns")
        later = [(at, f"{s.value}: {why}") for s, (at, why) in self._due(given)[0].items()]
        when, why = self._next(given.now, later)
        return Plan((), when, next_reason=why)

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """What the car changed since it was read, as the answers just received showed.

        Read in the same refresh rather than a minimum interval later: the car was just seen
        in use, so these answers are what it left behind (battery, location, charge, fuel).
        """
        if given.reads_all:
            # The read just made brought everything.
            return ()
        state = situation(given.readings, given.previous, given.polled)
        pushed = trusted_pushes(given)
        stale = [
            s for s in sorted(given.needed) if s not in pushed and self._stale(s, given, state)
        ]
        return tuple(stale[: self.allowance.affordable(given.usage, given.now)])


def _name(due: Mapping[Signal, tuple[datetime, str]], when: datetime) -> str:
    return next(s.value for s, (at, _) in sorted(due.items()) if at == when)


def _heartbeat(needed: Iterable[Signal]) -> Signal | None:
    """The signal read to learn whether the car reported (the lock state if it is needed)."""
    wanted = set(needed)
    return next((signal for signal in HEARTBEATS if signal in wanted), None)
