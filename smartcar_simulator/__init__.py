"""A Smartcar API simulator: a real HTTP server on loopback (Connect, OAuth, v2.0, v3, /sim).

    from smartcar_simulator import Simulator, SimulatorServer, VirtualClock

    sim = Simulator(clock=VirtualClock(frozen=True))
    async with SimulatorServer(sim) as server:
        tokens = sim.issue_tokens()
        ...  # talk to server.url

See docs/simulator-contract.md.
"""

from .billing import Meter
from .clock import VirtualClock
from .errors import SmartcarError
from .faults import Fault
from .fleet import (
    EV_ID,
    PETROL_ID,
    PHEV_ID,
    USER_ID,
    VEHICLE_IDS,
    VehicleSpec,
    default_fleet,
    generated_vehicle,
)
from .server import SimulatorServer, create_app
from .simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Simulator
from .state import StateFile, StateFileError
from .tokens import ALL_PERMISSIONS, PERMISSIONS, TokenSet
from .vehicles import Vehicle, VehicleState

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "EV_ID",
    "PERMISSIONS",
    "PETROL_ID",
    "PHEV_ID",
    "USER_ID",
    "VEHICLE_IDS",
    "Fault",
    "Meter",
    "Simulator",
    "SimulatorServer",
    "SmartcarError",
    "StateFile",
    "StateFileError",
    "TokenSet",
    "Vehicle",
    "VehicleSpec",
    "VehicleState",
    "VirtualClock",
    "create_app",
    "default_fleet",
    "generated_vehicle",
]
