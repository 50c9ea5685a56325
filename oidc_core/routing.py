"""The page tables of the admin console and the account pages: a path matched to its page."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from webob import Response

PageHandler = Callable[..., Response]
Route = tuple[re.Pattern[str], frozenset[str], PageHandler]


def match(
    routes: Sequence[Route], path: str
) -> tuple[re.Match[str], frozenset[str], PageHandler] | None:
    """The first route whose pattern matches all of ``path``: the match (its named groups
    are the page's arguments), the methods it accepts and the page; None if none does."""
    for pattern, methods, page in routes:
        found = pattern.fullmatch(path)
        if found:
            return found, methods, page
    return None
