"""The fleet: vehicle ids and specs (drivetrain, capabilities, starting state).

Three fixed vehicles belong to the default user; `generated_vehicle(i)` makes more
(alternating EV and petrol) for scale tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
import uuid

USER_ID: Final = "7d2a7c2e-5b1e-4a39-9c0c-2b4f0e1d5a11"
EV_ID: Final = "0f4e1b7a-9c3d-4e2f-8a61-5b7c9d1e2f30"
PHEV_ID: Final = "1a5f2c8b-0d4e-4f3a-9b72-6c8d0e2f3a41"
PETROL_ID: Final = "2b6a3d9c-1e5f-4a4b-8c83-7d9e1f3a4b52"
VEHICLE_IDS: Final[Mapping[str, str]] = {"ev": EV_ID, "phev": PHEV_ID, "petrol": PETROL_ID}

EV: Final = "ev"
PHEV: Final = "phev"
PETROL: Final = "petrol"

# Vehicle-relative paths (the capability names).
BATTERY: Final = "/battery"
CHARGE: Final = "/charge"
CHARGE_LIMIT: Final = "/charge/limit"
SECURITY: Final = "/security"
LOCATION: Final = "/location"
ODOMETER: Final = "/odometer"
FUEL: Final = "/fuel"
ENGINE_OIL: Final = "/engine/oil"
DTCS: Final = "/diagnostics/dtcs"
SET_DESTINATION: Final = "/commands/set-destination"
# Where Smartcar's real API (and its SDKs) take the destination; the simulator serves both
# paths alike. A car "has" it when it has SET_DESTINATION (the capability name).
NAVIGATION_DESTINATION: Final = "/navigation/destination"

EV_CAPABILITIES: Final = frozenset(
    {BATTERY, CHARGE, CHARGE_LIMIT, SECURITY, LOCATION, ODOMETER, DTCS, SET_DESTINATION}
)
PHEV_CAPABILITIES: Final = EV_CAPABILITIES | {FUEL, ENGINE_OIL}
PETROL_CAPABILITIES: Final = frozenset({FUEL, ENGINE_OIL, SECURITY, LOCATION, ODOMETER, DTCS})
_VIN_VALUES: Final = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_with_check_digit(vin: str) -> str:
    """Return the 17-character `vin` with its 9th character set to the ISO 3779 check digit."""
    if len(vin) != 17:
        raise ValueError("a VIN has 17 characters")
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS, strict=True))
    check = total % 11
    return vin[:8].upper() + ("X" if check == 10 else str(check)) + vin[9:].upper()


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """What a vehicle is: identity, drivetrain, capabilities and where it starts."""

    key: str
    id: str
    vin: str
    make: str
    model: str
    year: int
    kind: str  # EV, PHEV or PETROL
    capabilities: frozenset[str]
    battery_kwh: float = 0.0
    charge_kw: float = 0.0
    kwh_per_km: float = 0.0
    tank_l: float = 0.0
    l_per_100km: float = 0.0
    initial: Mapping[str, Any] = field(default_factory=dict)
    initial_age: float = 600.0  # seconds between the last report and the simulator's start

    @property
    def has_battery(self) -> bool:
        """True for EVs and PHEVs."""
        return self.battery_kwh > 0

    @property
    def has_tank(self) -> bool:
        """True for PHEVs and petrol cars."""
        return self.tank_l > 0


_DRIVETRAINS: Final[Mapping[str, dict[str, Any]]] = {
    EV: {
        "capabilities": EV_CAPABILITIES,
        "battery_kwh": 75.0,
        "charge_kw": 11.0,
        "kwh_per_km": 0.155,
    },
    PHEV: {
        "capabilities": PHEV_CAPABILITIES,
        "battery_kwh": 18.0,
        "charge_kw": 3.6,
        "kwh_per_km": 0.26,
        "tank_l": 55.0,
        "l_per_100km": 6.5,
    },
    PETROL: {"capabilities": PETROL_CAPABILITIES, "tank_l": 52.0, "l_per_100km": 6.2},
}


def make_spec(
    key: str,
    vehicle_id: str,
    vin: str,
    *,
    model: tuple[str, str, int],
    kind: str,
    initial: Mapping[str, Any],
    initial_age: float = 600.0,
) -> VehicleSpec:
    """A spec with the drivetrain of `kind` (EV 75 kWh/11 kW, PHEV 18 kWh/3.6 kW, petrol)."""
    make, model_name, year = model
    return VehicleSpec(
        key=key,
        id=vehicle_id,
        vin=vin_with_check_digit(vin),
        make=make,
        model=model_name,
        year=year,
        kind=kind,
        initial=dict(initial),
        initial_age=initial_age,
        **_DRIVETRAINS[kind],
    )


def default_vehicles() -> list[VehicleSpec]:
    """The three fixed vehicles of the default user."""
    return [
        make_spec(
            "ev",
            EV_ID,
            "5YJ3E1EA0PF419273",
            model=("Tesla", "Model 3", 2023),
            kind=EV,
            initial={
                "latitude": 52.3676,
                "longitude": 4.9041,
                "odometer": 18234.5,
                "battery": 0.62,
                "charge_limit": 0.8,
                "locked": True,
            },
            initial_age=420.0,
        ),
        make_spec(
            "phev",
            PHEV_ID,
            "JTMEB3FV0ND081542",
            model=("Toyota", "RAV4 Prime", 2022),
            kind=PHEV,
            initial={
                "latitude": 52.3702,
                "longitude": 4.8952,
                "odometer": 41877.0,
                "battery": 0.45,
                "charge_limit": 1.0,
                "fuel": 0.7,
                "oil_life": 0.82,
                "locked": True,
                "dtcs": [{"code": "P0456", "age": 5 * 86400 + 47 * 60 + 20}],
            },
            initial_age=780.0,
        ),
        make_spec(
            "petrol",
            PETROL_ID,
            "1FADP3F20KL236418",
            model=("Ford", "Focus", 2019),
            kind=PETROL,
            initial={
                "latitude": 52.0907,
                "longitude": 5.1214,
                "odometer": 96310.2,
                "fuel": 0.41,
                "oil_life": 0.37,
                "locked": False,
                "dtcs": [{"code": "P0420", "age": 48 * 86400 + 15 * 3600 + 56 * 60 + 49}],
            },
            initial_age=1500.0,
        ),
    ]


_GENERATED_NAMESPACE: Final = uuid.UUID("5c1d3a8e-7f2b-4c6d-9e0a-1b2c3d4e5f60")


def generated_vehicle(index: int) -> VehicleSpec:
    """The `index`-th generated vehicle (even: EV, odd: petrol), deterministic."""
    vehicle_id = str(uuid.uuid5(_GENERATED_NAMESPACE, f"vehicle-{index}"))
    serial = f"{index:06d}"
    position = {"latitude": 52.0 + (index % 50) * 0.01, "longitude": 4.5 + (index // 50) * 0.01}
    age = 300.0 + index % 600
    if index % 2 == 0:
        state = {"odometer": 10000.0 + index * 37.0, "battery": 0.3 + (index % 7) * 0.1}
        return make_spec(
            f"sim-{index:03d}",
            vehicle_id,
            f"1N4AZ1CP0MC{serial}",
            model=("Nissan", "Leaf", 2021),
            kind=EV,
            initial={**position, **state, "charge_limit": 0.9},
            initial_age=age,
        )
    state = {"odometer": 50000.0 + index * 53.0, "fuel": 0.2 + (index % 8) * 0.1}
    return make_spec(
        f"sim-{index:03d}",
        vehicle_id,
        f"3VW2B7AJ0LM{serial}",
        model=("Volkswagen", "Jetta", 2020),
        kind=PETROL,
        initial={**position, **state, "oil_life": 0.6},
        initial_age=age,
    )


def default_fleet(extra: int = 0) -> list[VehicleSpec]:
    """The three fixed vehicles plus `extra` generated ones (alternating EV and petrol)."""
    return default_vehicles() + [generated_vehicle(i) for i in range(extra)]
