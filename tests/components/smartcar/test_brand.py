"""The integration's own brand images: present, well-formed, and served by Home Assistant.

Home Assistant 2026.10 serves `custom_components/<domain>/brand/<image>` through
`/api/brands/integration/<domain>/<image>` (the `brands` integration) before it asks
the brands CDN; the images follow the home-assistant/brands rules.
"""

from __future__ import annotations

from http import HTTPStatus
from io import BytesIO
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_custom_components
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smartcar.const import DOMAIN

BRAND_DIR = Path(__file__).resolve().parents[3] / "custom_components" / DOMAIN / "brand"

ICONS = ("icon.png", "dark_icon.png")
LOGOS = ("logo.png", "dark_logo.png")
ALL_IMAGES = tuple(
    name for base in (*ICONS, *LOGOS) for name in (base, base.replace(".png", "@2x.png"))
)


def _open(name: str) -> Image.Image:
    path = BRAND_DIR / name
    assert path.is_file(), f"missing {path}"
    image = Image.open(path)
    assert image.format == "PNG"
    image.load()
    return image


@pytest.mark.parametrize("name", ALL_IMAGES)
def test_transparent_and_trimmed(name: str) -> None:
    """RGBA with a transparent background, something opaque, no empty outer row or column."""
    image = _open(name)
    assert image.mode == "RGBA"
    alpha = image.getchannel("A")
    width, height = image.size
    corners = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
    assert all(alpha.getpixel(corner) == 0 for corner in corners)
    low, high = alpha.getextrema()
    assert (low, high) == (0, 255)
    # Trimmed: the non-transparent content touches all four edges.
    assert alpha.getbbox() == (0, 0, width, height)


@pytest.mark.parametrize("name", ICONS)
def test_icon_sizes(name: str) -> None:
    """Icons are square: 256x256, and 512x512 at @2x."""
    assert _open(name).size == (256, 256)
    assert _open(name.replace(".png", "@2x.png")).size == (512, 512)


@pytest.mark.parametrize("name", LOGOS)
def test_logo_sizes(name: str) -> None:
    """Logos are landscape, shortest side 128-256 px, and @2x exactly twice the 1x size."""
    logo = _open(name)
    double = _open(name.replace(".png", "@2x.png"))
    assert logo.width >= logo.height
    assert 128 <= min(logo.size) <= 256
    assert double.size == (2 * logo.width, 2 * logo.height)
    assert 256 <= min(double.size) <= 512


async def test_served_by_home_assistant(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The brands API answers every image from our folder, not the CDN or a placeholder."""
    integration = (await async_get_custom_components(hass))[DOMAIN]
    assert integration.has_branding
    assert await async_setup_component(hass, "brands", {})
    await hass.async_block_till_done()
    client = await hass_client()
    for name in ALL_IMAGES:
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{name}")
        assert response.status == HTTPStatus.OK, name
        assert response.content_type == "image/png"
        body = await response.read()
        assert body == (BRAND_DIR / name).read_bytes(), name
        assert Image.open(BytesIO(body)).size == _open(name).size
