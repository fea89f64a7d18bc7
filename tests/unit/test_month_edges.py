"""Month boundaries are product behaviour: Smartcar bills per calendar month in UTC.

The budget, the usage count and the scheduler's pacing are checked across the turn of months
of 28, 29, 30 and 31 days, and with local times on the other side of midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.smartcar.api import Charge, ChargeState, Signal
from custom_components.smartcar.scheduler import (
    AdaptivePolicy,
    Budget,
    PlanInput,
    Usage,
    month_bounds,
)
from custom_components.smartcar.scheduler.budget import COMMAND_RESERVE

from .test_scheduler import EV_SIGNALS, HALF_HOUR, Car, age

# (first day of a month, its length in days)
MONTHS = [
    (datetime(2027, 2, 1, tzinfo=UTC), 28),
    (datetime(2028, 2, 1, tzinfo=UTC), 29),
    (datetime(2026, 11, 1, tzinfo=UTC), 30),
    (datetime(2026, 12, 1, tzinfo=UTC), 31),
]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def given(now: datetime, usage: Usage, polled: dict[Signal, datetime] | None = None) -> PlanInput:
    return PlanInput(
        now=now,
        needed=EV_SIGNALS,
        polled=polled or {},
        readings={},
        previous={},
        usage=usage,
        last_poll=None,
    )


@pytest.mark.parametrize(("start", "days"), MONTHS)
def test_month_bounds_for_every_length(start: datetime, days: int) -> None:
    """The month a moment falls in, to the microsecond at both of its ends."""
    end = start + timedelta(days=days)
    assert month_bounds(start) == (start, end)
    assert month_bounds(end - timedelta(microseconds=1)) == (start, end)
    assert month_bounds(end)[0] == end
    assert month_bounds(start + timedelta(days=days // 2, hours=13)) == (start, end)


def test_the_month_is_utcs_whatever_the_local_time() -> None:
    """00:30 on 1 December in Amsterdam is still 30 November in UTC: November's count."""
    local = datetime(2026, 12, 1, 0, 30, tzinfo=AMSTERDAM)
    assert month_bounds(local) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    usage = Usage()
    usage.add(local, 3)
    assert usage.month == "2026-11"
    usage.add(datetime(2026, 12, 1, 1, 0, tzinfo=AMSTERDAM), 1)  # 00:00 UTC
    assert (usage.month, usage.used) == ("2026-12", 1)


@pytest.mark.parametrize(("start", "days"), MONTHS)
def test_usage_turns_at_midnight_utc(start: datetime, days: int) -> None:
    """A request one second before midnight counts for the old month, one at midnight for the
    new; commands start afresh too."""
    end = start + timedelta(days=days)
    usage = Usage()
    usage.add(end - timedelta(seconds=1), 7, command=True)
    assert (usage.month, usage.used, usage.commands) == (start.strftime("%Y-%m"), 7, 7)
    usage.add(end, 1)
    assert (usage.month, usage.used, usage.commands) == (end.strftime("%Y-%m"), 1, 0)


@pytest.mark.parametrize(("start", "days"), MONTHS)
def test_the_room_is_whole_again_after_midnight(start: datetime, days: int) -> None:
    """Out of room on the last evening; right after midnight, the new month's budget."""
    end = start + timedelta(days=days)
    policy = AdaptivePolicy(budget=100, min_interval=HALF_HOUR)
    spent = Usage(month=start.strftime("%Y-%m"), used=100)
    late = end - timedelta(minutes=10)
    assert Budget(100).room(spent, late) < 1
    plan = policy.plan(given(late, spent))
    assert plan.signals == ()
    assert plan.next_check == end  # looks again exactly when the month turns

    after = end + timedelta(minutes=1)
    assert policy.plan(given(after, spent)).signals != ()
    assert spent.used == 100  # a plan changes nothing it is given
    assert spent.at(after).used == 0  # the month turned
    assert Budget(100).room(Usage(), after) == pytest.approx(100 * (1 - COMMAND_RESERVE))


@pytest.mark.parametrize(("start", "days"), MONTHS)
def test_pacing_lasts_each_month_and_resumes_in_the_next(start: datetime, days: int) -> None:
    """A car busy all the time: each month stays in its budget, its last day still gets
    requests, and the next month's first hours are read again."""
    budget = 200
    car = Car(budget=budget, now=start)
    car.usage = Usage()
    end = start + timedelta(days=days)
    next_end = month_bounds(end)[1]
    by_month: dict[str, int] = {}
    last_day = first_hours = 0
    last_poll = None
    while car.now < end + timedelta(hours=6):
        plan_input = PlanInput(
            now=car.now,
            needed=EV_SIGNALS,
            polled=car.polled,
            readings=car.readings,
            previous=car.previous,
            usage=car.usage,
            last_poll=last_poll,
        )
        wanted = list(car.policy.plan(plan_input).signals)
        if wanted:
            last_poll = car.now
            charging = Charge(is_plugged_in=True, state=ChargeState.CHARGING, meta=age(car.now))
            car.read(**{s.value: charging for s in wanted})
            month = car.now.strftime("%Y-%m")
            by_month[month] = by_month.get(month, 0) + len(wanted)
            if end - timedelta(days=1) <= car.now < end:
                last_day += len(wanted)
            if car.now >= end:
                first_hours += len(wanted)
        assert car.usage.used <= budget
        car.now += timedelta(minutes=5)
    assert by_month[start.strftime("%Y-%m")] <= budget * (1 - COMMAND_RESERVE)
    assert by_month[start.strftime("%Y-%m")] >= budget * (1 - COMMAND_RESERVE) * 0.6
    assert last_day > 0, "the last day of the month went dark"
    assert first_hours > 0, "the new month's budget was not used"
    assert end < next_end
