"""A walk through the provider's pages in one browser tab: each page is checked, then shown,
at desktop and at phone width (``tests/browser/test_every_page.py``).

At each width axe-core must find no WCAG 2.0/2.1 A or AA violation, and once more in the
dark colour scheme (the stylesheet has one: its contrasts must hold too); nothing may stick
out sideways (the page scrolls only down) at either width or on a 360 px screen; the page
may log no console error or CSP violation.  Each page is saved as ``<name>-desktop.png``
and ``<name>-phone.png`` (light scheme).
Failures are gathered, so that one run names every page that fails, not only the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.axe import violations

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# The narrowest screen docs/translations.md promises the pages fit.
NARROWEST = {"width": 360, "height": 740}
# A long page is shown down to twice the window's height: enough to see what it is, and
# the pictures stay small.
SCREENS_SHOWN = 2
OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"
# Chromium reports a page's own 4xx status on the console; the error page, the used link
# and the wrong password answer so by design.  Any other failed load is a problem.
OWN_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


@dataclass
class Walk:
    """One tab going from page to page; ``failures`` and the pages seen, in order."""

    page: Page
    shots: Path
    failures: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.set_viewport_size(DESKTOP)
        self.page.emulate_media(color_scheme="light")
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if OWN_STATUS.match(message.text) and message.location.get("url") == self.page.url:
            return
        self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def check(self, name: str) -> None:
        """The page now shown, at both widths and in the dark scheme: accessible, no
        problem, nothing sticking out; its two pictures saved."""
        page = self.page
        page.wait_for_load_state("load")
        assert name not in self.seen, f"{name} checked twice"
        self.seen.append(name)
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            self._accessible(f"{name} ({width})")
            self._fits(f"{name} ({width})")
            self._shoot(f"{name}-{width}", size)
        page.set_viewport_size(NARROWEST)
        self._fits(f"{name} (360 px)")
        page.set_viewport_size(DESKTOP)
        page.emulate_media(color_scheme="dark")
        self._accessible(f"{name} (dark)")
        page.emulate_media(color_scheme="light")
        problems, self.problems[:] = list(self.problems), []
        self.failures.extend(f"{name}: {problem}" for problem in problems)

    def _accessible(self, where: str) -> None:
        found = violations(self.page)
        if found:
            self.failures.append(f"{where}: " + "; ".join(found))

    def _fits(self, where: str) -> None:
        overflow = self.page.evaluate(OVERFLOW)
        if overflow > 0:
            self.failures.append(f"{where}: {overflow} px wider than the window")

    def _shoot(self, stem: str, size: dict[str, int]) -> None:
        height = int(self.page.evaluate("() => document.scrollingElement.scrollHeight"))
        shown = min(height, size["height"] * SCREENS_SHOWN)
        clip = {"x": 0, "y": 0, "width": size["width"], "height": shown}
        self.page.screenshot(
            path=str(self.shots / f"{stem}.png"), full_page=True, clip=clip, animations="disabled"
        )
