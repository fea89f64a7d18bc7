"""Constants the tests share: the simulator's application and its account.

One source: the simulator's defaults (docs/simulator-contract.md). Import them from here.
"""

from smartcar_simulator import (
    DEFAULT_CLIENT_ID as CLIENT_ID,
    DEFAULT_CLIENT_SECRET as CLIENT_SECRET,
    EV_ID,
    PETROL_ID,
    PHEV_ID,
    USER_ID,
)

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "EV_ID", "PETROL_ID", "PHEV_ID", "USER_ID"]
