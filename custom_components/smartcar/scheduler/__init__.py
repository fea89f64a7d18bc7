"""When to read a car, and what: one object answers, with its reason.

- `budget`: the month's count and the pace the budget allows (no state of its own).
- `learning`: what the answers teach (situation, habits, charge rate, last use).
- `policy`: which signals are worth reading now, and when the next one will be.
- `Scheduler` (here): every reason to wait besides the policy's: Smartcar's retry-after, a
  BILLING stop, the backoff after failures, the look after a command, the turn of the month,
  and the shortest wait of Home Assistant's timer. The coordinator asks it, executes the plan
  and reports what happened. The reason of the last and the next read shows in diagnostics and
  in a debug log line.
No Home Assistant imports: time and state come in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..api import Signal
from .budget import Budget, Usage, month_bounds, month_of
from .learning import Learnt, Situation, situation
from .policy import AdaptivePolicy, Plan, PlanInput, Policy, trusted_pushes

__all__ = [
    "AdaptivePolicy",
    "Budget",
    "Learnt",
    "Plan",
    "PlanInput",
    "Policy",
    "Scheduler",
    "Situation",
    "Usage",
    "month_bounds",
    "month_of",
    "situation",
    "trusted_pushes",
]

# Home Assistant's timer never fires sooner than this after a refresh.
MIN_WAIT = timedelta(minutes=1)
# Retry after a failed read: doubling from the first delay up to the last.
RETRY_DELAYS = (timedelta(minutes=2), timedelta(hours=1))
# A plan or monthly limit reached (BILLING): look again this much later.
BILLING_RETRY = timedelta(hours=24)

RATE_LIMITED = "rate_limited"
BILLING_LIMIT = "billing_limit"


@dataclass(slots=True)
class Scheduler:
    """Decides when the next read of one car happens and what it asks for."""

    policy: Policy
    # Nothing is sent before `blocked_until`; `blocked_reason` is RATE_LIMITED or BILLING_LIMIT.
    blocked_until: datetime | None = None
    blocked_reason: str = RATE_LIMITED
    failures: int = 0
    next_check: datetime | None = None
    next_reason: str = ""
    last_read: datetime | None = None
    last_reason: str = ""

    # --- asking ------------------------------------------------------------------------

    def blocked(self, now: datetime) -> bool:
        """Whether Smartcar said to send nothing now."""
        return self.blocked_until is not None and now < self.blocked_until

    def plan(self, given: PlanInput) -> Plan:
        """What to read now and when to look again (nothing while blocked)."""
        if self.blocked_until is not None and self.blocked(given.now):
            plan = Plan((), self.blocked_until, next_reason=self._blocked_text())
        else:
            plan = self.policy.plan(given)
        self._schedule(given.now, plan.next_check, plan.next_reason)
        return plan

    def follow_up(self, given: PlanInput) -> tuple[Signal, ...]:
        """What the answers just received show changed, unless Smartcar said to wait."""
        if self.blocked_until is not None:
            return ()
        return self.policy.follow_up(given)

    def may_confirm(self, given: PlanInput, signal: Signal) -> bool:
        """Whether to read what a command changed: not when webhooks deliver that signal
        (the delivery confirms it, and a read would see the command's report before its
        delivery and take it for one deliveries missed); else only with budget room, since a
        confirmation is polling."""
        if signal in trusted_pushes(given):
            return False
        budget = self.policy.allowance
        return budget is None or budget.room(given.usage, given.now) >= 1

    def wait(self, now: datetime) -> timedelta:
        """How long Home Assistant's timer waits before the next look."""
        if self.next_check is None:
            return MIN_WAIT
        return max(self.next_check - now, MIN_WAIT)

    def remaining(self, usage: Usage, now: datetime) -> int | None:
        """Requests left of the month's budget (None without a budget)."""
        budget = self.policy.allowance
        return None if budget is None else budget.remaining(usage, now)

    # --- what happened -----------------------------------------------------------------

    def read(self, given: PlanInput, fetched: tuple[Signal, ...], reason: str) -> None:
        """Answers for `fetched` were merged into `given`: learn, and plan on them."""
        self.failures = 0
        self.last_read, self.last_reason = given.now, reason or "as planned"
        self.policy.observe(given, fetched)
        plan = self.policy.next_check(given)
        if self.blocked_until is not None and self.blocked_until > plan.next_check:
            # A path of the answer was throttled: nothing before Smartcar's time.
            self._schedule(given.now, self.blocked_until, self._blocked_text())
        else:
            self._schedule(given.now, plan.next_check, plan.next_reason)

    def answered(self) -> bool:
        """Smartcar answered a request: any stop is over. True when a BILLING stop ended."""
        ended = self.blocked_until is not None and self.blocked_reason == BILLING_LIMIT
        self.blocked_until = None
        return ended

    def throttled(self, now: datetime, until: datetime) -> None:
        """RATE_LIMIT: nothing before `until`."""
        self.blocked_until, self.blocked_reason = until, RATE_LIMITED
        self._schedule(now, until, self._blocked_text())

    def billing_stopped(self, now: datetime) -> None:
        """BILLING: the plan's or the car's limit is reached; try again a day later."""
        self.blocked_until, self.blocked_reason = now + BILLING_RETRY, BILLING_LIMIT
        self._schedule(now, self.blocked_until, self._blocked_text())

    def failed(self, now: datetime) -> timedelta:
        """A read failed: retry after a delay that doubles with each failure in a row."""
        self.failures += 1
        first, last = RETRY_DELAYS
        factor: int = 2 ** (self.failures - 1)
        retry = min(first * factor, last)
        self._schedule(now, now + retry, f"retry after {self.failures} failed read(s)")
        return retry

    def commanded(self, now: datetime) -> None:
        """A command was sent: look at what it changed within one minimum interval."""
        self.policy.commanded(now)
        when = now + self.policy.min_interval
        if self.next_check is None or when < self.next_check:
            self._schedule(now, when, "what a command changed")

    def delivered(self, given: PlanInput, pushed: tuple[Signal, ...]) -> None:
        """A webhook brought `pushed` (merged into `given`): learn from it, plan again.

        Not a read: nothing was paid, and a wait for Smartcar (retry-after) still holds.
        """
        self.policy.observe(given, pushed)
        self.replan(given)

    def replan(self, given: PlanInput) -> None:
        """Plan again on what is known now (after a restart)."""
        plan = self.policy.next_check(given)
        self._schedule(given.now, plan.next_check, plan.next_reason)

    # --- helpers -----------------------------------------------------------------------

    def _blocked_text(self) -> str:
        what = "Smartcar's retry-after" if self.blocked_reason == RATE_LIMITED else "BILLING stop"
        return f"{what} until {self.blocked_until:%Y-%m-%d %H:%M} UTC"

    def _schedule(self, now: datetime, when: datetime, reason: str) -> None:
        # The count of the month starts afresh when it turns: look then at the latest.
        turn = month_bounds(now)[1]
        if when > turn:
            when, reason = turn, "the month turns"
        self.next_check, self.next_reason = when, reason
