"""The management API's routing and its OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
import webtest
from openapi_spec_validator import validate

from oidc_core.admin import api
from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, METADATA, Api, check_headers, error_of
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_api_checks import count_clients
from tests.support.flow import issuer_of

# Routing runs under one mount; mounts("every") marks what the prefix and host change.
pytestmark = pytest.mark.mounts("one")


# -- routing, OpenAPI -----------------------------------------------------------------------


@pytest.mark.mounts("every")
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", CLIENTS, "GET, POST"),
        ("DELETE", CLIENTS, "GET, POST"),
        ("POST", f"{CLIENTS}/abc", "GET, PATCH, DELETE"),
        ("PUT", f"{CLIENTS}/abc", "GET, PATCH, DELETE"),
        ("POST", "/admin/api/openapi.json", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    admin: Api, storage: Storage, method: str, path: str, allow: str
) -> None:
    response = admin.call(method, path, METADATA, status=405)
    assert response.headers["Allow"] == allow
    assert error_of(response)["error"] == "method_not_allowed"
    assert count_clients(storage) == 0


@pytest.mark.mounts("every")
@pytest.mark.parametrize(
    "path",
    ["/admin/api/", "/admin/api/client", f"{CLIENTS}/", f"{CLIENTS}/abc/secret", "/admin/api/x"],
)
def test_unknown_path_is_404_json(admin: Api, path: str) -> None:
    assert error_of(admin.call("GET", path, status=404))["error"] == "not_found"


@pytest.mark.mounts("every")
def test_a_body_over_the_limit_is_413_json(admin: Api, storage: Storage) -> None:
    body = {**METADATA, "description": "x" * 70_000}
    assert error_of(admin.call("POST", CLIENTS, body, status=413))["error"] == "invalid_request"
    assert count_clients(storage) == 0


def _resolve(document: dict[str, Any], node: Any) -> None:
    """Every $ref in ``node`` points into ``document``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
        for value in node.values():
            _resolve(document, value)
    elif isinstance(node, list):
        for value in node:
            _resolve(document, value)


@pytest.mark.mounts("every")
def test_the_openapi_document_describes_exactly_the_routes(app: webtest.TestApp) -> None:
    response = app.get("/admin/api/openapi.json")  # no token needed
    check_headers(response)
    document = json.loads(response.body)
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": issuer_of(app)}]
    assert document["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    _resolve(document, document)
    validate(document)  # the OpenAPI 3.1 meta-schema, by openapi-spec-validator

    http_methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    described = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in http_methods
    }
    served = {(path, method) for path, methods in api.ROUTES.items() for method in methods}
    assert described == served
    for path, item in document["paths"].items():
        for method in set(item) & http_methods:
            operation = item[method]
            assert operation["responses"], (path, method)
            needed = api.ROUTES[path][method.upper()].scope
            if path not in api.UNAUTHENTICATED:
                assert "401" in operation["responses"], (path, method)
                assert "403" in operation["responses"], (path, method)
                assert operation["security"] == [{"adminToken": [needed]}], (path, method)
            else:
                assert operation["security"] == [], (path, method)
    writable = document["components"]["schemas"]["ClientCreate"]["properties"]
    from oidc_core.registration import FIELDS

    assert set(writable) == FIELDS
