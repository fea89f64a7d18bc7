"""Time-weighted comparison of what Home Assistant showed with the simulator's truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# Figures, in table order: (key, row label, kind). "error": mean absolute difference while
# a value was shown; "wrong": share of time the shown state differed (unavailable = wrong).
LEVEL: Final = "level"
LOCATION: Final = "location"
LOCK: Final = "lock"
PLUGGED: Final = "plugged"
CHARGING: Final = "charging"
ERROR_FIGURES: Final = (LEVEL, LOCATION, LOCK, PLUGGED, CHARGING)


@dataclass(slots=True)
class Tally:
    """One figure of one car, integrated over virtual time (seconds)."""

    kind: str  # "error" or "wrong"
    weighted: float = 0.0  # error x seconds, or seconds wrong
    shown: float = 0.0  # seconds a value was shown
    unavailable: float = 0.0  # seconds nothing usable was shown

    def add(self, value: float | bool | None, seconds: float) -> None:
        """Hold a sample for `seconds`: an error, wrong/right, or None when nothing shown."""
        if value is None:
            self.unavailable += seconds
            if self.kind == "wrong":
                self.weighted += seconds
            return
        self.shown += seconds
        self.weighted += float(value) * seconds

    @property
    def total(self) -> float:
        """Seconds sampled."""
        return self.shown + self.unavailable

    @property
    def value(self) -> float | None:
        """Mean error while shown, or the share of time wrong (0..1)."""
        if self.kind == "wrong":
            return self.weighted / self.total if self.total else None
        return self.weighted / self.shown if self.shown else None


@dataclass(slots=True)
class CarResult:
    """What one policy achieved for one car over the month."""

    key: str
    name: str
    level_label: str  # "battery" or "fuel"
    tallies: dict[str, Tally] = field(default_factory=dict)
    billed: int = 0
    billed_setup: int = 0
    billed_commands: int = 0
    refreshes: int = 0  # refreshes that sent a batch
    # Home Assistant's timer against the coordinator's `next_poll`, at each refresh.
    refreshes_late: int = 0
    late_hours: float = 0.0
    refreshes_early: int = 0
    commands: int = 0
    commands_failed: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    unavailable: float = 0.0  # share of time any compared entity showed nothing usable
    deliveries: int = 0  # webhook deliveries (VEHICLE_STATE) acknowledged by Home Assistant
    deliveries_failed: int = 0  # ... answered otherwise (or not at all)

    def figure(self, key: str) -> float | None:
        """A figure's value (None when the car has no such thing)."""
        tally = self.tallies.get(key)
        return None if tally is None else tally.value

    @property
    def billed_polls(self) -> int:
        """Billed requests of scheduled refreshes."""
        return self.billed - self.billed_setup - self.billed_commands

    @property
    def billed_reads(self) -> int:
        """Billed requests less the commands themselves (the POSTs, alike in every policy)."""
        return self.billed - sum(n for path, n in self.by_path.items() if path.startswith("POST "))


@dataclass(slots=True)
class MonthResult:
    """One policy's month: per car, plus how long the run took."""

    policy: str
    label: str
    cars: dict[str, CarResult]
    wall_seconds: float = 0.0
    # (time offset in hours, car, figure, sampled error) for ad-hoc analysis (BENCH_DUMP).
    samples: list[tuple[float, str, str, float | None]] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)  # BENCH_TRACE


@dataclass(slots=True)
class ScaleResult:
    """One fleet size: timings and memory of the integration (the simulator runs apart)."""

    vehicles: int
    setup_seconds: float = 0.0
    setup_busy_seconds: float = 0.0
    refresh_seconds: float = 0.0
    refresh_busy_seconds: float = 0.0
    refresh_billed: int = 0
    memory_bytes: int | None = None
    entities: int = 0


@dataclass(slots=True)
class WebhookResult:
    """Deliveries over real HTTP: the delay to the state shown, and the rate HA takes them."""

    # One delivery at a time: seconds from the report (the sender's POST start) to the
    # entity's state_changed event.
    from_report: list[float] = field(default_factory=list)
    from_post: list[float] = field(default_factory=list)
    # A fleet's deliveries, `concurrency` at a time.
    vehicles: int = 0
    concurrency: int = 0
    deliveries: int = 0
    seconds: float = 0.0
    busy_seconds: float = 0.0  # CPU time of Home Assistant's event-loop thread meanwhile
    post_seconds: list[float] = field(default_factory=list)  # each POST, as the sender saw it
    statuses: dict[str, int] = field(default_factory=dict)
    state_changes: int = 0  # lock entities that changed meanwhile (one per delivery)


def percentiles(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0, 0.0
    median = ordered[(len(ordered) - 1) // 2]
    if len(ordered) % 2 == 0:
        median = (median + ordered[len(ordered) // 2]) / 2
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return median, ordered[rank]
