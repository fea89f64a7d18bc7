"""Fixtures of the end-to-end tests: real `hass` and simulator processes (see stack.py).

The shared stack is started once per session (a few seconds); the tests talk to it only over
HTTP: Home Assistant's REST API (and its websocket for what has no REST form) and the
simulator's /sim control endpoints.
"""

from __future__ import annotations

import pytest

from .stack import stack_fixture


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replace the suite-wide fixture: no in-process test instance of Home Assistant here."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """HTTP to 127.0.0.1 (the harness disables sockets for every test)."""


# The shared stack, with the simulated Smartcar account connected: once with the simulator's
# API v2.0 application, once with its v3 application (tests run against each: ids v2, v3).
stack = stack_fixture("stack", connect=True, scope="session", apis=("2", "3"))
