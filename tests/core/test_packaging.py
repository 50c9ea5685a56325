"""What ``pip install oidc-core`` (not only an editable checkout) gets: every package and
every data file the provider reads at run time.  A package missing from ``setup.cfg``
installs fine and fails at the first import."""

from __future__ import annotations

import configparser
import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def _listed(config: configparser.ConfigParser, section: str, option: str) -> list[str]:
    return [line.strip() for line in config[section][option].splitlines() if line.strip()]


def _package_dirs(config: configparser.ConfigParser) -> dict[str, Path]:
    """Every listed package and its directory (``package_dir`` renames honoured)."""
    renames = dict(
        (name.strip(), path.strip())
        for name, _, path in (
            line.partition("=") for line in _listed(config, "options", "package_dir")
        )
    )
    found = {}
    for package in _listed(config, "options", "packages"):
        top, *rest = package.split(".")
        found[package] = ROOT / renames.get(top, top) / Path(*rest)
    return found


def test_every_package_of_the_source_tree_is_installed() -> None:
    listed = set(_package_dirs(_setup()).values())
    on_disk = {
        init.parent
        for top in ("oidc_core", "adapters")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert sorted(map(str, on_disk - listed)) == [], "add them to [options] packages"
    assert sorted(map(str, listed - on_disk)) == [], "listed but not a package"


def test_every_file_the_pages_read_is_package_data() -> None:
    patterns = [
        pattern.strip()
        for pattern in _setup()["options.package_data"]["oidc_core"].split(",")
        if pattern.strip()
    ]
    package = ROOT / "oidc_core"
    needed = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc", ".mo", ".pot")
        and "__pycache__" not in path.parts
    ]
    missing = [name for name in needed if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert missing == [], "add them to [options.package_data]"
    assert "ui/templates/login.html" in needed  # the walk found the templates
