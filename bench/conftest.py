"""The benchmark runs under pytest for Home Assistant's test harness (`hass`, sockets).

At the end of the run the table is printed; the exit status fails when a target is missed.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from .report import report

# The harness logs INFO to the terminal; the benchmark prints its table and little else.
for _handler in logging.getLogger().handlers:
    _handler.setLevel(logging.WARNING)
for _name in ("homeassistant.loader", "aiohttp_fast_zlib"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def progress(config: pytest.Config, text: str) -> None:
    """A line on the terminal while the benchmark runs."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        return
    with capture.global_and_fixture_disabled():
        writer = config.get_terminal_writer()
        if writer.width_of_current_line:
            writer.line()
        writer.line(f"bench: {text}")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/smartcar."""


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Time the loop as Home Assistant runs it: without asyncio's debug mode."""
    asyncio.get_running_loop().set_debug(False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A missed target fails the run (after the table is printed)."""
    passed, _ = report()
    if passed is False and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the one table."""
    _, lines = report()
    for line in lines:
        terminalreporter.write_line(line)
