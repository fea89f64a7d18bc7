"""`python -m bench.simserver N`: a simulator with N generated vehicles, in a process of its own.

The scale benchmark measures the integration alone, so Smartcar's side runs elsewhere. Prints
one JSON line (url and tokens), then serves until its standard input closes. The clock is
frozen at the benchmark's start; `POST /sim/clock` moves it.
"""

from __future__ import annotations

import asyncio
import json
import sys

from smartcar_simulator import Simulator, SimulatorServer, VirtualClock, generated_vehicle

from .scenario import START, TOKEN_LIFETIME


async def serve(vehicles: int) -> None:
    """Serve until stdin reaches its end."""
    sim = Simulator(
        clock=VirtualClock(start=START, frozen=True),
        fleet=[generated_vehicle(i) for i in range(vehicles)],
        access_token_ttl=TOKEN_LIFETIME,
        refresh_token_ttl=TOKEN_LIFETIME,
    )
    async with SimulatorServer(sim, host="127.0.0.1", port=0) as server:
        tokens = sim.issue_tokens()
        line = {
            "url": server.url,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
