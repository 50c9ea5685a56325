"""axe-core, from the npm registry as ``tests/browser/node/package-lock.json`` pins it, run
inside a page: the accessibility check of the browser tests.

``npm ci`` in ``tests/browser/node`` installs it (``make test`` and ``.ci/run`` do).  Without
it the browser tests that check a page are skipped, with the reason, unless
``OIDC_TEST_REQUIRE_NODE=1`` or ``OIDC_TEST_REQUIRE_BROWSER=1`` (both set in CI), where they
fail instead.

The script is evaluated through the DevTools protocol (``page.evaluate``), not added as a
``<script>`` element: our pages' Content-Security-Policy allows no inline script, and an
evaluation from the driver is not subject to it, so the page is checked under its real
policy.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

NODE_DIR = Path(__file__).resolve().parent / "node"
AXE_SCRIPT = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# axe-core's WCAG 2.0 and 2.1 level A and AA rules; its "best-practice" rules are advice.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}"""


@cache
def axe_source() -> str:
    """The text of axe.min.js; skip (or fail in CI) when it is not installed."""
    if not AXE_SCRIPT.exists():
        reason = f"axe-core not installed: run `npm ci` in {NODE_DIR} (make test does)"
        required = {
            os.environ.get(name) for name in ("OIDC_TEST_REQUIRE_NODE", "OIDC_TEST_REQUIRE_BROWSER")
        }
        if "1" in required:
            pytest.fail(
                f"{reason} (OIDC_TEST_REQUIRE_NODE/OIDC_TEST_REQUIRE_BROWSER=1)", pytrace=False
            )
        pytest.skip(reason)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page: Page) -> list[str]:
    """Every WCAG 2.0/2.1 A or AA violation axe-core finds on the page, whatever its impact,
    one line each: ``rule (impact): help at target, target``."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(RUN, WCAG_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in found]
