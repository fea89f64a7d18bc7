"""The polling policies: what is asked for in which situation, and the budget is never exceeded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeState,
    Location,
    Meta,
    Security,
    Signal,
)
from custom_components.smartcar.scheduler import (
    COMMAND_RESERVE,
    AdaptivePolicy,
    FixedPolicy,
    PlanInput,
    Usage,
    month_bounds,
    situation,
)

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
EV_SIGNALS = [
    Signal.BATTERY,
    Signal.CHARGE,
    Signal.CHARGE_LIMIT,
    Signal.SECURITY,
    Signal.LOCATION,
    Signal.ODOMETER,
    Signal.DIAGNOSTICS,
]


def plan_input(now, polled, readings=None, previous=None, usage=None, last_poll=None):
    return PlanInput(
        now=now,
        needed=EV_SIGNALS,
        polled=polled,
        readings=readings or {},
        previous=previous or {},
        usage=usage or Usage(),
        last_poll=last_poll,
    )


def test_first_plan_asks_for_everything() -> None:
    """Nothing known yet: every needed signal is due."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    plan = policy.plan(plan_input(START, {}))
    assert set(plan.signals) == set(EV_SIGNALS)
    assert plan.next_check >= START + HALF_HOUR


def test_min_interval_between_polls() -> None:
    """Never two polls of a vehicle closer than the minimum interval."""
    policy = AdaptivePolicy(budget=100_000, min_interval=HALF_HOUR)
    polled = dict.fromkeys(EV_SIGNALS, START - timedelta(days=30))
    plan = policy.plan(plan_input(START, polled, last_poll=START - timedelta(minutes=10)))
    assert plan.signals == ()
    assert plan.next_check == START + timedelta(minutes=20)


def _intervals(readings, previous=None, budget=100_000):
    policy = AdaptivePolicy(budget=budget, min_interval=HALF_HOUR)
    return policy.intervals(plan_input(START, {}, readings, previous or {}))


def test_charging_car_is_watched_closely() -> None:
    """While charging, battery and charge are asked for at the minimum interval."""
    charging = {Signal.CHARGE: Charge(is_plugged_in=True, state=ChargeState.CHARGING)}
    idle = {Signal.CHARGE: Charge(is_plugged_in=False, state=ChargeState.NOT_CHARGING)}
    assert _intervals(charging)[Signal.BATTERY] == HALF_HOUR
    assert _intervals(charging)[Signal.CHARGE] == HALF_HOUR
    assert _intervals(idle)[Signal.BATTERY] > 2 * HALF_HOUR
    assert _intervals(idle)[Signal.DIAGNOSTICS] >= timedelta(days=1)


def test_plugged_in_not_charging_watches_the_charge_state() -> None:
    """Plugged in, waiting for an off-peak start: the charge state more, the level less."""
    waiting = {Signal.CHARGE: Charge(is_plugged_in=True, state=ChargeState.NOT_CHARGING)}
    idle = {Signal.CHARGE: Charge(is_plugged_in=False, state=ChargeState.NOT_CHARGING)}
    assert _intervals(waiting)[Signal.CHARGE] < _intervals(idle)[Signal.CHARGE]
    assert _intervals(waiting)[Signal.BATTERY] > _intervals(idle)[Signal.BATTERY]


def test_unlocked_car_is_watched_until_locked() -> None:
    """Unlocked: the lock state is asked for more often."""
    unlocked = {Signal.SECURITY: Security(is_locked=False)}
    locked = {Signal.SECURITY: Security(is_locked=True)}
    assert _intervals(unlocked)[Signal.SECURITY] < _intervals(locked)[Signal.SECURITY]


def test_moving_car_is_followed() -> None:
    """The position changed since the last read: location is asked for often."""
    here = Location(latitude=52.37, longitude=4.89)
    there = Location(latitude=52.09, longitude=5.12)
    assert situation({Signal.LOCATION: there}, {Signal.LOCATION: here}).moving
    moving = _intervals({Signal.LOCATION: there}, {Signal.LOCATION: here})
    parked = _intervals({Signal.LOCATION: here}, {Signal.LOCATION: here})
    assert moving[Signal.LOCATION] == HALF_HOUR
    assert parked[Signal.LOCATION] > moving[Signal.LOCATION]


def test_stale_data_backs_off_and_fresh_data_resets() -> None:
    """The car reported nothing new: that signal is asked for less often, up to a limit."""
    policy = AdaptivePolicy(budget=100_000, min_interval=HALF_HOUR)
    base = policy.intervals(plan_input(START, {}))[Signal.SECURITY]
    for _ in range(10):
        policy.observe(Signal.SECURITY, False, None, START)
    stale = policy.intervals(plan_input(START, {}))[Signal.SECURITY]
    assert base < stale <= 2 * base
    policy.observe(Signal.SECURITY, True, None, START)
    assert policy.intervals(plan_input(START, {}))[Signal.SECURITY] == base


def test_budget_stretches_intervals() -> None:
    """A small budget spreads the same signals thinner."""
    rich = _intervals({}, budget=100_000)
    poor = _intervals({}, budget=100)
    assert all(poor[s] > rich[s] for s in EV_SIGNALS)


@pytest.mark.parametrize("budget", [50, 500, 2000])
def test_a_month_never_exceeds_the_budget(budget: int) -> None:
    """Polling whenever asked for a whole month, even charging all the time, stays in budget."""
    policy = AdaptivePolicy(budget=budget, min_interval=HALF_HOUR)
    usage = Usage()
    polled: dict[Signal, datetime] = {}
    readings = {Signal.CHARGE: Charge(is_plugged_in=True, state=ChargeState.CHARGING)}
    now, _ = month_bounds(START)
    end = month_bounds(START)[1]
    last_poll = None
    spent_by_day: dict[int, int] = {}
    while now < end:
        plan = policy.plan(plan_input(now, polled, readings, usage=usage, last_poll=last_poll))
        if plan.signals:
            usage.add(now, len(plan.signals))
            spent_by_day[now.day] = spent_by_day.get(now.day, 0) + len(plan.signals)
            for signal in plan.signals:
                polled[signal] = now
                policy.observe(signal, True, None, now)
            last_poll = now
        assert usage.used <= budget * (1 - COMMAND_RESERVE)
        now += timedelta(minutes=5)
    # Spread over the month: the last week still gets requests.
    assert sum(v for d, v in spent_by_day.items() if d >= 24) > 0
    assert usage.used >= budget * (1 - COMMAND_RESERVE) * 0.6


def test_out_of_budget_waits_for_next_month() -> None:
    """No room left: nothing is asked, and the next look is when the month turns."""
    policy = AdaptivePolicy(budget=100, min_interval=HALF_HOUR)
    usage = Usage(month="2026-11", used=90)
    plan = policy.plan(plan_input(START, {}, usage=usage))
    assert plan.signals == ()
    assert plan.next_check == datetime(2026, 12, 1, tzinfo=UTC)


def test_room_left_limits_the_batch() -> None:
    """Only as many signals as fit in what is left, most important and overdue first."""
    policy = AdaptivePolicy(budget=100, min_interval=HALF_HOUR)
    usage = Usage(month="2026-11", used=88)
    late = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    plan = policy.plan(plan_input(late, {}, usage=usage))
    assert len(plan.signals) == 2


def test_ahead_of_the_even_spend_waits() -> None:
    """Early in the month with much spent already: only what the slack allows, then later."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    usage = Usage(month="2026-11", used=60)
    early = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # an even spend would be about 30
    plan = policy.plan(plan_input(early, {}, usage=usage))
    assert plan.signals == ()
    assert plan.next_check > early + HALF_HOUR


def test_usage_rolls_over_with_the_month() -> None:
    """The count starts afresh when the month turns."""
    usage = Usage()
    usage.add(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), 40)
    assert usage.used == 40
    usage.roll(datetime(2026, 12, 1, 0, 5, tzinfo=UTC))
    assert (usage.month, usage.used) == ("2026-12", 0)


def test_fixed_policy_asks_for_everything_each_interval() -> None:
    """The comparison policy: every needed signal every interval, nothing in between."""
    policy = FixedPolicy(timedelta(hours=6))
    first = policy.plan(plan_input(START, {}))
    assert set(first.signals) == set(EV_SIGNALS)
    assert first.next_check == START + timedelta(hours=6)
    polled = dict.fromkeys(EV_SIGNALS, START)
    later = policy.plan(plan_input(START + timedelta(hours=1), polled, last_poll=START))
    assert later.signals == ()
    assert later.next_check == START + timedelta(hours=6)
    policy.observe(Signal.BATTERY, False, None, START)  # learns nothing


def test_readings_without_values_are_no_situation() -> None:
    """Missing or partial readings do not invent a situation."""
    assert situation({}, {}) == situation({Signal.BATTERY: Battery()}, {})
    half = Location(latitude=None, longitude=None, meta=Meta())
    assert not situation({Signal.LOCATION: half}, {Signal.LOCATION: half}).moving


def test_follow_up_reads_what_the_car_changed() -> None:
    """The lock state shows a report newer than the other readings: those are read at once."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    then = START - timedelta(hours=3)
    report = START - timedelta(minutes=20)
    readings = {
        Signal.SECURITY: Security(is_locked=True, meta=Meta(data_age=report)),
        Signal.BATTERY: Battery(percent_remaining=0.5, meta=Meta(data_age=then)),
    }
    polled = dict.fromkeys(EV_SIGNALS, then) | {Signal.SECURITY: START}
    assert policy.follow_up(plan_input(START, polled, readings)) == (
        Signal.BATTERY,
        Signal.CHARGE,
        Signal.LOCATION,
    )
    # Nothing reported since: nothing to follow up.
    quiet = {Signal.SECURITY: Security(is_locked=True, meta=Meta(data_age=then))}
    assert policy.follow_up(plan_input(START, polled, quiet)) == ()
    assert FixedPolicy(timedelta(hours=6)).follow_up(plan_input(START, polled, readings)) == ()


def test_habitual_use_is_learnt_and_probed() -> None:
    """Reports around 18:00 on several days make the lock state due shortly after."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    for day in range(4):
        report = datetime(2026, 11, 2 + day, 18, 5, tzinfo=UTC)
        policy.observe(Signal.SECURITY, True, report, report)
    assert policy.activity.habitual((18 * 60) // 15)
    evening = datetime(2026, 11, 6, 18, 40, tzinfo=UTC)
    polled = dict.fromkeys(EV_SIGNALS, evening - timedelta(hours=1))
    plan = policy.plan(plan_input(evening, polled, last_poll=evening - timedelta(hours=1)))
    assert Signal.SECURITY in plan.signals
