"""The documentation that is generated from code stays in sync with it."""

from __future__ import annotations

import re
from pathlib import Path

from oidc_core.settings import reference_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_matches_settings() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert reference_markdown() in text, "regenerate the table in docs/configuration.md"


# A line of the module list in docs/architecture.md: "- `oidc_core/x.py`: its job."
_MODULE_LINE = re.compile(r"- `((?:oidc_core|adapters)/[\w/]+\.py)`: \S")


def test_architecture_lists_every_module_once() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = text.partition("\n## Modules\n")[2]
    listed = [match.group(1) for match in map(_MODULE_LINE.match, modules.splitlines()) if match]
    in_package = {
        path.relative_to(ROOT).as_posix()
        for package in ("oidc_core", "adapters")
        for path in (ROOT / package).rglob("*.py")
    }
    missing = sorted(in_package - set(listed))
    extra = sorted(set(listed) - in_package)
    twice = sorted({name for name in listed if listed.count(name) > 1})
    problems = [
        *(f'add the line "- `{name}`: <its job>."' for name in missing),
        *(f"remove the line of {name} (no such module)" for name in extra),
        *(f"keep one of the lines of {name}" for name in twice),
    ]
    assert not problems, "docs/architecture.md, ## Modules: " + "; ".join(problems)
