"""Webhooks over real HTTP: the delay from a car's report to the state Home Assistant shows,
and how many deliveries per second one Home Assistant takes for 100 cars.

The path is the real one: an aiohttp client POSTs the simulator's signed deliveries to Home
Assistant's HTTP application served on a socket (its middlewares, the webhook view), which
checks the signature, parses the delivery and updates the entities. The month's column (d)
is in `test_month`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import time
from typing import Any
from unittest.mock import patch

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
import pytest

from custom_components.smartcar.const import CONF_MANAGEMENT_TOKEN
from smartcar_simulator import SimulatorServer

from .conftest import progress
from .harness import (
    Now,
    VirtualTimer,
    entity_id,
    http_server,
    make_entry,
    setup_credentials,
    token_data,
    virtual_time,
    webhook_sender,
)
from .metrics import WebhookResult, percentiles
from .month import make_simulator
from .remote import remote_simulator
from .report import WEBHOOKS
from .scenario import START

DELIVERIES = 200  # one at a time, for the delay
WARM_UP = 10  # not counted: the first connection, first code paths
FLEET = 100
ROUNDS = 10  # every car of the fleet reports this many times
CONCURRENCY = 10


@pytest.mark.timeout(300)
async def test_webhook_delay(
    hass: HomeAssistant, socket_enabled: None, request: pytest.FixtureRequest
) -> None:
    """The EV's lock state changes, the sender delivers, the lock entity shows it."""
    result = WEBHOOKS.setdefault("result", WebhookResult())
    sim = make_simulator()
    async with SimulatorServer(sim, host="127.0.0.1", port=0, deliver_webhooks=False) as server:
        with virtual_time(sim.clock.now), VirtualTimer(sim.clock.now).installed():
            await setup_credentials(hass, server.url)
            tokens = sim.issue_tokens()
            entry = make_entry(
                token_data(tokens.access_token, tokens.refresh_token, tokens.expires_in),
                {CONF_MANAGEMENT_TOKEN: sim.management_token},
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            vehicle = sim.vehicle("ev")
            lock = entity_id(hass, "lock", vehicle.id, "door_lock")
            assert lock is not None
            shown: list[float] = []

            @callback
            def changed(event: Event[Any]) -> None:
                if event.data["entity_id"] == lock:
                    shown.append(time.perf_counter())

            unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
            async with webhook_sender(hass, sim, entry.data["webhook_id"]) as sender:
                await sender.deliver_due()  # the first delivery of each car
                await hass.async_block_till_done()
                posted: list[float] = []
                real_post = sender._post

                async def post(url: str, body: bytes, headers: dict[str, str]) -> Any:
                    posted.append(time.perf_counter())
                    return await real_post(url, body, headers)

                with patch.object(sender, "_post", post):
                    for index in range(WARM_UP + DELIVERIES):
                        sim.clock.advance(60)
                        shown.clear()
                        posted.clear()
                        reported = time.perf_counter()
                        if vehicle.state.locked:
                            vehicle.unlock()
                        else:
                            vehicle.lock()
                        records = await sender.deliver_due()
                        assert [r["outcome"] for r in records] == ["acknowledged"]
                        assert len(shown) == 1, "the state changed before the answer"
                        if index >= WARM_UP:
                            result.from_report.append(shown[0] - reported)
                            result.from_post.append(shown[0] - posted[0])
            unsubscribe()
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    median, p95 = percentiles(result.from_report)
    progress(
        request.config,
        f"webhooks: report to state shown, median {median * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms",
    )


@pytest.mark.timeout(300)
async def test_webhook_throughput(
    hass: HomeAssistant, socket_enabled: None, request: pytest.FixtureRequest
) -> None:
    """100 cars; every car reports ROUNDS times; the deliveries come CONCURRENCY at a time.

    The sender runs in the simulator's process, so Home Assistant's event loop does nothing
    but take the deliveries.
    """
    result = WEBHOOKS.setdefault("result", WebhookResult())
    now = Now(START)
    async with remote_simulator(hass, FLEET) as sim:
        with virtual_time(now), VirtualTimer(now).installed():
            await setup_credentials(hass, sim.url)
            tokens = sim.tokens
            entry = make_entry(
                token_data(tokens["access_token"], tokens["refresh_token"], tokens["expires_in"]),
                {CONF_MANAGEMENT_TOKEN: tokens["management_token"]},
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            assert len(entry.runtime_data.coordinators) == FLEET
            async with http_server(hass) as base:
                url = f"{base}/api/webhook/{entry.data['webhook_id']}"
                made = await sim.command(prepare={"url": url, "rounds": ROUNDS})
                now.value = datetime.fromisoformat(made["now"]) + timedelta(seconds=1)
                first = await sim.command(flood={"concurrency": CONCURRENCY, "which": "first"})
                assert first["statuses"] == {"200": FLEET}, first["statuses"]
                await hass.async_block_till_done()
                changes = 0

                @callback
                def changed(event: Event[Any]) -> None:
                    nonlocal changes
                    if event.data["entity_id"].startswith("lock."):
                        changes += 1

                unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
                busy = time.thread_time()
                flood = await sim.command(flood={"concurrency": CONCURRENCY, "which": "rounds"})
                await hass.async_block_till_done()
                result.busy_seconds = time.thread_time() - busy
                unsubscribe()
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    result.vehicles, result.concurrency = FLEET, CONCURRENCY
    result.deliveries, result.seconds = flood["deliveries"], flood["seconds"]
    result.post_seconds, result.statuses = flood["post_seconds"], flood["statuses"]
    result.state_changes = changes
    assert result.deliveries == made["deliveries"] == FLEET * ROUNDS
    assert result.statuses == {"200": result.deliveries}, result.statuses
    assert changes == result.deliveries, "every delivery changed a lock entity"
    progress(
        request.config,
        f"webhooks: {FLEET} cars, {result.deliveries} deliveries {CONCURRENCY} at a time in "
        f"{result.seconds:.2f} s: {result.deliveries / result.seconds:.0f}/s",
    )
