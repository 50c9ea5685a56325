"""The management API against its own OpenAPI description, with generated requests.

Schemathesis reads ``/admin/api/openapi.json`` from the provider and generates requests
from it, valid ones and invalid ones, sent straight to the WSGI application with a real
admin API token and a real database.  Every answer must be documented, match its schema,
be JSON with its declared content type, and never be a server error; an error names its
code and says why.  The storage invariants of ``conftest`` are checked afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from oidc_core import Provider
from oidc_core.admin import api
from oidc_core.storage import Audit
from tests.support.mounts import Mount

# Generated requests probe the API's validation, which no mount changes: one mount
# (test_admin_api_*.py run the API's requests through every mount).
pytestmark = pytest.mark.mounts("one")

EXAMPLES = 100
# (method, path, mode): every operation with valid requests; with invalid ones where it
# takes any input (the OpenAPI document itself takes none).
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for path, methods in api.ROUTES.items()
    for method in methods
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or path not in api.UNAUTHENTICATED
]


@pytest.fixture
def bearer(provider: Provider) -> dict[str, str]:
    _, token = provider.storage.admin_tokens.create("fuzz", Audit("cli:tester", "fuzz"))
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_keeps_the_promises_of_its_openapi_document(
    mount: Mount, bearer: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    # The document's server URL is the issuer: requests go to the mount's host application.
    schema = schemathesis.openapi.from_wsgi(f"{mount.prefix}{api.PREFIX}/openapi.json", mount.root)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def exchange(case: Any) -> None:
        # Not checked: that a schema-valid request is accepted (the document cannot state
        # every rule: https only, no fragment, http only on loopback... so a documented
        # 400 may answer it), and that an invalid one is refused (a generated request
        # without its Authorization header gets the token here, which makes it valid).
        response = case.call_and_validate(
            headers=bearer,
            excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection],
        )
        assert response.status_code < 500
        assert "Traceback" not in response.text
        if response.status_code >= 400:
            error = response.json()
            assert error["error"] and error["error_description"], error

    exchange()
