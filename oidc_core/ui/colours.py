"""WCAG 2.2 colour contrast of ``#rrggbb`` colours, and the accent colours built on it.

One contrast function for the pages' stylesheet (``tests/core/test_page_contrast.py``) and
for a configured ``brand_accent_colour`` (:mod:`oidc_core.ui.brand`): relative luminance
and contrast ratio as WCAG 2.2 defines them (success criteria 1.4.3 and 1.4.11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
TEXT_MINIMUM = 4.5  # WCAG 1.4.3, normal text (AA)

# The pages' scheme colours the accent is drawn on and with (oidc.css, :root).
LIGHT_BACKGROUND = "#ffffff"
LIGHT_TEXT = "#1a1a1a"
DARK_BACKGROUND = "#121212"


def luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix(colour: str, other: str, share: float) -> str:
    """``colour`` with ``share`` (0 to 1) of ``other`` mixed in, per sRGB channel."""
    parts = []
    for i in (1, 3, 5):
        a, b = int(colour[i : i + 2], 16), int(other[i : i + 2], 16)
        parts.append(round(a + (b - a) * share))
    return "#" + "".join(f"{part:02x}" for part in parts)


@dataclass(frozen=True)
class Accent:
    """An accent colour and the text drawn on it (the primary button's), for one scheme."""

    colour: str
    on_accent: str


@dataclass(frozen=True)
class AccentSchemes:
    light: Accent
    dark: Accent


class WeakContrast(ValueError):
    """An accent colour too close to the text drawn on it or to the page background."""


def best_text_on(colour: str, candidates: tuple[str, ...]) -> str:
    """The candidate text colour with the highest contrast on ``colour``."""
    return max(candidates, key=lambda text: contrast(text, colour))


def accent_schemes(colour: str) -> AccentSchemes:
    """The configured accent for the light scheme, refused (:class:`WeakContrast`, with the
    measured ratio) when its text or its links would be below WCAG AA (4.5:1); for the
    dark scheme the same colour where it passes on the dark background, else the first
    lighter mix of it with white that does."""
    colour = colour.lower()
    on_light = best_text_on(colour, (LIGHT_BACKGROUND, LIGHT_TEXT))
    text_ratio = contrast(on_light, colour)
    if text_ratio < TEXT_MINIMUM:
        raise WeakContrast(
            f"{colour}: contrast with the text on it is {text_ratio:.2f}:1, "
            f"WCAG AA needs {TEXT_MINIMUM}:1"
        )
    link_ratio = contrast(colour, LIGHT_BACKGROUND)
    if link_ratio < TEXT_MINIMUM:
        raise WeakContrast(
            f"{colour}: contrast with the page background ({LIGHT_BACKGROUND}) is "
            f"{link_ratio:.2f}:1, WCAG AA needs {TEXT_MINIMUM}:1 for links"
        )
    dark = colour
    share = 0.0
    while contrast(dark, DARK_BACKGROUND) < TEXT_MINIMUM and share < 1:
        share = min(1.0, share + 0.05)
        dark = mix(colour, "#ffffff", share)
    # Text in the dark background's colour: as far from the accent as the page is.
    return AccentSchemes(light=Accent(colour, on_light), dark=Accent(dark, DARK_BACKGROUND))
