"""The state file: clock offset, users, tokens and vehicles survive a restart.

Token changes are written at once (an app must never hold a refresh token the file does not
know); other changes are written by `autosave()` at most every `interval` seconds and at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
import json
import os
from pathlib import Path
import tempfile
from typing import Any, Final

from .clock import isoformat_ms, parse_iso, utc_now
from .simulator import Simulator

VERSION: Final = 1


class StateFileError(Exception):
    """The state file exists but cannot be used."""


def dump_state(sim: Simulator) -> dict[str, Any]:
    """Everything worth keeping, as JSON-ready data."""
    now = sim.clock.now()
    wall = utc_now()
    return {
        "version": VERSION,
        "saved_at": isoformat_ms(wall),
        "clock": {
            "now": now.isoformat(),
            "offset": (now - wall).total_seconds(),
            "frozen": sim.clock.frozen,
            "speed": sim.clock.speed,
        },
        "accounts": sim.accounts.dump(),
        "tokens": sim.tokens.dump(),
        "vehicles": {vehicle.id: vehicle.as_dict() for vehicle in sim.vehicles},
        "webhooks": {w: sorted(vehicle_ids) for w, vehicle_ids in sim.webhooks.items()},
    }


def load_state(sim: Simulator, data: dict[str, Any]) -> None:
    """Apply what `dump_state` wrote (vehicles that no longer exist are skipped).

    A frozen clock resumes where it stopped; a running one keeps its offset to real time
    (so virtual time went on while the simulator was down).
    """
    if data.get("version") != VERSION:
        raise StateFileError(f"unsupported state file version {data.get('version')!r}")
    try:
        clock = data["clock"]
        if sim.clock.frozen:
            sim.clock.set(parse_iso(clock["now"]))
        else:
            sim.clock.set(utc_now() + timedelta(seconds=float(clock["offset"])))
        sim.accounts.load(data.get("accounts", {}), sim.fleet)
        sim.tokens.load(data.get("tokens", {}))
        for vehicle_id, saved in data.get("vehicles", {}).items():
            if vehicle_id in sim.fleet:
                sim.fleet[vehicle_id].load(saved)
        for webhook_id, vehicle_ids in data.get("webhooks", {}).items():
            if webhook_id in sim.webhooks:
                sim.webhooks[webhook_id] = {v for v in vehicle_ids if v in sim.fleet}
    except (KeyError, TypeError, ValueError) as err:
        raise StateFileError(f"damaged state file: {err!r}") from err


class StateFile:
    """Load a simulator from `path` and keep the file up to date."""

    def __init__(self, path: str | os.PathLike[str], sim: Simulator) -> None:
        self.path = Path(path)
        self.sim = sim
        self._dirty = False
        self._attached = False

    def load(self) -> bool:
        """Load the file when it exists; False when there was none."""
        if not self.path.exists():
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise StateFileError(f"cannot read {self.path}: {err}") from err
        if not isinstance(data, dict):
            raise StateFileError(f"{self.path} does not hold a JSON object")
        load_state(self.sim, data)
        return True

    def attach(self) -> None:
        """Save on every change from now on (urgent ones at once)."""
        if not self._attached:
            self.sim.add_listener(self._on_change)
            self._attached = True

    def _on_change(self, urgent: bool) -> None:
        self._dirty = True
        if urgent:
            self.save()

    def save(self) -> None:
        """Write the file atomically (temp file + rename)."""
        data = dump_state(self.sim)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
        self._dirty = False

    async def autosave(self, interval: float = 1.0) -> None:
        """Save pending changes every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            if self._dirty:
                self.save()
