"""One browser tab in a test: what reached the relying party, what went wrong, and where."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.axe import violations
from tests.browser.relying_party import LiveApp

LOG_LINES = 60


@dataclass(repr=False)
class Browsing:
    """One browser tab, what reached the relying party, and what went wrong on the way."""

    page: Page
    live: LiveApp
    tmp: Path
    callbacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name a step; if it fails: the step, the URL, a screenshot and the provider's log."""
        self.steps += 1
        try:
            yield
        except Exception as exc:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            shot = self.tmp / f"{self.steps:02d}-{slug}.png"
            try:
                self.page.screenshot(path=str(shot), full_page=True)
            except Exception as screenshot_error:  # the page may be gone
                shot = Path(f"(no screenshot: {screenshot_error})")
            lines = self.live.log.read_text(errors="replace").splitlines()[-LOG_LINES:]
            raise AssertionError(
                f"browser step {self.steps} {name!r} failed at {self.page.url}: {exc}\n"
                f"screenshot: {shot}\n--- provider log (last {LOG_LINES} lines) ---\n"
                + "\n".join(lines)
            ) from exc

    def assert_no_problems(self, where: str) -> None:
        """No console error, uncaught exception or CSP violation since the last check."""
        problems, self.problems[:] = list(self.problems), []
        assert problems == [], f"{where}: {problems}"

    def assert_accessible(self, where: str) -> None:
        """axe-core (``tests/browser/axe.py``) finds no WCAG 2.0/2.1 A or AA violation on
        the page, of any impact."""
        found = violations(self.page)
        assert found == [], f"{where}: accessibility violations:\n" + "\n".join(found)
