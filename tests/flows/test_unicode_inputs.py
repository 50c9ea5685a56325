"""Text that is not Unicode at every entry point (SECURITY-CHECKLIST T-12, T-62; issue 14).

JSON can carry a lone UTF-16 surrogate (``"\\ud800"``): valid JSON, but no character, and
no database can store it.  A form or query can carry the percent-encoded bytes of an
invalid UTF-8 sequence (``%ED%A0%80``, a surrogate's encoding, or ``%FF``).  Every entry
point answers such input with a 4xx in its own format and the error code its
specification names, never a 5xx, and changes nothing in the database.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.flows.test_admin_api import CLIENTS, METADATA, Api, error_of, new_token
from tests.support.snapshot import database

FORM = "application/x-www-form-urlencoded"
LONE_SURROGATE = "\ud800"
# The percent-encoded bytes of invalid UTF-8: a surrogate's (CESU) encoding, a stray byte.
NOT_UTF8 = [pytest.param("%ED%A0%80", id="surrogate"), pytest.param("%FF", id="ff")]


def assert_json_error(response: webtest.TestResponse, status: int, error: str) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == error, response.json
    assert "Traceback" not in response.text


def assert_error_page(response: webtest.TestResponse, status: int = 400) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert "Traceback" not in response.text
    assert "<h1>" in response.text


# -- the management API: JSON with a lone surrogate -----------------------------------------

# Every string field of client metadata, with the RFC 7591 section 3.2.2 error it gets.
STRING_FIELDS = [
    ("client_name", LONE_SURROGATE, "invalid_client_metadata"),
    ("client_name", "Panel " + LONE_SURROGATE, "invalid_client_metadata"),
    ("description", "A " + LONE_SURROGATE + " panel", "invalid_client_metadata"),
    ("client_uri", "https://panel.example/" + LONE_SURROGATE, "invalid_client_metadata"),
    ("logo_uri", "https://panel.example/" + LONE_SURROGATE, "invalid_client_metadata"),
    ("logo_uri", "/static/" + LONE_SURROGATE + ".png", "invalid_client_metadata"),
    ("redirect_uris", ["https://panel.example/" + LONE_SURROGATE], "invalid_redirect_uri"),
    (
        "post_logout_redirect_uris",
        ["https://panel.example/" + LONE_SURROGATE],
        "invalid_client_metadata",
    ),
    (
        "backchannel_logout_uri",
        "https://panel.example/" + LONE_SURROGATE,
        "invalid_client_metadata",
    ),
    ("scope", "openid " + LONE_SURROGATE, "invalid_client_metadata"),
    ("grant_types", ["authorization_code", LONE_SURROGATE], "invalid_client_metadata"),
    ("token_endpoint_auth_method", LONE_SURROGATE, "invalid_client_metadata"),
    ("access_token_format", LONE_SURROGATE, "invalid_client_metadata"),
    ("id_token_signed_response_alg", LONE_SURROGATE, "invalid_client_metadata"),
]
STRING_IDS = [f"{field}-{i}" for i, (field, _, _) in enumerate(STRING_FIELDS)]


@pytest.fixture
def api(app: webtest.TestApp, provider: Provider) -> Api:
    return Api(app, new_token(provider)[1])


@pytest.mark.parametrize(("field", "value", "error"), STRING_FIELDS, ids=STRING_IDS)
def test_a_lone_surrogate_in_new_client_metadata_is_400_naming_the_field(
    api: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    before = database(storage)
    response = api.call("POST", CLIENTS, {**METADATA, field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert database(storage) == before


@pytest.mark.parametrize(("field", "value", "error"), STRING_FIELDS, ids=STRING_IDS)
def test_a_lone_surrogate_in_a_client_update_is_400_naming_the_field(
    api: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    client_id = api.create()["client_id"]
    before = database(storage)
    response = api.call("PATCH", f"{CLIENTS}/{client_id}", {field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert database(storage) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_lone_surrogate_as_a_json_key_is_an_unknown_field(
    api: Api, storage: Storage, method: str
) -> None:
    path = CLIENTS if method == "POST" else f"{CLIENTS}/{api.create()['client_id']}"
    before = database(storage)
    response = api.call(method, path, {**METADATA, LONE_SURROGATE: "x"}, status=400)
    body = error_of(response)
    assert body["error"] == "invalid_client_metadata"
    assert json.loads(response.body)["field"] == LONE_SURROGATE  # escaped, readable
    assert database(storage) == before


@pytest.mark.parametrize("value", NOT_UTF8)
@pytest.mark.parametrize("name", ["q", "sort"])
def test_a_list_query_that_is_not_utf8_is_400(
    api: Api, storage: Storage, name: str, value: str
) -> None:
    response = api.call("GET", f"{CLIENTS}?{name}={value}", status=400)
    assert error_of(response)["error"] == "invalid_request"


@pytest.mark.parametrize("token", ["\xed\xa0\x80", "\xff", "ab\xedcd"])
def test_an_admin_token_that_is_not_ascii_is_401_invalid_token(
    app: webtest.TestApp, storage: Storage, token: str
) -> None:
    """The header arrives as Latin-1 text; its bytes are those of invalid UTF-8."""
    before = database(storage)
    response = app.get(CLIENTS, headers={"Authorization": f"Bearer {token}"}, expect_errors=True)
    assert_json_error(response, 401, "invalid_token")
    assert database(storage) == before
