"""Results of the run and the one table they are printed as, with the targets checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .metrics import (
    CHARGING,
    ERROR_FIGURES,
    LEVEL,
    LOCATION,
    LOCK,
    PLUGGED,
    CarResult,
    MonthResult,
    ScaleResult,
    WebhookResult,
    percentiles,
)
from .scenario import DAYS, END, SEED, START

# Filled by the benchmark's tests, printed at the end of the run.
MONTH: dict[str, MonthResult] = {}
SCALE: dict[int, ScaleResult] = {}
WEBHOOKS: dict[str, WebhookResult] = {}
LIFE_SUMMARY: list[str] = []
POLICY_SUMMARY: list[str] = []

BUDGET: Final = 500
WIDTH: Final = 40  # label column
COLUMN: Final = 13
LINEAR_SLACK: Final = 1.3
WEBHOOK_SHARE: Final = 10  # (d) bills at most a tenth of (a)

ROW_LABELS: Final = {
    LOCATION: "location error (km)",
    LOCK: "lock state wrong (% of time)",
    PLUGGED: "plugged-in state wrong (% of time)",
    CHARGING: "charging state wrong (% of time)",
}
SHORT: Final = {
    LEVEL: "",
    LOCATION: "location",
    LOCK: "lock",
    PLUGGED: "plugged",
    CHARGING: "charging",
}


def _label(car: CarResult, figure: str) -> str:
    if figure == LEVEL:
        return f"{car.level_label} level error (pp)"
    return ROW_LABELS[figure]


def _show(figure: str, value: float | None) -> str:
    if value is None:
        return "-"
    if figure in (LOCK, PLUGGED, CHARGING):
        return f"{value * 100:.2f}"
    return f"{value:.2f}"


def _row(label: str, cells: list[str]) -> str:
    return f"  {label:<{WIDTH}}" + "".join(f"{c:>{COLUMN}}" for c in cells)


def month_table() -> list[str]:
    """The policies side by side, one block per car."""
    policies = [MONTH[k] for k in sorted(MONTH)]
    if not policies:
        return []
    lines = [
        f"One simulated month: {START:%Y-%m-%d %H:%M} to {END:%Y-%m-%d %H:%M} UTC ({DAYS} days), "
        f"seed {SEED}; each policy in a fresh Home Assistant",
        *LIFE_SUMMARY,
        *POLICY_SUMMARY,
        "",
        _row("", [p.label for p in policies]),
    ]
    for key in policies[0].cars:
        cars = [p.cars[key] for p in policies]
        first = cars[0]
        kind = "EV" if first.level_label == "battery" else "petrol"
        lines.append(f"{first.name} ({kind})")
        lines.append(_row("billed requests in the month", [str(c.billed) for c in cars]))
        lines.append(
            _row(
                "  setup / polls / command calls",
                [f"{c.billed_setup}/{c.billed_polls}/{c.billed_commands}" for c in cars],
            )
        )
        lines.append(_row("refreshes that sent a batch", [str(c.refreshes) for c in cars]))
        if "d" in MONTH:
            lines.append(
                _row(
                    "webhook deliveries taken",
                    [
                        f"{c.deliveries}"
                        + (f" ({c.deliveries_failed} failed)" * bool(c.deliveries_failed))
                        if p.policy == "d"
                        else "-"
                        for p, c in zip(policies, cars, strict=True)
                    ],
                )
            )
        lines.extend(
            _row(_label(first, figure), [_show(figure, c.figure(figure)) for c in cars])
            for figure in ERROR_FIGURES
            if figure in first.tallies
        )
        lines.append(
            _row(
                "nothing shown (% of time)",
                [f"{c.unavailable * 100:.2f}" for c in cars],
            )
        )
    lines.append(
        "  (errors: time-weighted mean while a value was shown; states: share of time the "
        "shown state differed, nothing shown counts as wrong)"
    )
    return lines


def _checks(a: CarResult, b: CarResult) -> list[tuple[bool, str]]:
    checks = [
        (a.billed <= BUDGET, f"{a.billed} billed > {BUDGET}"),
        (a.billed <= b.billed, f"{a.billed} billed > (b)'s {b.billed}"),
    ]
    for figure in ERROR_FIGURES:
        va, vb = a.figure(figure), b.figure(figure)
        if va is None or vb is None:
            continue
        name = a.level_label if figure == LEVEL else SHORT[figure]
        shown_a, shown_b = _show(figure, va), _show(figure, vb)
        checks.append((va < vb or va == vb == 0, f"{name} {shown_a} not below (b)'s {shown_b}"))
        if (figure == LEVEL and a.level_label == "battery") or figure == LOCK:
            checks.append((va <= vb / 2, f"{name} {shown_a} more than half of (b)'s {shown_b}"))
    return checks


def _checks_v3(v3: CarResult, a: CarResult) -> list[tuple[bool, str]]:
    """(a) under API v3 against (a) under v2.0: within the budget, no error figure worse.

    Compared as printed (two decimals): a difference the table cannot show is no difference.
    """
    checks = [(v3.billed <= BUDGET, f"{v3.billed} billed > {BUDGET}")]
    for figure in ERROR_FIGURES:
        v, va = v3.figure(figure), a.figure(figure)
        if v is None or va is None:
            continue
        name = a.level_label if figure == LEVEL else SHORT[figure]
        shown_v, shown_a = _show(figure, v), _show(figure, va)
        checks.append(
            (float(shown_v) <= float(shown_a), f"{name} {shown_v} worse than v2.0's {shown_a}")
        )
    return checks


def _checks_webhooks(d: CarResult, a: CarResult, c: CarResult) -> list[tuple[bool, str]]:
    """(d) against (a) and (c): a tenth of (a)'s billed requests, commands aside; every
    delivery acknowledged; no error figure worse than (c)'s (compared as printed, as for v3).

    Commands aside: the POSTs of the commands themselves (the user's automation through Home
    Assistant's switch) are the same in every column and no policy can spare them; their
    confirmation reads count, as every read does.
    """
    checks = [
        (
            d.billed_reads * WEBHOOK_SHARE <= a.billed_reads,
            f"{d.billed_reads} billed reads > a tenth of (a)'s {a.billed_reads}",
        ),
        (d.deliveries_failed == 0, f"{d.deliveries_failed} deliveries not acknowledged"),
    ]
    for figure in ERROR_FIGURES:
        vd, vc = d.figure(figure), c.figure(figure)
        if vd is None or vc is None:
            continue
        name = d.level_label if figure == LEVEL else SHORT[figure]
        shown_d, shown_c = _show(figure, vd), _show(figure, vc)
        checks.append(
            (float(shown_d) <= float(shown_c), f"{name} {shown_d} worse than (c)'s {shown_c}")
        )
    return checks


def _share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "-"


def _verdicts(
    pairs: list[tuple[CarResult, list[tuple[bool, str]]]],
) -> tuple[bool, list[str]]:
    passed = True
    lines = []
    for car, checks in pairs:
        failures = [message for ok, message in checks if not ok]
        passed = passed and not failures
        verdict = "PASS" if not failures else "FAIL: " + "; ".join(failures)
        lines.append(f"  {car.name:<{WIDTH - 2}}{verdict}")
    return passed, lines


def targets() -> tuple[bool | None, list[str]]:
    """Whether (a) met the issue's targets for every car (None: not run); the lines.

    With (a) under API v3 in the run, its own targets too (a line of their own).
    """
    passed: bool | None = None
    lines: list[str] = []
    if {"a", "b"} <= set(MONTH):
        lines.append(
            f"Targets for (a), per vehicle: at most {BUDGET} billed requests and no more than "
            "(b); below (b) on every error figure; at most half of (b)'s battery and lock-state "
            "error"
        )
        ok, verdicts = _verdicts(
            [(a, _checks(a, MONTH["b"].cars[key])) for key, a in MONTH["a"].cars.items()]
        )
        lines.extend([*verdicts, f"Targets: {'PASS' if ok else 'FAIL'}"])
        passed = ok
    if {"a", "a3"} <= set(MONTH):
        lines.append(
            f"Targets for (a) under API v3, per vehicle: at most {BUDGET} billed requests; no "
            "error figure worse than (a) under v2.0"
        )
        ok, verdicts = _verdicts(
            [(v3, _checks_v3(v3, MONTH["a"].cars[key])) for key, v3 in MONTH["a3"].cars.items()]
        )
        lines.extend([*verdicts, f"Targets (API v3): {'PASS' if ok else 'FAIL'}"])
        passed = ok if passed is None else passed and ok
    if {"a", "c", "d"} <= set(MONTH):
        lines.append(
            "Targets for (d) webhooks, per vehicle: at most a tenth of (a)'s billed requests, "
            "commands aside (the POSTs themselves, alike in every column); every delivery "
            "acknowledged; no error figure worse than (c)'s"
        )
        for key, d in MONTH["d"].cars.items():
            a = MONTH["a"].cars[key]
            lines.append(
                f"  {d.name}: billed {d.billed} of (a)'s {a.billed} "
                f"({_share(d.billed, a.billed)}); commands aside {d.billed_reads} of "
                f"{a.billed_reads} ({_share(d.billed_reads, a.billed_reads)})"
            )
        ok, verdicts = _verdicts(
            [
                (d, _checks_webhooks(d, MONTH["a"].cars[key], MONTH["c"].cars[key]))
                for key, d in MONTH["d"].cars.items()
            ]
        )
        lines.extend([*verdicts, f"Targets (webhooks): {'PASS' if ok else 'FAIL'}"])
        passed = ok if passed is None else passed and ok
    return passed, lines


def paths_lines() -> list[str]:
    """Where each policy's requests went, per car, and when HA's timer refreshed."""
    lines = ["Billed requests by path"]
    timing = [
        "Home Assistant's refresh timer against the coordinator's next_poll (late: > 1 min after)"
    ]
    for key in sorted(MONTH):
        month = MONTH[key]
        for car in month.cars.values():
            parts = sorted(car.by_path.items(), key=lambda item: (-item[1], item[0]))
            text = ", ".join(f"{path} {n}" for path, n in parts)
            lines.append(f"  {month.label:<13}{car.name:<15}{text}")
            late = (
                f"{car.refreshes_late} late (mean {car.late_hours / car.refreshes_late:.1f} h)"
                if car.refreshes_late
                else "none late"
            )
            timing.append(f"  {month.label:<13}{car.name:<15}{late}, {car.refreshes_early} early")
    return [*lines, *timing]


def _scale_row(label: str, cell: Callable[[ScaleResult], str]) -> str:
    return _row(label, [cell(SCALE[n]) for n in sorted(SCALE)])


def _added_memory(result: ScaleResult) -> str:
    one = SCALE.get(1)
    if (
        one is None
        or result.vehicles == 1
        or one.memory_bytes is None
        or result.memory_bytes is None
    ):
        return "-"
    return f"{(result.memory_bytes - one.memory_bytes) / 1024 / (result.vehicles - 1):.0f}"


def scale_table() -> list[str]:
    """Timings and memory for 1, 10 and 100 vehicles."""
    if not SCALE:
        return []
    sizes = sorted(SCALE)
    lines = [
        "Scale: policy (a), the simulator in a process of its own; busy = CPU time of the "
        "event loop's thread",
        _row("", [f"{n} vehicle{'s' if n > 1 else ''}" for n in sizes]),
        _scale_row("entry setup (s)", lambda r: f"{r.setup_seconds:.3f}"),
        _scale_row("  event-loop busy (s)", lambda r: f"{r.setup_busy_seconds:.3f}"),
        _scale_row("one refresh of all vehicles (s)", lambda r: f"{r.refresh_seconds:.3f}"),
        _scale_row("  event-loop busy (s)", lambda r: f"{r.refresh_busy_seconds:.3f}"),
        _scale_row("  billed requests", lambda r: str(r.refresh_billed)),
        _scale_row(
            "memory of the entry (KiB)",
            lambda r: "-" if r.memory_bytes is None else f"{r.memory_bytes / 1024:.0f}",
        ),
        _scale_row(
            "  per vehicle (KiB)",
            lambda r: (
                "-" if r.memory_bytes is None else f"{r.memory_bytes / 1024 / r.vehicles:.0f}"
            ),
        ),
        _scale_row("  added per extra vehicle (KiB)", _added_memory),
        _scale_row("entities", lambda r: str(r.entities)),
    ]
    if 10 in SCALE and 100 in SCALE:
        small, large = SCALE[10], SCALE[100]
        figures: dict[str, Callable[[ScaleResult], float | None]] = {
            "setup": lambda r: r.setup_seconds,
            "refresh": lambda r: r.refresh_seconds,
            "refresh busy": lambda r: r.refresh_busy_seconds,
            "memory": lambda r: r.memory_bytes,
        }
        ratios = {}
        for name, get in figures.items():
            x, y = get(small), get(large)
            if x and y is not None:
                ratios[name] = y / x
        # x10 is linear; a little above is noise, well above means a cost that grows faster.
        verdict = "linear" if all(r <= LINEAR_SLACK * 10 for r in ratios.values()) else "NOT linear"
        lines.append(
            "Growth from 10 to 100 vehicles (x10 is linear): "
            + ", ".join(f"{name} x{r:.1f}" for name, r in ratios.items())
            + f": {verdict}"
        )
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def webhook_lines() -> list[str]:
    """The delay from a report to the state shown, and the deliveries per second."""
    result = WEBHOOKS.get("result")
    if result is None:
        return []
    lines = [
        "Webhooks over real HTTP: the simulator's signed deliveries POSTed to Home Assistant's "
        "HTTP server (a socket), its webhook view, the entities"
    ]
    if result.from_report:
        median, p95 = percentiles(result.from_report)
        post_median, post_p95 = percentiles(result.from_post)
        lines.append(
            f"  a car's report to the state shown ({len(result.from_report)} deliveries, one "
            f"at a time): median {_ms(median)}, 95th percentile {_ms(p95)} (from the sender's "
            f"POST: {_ms(post_median)}, {_ms(post_p95)}); Smartcar's own delay comes on top"
        )
    if result.deliveries and result.seconds:
        median, p95 = percentiles(result.post_seconds)
        lines.append(
            f"  {result.vehicles} cars, one Home Assistant: {result.deliveries} deliveries, "
            f"{result.concurrency} at a time: {result.deliveries / result.seconds:.0f} "
            f"deliveries/s (event loop busy {_ms(result.busy_seconds / result.deliveries)} "
            f"per delivery; each POST median {_ms(median)}, 95th percentile {_ms(p95)})"
        )
    return lines


def report() -> tuple[bool | None, list[str]]:
    """Everything printed at the end of the run, and whether the targets were met."""
    passed, target_lines = targets()
    lines = ["", "=" * 24 + " Smartcar request budget benchmark " + "=" * 24]
    sections = [
        month_table(),
        target_lines,
        paths_lines() if MONTH else [],
        scale_table(),
        webhook_lines(),
    ]
    for section in sections:
        if section:
            lines.extend([*section, ""])
    return passed, lines
