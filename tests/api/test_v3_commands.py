"""API v3 commands against the simulator: sent, followed while PENDING, and their errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from custom_components.smartcar.api import (
    CommandResult,
    SmartcarCompatibilityError,
    SmartcarInvalidArgumentError,
    SmartcarResponseError,
    SmartcarV3Client,
    SmartcarValidationError,
    SmartcarVehicleStateError,
)
from smartcar_simulator import Simulator, v3 as sim_v3
from tests.const import EV_ID, PETROL_ID

from .conftest import StubServer, V3ClientFactory, billed, http_requests

Command = Callable[[SmartcarV3Client, str], Awaitable[CommandResult]]


def _executions(simulator: Simulator) -> list[sim_v3.Execution]:
    return list(sim_v3.app_of(simulator).executions.values())


def _execution_reads(simulator: Simulator) -> int:
    """`GET .../command-executions/{id}` requests the simulator saw."""
    return sum(n for k, n in http_requests(simulator).items() if "/command-executions/" in k)


async def test_lock_and_unlock(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """200 SUCCESS: status "success"; the car changes; each command billed once."""
    result = await v3_client.async_unlock(EV_ID)
    assert result == CommandResult(status="success")
    assert simulator.vehicle("ev").state.locked is False
    assert (await v3_client.async_lock(EV_ID)).status == "success"
    assert simulator.vehicle("ev").state.locked is True
    assert [e.command_type for e in _executions(simulator)] == ["security-unlock", "security-lock"]
    assert billed(simulator, EV_ID) == {
        "POST /v3/commands/security/unlock": 1,
        "POST /v3/commands/security/lock": 1,
    }
    assert _execution_reads(simulator) == 0


async def test_start_and_stop_charging(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """Plugged in: stop then start charging."""
    simulator.vehicle("ev").plug_in()
    assert simulator.vehicle("ev").state.charging is True
    assert (await v3_client.async_stop_charging(EV_ID)).status == "success"
    assert simulator.vehicle("ev").state.charging is False
    assert (await v3_client.async_start_charging(EV_ID)).status == "success"
    assert simulator.vehicle("ev").state.charging is True
    assert [e.command_type for e in _executions(simulator)] == ["charge-stop", "charge-start"]


async def test_set_charge_limit_sent_as_percent(
    simulator: Simulator, v3_client: SmartcarV3Client
) -> None:
    """A fraction in, a whole percent on the wire."""
    assert (await v3_client.async_set_charge_limit(EV_ID, 0.9)).status == "success"
    (execution,) = _executions(simulator)
    assert execution.parameters == {"percent": 90}
    assert simulator.vehicle("ev").state.charge_limit == 0.9


@pytest.mark.parametrize("limit", [0.49, 1.01, float("nan"), float("inf"), 90])
async def test_set_charge_limit_out_of_range(
    simulator: Simulator, v3_client: SmartcarV3Client, limit: float
) -> None:
    """Outside 0.5..1.0 (or not finite, or a percent by mistake): refused before sending."""
    with pytest.raises(SmartcarInvalidArgumentError):
        await v3_client.async_set_charge_limit(EV_ID, limit)
    assert not any(k.startswith("POST") for k in http_requests(simulator) if "/v3/" in k)
    assert billed(simulator, EV_ID) == {}


async def test_set_destination(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """Coordinates as attributes."""
    assert (await v3_client.async_set_destination(EV_ID, 52.1, 4.3)).status == "success"
    (execution,) = _executions(simulator)
    assert execution.command_type == "navigation-set-destination"
    assert execution.parameters == {"latitude": 52.1, "longitude": 4.3}


@pytest.mark.parametrize(("latitude", "longitude"), [(91.0, 4.0), (52.0, -181.0)])
async def test_set_destination_out_of_range(
    simulator: Simulator, v3_client: SmartcarV3Client, latitude: float, longitude: float
) -> None:
    """Impossible coordinates are refused before sending."""
    with pytest.raises(SmartcarInvalidArgumentError):
        await v3_client.async_set_destination(EV_ID, latitude, longitude)
    assert billed(simulator, EV_ID) == {}


async def _advance_when_pending(simulator: Simulator, seconds: float) -> None:
    """Move the virtual clock once the command is waiting (202)."""
    for _ in range(2000):
        if any(e.status == "PENDING" for e in _executions(simulator)):
            break
        await asyncio.sleep(0.005)
    simulator.set_clock(advance=seconds)


async def test_pending_followed_until_success(
    simulator: Simulator, make_v3_client: V3ClientFactory
) -> None:
    """202 PENDING: the execution is read again until it succeeded."""
    sim_v3.app_of(simulator).command_delay = 30
    client = make_v3_client(command_poll_interval=0.01)
    mover = asyncio.create_task(_advance_when_pending(simulator, 31))
    result = await client.async_unlock(EV_ID)
    await mover
    assert result.status == "success"
    assert simulator.vehicle("ev").state.locked is False
    (execution,) = _executions(simulator)
    assert execution.status == "SUCCESS"
    assert _execution_reads(simulator) >= 1
    assert billed(simulator, EV_ID) == {"POST /v3/commands/security/unlock": 1}


async def test_pending_followed_until_failure(
    simulator: Simulator, make_v3_client: V3ClientFactory
) -> None:
    """A command that fails later (start charging unplugged): status "failure" with the words."""
    sim_v3.app_of(simulator).command_delay = 30
    client = make_v3_client(command_poll_interval=0.01)
    mover = asyncio.create_task(_advance_when_pending(simulator, 31))
    result = await client.async_start_charging(EV_ID)
    await mover
    assert result.status == "failure"
    assert result.message == "The vehicle is not plugged in."
    assert simulator.vehicle("ev").state.charging is False


async def test_pending_timeout_returns_pending(
    simulator: Simulator, make_v3_client: V3ClientFactory
) -> None:
    """The clock never moves: after `command_timeout` the result is still "pending"."""
    sim_v3.app_of(simulator).command_delay = 30
    client = make_v3_client(command_poll_interval=0.01, command_timeout=0.1)
    result = await client.async_lock(EV_ID)
    assert result.status == "pending"
    assert result.message is None
    (execution,) = _executions(simulator)
    assert execution.status == "PENDING"


async def test_start_charging_unplugged_409(v3_client: SmartcarV3Client) -> None:
    """Run at once and refused: 409 VEHICLE_STATE CHARGE_FAULT."""
    with pytest.raises(SmartcarVehicleStateError) as caught:
        await v3_client.async_start_charging(EV_ID)
    assert caught.value.status == 409
    assert caught.value.code == "CHARGE_FAULT"
    assert caught.value.description == "The vehicle is not plugged in."


@pytest.mark.parametrize(
    "command",
    [
        SmartcarV3Client.async_start_charging,
        SmartcarV3Client.async_stop_charging,
        lambda c, v: c.async_set_charge_limit(v, 0.8),
        lambda c, v: c.async_set_destination(v, 52.0, 5.0),
    ],
    ids=["start", "stop", "limit", "destination"],
)
async def test_not_capable_501(
    simulator: Simulator, v3_client: SmartcarV3Client, command: Command
) -> None:
    """A petrol car cannot charge or navigate: 501 COMPATIBILITY (billed)."""
    with pytest.raises(SmartcarCompatibilityError) as caught:
        await command(v3_client, PETROL_ID)
    assert caught.value.status == 501
    assert caught.value.code == "VEHICLE_NOT_CAPABLE"
    assert sum(billed(simulator, PETROL_ID).values()) == 1


async def test_validation_400(simulator: Simulator, v3_client: SmartcarV3Client) -> None:
    """Smartcar refusing the body: 400 VALIDATION."""
    simulator.inject_fault(
        path="/commands/security/lock",
        error={"type": "VALIDATION", "code": "PARAMETER", "status": 400, "description": "Bad."},
    )
    with pytest.raises(SmartcarValidationError) as caught:
        await v3_client.async_lock(EV_ID)
    assert (caught.value.status, caught.value.code, caught.value.description) == (
        400,
        "PARAMETER",
        "Bad.",
    )


async def test_command_body_on_the_wire(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """`{"data": {"attributes": {...}}}` for set-limit; no body for lock."""
    done = {"data": {"id": "exec_1", "attributes": {"status": {"value": "SUCCESS"}}}}
    stub.add("POST", "/v3/vehicles/car/commands/charge/set-limit", done)
    stub.add("POST", "/v3/vehicles/car/commands/security/lock", done)
    await v3_stub_client.async_set_charge_limit("car", 0.55)
    await v3_stub_client.async_lock("car")
    limit, lock = stub.requests
    assert limit.body == b'{"data": {"attributes": {"percent": 55}}}'
    assert lock.body == b""


async def test_pending_then_failure_over_stub(
    stub: StubServer, v3_stub_client: SmartcarV3Client
) -> None:
    """Followed by execution id; FAILURE's `detail` is the message."""
    stub.add(
        "POST",
        "/v3/vehicles/car/commands/security/unlock",
        {"data": {"id": "exec_9", "attributes": {"status": {"value": "PENDING"}}}},
        status=202,
    )
    execution = "/v3/vehicles/car/command-executions/exec_9"
    stub.add(
        "GET", execution, {"data": {"id": "exec_9", "attributes": {"status": {"value": "PENDING"}}}}
    )
    stub.add(
        "GET",
        execution,
        {
            "data": {
                "id": "exec_9",
                "attributes": {
                    "status": {
                        "value": "FAILURE",
                        "error": {
                            "type": "UPSTREAM",
                            "title": "Upstream",
                            "detail": "OEM timeout.",
                        },
                    }
                },
            }
        },
    )
    result = await v3_stub_client.async_unlock("car")
    assert result == CommandResult(status="failure", message="OEM timeout.")
    assert [r.path for r in stub.requests] == [
        "/v3/vehicles/car/commands/security/unlock",
        execution,
        execution,
    ]


async def test_command_without_status(stub: StubServer, v3_stub_client: SmartcarV3Client) -> None:
    """An execution without a status is no answer."""
    stub.add("POST", "/v3/vehicles/car/commands/security/lock", {"data": {"id": "exec_1"}})
    with pytest.raises(SmartcarResponseError):
        await v3_stub_client.async_lock("car")
    stub.add("POST", "/v3/vehicles/car/commands/security/unlock", {"nothing": True})
    with pytest.raises(SmartcarResponseError):
        await v3_stub_client.async_unlock("car")
