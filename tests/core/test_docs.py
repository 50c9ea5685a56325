"""The documentation that is generated from code stays in sync with it."""

from __future__ import annotations

from pathlib import Path

from oidc_core.settings import reference_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_matches_settings() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert reference_markdown() in text, "regenerate the table in docs/configuration.md"
