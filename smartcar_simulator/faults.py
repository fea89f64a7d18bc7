"""Injected faults: errors, timeouts, slow answers, captive portals, malformed or empty bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict, Unpack
import uuid

from . import errors
from .errors import SmartcarError

KINDS: Final = frozenset({"timeout", "slow", "non_json", "malformed", "empty"})
UNBILLED_KINDS: Final = frozenset({"non_json", "empty"})  # never reached Smartcar
DEFAULT_DELAY: Final = {"timeout": 30.0, "slow": 2.0}


@dataclass(slots=True)
class Fault:
    """One injected fault; `error` or `kind` says what happens."""

    vehicle_id: str | None = None
    path: str | None = None
    method: str | None = None
    count: int | None = None
    error: SmartcarError | None = None
    error_spec: dict[str, Any] | None = None
    kind: str | None = None
    delay: float = 0.0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    fired: int = 0

    def as_json(self) -> dict[str, Any]:
        """JSON form (as `GET /sim/faults` lists it)."""
        return {
            "id": self.id,
            "vehicle_id": self.vehicle_id,
            "path": self.path,
            "method": self.method,
            "count": self.count,
            "error": self.error_spec,
            "kind": self.kind,
            "delay": self.delay,
            "fired": self.fired,
        }

    @property
    def billed(self) -> bool:
        """False for faults that mimic a network that never reached Smartcar."""
        return self.kind not in UNBILLED_KINDS


class FaultSpec(TypedDict, total=False):
    """What a fault matches and does (see the contract): the fields `Simulator.inject_fault`
    and `POST /sim/faults` take besides `vehicle_id`."""

    path: str | None
    method: str | None
    count: int | None
    error: Mapping[str, Any] | None
    kind: str | None
    delay: float | None


def make_fault(*, vehicle_id: str | None = None, **fields: Unpack[FaultSpec]) -> Fault:
    """Validate a fault description; raise ValueError when it makes no sense."""
    if unknown := set(fields) - FaultSpec.__optional_keys__:
        raise TypeError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    path, method, count = fields.get("path"), fields.get("method"), fields.get("count")
    error, kind, delay = fields.get("error"), fields.get("kind"), fields.get("delay")
    if (error is None) == (kind is None):
        raise ValueError("a fault needs exactly one of 'error' and 'kind'")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError("count must be a positive integer")
    if delay is not None and (
        isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0
    ):
        raise ValueError("delay must be a non-negative number of seconds")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise ValueError("path must start with '/'")
    if method is not None and not isinstance(method, str):
        raise ValueError("method must be a string")
    if vehicle_id is not None and not isinstance(vehicle_id, str):
        raise ValueError("vehicle_id must be a string")
    built = None
    spec = None
    if error is not None:
        if not isinstance(error, Mapping):
            raise ValueError("error must be an object")
        spec = dict(error)
        built = errors.from_spec(spec)
    return Fault(
        vehicle_id=vehicle_id,
        path=(path.rstrip("/") or "/") if path else None,
        method=method.upper() if method else None,
        count=count,
        error=built,
        error_spec=spec,
        kind=kind,
        delay=float(delay) if delay is not None else DEFAULT_DELAY.get(kind or "", 0.0),
    )


class FaultSet:
    """The active faults, first injected first matched."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a fault."""
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def remove(self, fault_id: str) -> bool:
        """Remove one fault; False when unknown."""
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def list(self) -> list[Fault]:
        """The active faults."""
        return list(self._faults)

    def fire(
        self,
        paths: Iterable[str],
        method: str,
        vehicle_id: str | None = None,
        *,
        explicit_path: bool = False,
    ) -> Fault | None:
        """The first fault matching the request (its count is used up), else None.

        `paths` are the names the request goes by ("/battery", "/v2.0/vehicles/x/battery").
        With `explicit_path`, faults without a path do not match (batch items).
        """
        if not self._faults:
            return None
        names = set(paths)
        for fault in self._faults:
            if fault.path is None and explicit_path:
                continue
            if fault.path is not None and fault.path not in names:
                continue
            if fault.method is not None and fault.method != method:
                continue
            if fault.vehicle_id is not None and fault.vehicle_id != vehicle_id:
                continue
            fault.fired += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
            return fault
        return None
