"""Webhook deliveries from the simulator to a real receiver on 127.0.0.1.

The receiver is a tiny aiohttp app: it records every request (headers and raw body) and
answers as the test tells it (VERIFY with Smartcar's own `hash_challenge`, deliveries with a
status). Signatures are checked with Smartcar's Python SDK (`smartcar.verify_payload`). The
virtual clock is frozen: the tests advance it and call `deliver_due()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest
import smartcar
import smartcar.config

from smartcar_simulator import (
    EV_ID,
    PETROL_ID,
    PHEV_ID,
    USER_ID,
    Simulator,
    SimulatorServer,
    VirtualClock,
    v3 as sim_v3,
)
from smartcar_simulator.simulator import DEFAULT_MANAGEMENT_TOKEN, DEFAULT_WEBHOOK_ID
from smartcar_simulator.webhooks import WebhookSender, sender_of
from tests.conftest import TEST_NOW

from .conftest import bearer

AMT = DEFAULT_MANAGEMENT_TOKEN
T0_MS = int(TEST_NOW.timestamp() * 1000)
OTHER_WEBHOOK = "9f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f"


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    text: str

    @property
    def json(self) -> dict[str, Any]:
        """The parsed body."""
        body = json.loads(self.text)
        assert isinstance(body, dict)
        return body

    @property
    def signature_ok(self) -> bool:
        """Smartcar's SDK: is SC-Signature the HMAC of the raw body?"""
        return bool(smartcar.verify_payload(AMT, self.headers.get("SC-Signature", ""), self.text))


@dataclass
class Receiver:
    """The application's callback: records requests, answers as told."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    verify_answer: str = "right"  # right | wrong | status
    statuses: list[int] = field(default_factory=list)  # answers to deliveries, then 204
    delay: float = 0.0

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """The bodies of everything but VERIFY."""
        return [r.json for r in self.requests if r.json["eventType"] != "VERIFY"]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        got = Received(dict(request.headers), text)
        self.requests.append(got)
        if self.delay:
            await asyncio.sleep(self.delay)
        body = got.json
        if body["eventType"] == "VERIFY":
            challenge = body["data"]["challenge"]
            if self.verify_answer == "status":
                return web.Response(status=500)
            answer = smartcar.hash_challenge(
                AMT if self.verify_answer == "right" else "not-the-amt", challenge
            )
            return web.json_response({"challenge": answer})
        if not got.signature_ok:
            return web.Response(status=401)
        return web.Response(status=self.statuses.pop(0) if self.statuses else 204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """The receiving application on 127.0.0.1 (a free port)."""
    target = Receiver()
    app = web.Application()
    app.router.add_post("/webhook", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    target.url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    yield target
    await runner.cleanup()


@pytest.fixture
def sender(sim: Simulator, receiver: Receiver) -> WebhookSender:
    """The simulator's sender, pointed at the receiver; the v3 auto-subscribe switch off."""
    sim_v3.app_of(sim).auto_subscribe = False
    found = sender_of(sim)
    found.configure(DEFAULT_WEBHOOK_ID, url=receiver.url, name="AutoData")
    return found


async def _verified(sender: WebhookSender) -> None:
    result = await sender.verify(DEFAULT_WEBHOOK_ID)
    assert result["verified"] is True


async def _signals_api(
    http: aiohttp.ClientSession, auth: dict[str, str], vehicle_id: str
) -> dict[str, Any]:
    """code -> body, as `GET /v3/vehicles/{id}/signals` answers."""
    async with http.get(f"/v3/vehicles/{vehicle_id}/signals", headers=auth) as resp:
        assert resp.status == 200
        data = await resp.json()
    return {s["attributes"]["code"]: s["attributes"].get("body") for s in data["data"]}


# -- VERIFY -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("server")
async def test_verify_answered_right(sender: WebhookSender, receiver: Receiver) -> None:
    result = await sender.verify(DEFAULT_WEBHOOK_ID)
    assert result["verified"] is True
    assert result["status"] == 200
    assert result["error"] is None
    assert result["answer"] == result["expected"]
    assert sender.config(DEFAULT_WEBHOOK_ID).verified is True

    (got,) = receiver.requests
    body = got.json
    assert body == {
        "eventId": result["eventId"],
        "eventType": "VERIFY",
        "data": {"challenge": result["challenge"]},
        "meta": {
            "version": "4.0",
            "webhookId": DEFAULT_WEBHOOK_ID,
            "webhookName": "AutoData",
            "deliveryId": result["deliveryId"],
            "deliveredAt": T0_MS,
        },
    }
    # The SDK's own computation of the answer, and the signature on VERIFY too.
    assert result["expected"] == smartcar.hash_challenge(AMT, result["challenge"])
    assert got.signature_ok
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("Smartcar/")


@pytest.mark.usefixtures("server")
@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [("wrong", 200, "wrong challenge answer"), ("status", 500, "HTTP 500")],
)
async def test_verify_answered_wrong(
    sender: WebhookSender, receiver: Receiver, sim: Simulator, answer: str, status: int, error: str
) -> None:
    receiver.verify_answer = answer
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    result = await sender.verify(DEFAULT_WEBHOOK_ID)
    assert (result["verified"], result["status"], result["error"]) == (False, status, error)
    assert sender.config(DEFAULT_WEBHOOK_ID).verification == result
    # an unverified webhook delivers nothing
    sim.vehicle("ev").unlock()
    assert await sender.deliver_due() == []
    assert receiver.deliveries == []


async def test_verify_over_http(
    http: aiohttp.ClientSession, sim: Simulator, receiver: Receiver
) -> None:
    async with http.post(f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}", json={"url": receiver.url}) as r:
        assert r.status == 200
        settings = await r.json()
    assert (settings["url"], settings["verified"], settings["name"]) == (
        receiver.url,
        False,
        "Home Assistant",
    )
    async with http.post(f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}/verify") as r:
        assert r.status == 200
        assert (await r.json())["verified"] is True
    async with http.get(f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}") as r:
        assert (await r.json())["verified"] is True
    # a new url must be verified again
    async with http.post(f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}", json={"url": receiver.url + "/"}):
        pass
    assert sender_of(sim).config(DEFAULT_WEBHOOK_ID).verified is False


# -- VEHICLE_STATE --------------------------------------------------------------------------------


async def test_state_change_makes_one_delivery(
    http: aiohttp.ClientSession,
    auth: dict[str, str],
    sim: Simulator,
    sender: WebhookSender,
    receiver: Receiver,
) -> None:
    # the v3 application's own subscription (the Dashboard's): deliveries and v3 signals
    sim_v3.subscribe(sim, "ev")
    await _verified(sender)

    first = await sender.deliver_due()
    assert [(r["eventType"], r["vehicleId"], r["status"], r["triggers"]) for r in first] == [
        ("VEHICLE_STATE", EV_ID, 204, ["FIRST_DELIVERY"])
    ]
    assert await sender.deliver_due() == []  # nothing changed

    sim.clock.advance(60)
    sim.vehicle("ev").unlock()
    records = await sender.deliver_due()
    assert len(records) == 1
    assert len(receiver.deliveries) == 2
    got = receiver.requests[-1]
    assert got.signature_ok
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("Smartcar/")
    body = got.json
    now_ms = T0_MS + 60_000
    assert body["eventType"] == "VEHICLE_STATE"
    assert body["eventId"] == records[0]["eventId"]
    assert body["data"]["user"] == {"id": USER_ID}
    assert body["data"]["vehicle"] == {
        "id": EV_ID,
        "make": "TESLA",
        "model": "Model 3",
        "year": 2023,
        "mode": "live",
        "powertrainType": "BEV",
    }
    assert body["triggers"] == [
        {"type": "SIGNAL_UPDATED", "signal": {"name": n, "code": c, "group": "Closure"}}
        for n, c in [
            ("IsLocked", "closure-islocked"),
            ("Doors", "closure-doors"),
            ("FrontTrunk", "closure-fronttrunk"),
            ("RearTrunk", "closure-reartrunk"),
        ]
    ]
    assert body["meta"] == {
        "deliveryId": records[0]["deliveryId"],
        "deliveredAt": now_ms,
        "version": "4.0",
        "webhookId": DEFAULT_WEBHOOK_ID,
        "webhookName": "AutoData",
        "mode": "LIVE",
        "signalCount": len(body["data"]["signals"]),
    }
    signals = {s["code"]: s for s in body["data"]["signals"]}
    # the same values the API answers
    api = await _signals_api(http, auth, EV_ID)
    assert list(signals) == list(api)
    assert {code: s.get("body") for code, s in signals.items()} == api
    assert signals["closure-islocked"] == {
        "code": "closure-islocked",
        "name": "IsLocked",
        "group": "Closure",
        "body": {"value": False},
        "meta": {"oemUpdatedAt": now_ms, "retrievedAt": now_ms},
        "status": {"value": "SUCCESS"},
    }
    assert signals["tractionbattery-stateofcharge"]["body"] == {"value": 62.0, "unit": "percent"}
    # not charging: the charge-rate signal is in ERROR, without a body (as real payloads)
    assert signals["charge-chargerate"]["status"]["value"] == "ERROR"
    assert signals["charge-chargerate"]["status"]["error"]["code"] == "NOT_CHARGING"
    assert "body" not in signals["charge-chargerate"]
    assert sender.counters[DEFAULT_WEBHOOK_ID] == {
        "sent": 2,
        "acknowledged": 2,
        "failed": 0,
        "retried": 0,
        "dropped": 0,
    }


@pytest.mark.usefixtures("server")
async def test_unsubscribed_cars_deliver_nothing(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    await sender.deliver_due()  # ev's first delivery
    sim.vehicle("petrol").lock()
    sim.vehicle("phev").plug_in()
    assert await sender.deliver_due() == []
    assert [d["data"]["vehicle"]["id"] for d in receiver.deliveries] == [EV_ID]
    assert sender.subscribed_vehicles(DEFAULT_WEBHOOK_ID) == [EV_ID]

    # the v3 application's switch subscribes every connected car
    sim_v3.app_of(sim).auto_subscribe = True
    records = await sender.deliver_due()
    assert sorted((r["vehicleId"], r["triggers"][0]) for r in records) == sorted(
        [(PHEV_ID, "FIRST_DELIVERY"), (PETROL_ID, "FIRST_DELIVERY")]
    )


@pytest.mark.usefixtures("server")
async def test_charging_delivers_every_ten_minutes(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    await sender.deliver_due()
    ev = sim.vehicle("ev")
    ev.plug_in()
    assert len(await sender.deliver_due()) == 1
    sim.clock.advance(300)
    assert await sender.deliver_due() == []  # between two reports
    sim.clock.advance(300)
    assert len(await sender.deliver_due()) == 1
    sim.clock.advance(1800)  # three reports at once: three deliveries, in order
    assert len(await sender.deliver_due()) == 3

    def soc(delivery: dict[str, Any]) -> tuple[float, int]:
        (signal,) = [
            s for s in delivery["data"]["signals"] if s["code"] == "tractionbattery-stateofcharge"
        ]
        return signal["body"]["value"], signal["meta"]["oemUpdatedAt"]

    # EV: 11 kW into 75 kWh = 2.444 % per 10 minutes, from 62 %
    assert [soc(d) for d in receiver.deliveries] == [
        (62.0, T0_MS - 420_000),  # FIRST_DELIVERY: the report made before the start
        (62.0, T0_MS),  # plugged in
        (64.4, T0_MS + 600_000),
        (66.9, T0_MS + 1_200_000),
        (69.3, T0_MS + 1_800_000),
        (71.8, T0_MS + 2_400_000),
    ]
    triggers = [{t["signal"]["code"] for t in d["triggers"]} for d in receiver.deliveries[1:]]
    assert {"charge-ischarging", "charge-ischargingcableconnected"} <= triggers[0]
    assert all("tractionbattery-stateofcharge" in t for t in triggers[1:])


@pytest.mark.usefixtures("server")
async def test_driving_delivers_every_ten_minutes(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "petrol")
    await _verified(sender)
    await sender.deliver_due()
    petrol = sim.vehicle("petrol")
    start = petrol.state.odometer
    petrol.drive_to(petrol.state.latitude + 0.5, petrol.state.longitude, speed_kmh=60)
    await sender.deliver_due()
    for _ in range(3):
        sim.clock.advance(600)
        assert len(await sender.deliver_due()) == 1

    def odometer(delivery: dict[str, Any]) -> float:
        (signal,) = [
            s for s in delivery["data"]["signals"] if s["code"] == "odometer-traveleddistance"
        ]
        return float(signal["body"]["value"])

    assert [round(odometer(d) - start, 1) for d in receiver.deliveries[2:]] == [10.0, 20.0, 30.0]


@pytest.mark.usefixtures("server")
async def test_configured_signals_only(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sender.configure(
        DEFAULT_WEBHOOK_ID,
        signals=["tractionbattery-stateofcharge", "internalcombustionengine-fuellevel"],
    )
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    await sender.deliver_due()
    sim.vehicle("ev").unlock()  # not a signal of this webhook: no delivery
    assert await sender.deliver_due() == []
    (delivery,) = receiver.deliveries
    assert delivery["meta"]["signalCount"] == 2
    soc, fuel = delivery["data"]["signals"]
    assert (soc["code"], soc["body"]) == (
        "tractionbattery-stateofcharge",
        {"value": 62.0, "unit": "percent"},
    )
    assert fuel == {
        "code": "internalcombustionengine-fuellevel",
        "name": "FuelLevel",
        "group": "InternalCombustionEngine",
        "meta": {"oemUpdatedAt": T0_MS - 420_000, "retrievedAt": T0_MS},
        "status": {
            "value": "ERROR",
            "error": {
                "type": "COMPATIBILITY",
                "code": "VEHICLE_NOT_CAPABLE",
                "title": "Compatibility",
                "detail": "The vehicle does not support this signal.",
            },
        },
    }


# -- retries --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("server")
async def test_retries_at_25_50_100_seconds_then_dropped(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    receiver.statuses = [500, 404, 302, 503]
    first = await sender.deliver_due()
    assert [(r["status"], r["outcome"], r["attempt"]) for r in first] == [(500, "failed", 1)]
    schedule = [(24, 0), (1, 404), (49, 0), (1, 302), (99, 0), (1, 503)]
    for seconds, status in schedule:
        sim.clock.advance(seconds)
        records = await sender.deliver_due()
        assert [r["status"] for r in records][:1] == ([status] if status else [])
    assert records[-1]["outcome"] == "dropped"
    sim.clock.advance(3600)
    assert await sender.deliver_due() == []

    deliveries = receiver.deliveries
    assert len(deliveries) == 4
    assert len({d["eventId"] for d in deliveries}) == 1
    assert len({d["meta"]["deliveryId"] for d in deliveries}) == 4
    assert [d["meta"]["deliveredAt"] - T0_MS for d in deliveries] == [0, 25_000, 75_000, 175_000]
    assert sender.counters[DEFAULT_WEBHOOK_ID] == {
        "sent": 4,
        "acknowledged": 0,
        "failed": 4,
        "retried": 3,
        "dropped": 1,
    }


@pytest.mark.usefixtures("server")
async def test_retry_succeeds(sim: Simulator, sender: WebhookSender, receiver: Receiver) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    receiver.statuses = [500]
    await sender.deliver_due()
    sim.clock.advance(25)
    (record,) = await sender.deliver_due()
    assert (record["status"], record["outcome"], record["attempt"]) == (204, "acknowledged", 2)
    sim.clock.advance(500)
    assert await sender.deliver_due() == []
    assert sender.counters[DEFAULT_WEBHOOK_ID]["acknowledged"] == 1


@pytest.mark.usefixtures("server")
async def test_timeout_and_connection_error_are_retried(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    sender.timeout = 0.2
    receiver.delay = 1.0
    (record,) = await sender.deliver_due()
    assert (record["status"], record["outcome"], record["error"]) == (None, "failed", "timeout")
    receiver.delay = 0.0
    # a port nobody listens on: connection refused
    sender.configure(DEFAULT_WEBHOOK_ID, url="http://127.0.0.1:1/webhook", verified=True)
    sim.clock.advance(25)
    (record,) = await sender.deliver_due()
    assert (record["status"], record["outcome"], record["attempt"]) == (None, "failed", 2)
    assert record["error"].startswith("Client")
    sender.configure(DEFAULT_WEBHOOK_ID, url=receiver.url, verified=True)
    sim.clock.advance(50)
    (record,) = await sender.deliver_due()
    assert (record["status"], record["outcome"], record["attempt"]) == (204, "acknowledged", 3)


# -- faults ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("server")
async def test_fault_duplicate(sim: Simulator, sender: WebhookSender, receiver: Receiver) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    sender.add_fault("duplicate")
    records = await sender.deliver_due()
    assert [r["faults"] for r in records] == [["duplicate"], ["duplicate"]]
    one, two = receiver.requests[1:]
    assert one.text == two.text
    assert one.headers["SC-Signature"] == two.headers["SC-Signature"]
    sim.vehicle("ev").unlock()
    assert len(await sender.deliver_due()) == 1  # count 1: used up
    assert sender.faults == []


@pytest.mark.usefixtures("server")
async def test_fault_reorder(sim: Simulator, sender: WebhookSender, receiver: Receiver) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    await sender.deliver_due()
    sender.add_fault("reorder")
    ev = sim.vehicle("ev")
    ev.unlock()
    held = await sender.deliver_due()
    assert [r["outcome"] for r in held] == ["held"]
    assert len(receiver.deliveries) == 1
    sim.clock.advance(60)
    ev.lock()
    records = await sender.deliver_due()
    assert [r["eventId"] for r in records] == [records[0]["eventId"], held[0]["eventId"]]
    late, early = receiver.deliveries[1:]
    assert early["eventId"] == held[0]["eventId"]
    assert [s["body"] for s in early["data"]["signals"] if s["code"] == "closure-islocked"] == [
        {"value": False}
    ]
    assert [s["body"] for s in late["data"]["signals"] if s["code"] == "closure-islocked"] == [
        {"value": True}
    ]


@pytest.mark.usefixtures("server")
async def test_fault_bad_signature(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    await _verified(sender)
    sender.add_fault("bad_signature")
    (record,) = await sender.deliver_due()
    assert (record["status"], record["faults"]) == (401, ["bad_signature"])
    assert not receiver.requests[-1].signature_ok
    sim.clock.advance(25)  # the receiver's 401 is retried, signed right this time
    (record,) = await sender.deliver_due()
    assert (record["status"], record["faults"]) == (204, [])
    assert receiver.requests[-1].signature_ok


@pytest.mark.usefixtures("server")
async def test_fault_drop_per_vehicle(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "phev")
    await _verified(sender)
    sender.add_fault("drop", count=2, vehicle_id="phev")
    records = await sender.deliver_due()
    assert sorted((r["vehicleId"], r["outcome"]) for r in records) == sorted(
        [(EV_ID, "acknowledged"), (PHEV_ID, "dropped")]
    )
    sim.vehicle("phev").unlock()
    (record,) = await sender.deliver_due()
    assert (record["vehicleId"], record["outcome"]) == (PHEV_ID, "dropped")
    sim.clock.advance(3600)  # dropped deliveries are not retried
    assert await sender.deliver_due() == []
    sim.vehicle("phev").lock()
    (record,) = await sender.deliver_due()
    assert (record["vehicleId"], record["outcome"]) == (PHEV_ID, "acknowledged")
    assert [d["data"]["vehicle"]["id"] for d in receiver.deliveries] == [EV_ID, PHEV_ID]
    assert sender.counters[DEFAULT_WEBHOOK_ID]["dropped"] == 2


async def test_faults_over_http(http: aiohttp.ClientSession, sender: WebhookSender) -> None:
    async with http.post("/sim/webhooks/faults", json={"kind": "drop", "count": 3}) as resp:
        assert resp.status == 201
        fault = await resp.json()
    assert (fault["kind"], fault["count"], fault["vehicle_id"], fault["fired"]) == (
        "drop",
        3,
        None,
        0,
    )
    async with http.post("/sim/webhooks/faults", json={"kind": "lose"}) as resp:
        assert resp.status == 400
        assert "kind" in (await resp.json())["error"]
    async with http.post(
        "/sim/webhooks/faults", json={"kind": "drop", "vehicle_id": "nope"}
    ) as resp:
        assert resp.status == 404
    async with http.get("/sim/webhooks/faults") as resp:
        assert [f["kind"] for f in (await resp.json())["faults"]] == ["drop"]
    async with http.delete("/sim/webhooks/faults") as resp:
        assert (await resp.json()) == {"faults": []}
    assert sender.faults == []


# -- VEHICLE_ERROR --------------------------------------------------------------------------------


async def test_vehicle_error(
    http: aiohttp.ClientSession, sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    body = {
        "vehicle": "ev",
        "type": "CONNECTED_SERVICES_ACCOUNT",
        "code": "AUTHENTICATION_FAILED",
        "resolution": "REAUTHENTICATE",
        "signals": ["tractionbattery-stateofcharge"],
    }
    url = f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}/error"
    async with http.post(url, json=body) as resp:
        assert resp.status == 409  # not verified yet
    await _verified(sender)
    await sender.deliver_due()  # the first delivery
    async with http.post(url, json=body) as resp:
        assert resp.status == 202
        event_id = (await resp.json())["eventId"]
    async with http.post(url, json={**body, "state": "GONE"}) as resp:
        assert resp.status == 400
    async with http.post(url, json={**body, "vehicle": "petrol"}) as resp:
        assert resp.status == 409  # not subscribed
    async with http.post("/sim/webhooks/deliver") as resp:
        (record,) = (await resp.json())["deliveries"]
    assert (record["eventId"], record["eventType"], record["status"]) == (
        event_id,
        "VEHICLE_ERROR",
        204,
    )
    got = receiver.requests[-1]
    assert got.signature_ok
    delivery = got.json
    assert delivery["eventId"] == event_id
    assert delivery["eventType"] == "VEHICLE_ERROR"
    assert "triggers" not in delivery
    assert delivery["data"]["user"] == {"id": USER_ID}
    assert delivery["data"]["vehicle"]["id"] == EV_ID
    assert delivery["data"]["errors"] == [
        {
            "type": "CONNECTED_SERVICES_ACCOUNT",
            "code": "AUTHENTICATION_FAILED",
            "description": "There is a problem with the user's connected services account.",
            "docURL": "https://smartcar.com/docs/errors/api-errors/"
            "connected-services-account-errors#authentication-failed",
            "resolution": {"type": "REAUTHENTICATE"},
            "suggestedUserMessage": "Please check your connected services account with the "
            "vehicle manufacturer.",
            "state": "ERROR",
            "signals": [
                {
                    "name": "StateOfCharge",
                    "group": "TractionBattery",
                    "code": "tractionbattery-stateofcharge",
                }
            ],
        }
    ]
    assert delivery["meta"]["version"] == "4.0"
    assert delivery["meta"]["webhookId"] == DEFAULT_WEBHOOK_ID
    assert "signalCount" not in delivery["meta"]

    resolved = sender.inject_error(
        DEFAULT_WEBHOOK_ID, "ev", type="VEHICLE_STATE", code="ASLEEP", state="RESOLVED"
    )
    await sender.deliver_due()
    error = receiver.deliveries[-1]["data"]["errors"][0]
    assert receiver.deliveries[-1]["eventId"] == resolved.event_id
    assert (error["state"], error["resolution"], error["signals"]) == (
        "RESOLVED",
        {"type": "RETRY_LATER"},
        [],
    )


# -- subscriptions --------------------------------------------------------------------------------


async def test_v3_subscriptions_api(
    http: aiohttp.ClientSession, sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    token = sim_v3.issue_app_token(sim)
    await _verified(sender)
    assert await sender.deliver_due() == []  # nobody subscribed

    def create(webhook: str, vehicle: str, user: str = USER_ID) -> dict[str, Any]:
        return {
            "data": {"attributes": {"webhookId": webhook, "userId": user, "vehicleId": vehicle}}
        }

    async with http.post(
        "/v3/subscriptions", json=create(DEFAULT_WEBHOOK_ID, EV_ID), headers=bearer(token)
    ) as resp:
        assert resp.status == 202
        assert await resp.json() == {"meta": {"message": "subscription creation in progress"}}
    assert sim.subscriptions("ev") == [DEFAULT_WEBHOOK_ID]
    assert EV_ID in sim_v3.app_of(sim).subscribed  # its v3 signals answer now
    (record,) = await sender.deliver_due()
    assert (record["vehicleId"], record["triggers"]) == (EV_ID, ["FIRST_DELIVERY"])

    cases = [
        (create(DEFAULT_WEBHOOK_ID, EV_ID), bearer(token), 409, "SUBSCRIPTION_EXISTS"),
        (create(OTHER_WEBHOOK, EV_ID), bearer(token), 404, "WEBHOOK_NOT_FOUND"),
        (create(DEFAULT_WEBHOOK_ID, "no-such-car"), bearer(token), 404, "VEHICLE_NOT_FOUND"),
        (create(DEFAULT_WEBHOOK_ID, EV_ID, "nobody"), bearer(token), 404, "USER_NOT_FOUND"),
        (create(DEFAULT_WEBHOOK_ID, PHEV_ID), bearer("v3_wrong"), 401, None),
        (create(DEFAULT_WEBHOOK_ID, PHEV_ID), {"Authorization": f"Bearer {AMT}"}, 401, None),
        ({"data": {}}, bearer(token), 400, "PARAMETER"),
    ]
    for body, headers, status, code in cases:
        async with http.post("/v3/subscriptions", json=body, headers=headers) as resp:
            error = await resp.json()
            assert (resp.status, error["code"]) == (status, code), body
            assert error["statusCode"] == status

    async with http.post(
        "/v3/subscriptions", json=create(DEFAULT_WEBHOOK_ID, PETROL_ID), headers=bearer(token)
    ) as resp:
        assert resp.status == 202
    async with http.get("/v3/subscriptions", headers=bearer(token)) as resp:
        listed = await resp.json()
    assert listed["meta"] == {"pageNumber": 1, "pageSize": 10, "totalCount": 2}
    assert [
        (s["attributes"]["vehicleId"], s["attributes"]["webhookId"]) for s in listed["data"]
    ] == [
        (EV_ID, DEFAULT_WEBHOOK_ID),
        (PETROL_ID, DEFAULT_WEBHOOK_ID),
    ]
    assert all(s["type"] == "subscription" for s in listed["data"])
    assert all(s["attributes"]["userId"] == USER_ID for s in listed["data"])
    for query, expected in [
        (f"filter[vehicleId]={PETROL_ID}", [PETROL_ID]),
        (f"filter[webhookId]={DEFAULT_WEBHOOK_ID}&page[size]=1", [EV_ID]),
        (f"filter[webhookId]={DEFAULT_WEBHOOK_ID}&page[size]=1&page[number]=2", [PETROL_ID]),
        (f"filter[userId]={USER_ID}", [EV_ID, PETROL_ID]),
        ("filter[userId]=nobody", []),
        ("filter[vehicle.mode]=simulated", []),
    ]:
        async with http.get(f"/v3/subscriptions?{query}", headers=bearer(token)) as resp:
            found = [s["attributes"]["vehicleId"] for s in (await resp.json())["data"]]
        assert found == expected, query
    async with http.get("/v3/subscriptions?page[size]=0", headers=bearer(token)) as resp:
        assert resp.status == 400
    async with http.get("/v3/subscriptions") as resp:
        assert resp.status == 401

    petrol_sub = listed["data"][1]["id"]
    async with http.get(f"/v3/subscriptions/{petrol_sub}", headers=bearer(token)) as resp:
        assert (await resp.json())["data"] == listed["data"][1]
    async with http.delete(f"/v3/subscriptions/{petrol_sub}", headers=bearer(token)) as resp:
        assert resp.status == 202
    assert sim.subscriptions("petrol") == []
    async with http.get(f"/v3/subscriptions/{petrol_sub}", headers=bearer(token)) as resp:
        assert (resp.status, (await resp.json())["code"]) == (404, "SUBSCRIPTION_NOT_FOUND")


async def test_sdk_v2_subscribe_adds_to_the_same_set(
    server: SimulatorServer,
    sim: Simulator,
    sender: WebhookSender,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Smartcar's SDK `Vehicle.subscribe` (v2): the car is subscribed and delivers."""
    monkeypatch.setattr(smartcar.config, "API_ORIGIN", server.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")
    token = sim.issue_tokens().access_token
    await _verified(sender)
    vehicle = smartcar.Vehicle(PHEV_ID, token)
    subscribed = await asyncio.to_thread(vehicle.subscribe, DEFAULT_WEBHOOK_ID)
    assert (subscribed.webhook_id, subscribed.vehicle_id) == (DEFAULT_WEBHOOK_ID, PHEV_ID)
    assert sim.webhooks[DEFAULT_WEBHOOK_ID] == {PHEV_ID}
    assert sender.subscribed_vehicles(DEFAULT_WEBHOOK_ID) == [PHEV_ID]
    (record,) = await sender.deliver_due()
    assert (record["vehicleId"], record["triggers"], record["status"]) == (
        PHEV_ID,
        ["FIRST_DELIVERY"],
        204,
    )
    await asyncio.to_thread(vehicle.unsubscribe, AMT, DEFAULT_WEBHOOK_ID)
    sim.vehicle("phev").unlock()
    assert await sender.deliver_due() == []


# -- control, log, background ---------------------------------------------------------------------


async def test_control_endpoints(
    http: aiohttp.ClientSession, sim: Simulator, receiver: Receiver
) -> None:
    url = f"/sim/webhooks/{DEFAULT_WEBHOOK_ID}"
    for body, error in [
        ({"url": "ftp://x"}, "'url' must be an http(s) URL or null"),
        ({"signals": ["nope"]}, "unknown signal codes: nope"),
        ({"colour": "red"}, "unknown fields: colour"),
        ({"verified": True}, "a webhook without a url cannot be verified"),
    ]:
        async with http.post(url, json=body) as resp:
            assert (resp.status, await resp.json()) == (400, {"error": error})
    async with http.post(f"/sim/webhooks/{OTHER_WEBHOOK}", json={}) as resp:
        assert resp.status == 404
    async with http.post(f"{url}/verify") as resp:
        assert resp.status == 409  # no url yet
    async with http.post(
        url,
        json={
            "url": receiver.url,
            "name": "Mine",
            "signals": ["closure-islocked"],
            "auto_subscribe": True,
            "management_token": AMT,
        },
    ) as resp:
        settings = await resp.json()
    assert {k: settings[k] for k in ("url", "name", "signals", "auto_subscribe")} == {
        "url": receiver.url,
        "name": "Mine",
        "signals": ["closure-islocked"],
        "auto_subscribe": True,
    }
    assert "management_token" not in settings
    assert settings["subscribed"] == [EV_ID, PHEV_ID, PETROL_ID]
    async with http.post(f"{url}/verify") as resp:
        assert (await resp.json())["verified"] is True
    async with http.post("/sim/webhooks/deliver") as resp:
        records = (await resp.json())["deliveries"]
    assert [r["vehicleId"] for r in records] == [EV_ID, PHEV_ID, PETROL_ID]
    async with http.get("/sim/webhooks/log") as resp:
        log = await resp.json()
    assert [(d["eventType"], d["status"]) for d in log["deliveries"]] == [
        ("VERIFY", 200),
        ("VEHICLE_STATE", 204),
        ("VEHICLE_STATE", 204),
        ("VEHICLE_STATE", 204),
    ]
    assert log["counters"][DEFAULT_WEBHOOK_ID]["acknowledged"] == 3
    async with http.get("/sim/webhooks") as resp:
        listed = await resp.json()
    assert [w["id"] for w in listed["webhooks"]] == [DEFAULT_WEBHOOK_ID]
    assert listed["running"] is False  # frozen clock: no background loop
    async with http.post("/sim/webhooks/reset") as resp:
        assert await resp.json() == {"deliveries": [], "counters": {}}


@pytest.mark.parametrize("sim_options", [{"webhook_ids": [DEFAULT_WEBHOOK_ID, OTHER_WEBHOOK]}])
@pytest.mark.usefixtures("server")
async def test_webhooks_keep_their_own_subscriptions(
    sim: Simulator, sender: WebhookSender, receiver: Receiver
) -> None:
    sender.configure(OTHER_WEBHOOK, url=receiver.url, name="Other", auto_subscribe=False)
    assert (await sender.verify(OTHER_WEBHOOK))["verified"] is True
    await _verified(sender)
    sim.subscribe_webhook(OTHER_WEBHOOK, "petrol")
    sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
    records = await sender.deliver_due()
    assert sorted((r["webhookId"], r["vehicleId"]) for r in records) == sorted(
        [(DEFAULT_WEBHOOK_ID, EV_ID), (OTHER_WEBHOOK, PETROL_ID)]
    )
    names = {d["meta"]["webhookId"]: d["meta"]["webhookName"] for d in receiver.deliveries}
    assert names == {DEFAULT_WEBHOOK_ID: "AutoData", OTHER_WEBHOOK: "Other"}


async def test_background_delivery(sim: Simulator, receiver: Receiver) -> None:
    """`deliver_webhooks=True`: the server delivers every second by itself."""
    sim_v3.app_of(sim).auto_subscribe = False
    async with SimulatorServer(sim, deliver_webhooks=True):
        sender = sender_of(sim)
        assert sender.running
        sender.configure(DEFAULT_WEBHOOK_ID, url=receiver.url)
        sim.subscribe_webhook(DEFAULT_WEBHOOK_ID, "ev")
        await _verified(sender)
        for _ in range(50):
            if receiver.deliveries:
                break
            await asyncio.sleep(0.1)
        assert [d["triggers"] for d in receiver.deliveries] == [[{"type": "FIRST_DELIVERY"}]]
    assert not sender.running


async def test_background_loop_follows_the_clock() -> None:
    """By default the loop runs only when the clock does (the demo), not when it is frozen."""
    running = Simulator(clock=VirtualClock())
    async with SimulatorServer(running):
        assert sender_of(running).running
    assert not sender_of(running).running
    frozen = Simulator(clock=VirtualClock(frozen=True))
    async with SimulatorServer(frozen):
        assert not sender_of(frozen).running
