"""Constants the tests share: the simulator's application, its account and its cars' paths.

One source: the simulator's defaults (docs/simulator-contract.md). Import them from here.
"""

from typing import Final

from smartcar_simulator import (
    DEFAULT_CLIENT_ID as CLIENT_ID,
    DEFAULT_CLIENT_SECRET as CLIENT_SECRET,
    EV_ID,
    PETROL_ID,
    PHEV_ID,
    USER_ID,
)

# Every path a car is read through, each one permission of the default (full) grant. Written
# out, not taken from the simulator: what the tests expect of it.
READ_PATHS: Final = (
    "/battery",
    "/charge",
    "/charge/limit",
    "/security",
    "/location",
    "/odometer",
    "/fuel",
    "/engine/oil",
    "/diagnostics/dtcs",
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "EV_ID",
    "PETROL_ID",
    "PHEV_ID",
    "READ_PATHS",
    "USER_ID",
]
