"""The end-user pages' stylesheet: readable colours and a layout that fits a phone.

The pages' part of ``oidc.css`` (before the admin console's) sets colours only through the
custom properties of ``:root``, in a light and a dark scheme; each pair the pages draw is
checked against WCAG 2.2 contrast minimums (1.4.3 text 4.5:1, 1.4.11 boundaries and focus
indicators 3:1).  No element is fixed wider than a 360 px screen.
"""

from __future__ import annotations

import re

import pytest

from oidc_core.ui.colours import contrast, luminance
from oidc_core.ui.render import HERE, STATIC_DIR

CSS = (STATIC_DIR / "oidc.css").read_text()
PAGES_CSS = CSS.split("/* The admin console */")[0]
DARK = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{([^}]*)\}", PAGES_CSS)
LIGHT = re.search(r"^:root \{([^}]*)\}", PAGES_CSS, re.MULTILINE)
PHONE_WIDTH = 360  # px
REM = 16  # px

# (foreground, background, minimum ratio): every combination the pages use.
PAIRS = [
    ("fg", "bg", 4.5),  # body text, secondary buttons
    ("muted", "bg", 4.5),  # small print (client URL, error code)
    ("error", "bg", 4.5),  # the login error
    ("on-accent", "accent", 4.5),  # primary buttons
    ("accent", "bg", 4.5),  # links and the primary button's edge
    ("border", "bg", 3.0),  # input and card boundaries
    ("focus", "bg", 3.0),  # the focus outline (drawn outside the element: outline-offset)
]


def variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", block))


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") < 4.5
    assert contrast("#ffffff", "#000000") == contrast("#000000", "#ffffff")  # either order
    assert luminance("#ffffff") == pytest.approx(1.0)
    assert luminance("#000000") == 0.0
    assert luminance("#ff0000") == pytest.approx(0.2126)
    assert contrast("#1f5fbf", "#ffffff") == pytest.approx(6.09, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_colour_pair_has_enough_contrast(scheme: str) -> None:
    block = LIGHT if scheme == "light" else DARK
    assert block, f"no {scheme} :root block in the pages' stylesheet"
    colours = variables(block.group(1))
    assert {name for pair in PAIRS for name in pair[:2]} <= set(colours)
    weak = [
        f"--{fg} on --{bg}: {contrast(colours[fg], colours[bg]):.2f} < {minimum}"
        for fg, bg, minimum in PAIRS
        if contrast(colours[fg], colours[bg]) < minimum
    ]
    assert not weak, f"{scheme}: " + "; ".join(weak)


def test_the_pages_use_no_colour_outside_the_checked_variables() -> None:
    rules = re.sub(
        r"@media \(prefers-color-scheme: dark\) \{\s*:root \{[^}]*\}\s*\}", "", PAGES_CSS
    )
    rules = re.sub(r"^:root \{[^}]*\}", "", rules, flags=re.MULTILINE)
    rules = re.sub(r"/\*.*?\*/", "", rules, flags=re.DOTALL)
    raw = re.findall(
        r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(|\b(?:Canvas|CanvasText|GrayText)\b", rules
    )
    assert not raw, f"colours outside the variables: {raw}"
    assert "--" not in rules.replace("var(--", "")  # no variable redefined elsewhere


def test_nothing_is_fixed_wider_than_a_phone() -> None:
    too_wide = []
    for prop, value, unit in re.findall(
        r"(?<![\w-])((?:min-)?width):\s*([\d.]+)(px|rem|em)\b", PAGES_CSS
    ):
        pixels = float(value) * (1 if unit == "px" else REM)
        if pixels > PHONE_WIDTH:
            too_wide.append(f"{prop}: {value}{unit}")
    for template in ("base", "login", "consent", "logout", "error", "form_post"):
        text = (HERE / "templates" / f"{template}.html").read_text()
        too_wide += [
            f"{template}.html width={w}"
            for w in re.findall(r'width="(\d+)"', text)
            if int(w) > PHONE_WIDTH
        ]
    assert not too_wide, too_wide


def test_focus_is_visible_on_every_control() -> None:
    selectors = re.search(r"([^{}]+)\{[^}]*outline: 3px solid var\(--focus\)", PAGES_CSS)
    assert selectors
    for control in ("button:focus-visible", "input:focus-visible", "a:focus-visible"):
        assert control in selectors.group(1)
