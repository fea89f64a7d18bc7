"""One coordinator per vehicle: which signals to ask for, when, and how answers merge.

Each refresh is a single batch request holding only the signals that (a) the user granted,
(b) the car can answer and (c) some enabled entity needs, and that are due. A signal that
answers COMPATIBILITY or PERMISSION is not asked again until the entry reloads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    READ_PERMISSIONS,
    Permission,
    Signal,
    SignalReading,
    SmartcarAuthenticationError,
    SmartcarClient,
    SmartcarCompatibilityError,
    SmartcarError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarVehicleStateError,
    VehicleAttributes,
)
from .const import (
    CONF_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL_MINUTES,
    DOMAIN,
    LOGGER,
    SLOW_SIGNAL_INTERVAL,
)
from .store import SmartcarStore

# Signals that change slowly: asked for at most once per SLOW_SIGNAL_INTERVAL.
SLOW_SIGNALS = frozenset({Signal.ENGINE_OIL, Signal.DIAGNOSTICS, Signal.CHARGE_LIMIT})


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle of the account, as learnt once at setup."""

    id: str
    attributes: VehicleAttributes
    permissions: frozenset[str]

    @property
    def name(self) -> str:
        """Make and model, as people call their car."""
        parts = [p for p in (self.attributes.make, self.attributes.model) if p]
        return " ".join(parts) or "Vehicle"

    def granted(self, *permissions: Permission) -> bool:
        """Whether every one of these permissions was granted."""
        return all(p.value in self.permissions for p in permissions)

    @property
    def readable(self) -> frozenset[Signal]:
        """Signals the user allowed us to read."""
        return frozenset(s for s, p in READ_PERMISSIONS.items() if self.granted(p))


@dataclass(frozen=True, slots=True)
class VehicleData:
    """What the entities show: the last good reading of each signal and current failures."""

    readings: dict[Signal, SignalReading] = field(default_factory=dict)
    failed: dict[Signal, Exception] = field(default_factory=dict)

    def reading(self, signal: Signal) -> SignalReading | None:
        """The last good reading of a signal."""
        return self.readings.get(signal)


type SmartcarConfigEntry = ConfigEntry[SmartcarRuntimeData]


@dataclass(slots=True)
class SmartcarRuntimeData:
    """What a loaded entry holds."""

    client: SmartcarClient
    store: SmartcarStore
    coordinators: dict[str, SmartcarCoordinator]


class SmartcarCoordinator(DataUpdateCoordinator[VehicleData]):
    """Polls one vehicle with one batch request per refresh."""

    config_entry: SmartcarConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SmartcarConfigEntry,
        client: SmartcarClient,
        vehicle: Vehicle,
        *,
        store: SmartcarStore,
    ) -> None:
        """Start from what was remembered, if anything."""
        minutes = entry.options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL_MINUTES)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {vehicle.name}",
            update_interval=timedelta(minutes=minutes),
            always_update=False,
        )
        self.client = client
        self.vehicle = vehicle
        self._memory = memory = store.vehicle(vehicle.id)
        self._store = store
        self.poll_interval = timedelta(minutes=minutes)
        readings: dict[Signal, SignalReading] = {}
        for signal, raw in list(memory.raw.items()):
            try:
                readings[signal] = client.restore_reading(signal, raw)
            except SmartcarError:
                del memory.raw[signal]
        self.data = VehicleData(readings=readings)
        self.restored = bool(memory.polled)
        # Paths refused for lack of permission: not asked again until the entry reloads
        # (a reauthentication may grant them). Unsupported ones are remembered for good.
        self._refused: set[Signal] = set()

    @property
    def unsupported(self) -> frozenset[Signal]:
        """Signals this car answered COMPATIBILITY or PERMISSION for."""
        return frozenset(self._memory.unsupported | self._refused)

    @property
    def available_signals(self) -> frozenset[Signal]:
        """Signals worth having entities for: granted and not refused by the car."""
        return self.vehicle.readable - self.unsupported

    def needed_signals(self) -> set[Signal]:
        """Signals some enabled entity listens to (all available ones before any exists)."""
        contexts = {c for c in self.async_contexts() if isinstance(c, Signal)}
        if not contexts:
            return set(self.available_signals)
        return contexts & self.available_signals

    def _interval(self, signal: Signal) -> timedelta:
        return (
            max(SLOW_SIGNAL_INTERVAL, self.poll_interval)
            if signal in SLOW_SIGNALS
            else self.poll_interval
        )

    def due_signals(self, now: datetime) -> list[Signal]:
        """Needed signals whose interval has passed (never asked counts as due)."""
        # A little slack so that a signal polled one interval ago is due on this tick.
        slack = timedelta(minutes=1)
        due = []
        for signal in sorted(self.needed_signals()):
            last = self._memory.polled.get(signal)
            if last is None or now - last + slack >= self._interval(signal):
                due.append(signal)
        return due

    async def _async_update_data(self) -> VehicleData:
        signals = self.due_signals(dt_util.utcnow())
        if not signals:
            return self.data
        return await self._async_fetch(signals)

    async def _async_fetch(self, signals: Iterable[Signal]) -> VehicleData:
        wanted = list(signals)
        try:
            result = await self.client.async_batch(self.vehicle.id, wanted)
        except SmartcarAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except SmartcarRateLimitError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                retry_after=err.retry_after,
            ) from err
        except SmartcarError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err

        now = dt_util.utcnow()
        readings = dict(self.data.readings)
        failed = dict(self.data.failed)
        for signal, item in result.results.items():
            self._memory.polled[signal] = now
            if item.reading is not None:
                readings[signal] = item.reading
                failed.pop(signal, None)
                if item.raw is not None:
                    self._memory.raw[signal] = item.raw
                if item.reading.issues:
                    LOGGER.warning(
                        "%s: %s answered malformed values for %s; shown as unknown",
                        self.vehicle.name,
                        signal.value,
                        ", ".join(sorted(set(item.reading.issues))),
                    )
                continue
            error = item.error
            if isinstance(error, SmartcarCompatibilityError | SmartcarPermissionError):
                LOGGER.info(
                    "%s: %s is not available (%s); not asking again until reload",
                    self.vehicle.name,
                    signal.value,
                    error.type,
                )
                if isinstance(error, SmartcarCompatibilityError):
                    self._memory.unsupported.add(signal)
                else:
                    self._refused.add(signal)
                readings.pop(signal, None)
                self._memory.raw.pop(signal, None)
                failed[signal] = error
            elif isinstance(error, SmartcarVehicleStateError):
                # An asleep car: the last values stay, with their data age.
                LOGGER.debug("%s: %s: %s", self.vehicle.name, signal.value, error)
            else:
                if signal not in failed:
                    LOGGER.warning("%s: %s failed: %s", self.vehicle.name, signal.value, error)
                failed[signal] = error if error is not None else SmartcarError("no answer")
        self._store.async_schedule_save()
        return VehicleData(readings=readings, failed=failed)

    async def async_command(
        self,
        command: Callable[[], Awaitable[Any]],
        signal: Signal | None = None,
        optimistic: Callable[[SignalReading | None], SignalReading] | None = None,
    ) -> None:
        """Send a command, show its expected result at once, then confirm that one signal.

        The confirmation reads only the signal the command touched (one billed request).
        """
        try:
            await command()
        except SmartcarAuthenticationError as err:
            self.config_entry.async_start_reauth(self.hass)
            raise command_error(err) from err
        except SmartcarError as err:
            raise command_error(err) from err
        if signal is None:
            return
        if optimistic is not None:
            readings = dict(self.data.readings)
            readings[signal] = optimistic(readings.get(signal))
            self.async_set_updated_data(VehicleData(readings=readings, failed=self.data.failed))
        if signal in self.available_signals:
            await self.async_refresh_signals([signal])

    async def async_refresh_signals(self, signals: Iterable[Signal]) -> None:
        """Refresh only these signals now."""
        try:
            data = await self._async_fetch(signals)
        except ConfigEntryAuthFailed:
            self.config_entry.async_start_reauth(self.hass)
            return
        except UpdateFailed as err:
            LOGGER.debug("%s: confirmation read failed: %s", self.vehicle.name, err)
            return
        self.async_set_updated_data(data)

    @callback
    def signal_available(self, signal: Signal) -> bool:
        """Whether entities of this signal have something true to show."""
        return signal in self.data.readings and signal not in self.data.failed


def command_error(err: SmartcarError) -> HomeAssistantError:
    """A translated error for a failed command, with Smartcar's message for the user."""
    message = getattr(err, "suggested_user_message", None) or str(err)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": message},
    )
