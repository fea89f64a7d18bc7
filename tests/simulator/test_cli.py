"""`python -m smartcar_simulator` as a real process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import json
from pathlib import Path
import re
import select
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

import pytest

from tests.conftest import TEST_NOW

from .conftest import iso_ms

ROOT = Path(__file__).resolve().parents[2]
BASIC = "Basic c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA=="
# Bounds on real time for a process to start, answer and stop: generous, they only catch a hang.
PATIENCE = 60


class Running:
    """A simulator process (its clock from TEST_NOW) and what it printed."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "smartcar_simulator",
                "--port",
                "0",
                "--start",
                TEST_NOW.isoformat(),
                *args,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + PATIENCE
        while not self.url:
            assert self.proc.stdout is not None
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            assert ready, f"no URL printed; stderr: {self.stop()[1]}"
            line = self.proc.stdout.readline()
            assert line, (
                f"process ended; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
            )
            self.lines.append(line)
            if match := re.search(r"(http://127\.0\.0\.1:\d+)", line):
                self.url = match.group(1)
        for _ in range(2):  # client id and secret follow the URL
            assert self.proc.stdout is not None
            self.lines.append(self.proc.stdout.readline())

    def request(
        self, path: str, body: dict[str, Any] | None = None, form: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        headers = {}
        data = None
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        if form is not None:
            data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": BASIC,
            }
        request = urllib.request.Request(self.url + path, data=data, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=PATIENCE) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def stop(self, signum: int = signal.SIGTERM) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        out, err = self.proc.communicate(timeout=PATIENCE)
        return out, err


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_exits_cleanly(processes: list[Running], signum: int) -> None:
    running = Running("--frozen", "--client-id", "my-id", "--extra-vehicles", "2")
    processes.append(running)
    printed = "".join(running.lines)
    assert "client_id: my-id" in printed
    assert "client_secret: sim-client-secret" in printed
    status, state = running.request("/sim/state")
    assert status == 200
    assert len(state["vehicles"]) == 5
    assert state["client_id"] == "my-id"
    assert state["clock"]["frozen"] is True
    out, err = running.stop(signum)
    assert running.proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_cli_state_file_survives_restart(processes: list[Running], tmp_path: Path) -> None:
    state_file = str(tmp_path / "sim.json")
    first = Running("--frozen", "--state-file", state_file)
    processes.append(first)
    status, tokens = first.request("/sim/tokens", body={})
    assert status == 200
    status, _ = first.request("/sim/vehicles/ev/actions", body={"action": "plug"})
    assert status == 200
    first.request("/sim/clock", body={"advance": 1200})
    first.stop()
    assert first.proc.returncode == 0

    second = Running("--frozen", "--state-file", state_file)
    processes.append(second)
    assert any("state loaded" in line for line in second.lines)
    # The frozen clock resumes where it stopped, not at --start; the EV charged 20 minutes.
    status, clock = second.request("/sim/clock")
    assert clock["now"] == iso_ms(TEST_NOW + timedelta(seconds=1200))
    status, state = second.request("/sim/vehicles/ev")
    assert state["state"]["plugged"] is True
    assert state["state"]["battery"] == pytest.approx(0.62 + 11 / 75 * 1200 / 3600)
    status, refreshed = second.request(
        "/oauth/token",
        form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert status == 200, refreshed
    second.stop()

    third = Running("--frozen", "--state-file", state_file, "--reset")
    processes.append(third)
    status, body = third.request(
        "/oauth/token",
        form={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    third.stop()
    assert third.proc.returncode == 0


def test_cli_rejects_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smartcar_simulator", "--host", "0.0.0.0"],  # noqa: S104
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
