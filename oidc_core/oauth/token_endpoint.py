"""oauthlib's token endpoint (RFC 6749 section 3.2) on a request whose derived values are
worked out once.

oauthlib's ``Request`` recomputes ``uri_query`` (a ``urlparse`` of the URI) and
``duplicate_params`` (a count over the whole form) each time a grant reads them: five and
three times per code exchange.  Neither the URI nor the form changes once the request is
built, so :class:`FormRequest` keeps the first answer; the endpoint is oauthlib's own in
every other respect (same checks, same order, same errors).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.endpoints import TokenEndpoint
from oauthlib.oauth2.rfc6749.endpoints.base import catch_errors_and_unavailability


class FormRequest(Request):  # type: ignore[misc]
    """oauthlib's request, with the query of its URI and its repeated parameters kept."""

    @cached_property
    def uri_query(self) -> str:
        return str(Request.uri_query.fget(self))

    @cached_property
    def duplicate_params(self) -> list[str]:
        return list(Request.duplicate_params.fget(self))


class FormTokenEndpoint(TokenEndpoint):  # type: ignore[misc]
    """oauthlib's ``TokenEndpoint.create_token_response`` (oauthlib 4), on a
    :class:`FormRequest`."""

    @catch_errors_and_unavailability  # type: ignore[untyped-decorator]
    def create_token_response(
        self,
        uri: str,
        http_method: str = "POST",
        body: Any = None,
        headers: dict[str, str] | None = None,
        credentials: Any = None,
        grant_type_for_scope: str | None = None,
        claims: Any = None,
    ) -> Any:
        request = FormRequest(uri, http_method=http_method, body=body, headers=headers)
        self.validate_token_request(request)
        request.scopes = utils.scope_to_list(request.scope)
        request.extra_credentials = credentials
        if grant_type_for_scope:
            request.grant_type = grant_type_for_scope
        if claims:
            request.claims = claims
        handler = self.grant_types.get(request.grant_type, self.default_grant_type_handler)
        return handler.create_token_response(request, self.default_token_type)
