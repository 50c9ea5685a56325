"""``/login/second-factor``: the second step of the login page of an authorization
request (:mod:`oidc_core.mfa.step`), for the interaction named by ``interaction`` (in the
query on GET, in the form on POST, with the login page's CSRF token)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from ..mfa import step
from ..mfa.passkeys import MAX_RESPONSE
from ..params import posted_form, query_form, single
from . import pending
from .login import second_factor_place

if TYPE_CHECKING:
    from ..context import Context

# bytes: a code or a passkey's answer (URL-encoded JSON), the handle and the token
MAX_FORM = 2 * MAX_RESPONSE


def second_factor(op: Context, request: Request) -> Response:
    if request.method == "GET":
        form: dict[str, list[str]] = {}
        handle = single(query_form(request, op.settings.max_param_length), "interaction")
        interaction = pending.load(op, request, handle)
    elif request.method == "POST":
        form = posted_form(request, MAX_FORM)
        interaction = pending.load(
            op, request, single(form, "interaction"), csrf=single(form, "csrf_token")
        )
    else:
        return op.error_page("Use GET or POST.", 405, request=request)
    place = second_factor_place(op, request, interaction)
    return step.page(op, request, interaction.session, form, place)
