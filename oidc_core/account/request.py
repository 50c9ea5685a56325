"""A request from a signed-in user to their account pages, and how its pages render."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import responses
from ..interactions.browser import csrf_token
from ..params import first
from ..records import BrowserSession, User
from ..ui.render import iso, when

if TYPE_CHECKING:
    from ..context import Context

CSRF_PURPOSE = "account"


@dataclass(frozen=True)
class AccountRequest:
    """A request from a signed-in user; its POST form already CSRF-checked."""

    op: Context
    request: Request
    session: BrowserSession
    user: User
    form: dict[str, list[str]]

    def field(self, name: str) -> str:
        return first(self.form, name)

    def url(self, path: str) -> str:
        return self.op.url("/account" + path)

    def notice(self, notices: Mapping[str, str]) -> str:
        """The fixed text that the ``notice`` query parameter names ("" for none), as
        the page a POST redirected to shows it."""
        try:
            return notices.get(self.request.GET.get("notice", ""), "")
        except UnicodeDecodeError:
            return ""

    @property
    def display_name(self) -> str:
        """How the pages name the signed-in person (their login, else their ``sub``)."""
        return self.op.accounts.actor(self.user)

    def page(
        self,
        template: str,
        status: int = 200,
        images_from: Iterable[str] = (),
        scripts: bool = False,
        **context: Any,
    ) -> Response:
        """``images_from``: the clients' logos it shows; ``scripts``: it runs our script
        files (:func:`responses.html_page`)."""
        return responses.html_page(
            self.op.render(
                template,
                request=self.request,
                account_url=self.url,
                csrf_token=csrf_token(self.session, CSRF_PURPOSE),
                user_name=self.display_name,
                console_url=self.op.url("/admin/") if self.op.accounts.is_admin(self.user) else "",
                when=when,
                iso=iso,
                **context,
            ),
            status,
            images_from=images_from,
            scripts=scripts,
        )

    def redirect(self, path: str) -> Response:
        return responses.redirect(self.url(path), 303)
