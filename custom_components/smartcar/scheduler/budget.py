"""The monthly request budget: what was spent, what is left, and how fast it may go.

Smartcar bills per calendar month; we reckon months in UTC. Commands are never refused, so
polling keeps room for them; polling itself follows an even spend over the month with a little
slack for busy times. Nothing here changes its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math

HOUR = timedelta(hours=1)

# Share of the budget kept for commands and their confirmations.
COMMAND_RESERVE = 0.1
# How far ahead of an even spend over the month polling may run: enough for a busy evening
# or a night of charging, never so much that the last days go dark.
SLACK_MIN = 12.0
SLACK_SHARE = 0.05


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end of the UTC month `now` falls in."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def month_of(now: datetime) -> str:
    """The UTC month `now` falls in, as "YYYY-MM"."""
    return now.astimezone(UTC).strftime("%Y-%m")


@dataclass(slots=True)
class Usage:
    """Billed requests counted in `month` (UTC); `commands` is the part commands took."""

    month: str = ""
    used: int = 0
    commands: int = 0

    def at(self, now: datetime) -> Usage:
        """The count as it stands at `now`: afresh when the month turned (nothing changes)."""
        if month_of(now) == self.month:
            return self
        return Usage(month=month_of(now))

    def roll(self, now: datetime) -> None:
        """Start counting afresh when the month turned."""
        current = self.at(now)
        self.month, self.used, self.commands = current.month, current.used, current.commands

    def add(self, now: datetime, count: int, *, command: bool = False) -> None:
        """Count billed requests (a command's, or its confirmation's, with `command`)."""
        self.roll(now)
        self.used += count
        if command:
            self.commands += count


@dataclass(frozen=True, slots=True)
class Budget:
    """A monthly budget of billed requests per vehicle, and the pacing that follows from it."""

    monthly: int

    def room(self, usage: Usage, now: datetime) -> float:
        """Requests polling may still spend this month, leaving room for commands.

        Commands are never refused, so polling makes room for them: for the rest of the month
        it keeps back what commands took so far, projected over the time left, and at least a
        tenth of the budget until commands have used that much.
        """
        usage = usage.at(now)
        start, end = month_bounds(now)
        elapsed = max(now - start, timedelta(days=1))
        projected = usage.commands * ((end - now) / elapsed)
        reserve = max(self.monthly * COMMAND_RESERVE - usage.commands, projected, 0.0)
        return self.monthly - usage.used - reserve

    def remaining(self, usage: Usage, now: datetime) -> int:
        """Requests left of the month's budget (commands included)."""
        return max(self.monthly - usage.at(now).used, 0)

    def pace(self, usage: Usage, now: datetime) -> float:
        """Requests per hour the rest of the month can afford."""
        end = month_bounds(now)[1]
        left_hours = max((end - now) / HOUR, 1.0)
        return max(self.room(usage, now), 0.0) / left_hours

    def line_rate(self, usage: Usage, now: datetime) -> float:
        """Polling requests per hour of an even spend of what commands leave of the budget.

        Commands are set aside at their pace so far (at least the reserve), so that polling is
        not held back twice for them: once by the room, once by this line.
        """
        usage = usage.at(now)
        start, end = month_bounds(now)
        elapsed = max(now - start, timedelta(days=1))
        commands = max(self.monthly * COMMAND_RESERVE, usage.commands * ((end - start) / elapsed))
        return max(self.monthly - commands, 0.0) / ((end - start) / HOUR)

    def even_line(self, usage: Usage, now: datetime) -> float:
        """What an even spend on polling would have used by now."""
        start, _ = month_bounds(now)
        return self.line_rate(usage, now) * ((now - start) / HOUR)

    def slack(self, usage: Usage, now: datetime) -> float:
        """How far ahead of the even spend busy times may run.

        Never more than half of what an even spend has left for the rest of the month, so that
        running ahead never leaves the last days without requests.
        """
        left = (month_bounds(now)[1] - now) / HOUR
        return min(
            max(SLACK_MIN, SLACK_SHARE * self.monthly), self.line_rate(usage, now) * left / 2
        )

    def affordable(self, usage: Usage, now: datetime) -> int:
        """How many requests may go now: within the room, not far ahead of an even spend."""
        current = usage.at(now)
        room = math.floor(self.room(current, now))
        polled = current.used - current.commands
        ahead = math.floor(self.even_line(current, now) + self.slack(current, now) - polled)
        return max(min(room, ahead), 0)
