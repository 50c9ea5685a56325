"""What ``pip install oidc-core`` (not only an editable checkout) gets: every package and
every data file the provider reads at run time.  A package missing from ``setup.cfg``
installs fine and fails at the first import."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import oidc_core

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


def _top_version_of_changes() -> str:
    """The version of CHANGES.md's first entry (``## 0.5.0 (unreleased)``)."""
    text = (ROOT / "CHANGES.md").read_text(encoding="utf-8")
    match = re.search(r"^## (\S+)", text, re.MULTILINE)
    assert match, "CHANGES.md has no version heading"
    return match.group(1)


def _files_of_the_wheel(config: configparser.ConfigParser) -> set[str]:
    """What a wheel must hold: every module of every listed package, under its installed
    name, and every data file of the pages."""
    expected = set()
    for package, directory in _package_dirs(config).items():
        prefix = package.replace(".", "/")
        expected |= {f"{prefix}/{module.name}" for module in directory.glob("*.py")}
    package = ROOT / "oidc_core"
    expected |= {
        "oidc_core/" + path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc", ".mo", ".pot")
        and "__pycache__" not in path.parts
    }
    return expected


def test_the_wheel_builds_without_warnings_and_holds_every_file(tmp_path: Path) -> None:
    """What ``pip install .`` builds (setuptools' build backend, on a copy of the sources):
    no "Package would be ignored" warning (``make serve`` printed five, 220 lines, before
    the demo credentials), every module and data file, and the version of CHANGES.md."""
    source = tmp_path / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for top in ("oidc_core", "adapters"):
        shutil.copytree(ROOT / top, source / top, ignore=skip)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # pip's own build, in an isolated environment with pyproject.toml's build requirements,
    # as ``pip install .`` and ``make serve`` run it.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "-w", "dist", "./source"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "would be ignored" not in output and "is absent from the" not in output, output
    (wheel,) = (tmp_path / "dist").glob("oidc_core-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
        version = re.search(r"^Version: (\S+)$", archive.read(metadata).decode(), re.MULTILINE)
    missing = _files_of_the_wheel(_setup()) - names
    assert sorted(missing) == []
    assert "oidc_adapters/standalone.py" in names and "oidc_core/ui/static/oidc.css" in names
    assert version and version.group(1) == _top_version_of_changes()


def test_one_version_the_top_of_changes() -> None:
    """The package, ``oidc-core --version`` and CHANGES.md's top entry name one version
    (setup.cfg reads ``oidc_core.__version__``; the wheel's is checked above)."""
    top = _top_version_of_changes()
    assert oidc_core.__version__ == top
    command = [str(Path(sys.executable).parent / "oidc-core"), "--version"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"oidc-core {top}\n", "")
    assert "version = attr: oidc_core.__version__" in (ROOT / "setup.cfg").read_text()
