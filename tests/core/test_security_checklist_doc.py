"""``docs/security-checklist.md`` names only tests that exist, and every row it promises."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "security-checklist.md"
# `file.py::test` (a file of tests/flows/) or `tests/dir/file.py::test`
REFERENCE = re.compile(r"`((?:tests/[a-z_]+/)?test_[a-z0-9_]+\.py)::(test_[A-Za-z0-9_]+)`")


def test_every_test_the_checklist_names_exists() -> None:
    references = REFERENCE.findall(PAGE.read_text())
    assert len(references) > 50
    assert any(path.startswith("tests/core/") for path, _ in references)
    for path, name in references:
        where = ROOT / path if path.startswith("tests/") else ROOT / "tests" / "flows" / path
        source = where.read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name}"


def test_the_checklist_has_a_row_for_each_case_of_sections_b_and_d() -> None:
    text = PAGE.read_text()
    rows = set(re.findall(r"^\| (T-\d\d) \|", text, re.M))
    expected = {f"T-{n}" for n in [*range(19, 31), *range(47, 58)]}
    assert rows == expected, sorted(expected ^ rows)
