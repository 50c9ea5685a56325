"""The brand settings (docs/templates.md): each refused at start-up with the setting named;
the accent colour's contrast (WCAG AA) and its dark-scheme shade; the logo and favicon
files read once, by their content; ``oidc-core templates copy``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from oidc_core import Settings
from oidc_core.settings import ConfigurationError
from oidc_core.ui import brand, colours
from oidc_core.ui.render import TEMPLATES_DIR
from tests.support.cli import Cli
from tests.support.cli import run as run

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
HTTPS = "https://op.example"


def version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def refused(**values: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        brand.Brand(Settings(**values))  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"brand_accent_colour": "red"}, "brand_accent_colour: must be a colour as #rrggbb"),
        ({"brand_accent_colour": "#12345"}, "brand_accent_colour: must be a colour as #rrggbb"),
        ({"brand_accent_colour": "#123456;}"}, "brand_accent_colour: must be a colour as #rrggbb"),
        ({"brand_logo": "http://cdn.example/logo.png"}, "brand_logo: must be an https:// URL"),
        ({"brand_logo": "javascript:alert(1)"}, "brand_logo: must be an https:// URL"),
        ({"brand_favicon": "data:,x"}, "brand_favicon: must be an https:// URL"),
        ({"support_url": "http://help.example"}, "support_url: must be an https:// URL"),
        ({"support_url": "mailto:nobody"}, "support_url: must be a mailto: address"),
        ({"op_policy_uri": "ftp://x.example/p"}, "op_policy_uri: must be an https:// URL"),
        ({"op_tos_uri": "https://"}, "op_tos_uri: 'https://' is not a valid URL"),
        ({"service_documentation": "https://a b"}, "service_documentation: 'https://a b' is not"),
        (
            {"brand_logo": "https://cdn:s3cret@cdn.example/logo.png"},
            "brand_logo: must not contain user information",
        ),
        (
            {"op_policy_uri": "https://wiki:pw@docs.example/privacy"},
            "op_policy_uri: must not contain user information",
        ),
        (
            {"support_url": "https://agent@help.example/"},
            "support_url: must not contain user information",
        ),
        ({"brand_name": "Evil\x1b[31m"}, "brand_name: must not contain control characters"),
        ({"templates_dir": "/no/such/dir"}, "templates_dir: /no/such/dir is not a directory"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(values: dict[str, str], message: str) -> None:
    assert refused(issuer=HTTPS, **values).startswith(message)


def test_links_may_be_http_on_loopback_only_when_the_issuer_is() -> None:
    local = "http://127.0.0.1:8080/privacy"
    assert Settings(issuer="http://127.0.0.1:8000", op_policy_uri=local).op_policy_uri == local
    assert refused(issuer=HTTPS, op_policy_uri=local).startswith("op_policy_uri: must be an https")


def test_an_environment_variable_is_named_in_the_error() -> None:
    with pytest.raises(ConfigurationError, match=r"^OIDC_BRAND_ACCENT_COLOUR: must be"):
        Settings.from_env({"OIDC_BRAND_ACCENT_COLOUR": "blue"})


@pytest.mark.parametrize(
    ("colour", "ratio"),
    [("#777777", "4.48"), ("#ffcc00", "1.51"), ("#1f5fbf80", None)],
)
def test_a_weak_accent_colour_is_refused_with_its_measured_ratio(
    colour: str, ratio: str | None
) -> None:
    message = refused(brand_accent_colour=colour)
    assert message.startswith("brand_accent_colour: ")
    if ratio:
        assert f"{ratio}:1" in message and "4.5:1" in message


@pytest.mark.parametrize("colour", ["#1f5fbf", "#0b6e4f", "#000000", "#B00020", "#595959"])
def test_an_accepted_accent_passes_in_both_schemes(colour: str) -> None:
    schemes = colours.accent_schemes(colour)
    assert schemes.light.colour == colour.lower()
    for accent, background in (
        (schemes.light, colours.LIGHT_BACKGROUND),
        (schemes.dark, colours.DARK_BACKGROUND),
    ):
        assert colours.contrast(accent.on_accent, accent.colour) >= 4.5
        assert colours.contrast(accent.colour, background) >= 4.5


def test_the_dark_scheme_keeps_a_colour_that_passes_and_lightens_one_that_does_not() -> None:
    assert colours.contrast("#b00020", colours.DARK_BACKGROUND) < 4.5
    dark = colours.accent_schemes("#b00020").dark.colour
    assert dark != "#b00020" and colours.contrast(dark, colours.DARK_BACKGROUND) >= 4.5
    # a lighter shade: just past the minimum, not white
    assert colours.contrast(dark, colours.DARK_BACKGROUND) < 6
    assert colours.accent_schemes("#1f5fbf").light.on_accent == "#ffffff"


def test_the_stylesheet_sets_the_accent_for_both_schemes() -> None:
    css = brand.stylesheet("#0b6e4f")
    assert ":root { --accent: #0b6e4f; --on-accent: #ffffff; }" in css
    assert "@media (prefers-color-scheme: dark)" in css
    assert "<" not in css and "url(" not in css


def test_image_files_are_read_once_by_their_content(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "icon.svg").write_bytes(SVG)
    built = brand.Brand(
        Settings(
            issuer=HTTPS,
            brand_logo=str(tmp_path / "logo.png"),
            brand_favicon=str(tmp_path / "icon.svg"),
        )
    )
    (tmp_path / "logo.png").unlink()  # read at start-up: still served
    # the URL names the content's version: a new file is a new URL for browsers' caches
    assert built.page.logo_url == HTTPS + "/static/brand/logo.png?v=" + version(PNG)
    assert built.page.favicon_url == HTTPS + "/static/brand/favicon.svg?v=" + version(SVG)
    assert built.asset("brand/logo.png") == brand.Asset(PNG, "image/png")
    assert built.asset("brand/favicon.svg") == brand.Asset(SVG, "image/svg+xml")
    assert built.asset("brand.css") is None  # no colour set


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.bmp", b"BM", "brand_logo: 'logo.bmp' is not a png, jpeg, gif, webp, svg or ico"),
        ("logo.png", SVG, "brand_logo: 'logo.png' is not a png image"),
        ("logo.svg", b"<html><script>alert(1)</script>", "brand_logo: 'logo.svg' is not a svg"),
        ("logo.gif", b"GIF89a" + b"\x00" * (brand.MAX_IMAGE_BYTES), "at most 524288 are served"),
        ("missing.png", None, "brand_logo: cannot read"),
    ],
)
def test_a_bad_image_file_is_refused(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    assert message in refused(brand_logo=str(tmp_path / name))


def test_the_default_name_is_the_issuers_host() -> None:
    assert brand.Brand(Settings(issuer="https://login.example.net")).page.name == (
        "login.example.net"
    )
    assert brand.Brand(Settings(brand_name="Example Hosting")).page.name == "Example Hosting"


def test_templates_copy_writes_the_bundled_ones_and_refuses_to_overwrite(
    run: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine"
    done = run("templates", "copy", str(target), capsys=capsys)
    assert done.code == 0, done
    bundled = sorted(p.name for p in TEMPLATES_DIR.iterdir() if p.is_file())
    assert sorted(p.name for p in target.iterdir()) == bundled
    assert (target / "login.html").read_bytes() == (TEMPLATES_DIR / "login.html").read_bytes()
    assert f"OIDC_TEMPLATES_DIR={target.resolve()}" in done.out
    (target / "login.html").write_text("mine")
    again = run("templates", "copy", str(target), capsys=capsys)
    assert again.code != 0 and "nothing written" in str(again.code) and "--force" in str(again.code)
    assert (target / "login.html").read_text() == "mine"
    forced = run("templates", "copy", str(target), "--force", capsys=capsys)
    assert forced.code == 0
    assert (target / "login.html").read_bytes() == (TEMPLATES_DIR / "login.html").read_bytes()
