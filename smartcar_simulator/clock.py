"""The virtual clock every part of the simulator reads its time from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import time


def utc_now() -> datetime:
    """Return the real wall-clock time, timezone aware (UTC)."""
    return datetime.now(UTC)


def isoformat_ms(moment: datetime) -> str:
    """Format a time as Smartcar does: ISO 8601, milliseconds, UTC with a `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time; a naive time is taken as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class VirtualClock:
    """Virtual time: frozen (moves only on `advance`/`set`) or running at `speed` x real time.

    `now()` is cheap: one monotonic read and a multiplication.
    """

    def __init__(
        self, start: datetime | None = None, *, frozen: bool = False, speed: float = 1.0
    ) -> None:
        if speed < 0:
            raise ValueError("speed must not be negative")
        if start is None:
            start = utc_now()
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._base = start.astimezone(UTC)
        self._anchor = time.monotonic()
        self._frozen = frozen
        self._speed = speed

    @property
    def frozen(self) -> bool:
        """True when time only moves on `advance()`/`set()`."""
        return self._frozen

    @property
    def speed(self) -> float:
        """How many virtual seconds pass per real second (when not frozen)."""
        return self._speed

    def now(self) -> datetime:
        """The current virtual time (UTC)."""
        if self._frozen:
            return self._base
        elapsed = (time.monotonic() - self._anchor) * self._speed
        return self._base + timedelta(seconds=elapsed)

    def timestamp(self) -> float:
        """The current virtual time as POSIX seconds."""
        return self.now().timestamp()

    def _rebase(self, moment: datetime) -> None:
        self._base = moment
        self._anchor = time.monotonic()

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward by `seconds` (must not be negative); return the new now."""
        if seconds < 0:
            raise ValueError("cannot advance the clock by a negative amount")
        self._rebase(self.now() + timedelta(seconds=seconds))
        return self._base

    def set(self, moment: datetime) -> datetime:
        """Jump to `moment` (naive means UTC); return it."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self._rebase(moment.astimezone(UTC))
        return self._base

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or restart) the flow of time at the current virtual moment."""
        self._rebase(self.now())
        self._frozen = frozen

    def set_speed(self, speed: float) -> None:
        """Change how fast virtual time runs from now on."""
        if speed < 0:
            raise ValueError("speed must not be negative")
        self._rebase(self.now())
        self._speed = speed

    def as_dict(self) -> dict[str, object]:
        """JSON form, as `GET /sim/clock` returns it."""
        now = self.now()
        return {
            "now": isoformat_ms(now),
            "timestamp": now.timestamp(),
            "frozen": self._frozen,
            "speed": self._speed,
        }
