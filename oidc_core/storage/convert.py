"""Model rows to plain records."""

from __future__ import annotations

import json
from typing import Any

from .. import records
from . import models


def user(row: models.User) -> records.User:
    return records.User(
        id=row.id,
        subject=row.subject,
        email=row.email,
        name=row.name,
        given_name=row.given_name,
        family_name=row.family_name,
        preferred_username=row.preferred_username,
        locale=row.locale,
        email_verified=bool(row.email_verified),
        is_admin=bool(row.is_admin),
        password_hash=row.password_hash,
        updated_at=row.updated_at,
        external_id=row.external_id,
        status=row.status,
        status_changed_at=row.status_changed_at,
    )


def client(row: models.Client) -> records.Client:
    return records.Client(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(uri for uri in row.redirect_uris.split("\n") if uri),
        allowed_scopes=frozenset(row.allowed_scopes.split()),
        description=row.description,
        client_uri=row.client_uri,
        logo_uri=row.logo_uri,
        require_pkce=bool(row.require_pkce),
        skip_consent=bool(row.skip_consent),
        is_public=bool(row.is_public),
        access_token_ttl=row.access_token_ttl,
        id_token_ttl=row.id_token_ttl,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        secret_digest=row.secret_digest,
        previous_secret_digest=row.previous_secret_digest,
        previous_secret_expires_at=row.previous_secret_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        grant_types=tuple(row.grant_types.split()),
        post_logout_redirect_uris=tuple(
            uri for uri in (row.post_logout_redirect_uris or "").split("\n") if uri
        ),
        access_token_format=row.access_token_format,
        backchannel_logout_uri=row.backchannel_logout_uri,
        backchannel_logout_session_required=bool(row.backchannel_logout_session_required),
        require_mfa=bool(row.require_mfa),
        policy_uri=row.policy_uri,
        tos_uri=row.tos_uri,
        software_id=row.software_id,
        software_version=row.software_version,
        subject_type=row.subject_type,
        sector_identifier_uri=row.sector_identifier_uri,
        sector_identifier=row.sector_identifier,
        service_id=row.service_id,
        credential_grant_type=row.credential_grant_type,
        registration_token_digest=row.registration_token_digest,
        initial_access_token_id=row.initial_access_token_id,
        token_endpoint_auth_method=row.token_endpoint_auth_method,
    )


def code(row: models.AuthorizationCode) -> records.CodeGrant:
    return records.CodeGrant(
        id=row.id,
        client_pk=row.client_id,
        user=user(row.user),
        redirect_uri=row.redirect_uri,
        scopes=tuple(row.scopes.split()),
        nonce=row.nonce,
        claims=json.loads(row.claims) if row.claims else None,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
        auth_time=row.auth_time,
        expires_at=row.expires_at,
        used=row.used_at is not None,
        sid=row.sid,
        amr=methods(row.amr),
        acr=row.acr,
    )


def refresh_token(row: Any, user_row: Any) -> records.RefreshTokenGrant:
    """A refresh token's row (:attr:`.HotPath.refresh_with_user`) and its user's."""
    return records.RefreshTokenGrant(
        id=row.id,
        grant_id=row.grant_id,
        client_pk=row.client_id,
        user=user(user_row),
        scopes=tuple(row.scopes.split()),
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        absolute_expires_at=row.absolute_expires_at,
        used=row.used_at is not None,
        revoked=row.revoked_at is not None,
        amr=methods(row.amr),
        acr=row.acr,
    )


def methods(amr: str | None) -> tuple[str, ...] | None:
    """A stored ``amr`` (space-separated RFC 8176 values); None when it was not recorded."""
    return None if amr is None else tuple(amr.split())


def token_info(kind: str, row: Any) -> records.TokenInfo:
    """A live token's row (:attr:`.HotPath.live_token`) as introspection tells it."""
    return records.TokenInfo(
        kind=kind,
        client_pk=row.client_id,
        client_id=row.client_key,
        subject=row.u_subject,
        scopes=tuple(row.scopes.split()),
        issued_at=row.created_at,
        expires_at=row.expires_at,
    )


def account_link(row: models.AccountLink) -> records.AccountLink:
    return records.AccountLink(
        id=row.id,
        user_id=row.user_id,
        purpose=row.purpose,
        email=row.email,
        expires_at=row.expires_at,
    )
