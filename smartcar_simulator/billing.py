"""Request counters (billed, HTTP, token) and the per-vehicle rate limit."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Final

DEFAULT_RATE_LIMIT: Final = 120
DEFAULT_RATE_WINDOW: Final = 3600.0


class Meter:
    """Counts requests and enforces `rate_limit` billed requests per `window` per vehicle."""

    def __init__(
        self, rate_limit: int = DEFAULT_RATE_LIMIT, window: float = DEFAULT_RATE_WINDOW
    ) -> None:
        if rate_limit < 1 or window <= 0:
            raise ValueError("rate_limit must be >= 1 and the window positive")
        self.rate_limit = rate_limit
        self.window = window
        self._billed: dict[str, Counter[str]] = {}
        self._http: Counter[str] = Counter()
        self._tokens: Counter[str] = Counter()
        self._recent: dict[str, deque[float]] = {}

    def count_http(self, key: str) -> None:
        """One HTTP request ("GET /v2.0/user")."""
        self._http[key] += 1

    def count_token(self, grant_type: str) -> None:
        """One token endpoint request, by grant type."""
        self._tokens[grant_type] += 1

    def retry_after(self, vehicle_id: str, now: float, needed: int = 1) -> float | None:
        """None when `needed` more billed requests fit; else seconds until they do."""
        recent = self._recent.get(vehicle_id)
        if recent is None:
            return None if needed <= self.rate_limit else self.window
        horizon = now - self.window
        while recent and recent[0] <= horizon:
            recent.popleft()
        if len(recent) + needed <= self.rate_limit:
            return None
        if needed > self.rate_limit:
            return self.window
        # The (len + needed - limit)-th oldest request must leave the window.
        oldest_needed = recent[len(recent) + needed - self.rate_limit - 1]
        return max(1.0, oldest_needed + self.window - now)

    def bill(self, vehicle_id: str, keys: Iterable[str], now: float) -> None:
        """Bill one request per key ("GET /battery") to the vehicle."""
        counter = self._billed.setdefault(vehicle_id, Counter())
        recent = self._recent.setdefault(vehicle_id, deque())
        for key in keys:
            counter[key] += 1
            recent.append(now)

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy of every counter."""
        return {
            "billed": {
                vehicle_id: {"total": counter.total(), "by_path": dict(counter)}
                for vehicle_id, counter in self._billed.items()
            },
            "http_requests": dict(self._http),
            "token_requests": dict(self._tokens),
        }

    def reset(self) -> None:
        """Zero the counters and the rate-limit windows."""
        self._billed.clear()
        self._http.clear()
        self._tokens.clear()
        self._recent.clear()
