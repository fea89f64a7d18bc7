"""The simulator in a process of its own (`python -m bench.simserver N`), seen from the bench."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
import json
from pathlib import Path
import sys
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

ROOT = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class RemoteSimulator:
    """The simulator process: its URL and tokens, and its command line (standard input)."""

    hass: HomeAssistant
    url: str
    tokens: dict[str, Any]
    process: asyncio.subprocess.Process

    async def advance(self, delta: timedelta) -> None:
        """Move its virtual clock."""
        session = async_get_clientsession(self.hass)
        async with session.post(
            f"{self.url}/sim/clock", json={"advance": delta.total_seconds()}
        ) as response:
            response.raise_for_status()

    async def billed(self) -> int:
        """Billed requests so far, all vehicles."""
        session = async_get_clientsession(self.hass)
        async with session.get(f"{self.url}/sim/counters") as response:
            counters = await response.json()
        return sum(int(v["total"]) for v in counters["billed"].values())

    async def command(self, **command: Any) -> dict[str, Any]:
        """One command of `bench.simserver` (see there) and its answer."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        answer: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.process.stdout.readline(), 300)
        )
        return answer


@asynccontextmanager
async def remote_simulator(hass: HomeAssistant, vehicles: int) -> AsyncGenerator[RemoteSimulator]:
    """Start `python -m bench.simserver N`; stop it by closing its standard input."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.simserver",
        str(vehicles),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        line = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        yield RemoteSimulator(hass, line["url"], line, process)
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
