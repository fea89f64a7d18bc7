"""One coordinator per vehicle: executes the scheduler's plans and merges the answers.

Each refresh is a single batch request holding only the signals that (a) the user granted,
(b) the car can answer, (c) some enabled entity shows and (d) the scheduler finds worth their
price now. When to read, and why, is the scheduler's alone; the coordinator reports to it what
happened. Failures touch only what they concern: a refused path only its entities, an asleep
car nothing, a throttled or over-limit account no value at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import issues
from .api import (
    READ_PERMISSIONS,
    BatchResult,
    CommandResult,
    Signal,
    SignalReading,
    SmartcarApiError,
    SmartcarAuthenticationError,
    SmartcarBillingError,
    SmartcarCompatibilityError,
    SmartcarConnectionError,
    SmartcarError,
    SmartcarInvalidArgumentError,
    SmartcarNotFoundError,
    SmartcarPermissionError,
    SmartcarRateLimitError,
    SmartcarSignalsUnavailableError,
    SmartcarTimeoutError,
    SmartcarVehicleStateError,
    SmartcarVersionRetiredError,
    VehicleApi,
    WebhookError,
    signals_of_codes,
)
from .const import (
    CONF_MIN_INTERVAL,
    CONF_MONTHLY_BUDGET,
    DEFAULT_MIN_INTERVAL_MINUTES,
    DEFAULT_MONTHLY_BUDGET,
    DOMAIN,
    LOGGER,
)
from .exceptions import error_code, failure, invalid_argument, smartcar_failure
from .scheduler import AdaptivePolicy, PlanInput, Policy, Scheduler, month_of
from .store import SmartcarStore
from .vehicle import Account, Vehicle, VehicleData

type SmartcarConfigEntry = ConfigEntry[SmartcarRuntimeData]


@dataclass(slots=True)
class SmartcarRuntimeData:
    """What a loaded entry holds."""

    client: VehicleApi
    store: SmartcarStore
    account: Account
    coordinators: dict[str, SmartcarCoordinator]
    # One per platform: adds the entities of a vehicle that joined the account while loaded.
    entity_adders: list[Callable[[SmartcarCoordinator], None]] = field(default_factory=list)


def make_policy(options: Mapping[str, Any]) -> Policy:
    """The polling policy of the entry's options (tests and the benchmark swap this function)."""
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
        client: VehicleApi,
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
            update_interval=timedelta(minutes=1),
            always_update=False,
        )
        self.client = client
        self.vehicle = vehicle
        self.account = account
        self.scheduler = Scheduler(make_policy(entry.options))
        self._memory = memory = store.vehicle(vehicle.id)
        self.scheduler.policy.restore(memory.learnt)
        self._store = store
        readings: dict[Signal, SignalReading] = {}
        stored = bool(memory.raw)
        for signal, raw in list(memory.raw.items()):
            try:
                readings[signal] = client.restore_reading(signal, raw)
            except SmartcarError:
                # Corrupt: forgotten, and read again at the next look as if never read.
                del memory.raw[signal]
                memory.polled.pop(signal, None)
        if stored and not readings:
            # Nothing readable: written by the other API version (the entry moved to v3),
            # so the car is looked at afresh, as if new.
            memory.polled.clear()
        self.data = VehicleData(readings=readings)
        self.restored = bool(memory.polled)
        # Paths refused for lack of permission: not asked again until the entry reloads
        # (a reauthentication may grant them). Unsupported ones are remembered for good.
        self._refused: set[Signal] = set()
        self._previous: dict[Signal, SignalReading] = {}
        self._last_poll: datetime | None = max(memory.polled.values(), default=None)
        # Until the platforms are set up no entity exists yet: the first batch of a new entry
        # reads all that is granted, to learn what the car supports. After that, only what
        # enabled entities show (`async_entities_ready`).
        self._discovering = True
        # `homeassistant.update_entity`: signals asked for by entities updated together.
        self._requested: set[Signal] = set()
        self._requested_read: asyncio.Task[None] | None = None
        # Registry entries (domain, unique id) of the entities showing each signal: removed
        # for good when the car turns out not to have that signal (COMPATIBILITY).
        self._signal_entities: dict[Signal, set[tuple[str, str]]] = {}
        # API v3: Smartcar has no signals for the car yet (not subscribed to a webhook).
        self._signals_unavailable = False
        # When the last webhook delivery for this car arrived.
        self.last_webhook: datetime | None = max(memory.pushed.values(), default=None)

    # --- what to ask for ---------------------------------------------------------------

    @property
    def next_poll(self) -> datetime | None:
        """When the scheduler looks at the car next."""
        return self.scheduler.next_check

    @property
    def pushed_signals(self) -> frozenset[Signal]:
        """Signals webhook deliveries have brought."""
        return frozenset(self._memory.pushed)

    @property
    def signals_unavailable(self) -> bool:
        """API v3 has no signals for this car yet (not subscribed to a webhook)."""
        return self._signals_unavailable

    @property
    def unanswerable(self) -> frozenset[Signal]:
        """Signals not asked for: the car lacks them (COMPATIBILITY) or they were refused
        (PERMISSION, until the entry reloads)."""
        return frozenset(self._memory.unsupported | self._refused)

    @property
    def unsupported(self) -> frozenset[Signal]:
        """Signals this car does not have (COMPATIBILITY): their entities are removed."""
        return frozenset(self._memory.unsupported)

    @property
    def available_signals(self) -> frozenset[Signal]:
        """Signals worth having entities for: granted and answerable by the car."""
        return self.vehicle.readable - self.unanswerable

    @property
    def requests_this_month(self) -> int:
        """Billed requests counted for this vehicle this month."""
        return self._memory.usage.at(dt_util.utcnow()).used

    @property
    def budget_remaining(self) -> int | None:
        """Requests left of the monthly budget (None without a budget)."""
        return self.scheduler.remaining(self._memory.usage, dt_util.utcnow())

    @callback
    def async_entities_ready(self) -> None:
        """The platforms are set up: from now on only enabled entities' signals are read."""
        self._discovering = False
        now = dt_util.utcnow()
        self.scheduler.replan(self._plan_input(now))
        self._follow_schedule(now)
        if self._listeners:
            self._schedule_refresh()

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
            reads_all=self.client.reads_all,
            pushed=self._memory.pushed,
        )

    def _follow_schedule(self, now: datetime) -> None:
        """Set Home Assistant's timer to the scheduler's next look."""
        self.update_interval = self.scheduler.wait(now)
        if self.scheduler.next_check is not None:
            LOGGER.debug(
                "%s: next look at %s UTC (%s)",
                self.vehicle.name,
                f"{self.scheduler.next_check:%Y-%m-%d %H:%M:%S}",
                self.scheduler.next_reason,
            )

    def _count(self, now: datetime, requests: int, *, command: bool = False) -> None:
        self._memory.usage.add(now, requests, command=command)
        self._store.async_schedule_save()

    # --- refresh -----------------------------------------------------------------------

    async def _async_update_data(self) -> VehicleData:
        now = dt_util.utcnow()
        if self.account.auth_failed:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
        if self._memory.usage.month != month_of(now):
            # A new month: the request count starts afresh, show it even without a request.
            self._memory.usage.roll(now)
            self._store.async_schedule_save()
            self.async_update_listeners()
        plan = self.scheduler.plan(self._plan_input(now))
        self._follow_schedule(now)
        if not plan.signals:
            return self.data
        data = await self._async_fetch(plan.signals, now, reason=plan.reason)
        return await self._async_follow_up(data, now)

    async def _async_follow_up(self, data: VehicleData, now: datetime) -> VehicleData:
        """Read at once what the answers just received show the car changed since it was read.

        Not after a 429/430, and counted as polling even after a command's confirmation.
        """
        follow_up = self.scheduler.follow_up(self._plan_input(now))
        if not follow_up:
            return data
        return await self._async_fetch(follow_up, now, reason="follow-up: used since read")

    async def _async_fetch(
        self,
        signals: Iterable[Signal],
        now: datetime,
        *,
        reason: str,
        command: bool = False,
    ) -> VehicleData:
        wanted = list(signals)
        LOGGER.debug(
            "%s: reading %s (%s)", self.vehicle.name, ", ".join(s.value for s in wanted), reason
        )
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
            self.scheduler.throttled(now, now + wait)
            self._follow_schedule(now)
            LOGGER.warning(
                "%s: Smartcar asks to slow down; next request in %s", self.vehicle.name, wait
            )
            return self.data
        except SmartcarBillingError:
            self._count(now, self.client.cost(wanted), command=command)
            self.scheduler.billing_stopped(now)
            self._follow_schedule(now)
            LOGGER.warning("%s: Smartcar's request limit is reached", self.vehicle.name)
            issues.billing_limit(
                self.hass, self.config_entry.entry_id, self.vehicle.id, self.vehicle.name
            )
            return self.data
        except SmartcarVehicleStateError as err:
            # The car is asleep or busy: the last values stay, with their data age.
            self._count(now, self.client.cost(wanted), command=command)
            LOGGER.debug("%s: %s", self.vehicle.name, err)
            return self.data
        except SmartcarSignalsUnavailableError as err:
            # API v3: the car is connected but Smartcar has no signals for it until it is
            # subscribed to a webhook. Not billed (assumed); tried again with the backoff, so
            # the data arrives once the user switched it on, without a reload.
            retry = self.scheduler.failed(now)
            self._follow_schedule(now)
            if not self._signals_unavailable:
                self._signals_unavailable = True
                LOGGER.warning(
                    "%s: Smartcar has no signals for this car yet; subscribe it to a webhook "
                    "in Smartcar's dashboard (see the repair)",
                    self.vehicle.name,
                )
            issues.signals_unavailable(
                self.hass, self.config_entry.entry_id, self.vehicle.id, self.vehicle.name
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="signals_unavailable",
                translation_placeholders={"vehicle": self.vehicle.name},
                retry_after=retry.total_seconds(),
            ) from err
        except SmartcarVersionRetiredError as err:
            issues.version_retired(self.hass, self.config_entry.entry_id, self.config_entry.title)
            retry = self.scheduler.failed(now)
            self._follow_schedule(now)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="v2_retired",
                retry_after=retry.total_seconds(),
            ) from err
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
                self._count(now, self.client.cost(wanted), command=command)
            retry = self.scheduler.failed(now)
            self._follow_schedule(now)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"code": error_code(err)},
                retry_after=retry.total_seconds(),
            ) from err
        self._count(now, self.client.cost(wanted), command=command)
        if self._signals_unavailable:
            self._signals_unavailable = False
            LOGGER.info("%s: Smartcar has signals for this car now", self.vehicle.name)
            issues.clear_signals_unavailable(self.hass, self.config_entry.entry_id, self.vehicle.id)
        if self.scheduler.answered():
            issues.clear_billing_limit(self.hass, self.config_entry.entry_id, self.vehicle.id)
        self._last_poll = now
        data = self._merge(result, now)
        self._remove_unsupported_entities()
        self._store.async_schedule_save()
        # The answers may change the situation (now charging, left unlocked): plan on them.
        self.data = data
        self.scheduler.read(self._plan_input(now), tuple(result.results), reason)
        self._memory.learnt = self.scheduler.policy.export()
        self._follow_schedule(now)
        return data

    def _refuse_if_blocked(self, now: datetime, *, refresh: bool) -> None:
        """Raise why nothing may be sent now: reauthentication pending, retry-after, billing.

        The messages of an explicit refresh and of a command differ (`refresh`).
        """
        placeholders = {"vehicle": self.vehicle.name}
        until = self.scheduler.blocked_until
        if self.account.auth_failed:
            reason = "auth_failed"
        elif until is not None and self.scheduler.blocked(now):
            reason = self.scheduler.blocked_reason
            placeholders["until"] = dt_util.as_local(until).strftime("%Y-%m-%d %H:%M %Z")
        else:
            return
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"refresh_{reason}" if refresh else reason,
            translation_placeholders=placeholders,
        )

    def _show(
        self,
        readings: dict[Signal, SignalReading],
        failed: dict[Signal, Exception],
        signal: Signal,
        reading: SignalReading,
        raw: dict[str, Any] | None,
    ) -> None:
        """A new reading of `signal` (a read's or a delivery's): shown, kept, no longer failing."""
        if (before := readings.get(signal)) is not None:
            self._previous[signal] = before
        readings[signal] = reading
        failed.pop(signal, None)
        if raw is not None:
            self._memory.raw[signal] = raw

    def _merge(self, result: BatchResult, now: datetime) -> VehicleData:
        readings = dict(self.data.readings)
        failed = dict(self.data.failed)
        for signal, item in result.results.items():
            self._memory.polled[signal] = now
            if item.reading is not None:
                self._show(readings, failed, signal, item.reading, item.raw)
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
                    wait = timedelta(seconds=error.retry_after or 60)
                    self.scheduler.throttled(now, now + wait)
            else:
                if signal not in failed:
                    LOGGER.warning("%s: %s failed: %s", self.vehicle.name, signal.value, error)
                failed[signal] = error
        return VehicleData(readings=readings, failed=failed)

    @callback
    def async_track_entity(self, signal: Signal, domain: str, unique_id: str) -> None:
        """Remember that this registry entry shows `signal` (the platforms tell, at setup)."""
        self._signal_entities.setdefault(signal, set()).add((domain, unique_id))

    def _remove_unsupported_entities(self) -> None:
        """Remove from the registry, for good, the entities of signals the car does not have."""
        gone = self.unsupported & self._signal_entities.keys()
        if not gone:
            return
        registry = er.async_get(self.hass)
        for signal in gone:
            for domain, unique_id in sorted(self._signal_entities.pop(signal)):
                if entity_id := registry.async_get_entity_id(domain, DOMAIN, unique_id):
                    LOGGER.debug("%s: removing %s (no %s)", self.vehicle.name, entity_id, signal)
                    registry.async_remove(entity_id)

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

    # --- webhooks ----------------------------------------------------------------------

    @callback
    def async_push(
        self,
        readings: Mapping[Signal, SignalReading],
        raw: Mapping[Signal, dict[str, Any]],
        now: datetime,
    ) -> None:
        """A webhook delivery: what it brought is shown at once, unless older than what is.

        Deliveries come at least once and in any order: a reading whose data age is older than
        the one shown is dropped. Nothing is billed; the scheduler plans on the news.
        """
        shown = dict(self.data.readings)
        failed = dict(self.data.failed)
        taken: list[Signal] = []
        for signal, reading in readings.items():
            current = shown.get(signal)
            if current is not None and _older(reading, current):
                continue
            self._show(shown, failed, signal, reading, raw.get(signal))
            self._memory.pushed[signal] = now
            taken.append(signal)
        self.last_webhook = now
        self._store.async_schedule_save()
        data = VehicleData(readings=shown, failed=failed)
        self.data = data
        if taken:
            self.scheduler.delivered(self._plan_input(now), tuple(taken))
            self._memory.learnt = self.scheduler.policy.export()
            self._follow_schedule(now)
        self.async_set_updated_data(data)

    async def async_subscribe_webhook(self, webhook_id: str) -> None:
        """Subscribe the car to Smartcar's webhook through the API, once.

        Where the application does not allow it, the dashboard's "automatically subscribe all
        vehicles" does the same; the README says so.
        """
        if self._memory.webhook == webhook_id or self.account.auth_failed:
            return
        try:
            async with self.account.limiter:
                await self.client.async_subscribe_webhook(self.vehicle.id, webhook_id)
        except SmartcarError as err:
            LOGGER.warning(
                "%s: could not subscribe the car to the webhook (%s); subscribe it in the "
                "Smartcar dashboard",
                self.vehicle.name,
                err,
            )
            return
        LOGGER.info("%s: subscribed to Smartcar's webhook", self.vehicle.name)
        self._memory.webhook = webhook_id
        self._store.async_schedule_save()

    @callback
    def async_webhook_errors(self, errors: Iterable[WebhookError]) -> None:
        """VEHICLE_ERROR: what the same error of a read does; RESOLVED takes it back."""
        entry_id = self.config_entry.entry_id
        for error in errors:
            signals = signals_of_codes(error.signals)
            permissions = sorted({READ_PERMISSIONS[s].value for s in signals})
            if error.type == "PERMISSION":
                for permission in permissions or ["unknown"]:
                    if error.resolved:
                        issues.clear_missing_permission(
                            self.hass, entry_id, self.vehicle.id, permission
                        )
                    else:
                        issues.missing_permission(
                            self.hass, entry_id, self.vehicle.id, self.vehicle.name, permission
                        )
            elif error.type in ("AUTHENTICATION", "CONNECTED_SERVICES_ACCOUNT") and (
                error.resolution == "REAUTHENTICATE" or error.code == "AUTHENTICATION_FAILED"
            ):
                if not error.resolved:
                    LOGGER.warning(
                        "%s: Smartcar says the account needs signing in again", self.vehicle.name
                    )
                    self.config_entry.async_start_reauth(self.hass)
            elif error.type == "CONNECTED_SERVICES_ACCOUNT":
                if error.resolved:
                    issues.clear_account_action(self.hass, entry_id, self.vehicle.id)
                else:
                    issues.account_action(
                        self.hass, entry_id, self.vehicle.id, self.vehicle.name, error.code
                    )
            else:
                # VEHICLE_STATE (asleep, unreachable) and COMPATIBILITY: the values stay, as
                # they do when a read says the same.
                LOGGER.debug(
                    "%s: webhook error %s:%s (%s)",
                    self.vehicle.name,
                    error.type,
                    error.code,
                    error.state,
                )

    # --- commands ----------------------------------------------------------------------

    async def async_command(
        self,
        command: Callable[[], Awaitable[CommandResult]],
        signal: Signal | None = None,
        optimistic: Callable[[SignalReading | None], SignalReading] | None = None,
        *,
        in_flight: Callable[[bool], None] | None = None,
    ) -> None:
        """Send a command, show its expected result at once, then confirm that one signal.

        Commands are never refused for the budget (they count against it, and polling
        makes room); the confirmation reads only the signal the command touched.
        `in_flight(True)` runs once the command may go (nothing refused it), `in_flight(False)`
        once it was answered or failed, before the expected result is shown. An answer whose
        status is not `success` is a failure; one without a readable status is not (the
        confirmation read shows what the car did).
        """
        now = dt_util.utcnow()
        self._refuse_if_blocked(now, refresh=False)
        if in_flight is not None:
            in_flight(True)
        try:
            async with self.account.limiter:
                result = await command()
        except SmartcarInvalidArgumentError as err:
            # Refused before anything was sent.
            raise invalid_argument(err) from err
        except SmartcarAuthenticationError as err:
            self.account.auth_failed = True
            self.config_entry.async_start_reauth(self.hass)
            raise smartcar_failure(HomeAssistantError, "command_failed", err) from err
        except SmartcarConnectionError as err:
            if isinstance(err, SmartcarTimeoutError):
                self._count(now, 1, command=True)  # it may have reached the car
            raise smartcar_failure(HomeAssistantError, "command_failed", err) from err
        except SmartcarError as err:
            self._count(now, 1, command=True)
            raise smartcar_failure(HomeAssistantError, "command_failed", err) from err
        finally:
            if in_flight is not None:
                in_flight(False)
        if result.status is not None and result.status.casefold() != COMMAND_SUCCESS:
            self._count(now, 1, command=True)
            LOGGER.debug("%s: the command answered %s", self.vehicle.name, result)
            raise failure(
                HomeAssistantError, "command_failed", result.status.upper(), result.message
            )
        self.scheduler.commanded(now)
        self._memory.learnt = self.scheduler.policy.export()
        self._count(now, 1, command=True)
        # What the command changed (a charge that starts) is planned for at the next look,
        # which comes no later than one minimum interval from now.
        self._follow_schedule(now)
        if signal is None:
            return
        if optimistic is not None:
            readings = dict(self.data.readings)
            readings[signal] = optimistic(readings.get(signal))
            self.async_set_updated_data(VehicleData(readings=readings, failed=self.data.failed))
        if signal in self.available_signals and self.scheduler.may_confirm(
            self._plan_input(now), signal
        ):
            await self._async_confirm(signal)

    async def _async_confirm(self, signal: Signal) -> None:
        """Read the one signal a command touched (a failure only logs: the command went)."""
        now = dt_util.utcnow()
        try:
            data = await self._async_fetch([signal], now, reason="confirm a command", command=True)
            data = await self._async_follow_up(data, now)
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
        try:
            data = await self._async_fetch(
                sorted(signals), now, reason="asked for (update_entity)", command=True
            )
        except ConfigEntryAuthFailed as err:
            self.config_entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="refresh_auth_failed",
                translation_placeholders={"vehicle": self.vehicle.name},
            ) from err
        except UpdateFailed as err:
            raise smartcar_failure(
                HomeAssistantError, "refresh_failed", err.__cause__, vehicle=self.vehicle.name
            ) from err
        self.async_set_updated_data(data)
        # Smartcar refused the read itself (429, BILLING): say so, the values stay.
        self._refuse_if_blocked(now, refresh=True)

    def signal_available(self, signal: Signal) -> bool:
        """Whether entities of this signal have something true to show."""
        return signal in self.data.readings and signal not in self.data.failed


# The status of a command Smartcar accepted (`{"status": "success", "message": ...}`).
COMMAND_SUCCESS = "success"


def _older(new: SignalReading, shown: SignalReading) -> bool:
    """Whether `new` reports an earlier moment than `shown` (unknown ages are not older)."""
    new_age, shown_age = new.meta.data_age, shown.meta.data_age
    return new_age is not None and shown_age is not None and new_age < shown_age
