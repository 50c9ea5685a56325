"""The provider's pages: a template in the reader's language, and error pages.

:class:`Pages` is a protocol that carries its implementation: handlers reach ``render`` and
``error_page`` through :class:`~oidc_core.context.Context`, and the
:class:`~oidc_core.provider.Provider` inherits them, so each signature is written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from webob import Request, Response

from . import responses
from .ui import locales, render
from .ui.translations import N_

if TYPE_CHECKING:
    from .settings import Settings
    from .ui.brand import Brand

ERROR_TITLES = {
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    413: N_("Request too large"),
    414: N_("Request too long"),
    429: N_("Too many attempts"),
    431: N_("Request headers too large"),
    503: N_("Temporarily unavailable"),
}
ERROR_TITLE = N_("Something went wrong")


class Pages(Protocol):
    """Pages under the issuer: what a class needs (``settings``, ``brand``, ``url``) and
    what it gets."""

    settings: Settings
    brand: Brand

    def url(self, path: str) -> str:
        """The absolute URL of one of our paths, under the issuer."""
        ...

    def render(
        self,
        template: str,
        *,
        locale: str | None = None,
        request: Request | None = None,
        **context: Any,
    ) -> str:
        """A page in ``locale``, or else in the language of ``request``'s Accept-Language,
        or else in English (``docs/translations.md``).  Every template gets ``static_url``
        and ``brand`` besides ``context`` (the contract: ``docs/templates.md``), and is
        taken from ``templates_dir`` when an override is there."""
        language = locale or locales.for_request(request)
        return render.render(
            template,
            language,
            self.settings.templates_dir,
            static_url=self.url("/static"),
            brand=self.brand.page,
            **context,
        )

    def error_page(
        self,
        message: str,
        status: int = 400,
        error_code: str = "",
        *,
        locale: str | None = None,
        request: Request | None = None,
        correlation_id: str = "",
        template: str = "error.html",
        **frame: Any,
    ) -> Response:
        """An error page; ``message`` is English, translated if the catalogs have it, into
        ``locale``, else the language chosen for the request's pages, else the browser's.
        ``template`` and ``frame`` (its context) put it in another frame (the console's)."""
        page = self.render(
            template,
            locale=locale or locales.PAGE_LANGUAGE.get(),
            request=request,
            title=ERROR_TITLES.get(status, ERROR_TITLE),
            message=message,
            error_code=error_code,
            correlation_id=correlation_id,
            **frame,
        )
        response = responses.html_page(page, status)
        if status == 503:
            response.headers["Retry-After"] = "5"
        return response
