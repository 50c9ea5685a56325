"""Discovery and the JWK Set: SECURITY-CHECKLIST T-74 and T-75, CONFORMANCE-CHECKLIST
"Config OP" (oidcc-discovery-endpoint-verification)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import webtest

from oidc_core import Provider, jose
from tests.support.flow import Flow, verify_id_token

DISCOVERY = "/.well-known/openid-configuration"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
# OpenID Connect Discovery 1.0 section 3, RFC 8414 section 2, RFC 9207 section 3.
REGISTERED_METADATA = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "acr_values_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported",
    "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported",
    "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "display_values_supported",
    "claim_types_supported",
    "claims_supported",
    "service_documentation",
    "claims_locales_supported",
    "ui_locales_supported",
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "require_request_uri_registration",
    "op_policy_uri",
    "op_tos_uri",
    "code_challenge_methods_supported",
    "authorization_response_iss_parameter_supported",
    "revocation_endpoint",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint",
    "introspection_endpoint_auth_methods_supported",
    "end_session_endpoint",
    # OpenID Connect Back-Channel Logout 1.0 section 2.1
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
}
BOOLEAN_METADATA = {"backchannel_logout_supported", "backchannel_logout_session_supported"}


@pytest.fixture
def metadata(app: webtest.TestApp) -> dict[str, Any]:
    response = app.get(DISCOVERY)
    assert response.status_int == 200
    document: dict[str, Any] = response.json
    return document


@pytest.fixture
def jwks(app: webtest.TestApp) -> dict[str, Any]:
    response = app.get("/jwks")
    assert response.status_int == 200
    document: dict[str, Any] = response.json
    return document


def _b64_int_bits(value: str) -> int:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big").bit_length()


# -- T-74 discovery ----------------------------------------------------------------------------


def test_t74_discovery_is_json(app: webtest.TestApp) -> None:
    response = app.get(DISCOVERY)
    assert response.status_int == 200
    assert response.content_type == "application/json"


def test_t74_issuer_is_exactly_the_configured_one(metadata: dict[str, Any], issuer: str) -> None:
    assert metadata["issuer"] == issuer
    parts = urlsplit(metadata["issuer"])
    assert parts.scheme == "https"
    assert not (parts.query or parts.fragment or parts.username or parts.password)
    assert not metadata["issuer"].endswith("/")


def test_t74_every_endpoint_is_https_under_the_issuer(
    metadata: dict[str, Any], issuer: str
) -> None:
    urls = {k: v for k, v in metadata.items() if k.endswith(("_endpoint", "_uri"))}
    assert {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} <= set(
        urls
    )
    for name, url in urls.items():
        assert url.startswith(issuer + "/"), (name, url)
        assert urlsplit(url).scheme == "https", name


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("authorization_endpoint", 400),  # no parameters: an error page, never a redirect
        ("token_endpoint", 405),
        ("userinfo_endpoint", 401),
        ("jwks_uri", 200),
        ("revocation_endpoint", 405),  # POST only
        ("introspection_endpoint", 405),
    ],
)
def test_t74_advertised_endpoints_are_served(
    app: webtest.TestApp, metadata: dict[str, Any], name: str, status: int
) -> None:
    assert app.get(metadata[name], expect_errors=True).status_int == status


def test_t74_only_the_code_flow_is_advertised(metadata: dict[str, Any]) -> None:
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert metadata.get("response_modes_supported", ["query"]) == ["query", "form_post"]


def test_t74_pkce_is_s256_only(metadata: dict[str, Any]) -> None:
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_t74_id_token_signing_is_rs256_and_never_none(metadata: dict[str, Any]) -> None:
    algorithms = metadata["id_token_signing_alg_values_supported"]
    assert "RS256" in algorithms
    for name, value in metadata.items():
        if name.endswith("_alg_values_supported"):
            assert "none" not in [alg.lower() for alg in value], name


def test_t74_issued_id_tokens_use_an_advertised_algorithm(
    flow: Flow, metadata: dict[str, Any]
) -> None:
    id_token = flow.token(flow.authorize()["code"]).json["id_token"]
    verify_id_token(flow.app, id_token, flow.client.client_id)
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] in metadata["id_token_signing_alg_values_supported"]


def test_t74_iss_parameter_is_advertised(metadata: dict[str, Any]) -> None:
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_t74_client_authentication_methods(metadata: dict[str, Any]) -> None:
    assert sorted(metadata["token_endpoint_auth_methods_supported"]) == [
        "client_secret_basic",
        "client_secret_post",
        "none",  # public clients (PKCE required)
    ]


def test_t74_scopes_and_subject_types(metadata: dict[str, Any]) -> None:
    assert {"openid", "profile", "email"} <= set(metadata["scopes_supported"])
    assert metadata["subject_types_supported"] == ["public", "pairwise"]


def test_t74_claims_supported_lists_every_claim_we_release(
    flow: Flow, metadata: dict[str, Any]
) -> None:
    supported = set(metadata["claims_supported"])
    body = flow.token(flow.authorize()["code"]).json
    info = flow.app.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert set(info.json) <= supported
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    assert set(claims) <= supported


def test_t74_unsupported_request_features_are_advertised_as_false(
    metadata: dict[str, Any],
) -> None:
    for name in (
        "request_parameter_supported",
        "request_uri_parameter_supported",
    ):
        assert metadata.get(name, False) is False, name


def test_t74_metadata_names_are_registered_and_well_typed(metadata: dict[str, Any]) -> None:
    assert set(metadata) <= REGISTERED_METADATA, set(metadata) - REGISTERED_METADATA
    for name, value in metadata.items():
        if name.endswith("parameter_supported") or name in BOOLEAN_METADATA:
            assert isinstance(value, bool), name
        elif name.endswith("_supported"):
            assert isinstance(value, list), name
            assert value, name
            assert all(isinstance(item, str) and item for item in value), name
            assert len(value) == len(set(value)), name
        else:
            assert isinstance(value, str), name


@pytest.mark.parametrize("path", [DISCOVERY, "/jwks"])
def test_t74_t75_public_documents_are_cacheable_for_a_while(
    app: webtest.TestApp, path: str
) -> None:
    cache_control = app.get(path).headers["Cache-Control"]
    assert "no-store" not in cache_control
    max_age = re.search(r"max-age=(\d+)", cache_control)
    assert max_age, cache_control
    assert 0 < int(max_age.group(1)) <= 86400


@pytest.mark.parametrize("path", [DISCOVERY, "/jwks"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_t74_t75_public_documents_are_read_only(
    app: webtest.TestApp, path: str, method: str
) -> None:
    response = app.request(path, method=method, expect_errors=True)
    assert response.status_int == 405
    assert response.content_type == "application/json"


# -- T-75 the JWK Set ---------------------------------------------------------------------------


def test_t75_jwks_is_json(app: webtest.TestApp) -> None:
    response = app.get("/jwks")
    assert response.content_type in ("application/json", "application/jwk-set+json")


def test_t75_jwks_is_the_advertised_jwks_uri(
    app: webtest.TestApp, metadata: dict[str, Any], jwks: dict[str, Any]
) -> None:
    assert app.get(metadata["jwks_uri"]).json == jwks


def assert_public_signing_keys(jwks: dict[str, Any]) -> None:
    assert set(jwks) == {"keys"}
    keys = jwks["keys"]
    assert keys
    kids = [key["kid"] for key in keys]
    assert all(isinstance(kid, str) and kid for kid in kids)
    assert len(set(kids)) == len(kids), kids
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key), key["kid"]
        assert key["use"] == "sig"
        assert key["alg"] in jose.SUPPORTED_ALGORITHMS
        if key["kty"] == "RSA":
            assert key["alg"].startswith(("RS", "PS"))
            assert _b64_int_bits(key["n"]) >= 2048
            assert key["e"]
        else:
            assert key["kty"] == "EC"
            assert {"crv", "x", "y"} <= set(key)


def test_t75_jwks_has_only_public_signing_keys(jwks: dict[str, Any]) -> None:
    assert_public_signing_keys(jwks)


def test_t75_jwks_contains_the_key_that_signs_id_tokens(flow: Flow, jwks: dict[str, Any]) -> None:
    id_token = flow.token(flow.authorize()["code"]).json["id_token"]
    assert verify_id_token(flow.app, id_token, flow.client.client_id)["iss"] == flow.issuer


@pytest.fixture
def extra_keys(provider: Provider) -> Iterator[list[str]]:
    """A next (ES256) and a retired (RS256) key besides the current one; removed after."""
    kids = []
    for alg, state in (("ES256", "next"), ("RS256", "retired")):
        pem = jose.generate_private_pem(alg)
        kids.append(jose.key_id(pem))
        provider.storage.keys.add(kids[-1], alg, pem, state=state)
    yield kids
    db = provider.storage.database
    for kid in kids:
        db.execute_sql(f"DELETE FROM oidc_signing_key WHERE kid = '{kid}'")


def test_t75_every_published_key_is_public_with_a_distinct_kid(
    provider: Provider, extra_keys: list[str]
) -> None:
    fresh = Provider(provider.settings, storage=provider.storage)  # its own key cache
    app = webtest.TestApp(fresh, extra_environ={"wsgi.url_scheme": "https"})
    jwks = app.get("/jwks").json
    assert len(jwks["keys"]) == 3
    assert set(extra_keys) <= {key["kid"] for key in jwks["keys"]}
    assert_public_signing_keys(jwks)


# -- the reference system's aliases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "path"),
    [("/oauth/openid-configuration.php", DISCOVERY), ("/oauth/certs.php", "/jwks")],
)
def test_reference_aliases_serve_the_same_documents(
    app: webtest.TestApp, alias: str, path: str
) -> None:
    original, aliased = app.get(path), app.get(alias)
    assert aliased.json == original.json
    assert aliased.content_type == original.content_type == "application/json"
    assert aliased.headers["Cache-Control"] == original.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/jw%FFks", "/%C0%AE%C0%AE/jwks", "/admin/%FF"])
def test_a_path_that_is_not_utf8_is_not_found_without_a_traceback(
    provider: Provider, path: str
) -> None:
    # the provider itself, whatever the mount: a host's router may refuse such a path first
    # (Pyramid raises URLDecodeError; the middleware and Bottle pass it on: tests/adapters)
    response = webtest.TestApp(provider).get(path, expect_errors=True)
    assert response.status_int == 404, response.status
    assert "keys" not in response.text and "Traceback" not in response.text


def test_the_bare_mount_prefix_answers_like_the_root(provider: Provider) -> None:
    """``/oidc`` (no slash) reaches the provider with an empty PATH_INFO."""
    bare = webtest.TestApp(provider, extra_environ={"SCRIPT_NAME": "/oidc"})
    response = bare.get("")
    assert response.status_int == 200
    assert response.json["issuer"] == provider.settings.issuer
