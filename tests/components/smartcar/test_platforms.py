"""Snapshot of every platform's entities for the EV, the plug-in hybrid and the petrol car."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.smartcar import PLATFORMS


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "setup_credentials")
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_platform(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every entity of the platform, with its registry entry and state."""
    config_entry.add_to_hass(hass)
    with patch("custom_components.smartcar.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, config_entry.entry_id)
