"""The polling policies: what is asked for in which situation, and the budget is never exceeded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.smartcar.api import (
    Battery,
    Charge,
    ChargeLimit,
    ChargeState,
    Diagnostics,
    Location,
    Meta,
    Odometer,
    Security,
    Signal,
)
from custom_components.smartcar.scheduler import (
    AdaptivePolicy,
    PlanInput,
    Usage,
    month_bounds,
    situation,
)
from custom_components.smartcar.scheduler.budget import COMMAND_RESERVE, HOUR
from custom_components.smartcar.scheduler.learning import ActivityProfile
from custom_components.smartcar.scheduler.policy import (
    BASELINE_SHARE,
    CHARGE_END_MARGIN,
    WHOLE_READ_SHARE,
)
from tests.fixed_policy import FixedPolicy

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
HOME = Location(latitude=52.37, longitude=4.89)
WORK = Location(latitude=52.09, longitude=5.12)


def plan_input(now, polled, readings=None, previous=None, usage=None, last_poll=None):
    return PlanInput(
        now=now,
        needed=EV_SIGNALS,
        polled=polled,
        readings=readings or {},
        previous=previous or {},
        usage=usage or Usage(month="2026-11"),
        last_poll=last_poll,
    )


def age(when: datetime) -> Meta:
    return Meta(data_age=when)


class Car:
    """A policy fed like the coordinator feeds it: fetch, merge, observe."""

    def __init__(self, budget: int = 500, now: datetime = START) -> None:
        self.policy = AdaptivePolicy(budget=budget, min_interval=HALF_HOUR)
        self.now = now
        self.polled: dict[Signal, datetime] = {}
        self.readings: dict = {}
        self.previous: dict = {}
        self.usage = Usage(month="2026-11")

    def given(self) -> PlanInput:
        return plan_input(self.now, self.polled, self.readings, self.previous, self.usage)

    def read(self, **answers) -> None:
        """The car answered these signals now (keyword = signal value)."""
        fetched = set()
        for name, reading in answers.items():
            signal = Signal(name)
            if signal in self.readings:
                self.previous[signal] = self.readings[signal]
            self.readings[signal] = reading
            self.polled[signal] = self.now
            fetched.add(signal)
        self.usage.add(self.now, len(fetched))
        self.policy.observe(self.given(), fetched)

    def parked_at_home(self, report: datetime) -> None:
        """Everything read an hour after `report`: locked, unplugged and parked since."""
        self.now = report + timedelta(hours=1)
        self.read(
            battery=Battery(percent_remaining=0.6, meta=age(report)),
            charge=Charge(is_plugged_in=False, state=ChargeState.NOT_CHARGING, meta=age(report)),
            charge_limit=ChargeLimit(limit=0.8, meta=age(report)),
            security=Security(is_locked=True, meta=age(report)),
            location=Location(latitude=HOME.latitude, longitude=HOME.longitude, meta=age(report)),
            odometer=Odometer(distance=18234.5, meta=age(report)),
            diagnostics=Diagnostics(active_codes=(), meta=age(report)),
        )

    def due_now(self) -> set[Signal]:
        return {s for s, at in self.policy.due(self.given()).items() if at <= self.now}


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


def test_a_quiet_car_gets_only_the_heartbeat() -> None:
    """Nothing happening: the lock state comes at a paced rhythm, nothing else for days."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=5))
    car.now = START + timedelta(hours=12)
    assert car.due_now() == {Signal.SECURITY}
    plan = car.policy.plan(car.given())
    assert plan.signals == (Signal.SECURITY,)
    # The car has not reported since: nothing to follow up.
    car.read(security=Security(is_locked=True, meta=age(START - timedelta(hours=5))))
    assert car.policy.follow_up(car.given()) == ()


def test_the_heartbeat_is_paced_by_the_budget() -> None:
    """A rich budget looks at the lock often, a poor one rarely; the floor is the minimum."""
    beats = {}
    for budget in (100, 500, 100_000):
        car = Car(budget=budget)
        car.parked_at_home(START)
        beats[budget] = car.policy.due(car.given())[Signal.SECURITY] - car.now
    assert beats[100] > beats[500] > beats[100_000] == HALF_HOUR


def test_use_seen_in_the_heartbeat_reads_what_use_changes() -> None:
    """The lock state's data age shows the car reported: battery, charge, location follow."""
    car = Car()
    car.parked_at_home(START - timedelta(days=1))
    car.now = START + timedelta(hours=1)
    car.read(security=Security(is_locked=True, meta=age(START + timedelta(minutes=35))))
    assert car.policy.learnt.last_use == START + timedelta(minutes=35)
    # The odometer only after a day: it was read a day ago, so it comes along too.
    assert car.policy.follow_up(car.given()) == (
        Signal.BATTERY,
        Signal.CHARGE,
        Signal.LOCATION,
        Signal.ODOMETER,
    )
    car.read(battery=Battery(percent_remaining=0.55, meta=age(START + timedelta(minutes=35))))
    assert Signal.BATTERY not in car.policy.follow_up(car.given())
    # Slow signals do not follow use.
    assert Signal.DIAGNOSTICS not in car.policy.follow_up(car.given())


def test_the_odometer_follows_use_at_most_daily() -> None:
    """Read two hours ago: use does not bring the odometer back yet."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=2))
    car.now = START + timedelta(hours=1)
    car.read(security=Security(is_locked=True, meta=age(START + timedelta(minutes=35))))
    assert Signal.ODOMETER not in car.policy.follow_up(car.given())


def test_a_command_echo_is_not_use_but_a_plug_in_is() -> None:
    """The report a command causes reads nothing more; a plug-in seen with it reads the rest."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START
    car.policy.commanded(car.now)
    car.read(charge=Charge(is_plugged_in=False, state=ChargeState.NOT_CHARGING, meta=age(START)))
    assert car.policy.follow_up(car.given()) == ()

    car.now = START + timedelta(hours=2)
    car.policy.commanded(car.now)
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.NOT_CHARGING, meta=age(car.now)))
    assert car.policy.follow_up(car.given()) == (
        Signal.BATTERY,
        Signal.LOCATION,
        Signal.SECURITY,
    )


def test_an_unlock_is_use_but_locking_again_is_not() -> None:
    """Unlocked: a drive may follow or have preceded. Locked again: nothing else changed."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START
    car.read(security=Security(is_locked=False, meta=age(START - timedelta(minutes=20))))
    assert Signal.LOCATION in car.policy.follow_up(car.given())
    car.read(
        battery=Battery(percent_remaining=0.6, meta=age(START - timedelta(minutes=20))),
        charge=Charge(is_plugged_in=False, meta=age(START - timedelta(minutes=20))),
        location=Location(latitude=HOME.latitude, longitude=HOME.longitude),
    )
    # Watched at the minimum interval while unlocked.
    assert car.policy.due(car.given())[Signal.SECURITY] == START + HALF_HOUR
    car.now = START + HALF_HOUR
    car.read(security=Security(is_locked=True, meta=age(START + timedelta(minutes=10))))
    assert car.policy.follow_up(car.given()) == ()
    assert car.policy.due(car.given())[Signal.SECURITY] > START + 2 * HALF_HOUR


def test_use_seen_as_it_happens_looks_at_the_lock_once_more() -> None:
    """Seen within minutes of the report, the user may not be done: the lock again, once."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START
    car.read(security=Security(is_locked=True, meta=age(START - timedelta(minutes=2))))
    car.read(
        battery=Battery(percent_remaining=0.5, meta=age(START - timedelta(minutes=2))),
        charge=Charge(is_plugged_in=False, meta=age(START - timedelta(minutes=2))),
    )
    assert car.policy.due(car.given())[Signal.SECURITY] == START + HALF_HOUR
    car.now = START + HALF_HOUR
    car.read(security=Security(is_locked=True, meta=age(START - timedelta(minutes=2))))
    assert car.policy.due(car.given())[Signal.SECURITY] > START + 2 * HALF_HOUR


def test_a_charge_is_read_when_it_should_be_done() -> None:
    """The first charge is watched at the minimum interval; its rate then times the next."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START + timedelta(hours=10)  # plugged in at 18:00, the charge stopped
    car.policy.commanded(car.now)
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.NOT_CHARGING, meta=age(car.now)))
    car.read(**{s.value: car.readings[s] for s in car.policy.follow_up(car.given())})
    night = START + timedelta(hours=17)  # 01:00
    car.now = night
    car.policy.commanded(night)
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(night)))
    assert car.policy.follow_up(car.given()) == ()  # the command's echo, and a charge
    # No rate known yet: the battery is due (the next poll comes a minimum interval later).
    assert Signal.BATTERY in car.due_now()
    assert car.policy.due(car.given())[Signal.CHARGE] == night + HALF_HOUR
    # Half an hour later: 0.6 -> 0.675 (15 % an hour); charging reports are no use.
    car.now = night + HALF_HOUR
    car.read(
        battery=Battery(percent_remaining=0.675, meta=age(car.now)),
        charge=Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now)),
        security=Security(is_locked=True, meta=age(car.now)),
    )
    assert car.policy.learnt.charge.rate == pytest.approx(0.15)
    assert car.policy.follow_up(car.given()) == ()
    end = car.now + timedelta(hours=(0.8 - 0.675) / 0.15)
    assert car.policy.due(car.given())[Signal.BATTERY] == end + CHARGE_END_MARGIN
    assert car.policy.due(car.given())[Signal.CHARGE] == end + CHARGE_END_MARGIN
    # Done: the charge is over, and its end report is no use either.
    car.now = end + CHARGE_END_MARGIN
    car.read(
        battery=Battery(percent_remaining=0.8, meta=age(end)),
        charge=Charge(is_plugged_in=True, state=ChargeState.FULLY_CHARGED, meta=age(end)),
    )
    assert car.policy.learnt.charge.since is None
    # Only the odometer: it is due a day after it was read, since the evening's use.
    assert car.policy.follow_up(car.given()) == (Signal.ODOMETER,)
    # The next night's charge is timed from the start.
    car.now = night + timedelta(days=1)
    car.policy.commanded(car.now)
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now)))
    car.readings[Signal.BATTERY] = Battery(percent_remaining=0.5, meta=age(car.now))
    due = car.policy.due(car.given())[Signal.BATTERY]
    assert due == car.now + timedelta(hours=0.3 / 0.15) + CHARGE_END_MARGIN


def test_a_charge_longer_than_expected_is_watched_closely() -> None:
    """Past its expected end and still charging: back to the minimum interval."""
    car = Car()
    car.policy.learnt.charge.rate = 0.5
    car.parked_at_home(START - timedelta(hours=3))
    car.policy.commanded(START)
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(START)))
    car.now = START + timedelta(hours=2)
    car.read(
        battery=Battery(percent_remaining=0.7, meta=age(car.now)),
        charge=Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now)),
    )
    car.policy.learnt.charge.rate = 10.0  # as if it had been learnt wrong
    assert car.policy.due(car.given())[Signal.BATTERY] == car.now + HALF_HOUR


def test_moving_car_is_followed() -> None:
    """Moved since the last read and reporting: location at the minimum interval only."""
    here = Location(latitude=HOME.latitude, longitude=HOME.longitude)
    there = Location(latitude=WORK.latitude, longitude=WORK.longitude, meta=age(START))
    polled = {Signal.LOCATION: START + timedelta(minutes=5)}
    assert situation({Signal.LOCATION: there}, {Signal.LOCATION: here}, polled).moving
    arrived = {Signal.LOCATION: START + timedelta(minutes=40)}
    assert not situation({Signal.LOCATION: there}, {Signal.LOCATION: here}, arrived).moving
    plugged = {
        Signal.LOCATION: there,
        Signal.CHARGE: Charge(is_plugged_in=True, state=ChargeState.NOT_CHARGING),
    }
    assert not situation(plugged, {Signal.LOCATION: here}, polled).moving

    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START + timedelta(minutes=5)
    car.read(security=Security(is_locked=True, meta=age(START)))
    car.read(location=there, battery=Battery(percent_remaining=0.55, meta=age(START)))
    assert situation(car.readings, car.previous, car.polled).moving
    due = car.policy.due(car.given())
    assert due[Signal.LOCATION] == car.now + HALF_HOUR
    # Charge and lock wait until the car has stopped.
    assert Signal.CHARGE not in car.policy.follow_up(car.given())
    assert due[Signal.CHARGE] > car.now + timedelta(days=1)


def test_readings_without_values_are_no_situation() -> None:
    """Missing or partial readings do not invent a situation."""
    assert situation({}, {}) == situation({Signal.BATTERY: Battery()}, {})
    half = Location(latitude=None, longitude=None, meta=Meta())
    assert not situation({Signal.LOCATION: half}, {Signal.LOCATION: half}).moving


def test_habitual_use_is_learnt_and_probed() -> None:
    """Use around 18:00 on several days makes the lock state due shortly after."""
    car = Car()
    car.parked_at_home(START - timedelta(days=1))
    for day in range(4):
        report = datetime(2026, 11, 2 + day, 18, 5 + 5 * day, tzinfo=UTC)
        car.now = report + timedelta(minutes=30)
        car.read(security=Security(is_locked=True, meta=age(report)))
    assert car.policy.learnt.activity.habitual((18 * 60) // 15)
    assert not car.policy.learnt.activity.habitual((12 * 60) // 15)
    evening = datetime(2026, 11, 6, 18, 50, tzinfo=UTC)
    car.now = evening
    car.polled[Signal.SECURITY] = evening - timedelta(hours=1)
    plan = car.policy.plan(car.given())
    assert Signal.SECURITY in plan.signals


def test_activity_fades() -> None:
    """An old habit is forgotten."""
    profile = ActivityProfile()
    for day in range(3):
        at = datetime(2026, 11, 2 + day, 8, 0, tzinfo=UTC)
        profile.record(at, at)
    assert profile.habitual(8 * 4)
    later = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    profile.record(later.replace(hour=20), later)
    assert not profile.habitual(8 * 4)


@pytest.mark.parametrize("budget", [50, 500, 2000])
def test_a_month_never_exceeds_the_budget(budget: int) -> None:
    """Polling whenever asked for a whole month, charging and in use all the time, stays in
    budget, and the last week still gets requests."""
    car = Car(budget=budget, now=month_bounds(START)[0])
    end = month_bounds(START)[1]
    last_poll = None
    spent_by_day: dict[int, int] = {}
    while car.now < end:
        given = plan_input(car.now, car.polled, car.readings, car.previous, car.usage, last_poll)
        plan = car.policy.plan(given)
        wanted = list(plan.signals)
        if wanted:
            last_poll = car.now
            car.read(
                **{
                    s.value: Charge(
                        is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now)
                    )
                    for s in wanted
                }
            )
            wanted += car.policy.follow_up(car.given())
            spent_by_day[car.now.day] = spent_by_day.get(car.now.day, 0) + len(wanted)
        assert car.usage.used <= budget * (1 - COMMAND_RESERVE)
        car.now += timedelta(minutes=5)
    assert sum(v for d, v in spent_by_day.items() if d >= 24) > 0
    assert car.usage.used >= budget * (1 - COMMAND_RESERVE) * 0.6


def test_out_of_budget_waits_for_next_month() -> None:
    """No room left: nothing is asked, and the next look is when the month turns."""
    policy = AdaptivePolicy(budget=100, min_interval=HALF_HOUR)
    usage = Usage(month="2026-11", used=90)
    plan = policy.plan(plan_input(START, {}, usage=usage))
    assert plan.signals == ()
    assert plan.next_check == datetime(2026, 12, 1, tzinfo=UTC)
    assert policy.next_check(plan_input(START, {}, usage=usage)).next_check == datetime(
        2026, 12, 1, tzinfo=UTC
    )


def test_what_is_affordable_limits_the_batch() -> None:
    """Only as many signals as the budget allows now, most important first."""
    policy = AdaptivePolicy(budget=100, min_interval=HALF_HOUR)
    # Even spend by Nov 20: 90 * 19/30 = 57, plus a slack of 12: two more requests.
    usage = Usage(month="2026-11", used=67)
    late = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    plan = policy.plan(plan_input(late, {}, usage=usage))
    assert len(plan.signals) == 2
    assert Signal.SECURITY in plan.signals


def test_ahead_of_the_even_spend_waits() -> None:
    """Early in the month with much spent already: only what the slack allows, then later."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    usage = Usage(month="2026-11", used=60)
    early = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # an even spend would be about 30
    plan = policy.plan(plan_input(early, {}, usage=usage))
    assert plan.signals == ()
    assert plan.next_check > early + HALF_HOUR


def test_commands_are_set_aside_from_the_even_spend() -> None:
    """What commands took does not hold polling back a second time."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    day = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)  # a third of the month
    polled = dict.fromkeys(EV_SIGNALS, day - timedelta(days=30))
    polling_only = Usage(month="2026-11", used=160)
    with_commands = Usage(month="2026-11", used=160, commands=25)
    assert policy.plan(plan_input(day, polled, usage=polling_only)).signals == ()
    assert policy.plan(plan_input(day, polled, usage=with_commands)).signals != ()


def test_the_quiet_rhythm_leaves_the_slack_to_busy_times() -> None:
    """At the even spend, a heartbeat waits; what use changed is still read."""
    car = Car()
    car.parked_at_home(START - timedelta(days=1))
    car.now = START + timedelta(hours=12)
    line = int(car.policy.allowance.even_line(car.usage, car.now))
    car.usage = Usage(month="2026-11", used=line + 1)
    assert car.policy.plan(car.given()).signals == ()
    car.policy.learnt.last_use = START
    assert set(car.policy.plan(car.given()).signals) == {
        Signal.BATTERY,
        Signal.CHARGE,
        Signal.LOCATION,
        Signal.ODOMETER,  # read a day ago
        Signal.SECURITY,
    }


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
    policy.observe(plan_input(START, polled), EV_SIGNALS)  # learns nothing
    policy.commanded(START)
    assert policy.follow_up(plan_input(START, polled)) == ()


def test_answers_without_a_data_age_still_show_a_plug_in() -> None:
    """No `sc-data-age` header: nothing is taken for use, except a plug state that changed."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.now = START
    car.read(security=Security(is_locked=True))
    assert car.policy.follow_up(car.given()) == ()
    car.read(charge=Charge(is_plugged_in=True, state=ChargeState.NOT_CHARGING))
    assert car.policy.learnt.last_use == START
    assert Signal.LOCATION in car.policy.follow_up(car.given())


def test_without_the_lock_state_another_signal_is_the_heartbeat() -> None:
    """The lock entity disabled (or not granted): the location's data age serves instead."""
    policy = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    needed = [Signal.BATTERY, Signal.LOCATION, Signal.ODOMETER]
    report = START - timedelta(hours=3)
    readings = {
        Signal.BATTERY: Battery(percent_remaining=0.5, meta=age(report)),
        Signal.LOCATION: Location(latitude=52.37, longitude=4.89, meta=age(report)),
        Signal.ODOMETER: Odometer(distance=1.0, meta=age(report)),
    }
    given = PlanInput(
        now=START + timedelta(hours=12),
        needed=needed,
        polled=dict.fromkeys(needed, START),
        readings=readings,
        previous={},
        usage=Usage(month="2026-11"),
        last_poll=START,
    )
    assert policy.plan(given).signals == (Signal.LOCATION,)


def test_what_was_learnt_survives_an_export_and_bad_data_is_ignored() -> None:
    """Habits, the charge rate and the last use come back; garbage leaves the defaults."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=3))
    car.policy.learnt.charge.rate = 0.147
    car.policy.learnt.charge.started(START, 0.0)  # an empty battery is a level too
    car.policy.learnt.activity.record(START, START)
    exported = car.policy.export()
    again = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    again.restore(json_round_trip(exported))
    assert again.export() == exported
    assert again.learnt.charge.rate == pytest.approx(0.147)
    assert again.learnt.charge.start_level == 0.0
    assert again.learnt.last_use == car.policy.learnt.last_use

    garbage = AdaptivePolicy(budget=500, min_interval=HALF_HOUR)
    garbage.restore(
        {
            "activity": [1.0, "x"],
            "charge_rate": -1,
            "charge_start_level": 1.5,
            "charging_since": True,
            "last_use": "yesterday",
            "use_seen_at": "2026-11-02T08:00:00",  # no time zone
            "explained_until": 5,
        }
    )
    assert garbage.export() == AdaptivePolicy(budget=500, min_interval=HALF_HOUR).export()


# --- API v3: one billed read brings every signal (`reads_all`) ----------------------------


def whole(given: PlanInput) -> PlanInput:
    """The same input for an API v3 client."""
    return replace(given, reads_all=True)


def test_a_whole_read_takes_every_needed_signal() -> None:
    """v3: only the heartbeat is due, yet the read takes everything (it costs one request)."""
    car = Car()
    car.parked_at_home(START - timedelta(hours=5))
    car.now = START + timedelta(hours=12)
    assert car.due_now() == {Signal.SECURITY}
    plan = car.policy.plan(whole(car.given()))
    assert set(plan.signals) == set(EV_SIGNALS)
    # Use seen in the answers: v2.0 reads what use changed in a follow-up; v3's read had it.
    car.policy.learnt.last_use = car.now
    assert Signal.BATTERY in car.policy.follow_up(car.given())
    assert car.policy.follow_up(whole(car.given())) == ()


def test_whole_reads_give_the_heartbeat_a_larger_share() -> None:
    """v3: the heartbeat brings everything, so it comes more often on the same budget."""
    car = Car()
    car.parked_at_home(START)
    v2 = car.policy.due(car.given())[Signal.SECURITY] - car.now
    v3 = car.policy.due(whole(car.given()))[Signal.SECURITY] - car.now
    pace = car.policy.allowance.pace(car.usage, car.now)
    assert v3 == pytest.approx(HOUR / (WHOLE_READ_SHARE * pace))
    assert v2 > HOUR / (BASELINE_SHARE * pace) > v3


def test_whole_reads_keep_the_quiet_rhythm_behind_the_even_spend() -> None:
    """v3: at the even spend a due heartbeat waits; what use changed is still read."""
    car = Car()
    car.parked_at_home(START - timedelta(days=1))
    car.now = START + timedelta(hours=12)
    line = int(car.policy.allowance.even_line(car.usage, car.now))
    car.usage = Usage(month="2026-11", used=line + 1)
    waiting = car.policy.plan(whole(car.given()))
    assert waiting.signals == ()
    assert waiting.next_check > car.now
    car.policy.learnt.last_use = START
    assert set(car.policy.plan(whole(car.given())).signals) == set(EV_SIGNALS)


@pytest.mark.parametrize("budget", [50, 500, 2000])
def test_a_month_of_whole_reads_never_exceeds_the_budget(budget: int) -> None:
    """v3, polling whenever asked, charging and in use all the time: a read is one request; the
    month stays in budget, spends most of it, and the last week still gets reads."""
    car = Car(budget=budget, now=month_bounds(START)[0])
    end = month_bounds(START)[1]
    last_poll = None
    reads_by_day: dict[int, int] = {}
    while car.now < end:
        given = plan_input(car.now, car.polled, car.readings, car.previous, car.usage, last_poll)
        plan = car.policy.plan(whole(given))
        if plan.signals:
            last_poll = car.now
            for signal in plan.signals:
                car.readings[signal] = Charge(
                    is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now)
                )
                car.polled[signal] = car.now
            car.usage.add(car.now, 1)
            car.policy.observe(whole(car.given()), plan.signals)
            assert car.policy.follow_up(whole(car.given())) == ()
            reads_by_day[car.now.day] = reads_by_day.get(car.now.day, 0) + 1
        assert car.usage.used <= budget * (1 - COMMAND_RESERVE)
        car.now += timedelta(minutes=5)
    assert sum(v for d, v in reads_by_day.items() if d >= 24) > 0
    assert car.usage.used >= budget * (1 - COMMAND_RESERVE) * 0.6


def json_round_trip(data: dict) -> dict:
    return json.loads(json.dumps(data))
