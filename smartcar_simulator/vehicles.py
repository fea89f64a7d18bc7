"""Vehicle physics, integrated lazily.

Every vehicle keeps its true state and, separately, the last state it *reported* (what the API
serves, with `sc-data-age` = when it reported). A car reports on every change or command, every
10 minutes while driving or charging, and when a charge or a drive ends; idle it stays silent.
Time comes from the virtual clock; `sync()` integrates from the last sync to now in steps that
end at the next event (report, charge limit reached, arrival, empty battery or tank).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Final

from .clock import VirtualClock, isoformat_ms, parse_iso
from .fleet import VehicleSpec

REPORT_INTERVAL: Final = 600.0  # seconds between reports while driving or charging
OIL_LIFE_KM: Final = 15000.0  # km from fresh oil to 0 % life
_EPS: Final = 1e-7  # fractions (battery, fuel, charge limit)
_EPS_KM: Final = 1e-4  # 10 cm
_MIN_STEP: Final = 1e-3  # seconds: guards against zero-length steps
_EARTH_RADIUS_KM: Final = 6371.0088


@dataclass(slots=True)
class VehicleState:
    """The truth about one vehicle (JSON-friendly: fractions 0..1, km, degrees)."""

    latitude: float
    longitude: float
    odometer: float
    locked: bool = True
    battery: float | None = None
    charge_limit: float | None = None
    plugged: bool = False
    charge_enabled: bool = False  # the car wants to charge when plugged in (START / plug-in)
    charging: bool = False  # derived: energy is flowing now
    charge_state: str | None = None  # CHARGING | FULLY_CHARGED | NOT_CHARGING (no battery: None)
    # kWh put into the battery in the current (or last) charging session (no battery: None);
    # a session starts whenever energy starts flowing (plug-in, START, limit raised).
    charge_energy_kwh: float | None = None
    fuel: float | None = None
    oil_life: float | None = None
    dtcs: list[dict[str, str]] = field(default_factory=list)
    destination: dict[str, Any] | None = None
    driving: bool = False
    speed_kmh: float = 0.0
    target: list[float] | None = None  # [latitude, longitude] while driving

    @property
    def location(self) -> tuple[float, float]:
        """(latitude, longitude)."""
        return (self.latitude, self.longitude)

    def copy(self) -> VehicleState:
        """An independent copy (lists and dicts are replaced, never mutated in place)."""
        return replace(self)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


SETTABLE_FIELDS: Final = frozenset(
    {
        "latitude",
        "longitude",
        "odometer",
        "locked",
        "battery",
        "charge_limit",
        "plugged",
        "charge_enabled",
        "charging",
        "fuel",
        "oil_life",
        "dtcs",
        "destination",
    }
)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _fraction(value: Any, name: str, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return float(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def validate_coordinates(latitude: Any, longitude: Any) -> tuple[float, float]:
    """Check latitude (-90..90) and longitude (-180..180); raise ValueError otherwise."""
    return (
        _fraction(latitude, "latitude", -90.0, 90.0),
        _fraction(longitude, "longitude", -180.0, 180.0),
    )


class Vehicle:
    """One simulated vehicle: its spec, true state, last report and lazy physics."""

    def __init__(self, spec: VehicleSpec, clock: VirtualClock) -> None:
        self.spec = spec
        self._clock = clock
        self._state = self._initial_state(spec, clock.now())
        self._derive_charge()
        now = clock.timestamp()
        self._t = now
        self._reported = self._state.copy()
        self._reported_at = now - spec.initial_age
        self._next_report: float | None = None
        self.on_change: Callable[[], None] | None = None
        # Called with (vehicle, the new report, when) on every report (the webhook sender).
        self.report_listeners: list[Callable[[Vehicle, VehicleState, float], None]] = []

    @staticmethod
    def _initial_state(spec: VehicleSpec, now: datetime) -> VehicleState:
        init = dict(spec.initial)
        if "dtcs" in init:
            # A code's `age` (seconds before the start) becomes its timestamp: the world is
            # the same whatever instant the simulator starts at.
            init["dtcs"] = [_dated_code(code, now) for code in init["dtcs"]]
        state = VehicleState(
            latitude=float(init.pop("latitude", 0.0)),
            longitude=float(init.pop("longitude", 0.0)),
            odometer=float(init.pop("odometer", 0.0)),
        )
        if spec.has_battery:
            state.battery = 0.5
            state.charge_limit = 0.8
            state.charge_energy_kwh = 0.0
        if spec.has_tank:
            state.fuel = 0.5
            state.oil_life = 0.8
        for key, value in init.items():
            setattr(state, key, value)
        return state

    # -- identity -----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The Smartcar vehicle id."""
        return self.spec.id

    @property
    def key(self) -> str:
        """The short name ("ev", "phev", "petrol", "sim-003", ...)."""
        return self.spec.key

    def supports(self, path: str) -> bool:
        """True when the car has the feature behind this vehicle-relative path."""
        return path in self.spec.capabilities

    # -- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> VehicleState:
        """The truth, integrated to the clock's now."""
        self.sync()
        return self._state

    def reported(self) -> tuple[VehicleState, datetime]:
        """The last reported state and when it was reported (what the API serves)."""
        self.sync()
        return self._reported, datetime.fromtimestamp(self._reported_at, UTC)

    def battery_range_km(self, state: VehicleState) -> float:
        """Electric range of `state`."""
        if state.battery is None or self.spec.kwh_per_km <= 0:
            return 0.0
        return state.battery * self.spec.battery_kwh / self.spec.kwh_per_km

    def fuel_range_km(self, state: VehicleState) -> float:
        """Fuel range of `state`."""
        if state.fuel is None or self.spec.l_per_100km <= 0:
            return 0.0
        return state.fuel * self.spec.tank_l / (self.spec.l_per_100km / 100.0)

    def fuel_amount_l(self, state: VehicleState) -> float:
        """Litres in the tank."""
        return (state.fuel or 0.0) * self.spec.tank_l

    # -- actions (each one is a change: the car reports at once) ------------------------------

    def plug_in(self) -> None:
        """Plug in; charging starts when the battery is below the charge limit."""
        self._require_battery()
        self.sync()
        self._stop_driving()
        self._state.plugged = True
        self._state.charge_enabled = True
        self._changed()

    def unplug(self) -> None:
        """Unplug; charging stops."""
        self._require_battery()
        self.sync()
        self._state.plugged = False
        self._state.charge_enabled = False
        self._changed()

    def start_charge(self) -> None:
        """START command; raises ValueError when unplugged."""
        self._require_battery()
        self.sync()
        if not self._state.plugged:
            raise ValueError("The vehicle is not plugged in.")
        self._state.charge_enabled = True
        self._changed()

    def stop_charge(self) -> None:
        """STOP command."""
        self._require_battery()
        self.sync()
        self._state.charge_enabled = False
        self._changed()

    def set_charge_limit(self, limit: float) -> None:
        """Set the charge limit (0.5..1.0)."""
        self._require_battery()
        value = _fraction(limit, "limit", 0.5, 1.0)
        self.sync()
        self._state.charge_limit = value
        self._changed()

    def lock(self) -> None:
        """Lock the doors."""
        self.sync()
        self._state.locked = True
        self._changed()

    def unlock(self) -> None:
        """Unlock the doors."""
        self.sync()
        self._state.locked = False
        self._changed()

    def set_destination(
        self, latitude: float, longitude: float, address: str | None = None
    ) -> None:
        """Send a navigation destination to the car (it does not start driving)."""
        lat, lon = validate_coordinates(latitude, longitude)
        self.sync()
        self._state.destination = {"latitude": lat, "longitude": lon, "address": address}
        self._changed()

    def drive_to(self, latitude: float, longitude: float, speed_kmh: float = 50.0) -> None:
        """Start driving in a straight line to (latitude, longitude) at `speed_kmh`."""
        lat, lon = validate_coordinates(latitude, longitude)
        speed = _number(speed_kmh, "speed_kmh")
        if speed <= 0:
            raise ValueError("speed_kmh must be positive")
        self.sync()
        state = self._state
        if state.plugged:
            state.plugged = False
            state.charge_enabled = False
        state.driving = True
        state.speed_kmh = speed
        state.target = [lat, lon]
        self._settle()
        self._changed()

    def park(self) -> None:
        """Stop where the car is."""
        self.sync()
        self._stop_driving()
        self._changed()

    def set(self, **values: Any) -> None:
        """Overwrite state fields (see SETTABLE_FIELDS); validated, then reported."""
        unknown = set(values) - SETTABLE_FIELDS
        if unknown:
            raise ValueError(f"unknown state fields: {', '.join(sorted(unknown))}")
        checked = self._check_fields(values)
        self.sync()
        for name, value in checked.items():
            setattr(self._state, name, value)
        if "charging" in checked:
            self._state.charge_enabled = bool(checked["charging"])
        self._changed()

    def _check_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name in {"battery", "charge_limit", "plugged", "charge_enabled", "charging"}:
                self._require_battery()
            if name in {"fuel", "oil_life"} and not self.spec.has_tank:
                raise ValueError(f"{self.key} has no fuel tank")
            if name in {"battery", "fuel", "oil_life"}:
                out[name] = _fraction(value, name)
            elif name == "charge_limit":
                out[name] = _fraction(value, name, 0.5, 1.0)
            elif name in {"plugged", "charge_enabled", "charging", "locked"}:
                out[name] = _flag(value, name)
            elif name == "odometer":
                out[name] = _number(value, name)
                if out[name] < 0:
                    raise ValueError("odometer must not be negative")
            elif name == "latitude":
                out[name] = _fraction(value, name, -90.0, 90.0)
            elif name == "longitude":
                out[name] = _fraction(value, name, -180.0, 180.0)
            elif name == "dtcs":
                out[name] = self._check_dtcs(value)
            elif name == "destination":
                if value is not None:
                    if not isinstance(value, dict):
                        raise ValueError("destination must be an object or null")
                    lat, lon = validate_coordinates(value.get("latitude"), value.get("longitude"))
                    out[name] = {"latitude": lat, "longitude": lon, "address": value.get("address")}
                else:
                    out[name] = None
        return out

    def _check_dtcs(self, value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise ValueError("dtcs must be a list")
        codes: list[dict[str, str]] = []
        for item in value:
            if isinstance(item, str):
                codes.append({"code": item, "timestamp": isoformat_ms(self._clock.now())})
            elif isinstance(item, dict) and isinstance(item.get("code"), str):
                stamp = item.get("timestamp")
                codes.append(
                    {
                        "code": item["code"],
                        "timestamp": stamp
                        if isinstance(stamp, str)
                        else isoformat_ms(self._clock.now()),
                    }
                )
            else:
                raise ValueError("each dtc is a code string or {code, timestamp}")
        return codes

    def _require_battery(self) -> None:
        if not self.spec.has_battery:
            raise ValueError(f"{self.key} has no traction battery")

    def _stop_driving(self) -> None:
        state = self._state
        state.driving = False
        state.speed_kmh = 0.0
        state.target = None

    def _changed(self) -> None:
        self._derive_charge()
        self._report(self._t)
        if self.on_change is not None:
            self.on_change()

    # -- physics ------------------------------------------------------------------------------

    def _derive_charge(self) -> bool:
        """Recompute `charging`/`charge_state`; True when `charge_state` changed."""
        state = self._state
        before, was_charging = state.charge_state, state.charging
        if state.battery is None or state.charge_limit is None:
            state.charging = False
            state.charge_state = None
        elif not state.plugged:
            state.charging = False
            state.charge_state = "NOT_CHARGING"
        elif state.battery >= state.charge_limit - _EPS:
            state.charging = False
            state.charge_state = "FULLY_CHARGED"
        elif state.charge_enabled:
            state.charging = True
            state.charge_state = "CHARGING"
        else:
            state.charging = False
            state.charge_state = "NOT_CHARGING"
        if state.charging and not was_charging:
            state.charge_energy_kwh = 0.0  # a new session
        return state.charge_state != before

    def _charge_rate(self) -> float:
        """Battery fraction per second while charging."""
        return self.spec.charge_kw / self.spec.battery_kwh / 3600.0

    def _seconds_to_event(self) -> float:
        state = self._state
        best = math.inf
        if state.charging and state.battery is not None and state.charge_limit is not None:
            best = min(best, (state.charge_limit - state.battery) / self._charge_rate())
        if state.driving and state.target is not None and state.speed_kmh > 0:
            km_per_s = state.speed_kmh / 3600.0
            remaining = haversine_km(state.latitude, state.longitude, *state.target)
            best = min(best, remaining / km_per_s)
            battery_km = self.battery_range_km(state)
            if battery_km > _EPS_KM:
                best = min(best, battery_km / km_per_s)
            elif self.spec.has_tank:
                best = min(best, self.fuel_range_km(state) / km_per_s)
        return max(best, _MIN_STEP)

    def _integrate(self, seconds: float) -> None:
        state = self._state
        if state.charging and state.battery is not None and state.charge_limit is not None:
            before = state.battery
            state.battery = min(state.charge_limit, state.battery + self._charge_rate() * seconds)
            added = (state.battery - before) * self.spec.battery_kwh
            state.charge_energy_kwh = (state.charge_energy_kwh or 0.0) + added
        if state.driving and state.target is not None:
            remaining = haversine_km(state.latitude, state.longitude, *state.target)
            km = min(state.speed_kmh * seconds / 3600.0, remaining)
            if km >= remaining - _EPS_KM:
                state.latitude, state.longitude = state.target
            elif remaining > 0:
                share = km / remaining
                state.latitude += (state.target[0] - state.latitude) * share
                state.longitude += (state.target[1] - state.longitude) * share
            state.odometer += km
            self._consume(km)
            if state.oil_life is not None:
                state.oil_life = max(0.0, state.oil_life - km / OIL_LIFE_KM)

    def _consume(self, km: float) -> None:
        state, spec = self._state, self.spec
        if state.battery is not None and spec.kwh_per_km > 0:
            electric_km = min(km, self.battery_range_km(state))
            state.battery = max(
                0.0, state.battery - electric_km * spec.kwh_per_km / spec.battery_kwh
            )
            km -= electric_km
        if km > 0 and state.fuel is not None and spec.l_per_100km > 0:
            state.fuel = max(0.0, state.fuel - km * spec.l_per_100km / 100.0 / spec.tank_l)

    def _settle(self) -> bool:
        """Resolve transitions at the current instant; True when the car should report."""
        state = self._state
        report = False
        if state.battery is not None and state.battery < _EPS:
            state.battery = 0.0
        if state.fuel is not None and state.fuel < _EPS:
            state.fuel = 0.0
        if state.driving and state.target is not None:
            arrived = haversine_km(state.latitude, state.longitude, *state.target) <= _EPS_KM
            empty = self.battery_range_km(state) <= _EPS_KM and self.fuel_range_km(state) <= (
                _EPS_KM
            )
            if arrived:
                state.latitude, state.longitude = state.target
            if arrived or empty:
                self._stop_driving()
                report = True
        if (
            state.charging
            and state.battery is not None
            and state.charge_limit is not None
            and state.battery >= state.charge_limit - _EPS
        ):
            state.battery = state.charge_limit
        return self._derive_charge() or report

    def _active(self) -> bool:
        return self._state.charging or self._state.driving

    def _report(self, at: float) -> None:
        self._reported = self._state.copy()
        self._reported_at = at
        self._next_report = at + REPORT_INTERVAL if self._active() else None
        for listener in self.report_listeners:
            listener(self, self._reported, at)

    def sync(self) -> None:
        """Integrate the physics from the last sync to the clock's now."""
        now = self._clock.timestamp()
        if now <= self._t:
            if now < self._t:  # the clock was set back: start again from there
                self._t = now
                if self._next_report is not None:
                    self._next_report = now + REPORT_INTERVAL
            return
        changed = False
        while self._t < now and self._active():
            end = min(now, self._t + self._seconds_to_event())
            if self._next_report is not None:
                end = min(end, max(self._next_report, self._t))
            self._integrate(end - self._t)
            self._t = end
            changed = True
            if self._settle() or (self._next_report is not None and end >= self._next_report):
                self._report(end)
        self._t = now
        if changed and self.on_change is not None:
            self.on_change()

    # -- persistence --------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """JSON form for `/sim/state` and the state file."""
        self.sync()
        state = self._state
        return {
            "id": self.id,
            "key": self.key,
            "make": self.spec.make,
            "model": self.spec.model,
            "year": self.spec.year,
            "vin": self.spec.vin,
            "kind": self.spec.kind,
            "capabilities": sorted(self.spec.capabilities),
            "state": state.as_dict(),
            "range_km": self.battery_range_km(state) if self.spec.has_battery else None,
            "fuel_range_km": self.fuel_range_km(state) if self.spec.has_tank else None,
            "fuel_amount_l": self.fuel_amount_l(state) if self.spec.has_tank else None,
            "reported": self._reported.as_dict(),
            "reported_at": isoformat_ms(datetime.fromtimestamp(self._reported_at, UTC)),
            "next_report_at": isoformat_ms(datetime.fromtimestamp(self._next_report, UTC))
            if self._next_report is not None
            else None,
            "synced_at": isoformat_ms(datetime.fromtimestamp(self._t, UTC)),
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore what `as_dict()` saved (unknown fields are ignored)."""
        names = {f.name for f in fields(VehicleState)}
        state = data.get("state")
        reported = data.get("reported")
        if isinstance(state, dict):
            self._state = replace(self._state, **{k: v for k, v in state.items() if k in names})
        if isinstance(reported, dict):
            self._reported = replace(
                self._reported, **{k: v for k, v in reported.items() if k in names}
            )
        if isinstance(data.get("reported_at"), str):
            self._reported_at = parse_iso(data["reported_at"]).timestamp()
        next_report = data.get("next_report_at")
        self._next_report = parse_iso(next_report).timestamp() if next_report else None
        synced = data.get("synced_at")
        # Time that passed while the simulator was down is integrated on the next read.
        self._t = min(
            parse_iso(synced).timestamp() if isinstance(synced, str) else math.inf,
            self._clock.timestamp(),
        )


def build_fleet(specs: Iterable[VehicleSpec], clock: VirtualClock) -> dict[str, Vehicle]:
    """Vehicles by id, in the order given; ids and keys must be unique."""
    fleet: dict[str, Vehicle] = {}
    keys: set[str] = set()
    for spec in specs:
        if spec.id in fleet or spec.key in keys:
            raise ValueError(f"duplicate vehicle {spec.key} / {spec.id}")
        fleet[spec.id] = Vehicle(spec, clock)
        keys.add(spec.key)
    return fleet


def _dated_code(code: Mapping[str, Any], now: datetime) -> dict[str, str]:
    """A trouble code with its timestamp (from `age` seconds before `now`, if given so)."""
    if "age" not in code:
        return dict(code)
    moment = now - timedelta(seconds=float(code["age"]))
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"code": str(code["code"]), "timestamp": stamp}
