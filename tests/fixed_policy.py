"""The comparison policy of the tests and the benchmark: every needed signal every interval.

Test-only: a user cannot choose it. Tests select it with the `polling` fixture and the
benchmark swaps `custom_components.smartcar.coordinator.make_policy` for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from custom_components.smartcar.api import Signal
from custom_components.smartcar.scheduler import Budget, Plan, PlanInput


@dataclass(slots=True)
class FixedPolicy:
    """Every needed signal every `interval`, whatever it costs."""

    interval: timedelta
    # A command's effect is looked at a minute later.
    min_interval: timedelta = timedelta(minutes=1)

    @property
    def allowance(self) -> Budget | None:
        """No budget."""
        return None

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
            return Plan((), last + self.interval, next_reason="fixed interval")
        return Plan(
            tuple(sorted(given.needed)),
            given.now + self.interval,
            "fixed interval",
            "fixed interval",
        )

    def next_check(self, given: PlanInput) -> Plan:
        """One interval after the last full poll."""
        when = (self._last_full_poll(given) or given.now) + self.interval
        return Plan((), when, next_reason="fixed interval")

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
