"""Every HTML page carries the security headers (R-CJ-1, R-RF-1, R-CO-1, T-77).

The walk (:mod:`tests.support.security_headers`) reaches every page route and error page;
each HTML answer must carry CSP with ``frame-ancestors 'none'``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``, and none may carry
``Access-Control-Allow-Origin``.
"""

from __future__ import annotations

from oidc_core import routes
from oidc_core.admin import console
from tests.support.security_headers import Visit, html_visits
from tests.support.security_headers import visits as visits


def test_the_walk_reaches_every_page_route_and_every_error_status(visits: list[Visit]) -> None:
    pages = html_visits(visits)
    paths = {v.path for v in pages}
    areas = [route for route in routes.ROUTES if route.prefixes]  # pages in tables of their own
    html_routes = {path for r in routes.ROUTES if r.html and r not in areas for path in r.paths}
    missing = html_routes - paths
    assert not missing, f"HTML routes the walk never reached: {missing}"
    for pattern, _, _ in console.ROUTES:
        assert any(pattern.fullmatch(path) for path in paths), pattern.pattern
    statuses = {v.response.status_int for v in pages}
    assert {200, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503} <= statuses, statuses
    assert any("form_post" in v.label and "<form" in v.response.text for v in pages)


def test_every_html_answer_carries_the_security_headers(visits: list[Visit]) -> None:
    """T-77, R-CJ-1, R-RF-1: framing forbidden twice, no referrer, never cached."""
    for visit in html_visits(visits):
        headers = visit.response.headers
        where = f"{visit.label} ({visit.path}, {visit.response.status})"
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, where
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp, where
        assert headers.get("X-Frame-Options") == "DENY", where
        assert headers.get("Referrer-Policy") == "no-referrer", where
        assert headers.get("Cache-Control") == "no-store", where
        assert headers.get("X-Content-Type-Options") == "nosniff", where
        assert "Traceback" not in visit.response.text, where


def test_no_answer_to_a_hostile_origin_allows_it(visits: list[Visit]) -> None:
    """T-77, R-CO-1: no CORS on authorization, pages, errors or the console (redirects
    included)."""
    for visit in visits:
        assert "Access-Control-Allow-Origin" not in visit.response.headers, visit.label
        assert "Access-Control-Allow-Credentials" not in visit.response.headers, visit.label


def test_redirects_are_not_cached_and_send_no_referrer(visits: list[Visit]) -> None:
    redirects = [v for v in visits if "Location" in v.response.headers]
    assert len(redirects) >= 5
    for visit in redirects:
        assert visit.response.status_int in (302, 303), visit.label
        assert visit.response.headers["Cache-Control"] == "no-store", visit.label
        assert visit.response.headers["Referrer-Policy"] == "no-referrer", visit.label
