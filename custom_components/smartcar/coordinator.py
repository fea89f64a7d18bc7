"""One coordinator per vehicle: which signals to ask for, when, and how answers merge.

Each refresh is a single batch request holding only the signals that (a) the user granted,
(b) the car can answer, (c) some enabled entity needs and (d) the scheduler finds worth
their price now. Failures touch only what they concern: a refused path only its entities,
an asleep car nothing, a throttled or over-limit account no value at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import issues
from .api import (
    READ_PERMISSIONS,
    BatchResult,
    Permission,
    Signal,
    SignalReading,
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarClient,
    SmartcarCompatibilityError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarInvalidArgumentError,
    SmartcarNotFoundError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarTimeoutError,
    SmartcarVehicleStateError,
    VehicleAttributes,
)
from .const import (
    BILLING_RETRY,
    CONF_FIXED_INTERVAL,
    CONF_MIN_INTERVAL,
    CONF_MONTHLY_BUDGET,
    CONF_POLICY,
    DEFAULT_MIN_INTERVAL_MINUTES,
    DEFAULT_MONTHLY_BUDGET,
    DOMAIN,
    LOGGER,
    MAX_CONCURRENT_REQUESTS,
    POLICY_FIXED,
    RETRY_DELAYS,
)
from .scheduler import AdaptivePolicy, FixedPolicy, PlanInput, Policy, month_bounds, polling_room
from .store import SmartcarStore

MIN_WAIT = timedelta(minutes=1)


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


@dataclass(slots=True)
class Account:
    """What the vehicles of one entry share: a request limiter and the authentication state."""

    limiter: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
    )
    # Set by the first 401: no vehicle of the entry sends anything until reauthentication.
    auth_failed: bool = False


type SmartcarConfigEntry = ConfigEntry[SmartcarRuntimeData]


@dataclass(slots=True)
class SmartcarRuntimeData:
    """What a loaded entry holds."""

    client: SmartcarClient
    store: SmartcarStore
    account: Account
    coordinators: dict[str, SmartcarCoordinator]


def make_policy(options: dict[str, Any]) -> Policy:
    """The polling policy the entry's options ask for."""
    if options.get(CONF_POLICY) == POLICY_FIXED:
        return FixedPolicy(timedelta(minutes=float(options[CONF_FIXED_INTERVAL])))
    return AdaptivePolicy(
        budget=int(options.get(CONF_MONTHLY_BUDGET, DEFAULT_MONTHLY_BUDGET)),
        min_interval=timedelta(
            minutes=float(options.get(CONF_MIN_INTERVAL, DEFAULT_MIN_INTERVAL_MINUTES))
        ),
    )


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
        account: Account,
    ) -> None:
        """Start from what was remembered, if anything."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {vehicle.name}",
            update_interval=MIN_WAIT,
            always_update=False,
        )
        self.client = client
        self.vehicle = vehicle
        self.account = account
        self.policy = make_policy(dict(entry.options))
        self._memory = memory = store.vehicle(vehicle.id)
        self.policy.restore(memory.learnt)
        self._store = store
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
        self._previous: dict[Signal, SignalReading] = {}
        self._last_poll: datetime | None = max(memory.polled.values(), default=None)
        self._blocked_until: datetime | None = None
        # Why nothing may be sent before `_blocked_until`: "rate_limited" or "billing_limit".
        self._blocked_reason = "rate_limited"
        self._failures = 0
        # Before the first batch of a new entry, no entity exists yet: read all that is granted
        # to learn what the car supports. After it, only what enabled entities show.
        self._discovering = not self.restored
        # `homeassistant.update_entity`: signals asked for by entities updated together.
        self._requested: set[Signal] = set()
        self._requested_read: asyncio.Task[None] | None = None
        self.next_poll: datetime | None = None
        if self.restored:
            self._plan_next(dt_util.utcnow())

    # --- what to ask for ---------------------------------------------------------------

    @property
    def unsupported(self) -> frozenset[Signal]:
        """Signals this car answered COMPATIBILITY or PERMISSION for."""
        return frozenset(self._memory.unsupported | self._refused)

    @property
    def incompatible(self) -> frozenset[Signal]:
        """Signals this car does not have (its entities are removed)."""
        return frozenset(self._memory.unsupported)

    @property
    def available_signals(self) -> frozenset[Signal]:
        """Signals worth having entities for: granted and not refused by the car."""
        return self.vehicle.readable - self.unsupported

    @property
    def requests_this_month(self) -> int:
        """Billed requests counted for this vehicle this month."""
        self._memory.usage.roll(dt_util.utcnow())
        return self._memory.usage.used

    @property
    def budget_remaining(self) -> int | None:
        """Requests left of the monthly budget (None without a budget)."""
        if not isinstance(self.policy, AdaptivePolicy):
            return None
        return max(self.policy.budget - self.requests_this_month, 0)

    def needed_signals(self) -> set[Signal]:
        """Signals some enabled entity shows (all available ones for a new entry's first look).

        With every signal entity disabled, this is empty and the car reads nothing.
        """
        if self._discovering:
            return set(self.available_signals)
        contexts = {c for c in self.async_contexts() if isinstance(c, Signal)}
        return contexts & self.available_signals

    def _plan_input(self, now: datetime) -> PlanInput:
        return PlanInput(
            now=now,
            needed=self.needed_signals(),
            polled=self._memory.polled,
            readings=self.data.readings,
            previous=self._previous,
            usage=self._memory.usage,
            last_poll=self._last_poll,
        )

    def _wait_until(self, when: datetime, now: datetime) -> None:
        # Look again at the latest when the month turns: its request count starts afresh.
        when = min(when, month_bounds(now)[1])
        self.next_poll = when
        self.update_interval = max(when - now, MIN_WAIT)

    @property
    def _min_interval(self) -> timedelta:
        if isinstance(self.policy, AdaptivePolicy):
            return self.policy.min_interval
        return MIN_WAIT

    def _look_again_by(self, when: datetime) -> None:
        if self.next_poll is None or when < self.next_poll:
            self.next_poll = when
        self.update_interval = max(self.next_poll - dt_util.utcnow(), MIN_WAIT)

    def _plan_next(self, now: datetime) -> None:
        self._wait_until(self.policy.next_check(self._plan_input(now)), now)

    def _count(self, now: datetime, requests: int, *, command: bool = False) -> None:
        self._memory.usage.add(now, requests, command=command)
        self._store.async_schedule_save()

    # --- refresh -----------------------------------------------------------------------

    async def _async_update_data(self) -> VehicleData:
        now = dt_util.utcnow()
        if self.account.auth_failed:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
        if self._blocked_until is not None and now < self._blocked_until:
            self._wait_until(self._blocked_until, now)
            return self.data
        month = self._memory.usage.month
        plan = self.policy.plan(self._plan_input(now))
        self._wait_until(plan.next_check, now)
        if self._memory.usage.month != month:
            # A new month: the request count starts afresh, show it even without a request.
            self._store.async_schedule_save()
            self.async_update_listeners()
        if not plan.signals:
            return self.data
        data = await self._async_fetch(plan.signals, now)
        return await self._async_follow_up(data, now)

    async def _async_follow_up(self, data: VehicleData, now: datetime) -> VehicleData:
        """Read at once what the answers just received show the car changed since it was read.

        Not after a 429/430, and counted as polling even after a command's confirmation.
        """
        if self._blocked_until is not None:
            return data
        follow_up = self.policy.follow_up(self._plan_input(now))
        if not follow_up:
            return data
        return await self._async_fetch(follow_up, now)

    async def _async_fetch(
        self, signals: Iterable[Signal], now: datetime, *, command: bool = False
    ) -> VehicleData:
        wanted = list(signals)
        try:
            async with self.account.limiter:
                result = await self.client.async_batch(self.vehicle.id, wanted)
        except SmartcarAuthenticationError as err:
            self.account.auth_failed = True
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except SmartcarRateLimitError as err:
            # Nothing goes to this vehicle before retry-after; the values stay.
            wait = timedelta(seconds=err.retry_after or 60)
            self._block(now, now + wait, "rate_limited")
            LOGGER.warning(
                "%s: Smartcar asks to slow down; next request in %s", self.vehicle.name, wait
            )
            return self.data
        except SmartcarBillingError:
            self._count(now, len(wanted), command=command)
            self._block(now, now + BILLING_RETRY, "billing_limit")
            LOGGER.warning("%s: Smartcar's request limit is reached", self.vehicle.name)
            issues.billing_limit(
                self.hass, self.config_entry.entry_id, self.vehicle.id, self.vehicle.name
            )
            return self.data
        except SmartcarVehicleStateError as err:
            # The car is asleep or busy: the last values stay, with their data age.
            self._count(now, len(wanted), command=command)
            LOGGER.debug("%s: %s", self.vehicle.name, err)
            return self.data
        except SmartcarNotFoundError as err:
            # The vehicle left the account: setup removes its device.
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="vehicle_gone",
                translation_placeholders={"vehicle": self.vehicle.name},
            ) from err
        except SmartcarError as err:
            if not isinstance(err, SmartcarConnectionError) or isinstance(
                err, SmartcarTimeoutError
            ):
                # Whatever reached Smartcar may be billed; a refused connection is not.
                self._count(now, len(wanted), command=command)
            self._failures += 1
            first, last = RETRY_DELAYS
            retry = min(first * 2 ** (self._failures - 1), last)
            self._wait_until(now + retry, now)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
                retry_after=retry.total_seconds(),
            ) from err
        self._count(now, len(wanted), command=command)
        self._failures = 0
        self._discovering = False
        if self._blocked_until is not None:
            self._blocked_until = None
            issues.clear_billing_limit(self.hass, self.config_entry.entry_id, self.vehicle.id)
        self._last_poll = now
        data = self._merge(result, now)
        self._store.async_schedule_save()
        # The answers may change the situation (now charging, left unlocked): plan on them.
        self.data = data
        self.policy.observe(self._plan_input(now), result.results.keys())
        self._memory.learnt = self.policy.export()
        self._plan_next(now)
        return data

    def _block(self, now: datetime, until: datetime, reason: str) -> None:
        """Send nothing to this vehicle before `until` (Smartcar said so)."""
        self._blocked_until, self._blocked_reason = until, reason
        self._wait_until(until, now)

    def _refuse_if_blocked(self, now: datetime, *, refresh: bool) -> None:
        """Raise why nothing may be sent now: reauthentication pending, retry-after, billing.

        The messages of an explicit refresh and of a command differ (`refresh`).
        """
        placeholders = {"vehicle": self.vehicle.name}
        if self.account.auth_failed:
            reason = "auth_failed"
        elif self._blocked_until is not None and now < self._blocked_until:
            reason = self._blocked_reason
            local = dt_util.as_local(self._blocked_until)
            placeholders["until"] = local.strftime("%Y-%m-%d %H:%M %Z")
        else:
            return
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"refresh_{reason}" if refresh else reason,
            translation_placeholders=placeholders,
        )

    def _merge(self, result: BatchResult, now: datetime) -> VehicleData:
        readings = dict(self.data.readings)
        failed = dict(self.data.failed)
        for signal, item in result.results.items():
            self._memory.polled[signal] = now
            if item.reading is not None:
                before = readings.get(signal)
                if before is not None:
                    self._previous[signal] = before
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
            error = item.error or SmartcarError("no answer")
            if isinstance(error, SmartcarCompatibilityError | SmartcarPermissionError):
                self._exclude(signal, error)
                readings.pop(signal, None)
                self._memory.raw.pop(signal, None)
                failed[signal] = error
            elif isinstance(error, SmartcarVehicleStateError | SmartcarRateLimitError):
                # An asleep or throttled car: the last values stay, with their data age.
                LOGGER.debug("%s: %s: %s", self.vehicle.name, signal.value, error)
                if isinstance(error, SmartcarRateLimitError):
                    self._block(
                        now, now + timedelta(seconds=error.retry_after or 60), "rate_limited"
                    )
            else:
                if signal not in failed:
                    LOGGER.warning("%s: %s failed: %s", self.vehicle.name, signal.value, error)
                failed[signal] = error
        return VehicleData(readings=readings, failed=failed)

    def _exclude(self, signal: Signal, error: SmartcarApiError) -> None:
        if isinstance(error, SmartcarCompatibilityError):
            LOGGER.info(
                "%s: the car has no %s (COMPATIBILITY); not asking again",
                self.vehicle.name,
                signal.value,
            )
            self._memory.unsupported.add(signal)
            return
        LOGGER.info(
            "%s: %s was not granted (PERMISSION); not asking again until the entry reloads",
            self.vehicle.name,
            signal.value,
        )
        self._refused.add(signal)
        issues.missing_permission(
            self.hass,
            self.config_entry.entry_id,
            self.vehicle.id,
            self.vehicle.name,
            READ_PERMISSIONS[signal].value,
        )

    # --- commands ----------------------------------------------------------------------

    async def async_command(
        self,
        command: Callable[[], Awaitable[Any]],
        signal: Signal | None = None,
        optimistic: Callable[[SignalReading | None], SignalReading] | None = None,
    ) -> None:
        """Send a command, show its expected result at once, then confirm that one signal.

        Commands are never refused for the budget (they count against it, and polling
        makes room); the confirmation reads only the signal the command touched.
        """
        now = dt_util.utcnow()
        self._refuse_if_blocked(now, refresh=False)
        try:
            async with self.account.limiter:
                await command()
        except SmartcarInvalidArgumentError as err:
            # Refused before anything was sent.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_argument",
                translation_placeholders={"error": str(err)},
            ) from err
        except SmartcarAuthenticationError as err:
            self.account.auth_failed = True
            self.config_entry.async_start_reauth(self.hass)
            raise command_error(err) from err
        except SmartcarConnectionError as err:
            if isinstance(err, SmartcarTimeoutError):
                self._count(now, 1, command=True)  # it may have reached the car
            raise command_error(err) from err
        except SmartcarError as err:
            self._count(now, 1, command=True)
            raise command_error(err) from err
        self.policy.commanded(now)
        self._memory.learnt = self.policy.export()
        self._count(now, 1, command=True)
        # What the command changed (a charge that starts) is planned for at the next look,
        # which comes no later than one minimum interval from now.
        self._look_again_by(now + self._min_interval)
        if signal is None:
            return
        if optimistic is not None:
            readings = dict(self.data.readings)
            readings[signal] = optimistic(readings.get(signal))
            self.async_set_updated_data(VehicleData(readings=readings, failed=self.data.failed))
        if signal in self.available_signals and self._confirmation_allowed(now):
            await self.async_refresh_signals([signal], command=True)

    def _confirmation_allowed(self, now: datetime) -> bool:
        """A confirmation read is polling: only when the budget leaves polling room."""
        if not isinstance(self.policy, AdaptivePolicy):
            return True
        return polling_room(self.policy.budget, self._memory.usage, now) >= 1

    async def async_refresh_signals(
        self, signals: Iterable[Signal], *, command: bool = False
    ) -> None:
        """Refresh only these signals now (after a command: only what it touched)."""
        now = dt_util.utcnow()
        try:
            data = await self._async_fetch(signals, now, command=command)
            data = await self._async_follow_up(data, now)
            # A confirmation must not push the planned look further away.
            if self.next_poll is not None:
                self._look_again_by(self.next_poll)
        except ConfigEntryAuthFailed:
            self.config_entry.async_start_reauth(self.hass)
            return
        except UpdateFailed as err:
            LOGGER.debug("%s: confirmation read failed: %s", self.vehicle.name, err)
            return
        self.async_set_updated_data(data)

    # --- explicit refresh (homeassistant.update_entity) -----------------------------------

    async def async_read_now(self, signals: Iterable[Signal]) -> None:
        """Read these signals at once: one batch for every entity updated in the same call.

        Counted against the budget like a command and never refused for it; refused (with
        the reason and until when) while Smartcar said to wait or reauthentication is pending.
        """
        wanted = set(signals) & self.available_signals
        if not wanted:
            return
        self._refuse_if_blocked(dt_util.utcnow(), refresh=True)
        self._requested |= wanted
        if self._requested_read is None:
            self._requested_read = self.hass.async_create_task(
                self._async_read_requested(), eager_start=False
            )
        await asyncio.shield(self._requested_read)

    async def _async_read_requested(self) -> None:
        # Entities updated by the same call ask in the same turn of the loop: gather them.
        await asyncio.sleep(0)
        signals, self._requested, self._requested_read = self._requested, set(), None
        now = dt_util.utcnow()
        LOGGER.debug(
            "%s: reading %s now, as asked (update_entity)",
            self.vehicle.name,
            ", ".join(sorted(s.value for s in signals)),
        )
        try:
            data = await self._async_fetch(sorted(signals), now, command=True)
        except ConfigEntryAuthFailed as err:
            self.config_entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="refresh_auth_failed",
                translation_placeholders={"vehicle": self.vehicle.name},
            ) from err
        except UpdateFailed as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="refresh_failed",
                translation_placeholders={
                    "vehicle": self.vehicle.name,
                    "error": str(err.__cause__ or err),
                },
            ) from err
        self.async_set_updated_data(data)
        # Smartcar refused the read itself (429, BILLING): say so, the values stay.
        self._refuse_if_blocked(now, refresh=True)

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
