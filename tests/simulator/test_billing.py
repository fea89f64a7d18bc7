"""Billing counters and the per-vehicle rate limit."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from smartcar_simulator import EV_ID, PHEV_ID, Simulator


async def test_what_is_billed(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    ev = f"/v2.0/vehicles/{EV_ID}"
    for path in ("/v2.0/user", "/v2.0/vehicles", f"{ev}/permissions", "/v3/connections"):
        async with http.get(path, headers=auth) as resp:
            assert resp.status == 200, path
    async with http.get(f"{ev}/battery") as resp:  # 401: not billed
        assert resp.status == 401
    async with http.get("/sim/state") as resp:
        assert resp.status == 200
    assert sim.counters["billed"] == {}

    async with http.get(f"{ev}/battery", headers=auth) as resp:
        assert resp.status == 200
    async with http.get(ev, headers=auth) as resp:
        assert resp.status == 200
    async with http.get(f"{ev}/fuel", headers=auth) as resp:  # 501 still reached Smartcar
        assert resp.status == 501
    async with http.post(f"{ev}/security", headers=auth, json={"action": "LOCK"}) as resp:
        assert resp.status == 200
    batch = {"requests": [{"path": "/battery"}, {"path": "/odometer"}, {"path": "/location/"}]}
    async with http.post(f"{ev}/batch", headers=auth, json=batch) as resp:
        assert resp.status == 200

    counters = sim.counters
    assert counters["billed"] == {
        EV_ID: {
            "total": 7,
            "by_path": {
                "GET /battery": 2,
                "GET /": 1,
                "GET /fuel": 1,
                "POST /security": 1,
                "GET /odometer": 1,
                "GET /location": 1,
            },
        }
    }
    http_requests = counters["http_requests"]
    assert http_requests["GET /v2.0/user"] == 1
    assert http_requests["GET /v2.0/vehicles/{id}/battery"] == 2
    assert http_requests["POST /v2.0/vehicles/{id}/batch"] == 1
    assert http_requests["GET /v2.0/vehicles/{id}"] == 1
    assert not any(key.startswith("GET /sim") for key in http_requests)
    assert counters["token_requests"] == {}

    # the snapshot is a copy, and /sim/counters serves the same data
    counters["billed"].clear()
    async with http.get("/sim/counters") as resp:
        served = await resp.json()
    assert served == sim.counters
    assert served["billed"][EV_ID]["total"] == 7
    async with http.post("/sim/counters/reset") as resp:
        assert (await resp.json())["billed"] == {}
    assert sim.counters == {"billed": {}, "http_requests": {}, "token_requests": {}}


class TestSmallRateLimit:
    """rate_limit=3 per 60 s (what the options do is what the scenario checks)."""

    @pytest.fixture
    def sim_options(self) -> dict[str, Any]:
        return {"rate_limit": 3, "rate_limit_window": 60}

    async def test_retry_after(
        self, http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
    ) -> None:
        await _rate_limit_scenario(http, sim, auth)


async def _rate_limit_scenario(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    battery = f"/v2.0/vehicles/{EV_ID}/battery"
    for _ in range(3):
        async with http.get(battery, headers=auth) as resp:
            assert resp.status == 200
        sim.clock.advance(10)
    # requests at t=0, 10, 20; now t=30: the first slot frees at t=60
    async with http.get(battery, headers=auth) as resp:
        assert resp.status == 429
        assert resp.headers["retry-after"] == "30"
        error = await resp.json()
    assert (error["type"], error["statusCode"]) == ("RATE_LIMIT", 429)
    assert error["resolution"] == {"type": "RETRY_LATER"}
    assert sim.counters["billed"][EV_ID]["total"] == 3  # the 429 is not billed

    # other vehicles and unbilled endpoints are not limited
    async with http.get(f"/v2.0/vehicles/{PHEV_ID}/battery", headers=auth) as resp:
        assert resp.status == 200
    async with http.get(f"/v2.0/vehicles/{EV_ID}/permissions", headers=auth) as resp:
        assert resp.status == 200

    sim.clock.advance(30)
    async with http.get(battery, headers=auth) as resp:
        assert resp.status == 200
    # now t=60 with requests at 10, 20, 60; a batch of two needs two free slots,
    # so both t=10 and t=20 must leave the window: at t=80
    batch = {"requests": [{"path": "/battery"}, {"path": "/odometer"}]}
    async with http.post(f"/v2.0/vehicles/{EV_ID}/batch", headers=auth, json=batch) as resp:
        assert resp.status == 429
        assert resp.headers["retry-after"] == "20"
    sim.clock.advance(20)
    async with http.post(f"/v2.0/vehicles/{EV_ID}/batch", headers=auth, json=batch) as resp:
        assert resp.status == 200
    assert sim.counters["billed"][EV_ID]["total"] == 6


async def test_default_rate_limit_allows_120_per_hour(
    http: aiohttp.ClientSession, sim: Simulator, auth: dict[str, str]
) -> None:
    assert (sim.meter.rate_limit, sim.meter.window) == (120, 3600)
    batch = {"requests": [{"path": "/odometer"}] * 60}
    for _ in range(2):
        async with http.post(f"/v2.0/vehicles/{EV_ID}/batch", headers=auth, json=batch) as resp:
            assert resp.status == 200
    async with http.get(f"/v2.0/vehicles/{EV_ID}/odometer", headers=auth) as resp:
        assert resp.status == 429
        assert resp.headers["retry-after"] == "3600"
    big = {"requests": [{"path": "/odometer"}] * 121}  # can never fit
    sim.clock.advance(3600)
    async with http.post(f"/v2.0/vehicles/{EV_ID}/batch", headers=auth, json=big) as resp:
        assert resp.status == 429
    async with http.get(f"/v2.0/vehicles/{EV_ID}/odometer", headers=auth) as resp:
        assert resp.status == 200
