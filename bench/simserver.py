"""`python -m bench.simserver N`: a simulator with N generated vehicles, in a process of its own.

The scale benchmark measures the integration alone, so Smartcar's side runs elsewhere. Prints
one JSON line (url, tokens, management token), then serves until its standard input closes.
The clock is frozen at the benchmark's start; `POST /sim/clock` moves it.

Standard input also takes commands, one JSON line each, answered by one JSON line:

- `{"prepare": {"url": ..., "rounds": R}}`: the webhook sender's deliveries to `url`, made
  but not sent: one FIRST_DELIVERY per car, then R rounds in which every car reports (a
  minute later each round, its lock state changed). The bodies and signatures are the
  sender's own (`deliver_due()` with its POST captured). Answers the count and the clock.
- `{"flood": {"concurrency": C, "which": "first" | "rounds"}}`: POST the first deliveries
  or the rounds' that `prepare` made, C at a time; answers the time it took, the statuses
  and each POST's time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import json
import sys
import time
from typing import Any
from unittest.mock import patch

import aiohttp

from smartcar_simulator import Simulator, SimulatorServer, VirtualClock, generated_vehicle, webhooks
from smartcar_simulator.simulator import DEFAULT_WEBHOOK_ID

from .scenario import START, TOKEN_LIFETIME

ROUND_SECONDS = 60.0

type Delivery = tuple[str, bytes, dict[str, str]]


async def prepare(sim: Simulator, url: str, rounds: int) -> tuple[list[Delivery], list[Delivery]]:
    """The first deliveries and those of `rounds` rounds of reports, as the sender makes them."""
    sender = webhooks.sender_of(sim)
    sender.configure(DEFAULT_WEBHOOK_ID, url=url, verified=True)
    made: list[Delivery] = []

    async def capture(
        url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bytes]:
        made.append((url, body, headers))
        return 200, None, b""

    with patch.object(sender, "_post", capture):
        await sender.deliver_due()
        first = list(made)
        made.clear()
        for _ in range(rounds):
            sim.clock.advance(ROUND_SECONDS)
            for vehicle in sim.fleet.values():
                if vehicle.state.locked:
                    vehicle.unlock()
                else:
                    vehicle.lock()
            await sender.deliver_due()
    sender.configure(DEFAULT_WEBHOOK_ID, url=None)
    return first, made


async def flood(
    session: aiohttp.ClientSession, deliveries: list[Delivery], concurrency: int
) -> dict[str, Any]:
    """POST every delivery, `concurrency` at a time; the wall time, statuses, each POST's."""
    queue = list(reversed(deliveries))
    statuses: Counter[int] = Counter()
    times: list[float] = []

    async def worker() -> None:
        while queue:
            url, body, headers = queue.pop()
            began = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1
            times.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "deliveries": len(deliveries),
        "seconds": time.perf_counter() - began,
        "statuses": {str(k): v for k, v in statuses.items()},
        "post_seconds": times,
    }


async def serve(vehicles: int) -> None:
    """Serve (and answer commands) until stdin reaches its end."""
    sim = Simulator(
        clock=VirtualClock(start=START, frozen=True),
        fleet=[generated_vehicle(i) for i in range(vehicles)],
        access_token_ttl=TOKEN_LIFETIME,
        refresh_token_ttl=TOKEN_LIFETIME,
    )
    loop = asyncio.get_running_loop()
    first: list[Delivery] = []
    rounds: list[Delivery] = []
    async with (
        SimulatorServer(sim, host="127.0.0.1", port=0, deliver_webhooks=False) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False) as session,
    ):
        tokens = sim.issue_tokens()
        line = {
            "url": server.url,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "management_token": sim.management_token,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        while text := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(text)
            answer: dict[str, Any]
            if "prepare" in command:
                args = command["prepare"]
                first, rounds = await prepare(sim, args["url"], args["rounds"])
                answer = {"first": len(first), "deliveries": len(rounds)}
                answer["now"] = sim.clock.now().isoformat()
            elif "flood" in command:
                args = command["flood"]
                which = first if args.get("which") == "first" else rounds
                answer = await flood(session, which, args["concurrency"])
            else:
                answer = {"error": f"unknown command {text.strip()}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
