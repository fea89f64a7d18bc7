"""Scale: 1, 10 and 100 vehicles. Setup time, one refresh of every vehicle, memory.

The simulator runs in a process of its own, so the timings and the memory are the
integration's (with Home Assistant around it) and nothing of Smartcar's side. Times and
memory are measured in separate runs, as tracing allocations slows everything down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import gc
import time
import tracemalloc
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from .conftest import progress
from .harness import (
    Now,
    VirtualTimer,
    make_entry,
    setup_credentials,
    token_data,
    virtual_time,
)
from .metrics import ScaleResult
from .remote import remote_simulator
from .report import SCALE
from .scenario import START

SIZES = (1, 10, 100)
# Far enough ahead that every path is due again (the slowest are weekly).
LATER = timedelta(days=8)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("measure", ["time", "memory"])
@pytest.mark.parametrize("vehicles", SIZES)
async def test_scale(
    hass: HomeAssistant,
    socket_enabled: None,
    vehicles: int,
    measure: str,
    request: pytest.FixtureRequest,
) -> None:
    """Set an entry up for `vehicles` cars, then refresh them all at once."""
    result = SCALE.setdefault(vehicles, ScaleResult(vehicles))
    now = Now(START)
    async with remote_simulator(hass, vehicles) as sim:
        with virtual_time(now), VirtualTimer(now).installed():
            await setup_credentials(hass, sim.url)
            tokens = sim.tokens
            entry = make_entry(
                token_data(tokens["access_token"], tokens["refresh_token"], tokens["expires_in"]),
                {},
            )
            entry.add_to_hass(hass)
            await hass.async_block_till_done()
            tracing = measure == "memory"
            gc.collect()
            if tracing:
                tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0] if tracing else 0

            setup = await _timed(hass, lambda: hass.config_entries.async_setup(entry.entry_id))
            coordinators = entry.runtime_data.coordinators
            assert len(coordinators) == vehicles

            await sim.advance(LATER)
            now.value += LATER
            billed_before = await sim.billed()
            refresh = await _timed(
                hass,
                lambda: asyncio.gather(*(c.async_refresh() for c in coordinators.values())),
            )
            billed = await sim.billed() - billed_before

            if tracing:
                gc.collect()
                result.memory_bytes = tracemalloc.get_traced_memory()[0] - baseline
                tracemalloc.stop()
            else:
                result.setup_seconds, result.setup_busy_seconds = setup
                result.refresh_seconds, result.refresh_busy_seconds = refresh
                result.refresh_billed = billed
                result.entities = len(
                    er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
                )
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    if tracing:
        done = f"{(result.memory_bytes or 0) / 1024:.0f} KiB"
    else:
        done = f"setup {setup[0]:.3f} s, refresh {refresh[0]:.3f} s"
    plural = "s" if vehicles > 1 else ""
    progress(request.config, f"scale {vehicles} vehicle{plural} ({measure}): {done}")


async def _timed(hass: HomeAssistant, work: Callable[[], Any]) -> tuple[float, float]:
    """Wall time and event-loop busy time (CPU time of the loop's thread) of `work`."""
    wall, busy = time.perf_counter(), time.thread_time()
    await work()
    await hass.async_block_till_done()
    return time.perf_counter() - wall, time.thread_time() - busy
