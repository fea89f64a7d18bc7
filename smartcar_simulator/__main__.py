"""`python -m smartcar_simulator --port 8765`: run the simulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .billing import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW
from .clock import VirtualClock, parse_iso
from .server import SimulatorServer
from .simulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_MANAGEMENT_TOKEN,
    DEFAULT_WEBHOOK_ID,
    Simulator,
)
from .state import StateFile, StateFileError
from .tokens import DEFAULT_ACCESS_TTL, DEFAULT_REFRESH_GRACE


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m smartcar_simulator",
        description="A Smartcar API simulator (Connect, OAuth, Vehicles API) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument(
        "--management-token",
        default=DEFAULT_MANAGEMENT_TOKEN,
        help="the application management token (webhook unsubscribe, v2 management API)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="virtual seconds per second")
    parser.add_argument("--frozen", action="store_true", help="time moves only via /sim/clock")
    parser.add_argument("--start", help="virtual start time (ISO 8601; default: now)")
    parser.add_argument(
        "--extra-vehicles", type=int, default=0, help="generated vehicles (EV/petrol)"
    )
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT)
    parser.add_argument(
        "--rate-limit-window", type=float, default=DEFAULT_RATE_WINDOW, help="seconds"
    )
    parser.add_argument("--access-token-ttl", type=int, default=DEFAULT_ACCESS_TTL)
    parser.add_argument("--refresh-grace", type=float, default=DEFAULT_REFRESH_GRACE)
    parser.add_argument("--state-file", help="load at start, save on change and at exit")
    parser.add_argument("--reset", action="store_true", help="ignore an existing state file")
    return parser


async def serve(args: argparse.Namespace) -> int:
    """Run until a signal arrives; return the exit code."""
    clock = VirtualClock(
        start=parse_iso(args.start) if args.start else None, frozen=args.frozen, speed=args.speed
    )
    sim = Simulator(
        clock=clock,
        extra_vehicles=args.extra_vehicles,
        client_id=args.client_id,
        client_secret=args.client_secret,
        management_token=args.management_token,
        access_token_ttl=args.access_token_ttl,
        refresh_grace=args.refresh_grace,
        rate_limit=args.rate_limit,
        rate_limit_window=args.rate_limit_window,
    )
    state_file: StateFile | None = None
    if args.state_file:
        state_file = StateFile(args.state_file, sim)
        if not args.reset:
            try:
                if state_file.load():
                    print(f"state loaded from {state_file.path}", flush=True)
            except StateFileError as err:
                print(f"error: {err} (use --reset to start afresh)", file=sys.stderr)
                return 2
        state_file.attach()
        state_file.save()

    server = SimulatorServer(sim, args.host, args.port)
    await server.start()
    print(f"Smartcar simulator listening on {server.url}", flush=True)
    print(f"client_id: {sim.client_id}", flush=True)
    print(f"client_secret: {sim.client_secret}", flush=True)
    print(f"management_token: {sim.management_token}", flush=True)
    print(f"webhook_id: {DEFAULT_WEBHOOK_ID}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    autosave = asyncio.create_task(state_file.autosave()) if state_file else None
    try:
        await stop.wait()
    finally:
        if autosave is not None:
            autosave.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await autosave
        await server.stop()
        if state_file is not None:
            state_file.save()
    print("Smartcar simulator stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.speed < 0:
        parser.error("--speed must not be negative")
    if args.rate_limit < 1 or args.rate_limit_window <= 0:
        parser.error("--rate-limit must be >= 1 and --rate-limit-window positive")
    if args.extra_vehicles < 0:
        parser.error("--extra-vehicles must not be negative")
    if args.host not in {"localhost", "::1"} and not args.host.startswith("127."):
        parser.error("--host must be a loopback address")
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
