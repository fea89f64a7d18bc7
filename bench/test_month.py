"""The simulated month, once per policy (each in a fresh Home Assistant)."""

from __future__ import annotations

import json
import os

from homeassistant.core import HomeAssistant
import pytest

from .conftest import progress
from .month import POLICIES, Policy, make_simulator, run_month, the_life
from .report import LIFE_SUMMARY, MONTH, POLICY_SUMMARY
from .scenario import describe


@pytest.mark.timeout(900)
@pytest.mark.parametrize("policy", POLICIES, ids=[p.key for p in POLICIES])
async def test_month(
    hass: HomeAssistant, socket_enabled: None, policy: Policy, request: pytest.FixtureRequest
) -> None:
    """Live the month with this policy; the table is printed at the end of the run."""
    if not LIFE_SUMMARY:
        LIFE_SUMMARY.extend(describe(the_life(make_simulator())))
        POLICY_SUMMARY.append(
            "  policies: " + "; ".join(f"{p.label}: {p.description}" for p in POLICIES)
        )
    dump = os.environ.get("BENCH_DUMP")
    trace = os.environ.get("BENCH_TRACE")
    result = await run_month(hass, policy, keep_samples=bool(dump), trace=bool(trace))
    MONTH[policy.key] = result
    billed = ", ".join(f"{c.name} {c.billed}" for c in result.cars.values())
    progress(request.config, f"month {policy.label}: {result.wall_seconds:.1f} s, billed {billed}")
    if dump:
        _write(f"{dump}.{policy.key}.json", json.dumps(result.samples))
    if trace:
        _write(f"{trace}.{policy.key}.txt", "\n".join(result.trace) + "\n")


def _write(path: str, text: str) -> None:
    """BENCH_DUMP=prefix: every comparison sample (JSON); BENCH_TRACE=prefix: the trace."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
