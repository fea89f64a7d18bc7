"""Draw the integration's brand images into `custom_components/smartcar/brand/`.

Home Assistant (2026.10+) serves a custom integration's own `brand/` folder through
`/api/brands/integration/<domain>/<image>`, before falling back to the brands CDN.
The images are ours: a connected-car glyph (a car seen from the front under signal
arcs) drawn from plain shapes, and for the logos the word "Smartcar" set in Aileron,
the font Pillow bundles (so the output does not depend on the fonts of the machine).

Rules followed (home-assistant/brands README): PNG, transparent background, trimmed;
icon square 256x256 and @2x 512x512; logo landscape with its shortest side 128-256 px
(@2x 256-512 px, exactly twice the 1x size); dark_* variants for dark backgrounds.

Run: `.venv/bin/python scripts/make_brand.py` (rewrites all eight files).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

BRAND_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "smartcar" / "brand"

# Glyph drawn on a 1000x1000 design grid, rendered SUPER times larger and scaled down
# (anti-aliasing without relying on ImageDraw's own).
GRID = 1000
SUPER = 3

ICON_SIZE = 256
LOGO_HEIGHT = 128

# (car, signal arcs, word) colours for light and dark backgrounds.
LIGHT = {"car": (38, 50, 56), "signal": (0, 137, 123), "word": (38, 50, 56)}
DARK = {"car": (236, 239, 241), "signal": (77, 208, 196), "word": (236, 239, 241)}


def _s(value: float) -> int:
    return round(value * SUPER)


def _box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    return (_s(x0), _s(y0), _s(x1), _s(y1))


def _polygon(draw: ImageDraw.ImageDraw, points: tuple[tuple[float, float], ...], fill: int) -> None:
    draw.polygon([(_s(x), _s(y)) for x, y in points], fill=fill)


def _rounded(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], radius: float, fill: int
) -> None:
    """A rectangle with round corners, from two rectangles and four discs."""
    x0, y0, x1, y1 = box
    draw.rectangle(_box(x0 + radius, y0, x1 - radius, y1), fill=fill)
    draw.rectangle(_box(x0, y0 + radius, x1, y1 - radius), fill=fill)
    for cx, cy in (
        (x0 + radius, y0 + radius),
        (x1 - radius, y0 + radius),
        (x0 + radius, y1 - radius),
        (x1 - radius, y1 - radius),
    ):
        draw.ellipse(_box(cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)


def _car_mask() -> Image.Image:
    """The car seen from the front: roof, body, mirrors, wheels; windows and lamps cut out."""
    mask = Image.new("L", (_s(GRID), _s(GRID)), 0)
    draw = ImageDraw.Draw(mask)
    # Roof / cabin.
    _polygon(draw, ((255, 435), (745, 435), (855, 650), (145, 650)), 255)
    # Body.
    _rounded(draw, (70, 600, 930, 850), 70, 255)
    # Mirrors.
    _rounded(draw, (0, 560, 130, 625), 28, 255)
    _rounded(draw, (870, 560, 1000, 625), 28, 255)
    # Wheels under the body.
    _rounded(draw, (120, 800, 290, 985), 40, 255)
    _rounded(draw, (710, 800, 880, 985), 40, 255)
    # Windscreen.
    _polygon(draw, ((290, 475), (710, 475), (780, 600), (220, 600)), 0)
    # Headlights and grille.
    _rounded(draw, (140, 665, 310, 735), 30, 0)
    _rounded(draw, (690, 665, 860, 735), 30, 0)
    _rounded(draw, (380, 745, 620, 785), 20, 0)
    return mask


def _signal_mask() -> Image.Image:
    """A dot with two arcs above it: the car is connected."""
    mask = Image.new("L", (_s(GRID), _s(GRID)), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = 500, 335
    draw.ellipse(_box(cx - 48, cy - 48, cx + 48, cy + 48), fill=255)
    for radius in (155, 275):
        width = 58
        outer = radius + width / 2
        draw.arc(
            _box(cx - outer, cy - outer, cx + outer, cy + outer),
            start=225,
            end=315,
            fill=255,
            width=_s(width),
        )
        # Round the arc ends.
        for angle in (225, 315):
            ex = cx + radius * math.cos(math.radians(angle))
            ey = cy + radius * math.sin(math.radians(angle))
            draw.ellipse(
                _box(ex - width / 2, ey - width / 2, ex + width / 2, ey + width / 2), fill=255
            )
    return mask


def _paint(masks: list[tuple[Image.Image, tuple[int, int, int]]]) -> Image.Image:
    """Stack coloured masks on a transparent canvas."""
    size = masks[0][0].size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    for mask, colour in masks:
        layer = Image.new("RGBA", size, (*colour, 255))
        layer.putalpha(mask)
        image = Image.alpha_composite(image, layer)
    return image


def _trim(image: Image.Image) -> Image.Image:
    bbox = image.getchannel("A").getbbox()
    assert bbox is not None
    return image.crop(bbox)


def _glyph(colours: dict[str, tuple[int, int, int]]) -> Image.Image:
    """The trimmed glyph at super-sampled size."""
    return _trim(_paint([(_car_mask(), colours["car"]), (_signal_mask(), colours["signal"])]))


def _word(colours: dict[str, tuple[int, int, int]], cap_height: int) -> Image.Image:
    """'Smartcar' in Pillow's bundled Aileron, emboldened with a stroke, trimmed."""
    size = round(cap_height / 0.7)
    font = ImageFont.load_default(size)
    stroke = max(1, round(size * 0.035))
    left, top, right, bottom = (round(v) for v in font.getbbox("Smartcar", stroke_width=stroke))
    canvas = Image.new("L", (right - left + 4 * stroke, bottom - top + 4 * stroke), 0)
    ImageDraw.Draw(canvas).text(
        (2 * stroke - left, 2 * stroke - top),
        "Smartcar",
        font=font,
        fill=255,
        stroke_width=stroke,
        stroke_fill=255,
    )
    return _trim(_paint([(canvas, colours["word"])]))


def _logo(colours: dict[str, tuple[int, int, int]]) -> Image.Image:
    """Glyph then word, side by side, at super-sampled size."""
    glyph = _glyph(colours)
    word = _word(colours, cap_height=round(glyph.height * 0.36))
    gap = round(glyph.height * 0.16)
    logo = Image.new("RGBA", (glyph.width + gap + word.width, glyph.height), (0, 0, 0, 0))
    logo.alpha_composite(glyph, (0, 0))
    # Word centred on the car's body rather than on the whole glyph.
    logo.alpha_composite(word, (glyph.width + gap, round(glyph.height * 0.66 - word.height / 2)))
    return _trim(logo)


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    out = image.resize(size, Image.Resampling.LANCZOS)
    # Scaling can leave near-invisible alpha noise; drop it so transparent stays transparent.
    alpha = out.getchannel("A").point(lambda a: 0 if a < 3 else a)
    out.putalpha(alpha)
    return out


def _check(image: Image.Image) -> None:
    alpha = image.getchannel("A")
    width, height = image.size
    assert ImageChops.invert(alpha).getbbox() is not None, "no transparency"
    assert alpha.getbbox() == (0, 0, width, height), (
        f"not trimmed: {alpha.getbbox()} in {image.size}"
    )


def build() -> dict[str, Image.Image]:
    """All eight images by file name."""
    images: dict[str, Image.Image] = {}
    for prefix, colours in (("", LIGHT), ("dark_", DARK)):
        glyph = _glyph(colours)
        images[f"{prefix}icon.png"] = _fit(glyph, (ICON_SIZE, ICON_SIZE))
        images[f"{prefix}icon@2x.png"] = _fit(glyph, (2 * ICON_SIZE, 2 * ICON_SIZE))
        logo = _logo(colours)
        width = round(logo.width * LOGO_HEIGHT / logo.height)
        images[f"{prefix}logo.png"] = _fit(logo, (width, LOGO_HEIGHT))
        images[f"{prefix}logo@2x.png"] = _fit(logo, (2 * width, 2 * LOGO_HEIGHT))
    return images


def main() -> None:
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for name, image in build().items():
        _check(image)
        image.save(BRAND_DIR / name, format="PNG", optimize=True)
        print(f"{name}: {image.width}x{image.height}")


if __name__ == "__main__":
    main()
