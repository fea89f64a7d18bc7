"""What the integration needs of a Smartcar client, whichever API version it speaks."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

from .const import ApiVersion, Signal, UnitSystem
from .models import BatchResult, CommandResult, SignalReading, VehicleAttributes


class VehicleApi(Protocol):
    """A client for one Smartcar user: `SmartcarClient` (v2.0) or `SmartcarV3Client` (v3)."""

    @property
    def api_version(self) -> ApiVersion:
        """The API generation it speaks."""

    @property
    def reads_all(self) -> bool:
        """Whether one read returns every signal for one billed request (v3)."""

    @property
    def signals(self) -> frozenset[Signal]:
        """The signal groups this API version can read."""

    unit_system: UnitSystem

    def cost(self, signals: Collection[Signal]) -> int:
        """Billed requests of reading these signals in one go."""

    async def async_get_vehicle_ids(self) -> list[str]:
        """The user's vehicles."""

    async def async_get_permissions(self, vehicle_id: str) -> frozenset[str]:
        """What the user granted for this vehicle."""

    async def async_get_attributes(self, vehicle_id: str) -> VehicleAttributes:
        """Make, model, year and VIN (one billed request)."""

    async def async_batch(self, vehicle_id: str, signals: Iterable[Signal]) -> BatchResult:
        """Read these signals (v3 answers every group the car has)."""

    def restore_reading(self, signal: Signal, raw: Mapping[str, Any]) -> SignalReading:
        """A reading back from storage."""

    async def async_subscribe_webhook(self, vehicle_id: str, webhook_id: str) -> None:
        """Have the car's webhook deliveries sent to this Smartcar webhook."""

    async def async_start_charging(self, vehicle_id: str) -> CommandResult:
        """Start charging."""

    async def async_stop_charging(self, vehicle_id: str) -> CommandResult:
        """Stop charging."""

    async def async_set_charge_limit(self, vehicle_id: str, limit: float) -> CommandResult:
        """Set the charge limit (a fraction 0.5..1.0)."""

    async def async_lock(self, vehicle_id: str) -> CommandResult:
        """Lock the doors."""

    async def async_unlock(self, vehicle_id: str) -> CommandResult:
        """Unlock the doors."""

    async def async_set_destination(
        self, vehicle_id: str, latitude: float, longitude: float
    ) -> CommandResult:
        """Send a destination to the car's navigation."""
