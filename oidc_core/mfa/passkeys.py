"""Passkeys and security keys (WebAuthn Level 2, through py_webauthn: nothing of the
ceremonies is done by hand): registering one, and checking a sign-in made with one.

Each ceremony has two steps.  The options step makes a random challenge and keeps it for
the browser session (encrypted, :class:`~oidc_core.interactions.flash.Flashes`: single
use, five minutes); the verification step takes it back, so a challenge answers once and
only in the browser that asked for it.  The RP ID and the expected origin come from the
issuer (:mod:`.relying_party`).

Registration prefers user verification and excludes the account's credentials; a
credential for signing in without a password ("passwordless") must be discoverable
(resident key required) and verify the user.  A sign-in (:func:`verify_assertion`) finds
the credential by its ID, checks it belongs to the user expected (a second factor) or
allows passwordless sign-in and names the same user handle (a passwordless sign-in),
verifies the signature, and refuses a signature counter that did not move forward (a
cloned authenticator), logging it.  Its ``amr``: ``swk`` for a credential that may be
synced (backup eligible), else ``hwk``; with ``user`` when the authenticator verified the
user.  Failed assertions are counted per address by the brute-force limits.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webob import Request

from .. import authn
from ..records import BrowserSession, User
from ..storage.passkeys import DuplicatePasskey, Passkey
from .relying_party import RelyingParty, relying_party

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger(__name__)

REGISTRATION = "passkey-registration"  # the flash names the challenges are kept under
ASSERTION = "passkey-assertion"
TIMEOUT_MS = 120_000  # a hint to the browser; the challenge itself lives five minutes
MAX_RESPONSE = 16_384  # characters of a credential's JSON (IDs, keys, attestation)


class PasskeyRefused(Exception):
    """A registration or sign-in that cannot be accepted; the text is for the log only."""


def party(op: Context) -> RelyingParty | None:
    """The provider as WebAuthn RP; None when passkeys are unavailable (an issuer on an IP
    address, or a host application's own accounts)."""
    if not op.accounts.builtin:
        return None
    return relying_party(op.settings.issuer)


def _party(op: Context) -> RelyingParty:
    found = party(op)
    if found is None:
        raise PasskeyRefused("passkeys are unavailable with this issuer or account source")
    return found


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle: the random ``sub`` (no personal data, at most 64 bytes)."""
    return user.subject.encode("ascii")


# -- registration --------------------------------------------------------------------------


def registration_options(
    op: Context, request: Request, session: BrowserSession, user: User, passwordless: bool
) -> str:
    """The ``PublicKeyCredentialCreationOptions`` (JSON) for a new credential of ``user``."""
    rp = _party(op)
    login = op.accounts.actor(user)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle(user),
        user_name=login,
        user_display_name=user.name or login,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=(
                ResidentKeyRequirement.REQUIRED
                if passwordless
                else ResidentKeyRequirement.DISCOURAGED
            ),
            user_verification=(
                UserVerificationRequirement.REQUIRED
                if passwordless
                else UserVerificationRequirement.PREFERRED
            ),
        ),
        exclude_credentials=_descriptors(op.storage.passkeys.of_user(user.id)),
    )
    kept = {
        "challenge": bytes_to_base64url(options.challenge),
        "user": user.id,
        "passwordless": passwordless,
    }
    op.flashes.put(request, session, REGISTRATION, kept)
    return options_to_json(options)


def register(
    op: Context, request: Request, session: BrowserSession, user: User, response: str, name: str
) -> Passkey:
    """Verify the browser's answer to :func:`registration_options` and store the
    credential under ``name``; PasskeyRefused if it cannot be accepted."""
    rp = _party(op)
    kept = op.flashes.take(request, session, REGISTRATION)
    if kept is None or kept.get("user") != user.id:
        raise PasskeyRefused("no registration challenge waits in this session")
    passwordless = bool(kept.get("passwordless"))
    try:
        credential = parse_registration_credential_json(_bounded(response))
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(kept["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=passwordless,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as refused:
        raise PasskeyRefused(f"registration refused: {refused}") from None
    transports = tuple(t.value for t in credential.response.transports or ())
    try:
        return op.storage.passkeys.add(
            user.id,
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            name=name,
            transports=transports,
            aaguid=verified.aaguid,
            passwordless=passwordless,
        )
    except DuplicatePasskey:
        raise PasskeyRefused("this credential is registered already") from None


# -- sign-in -------------------------------------------------------------------------------


def assertion_options(
    op: Context, request: Request, session: BrowserSession, expected_user_id: int | None = None
) -> str:
    """The ``PublicKeyCredentialRequestOptions`` (JSON) for a sign-in: for a passwordless
    one (``expected_user_id`` None) any discoverable credential, user verification
    required; for a second factor, the credentials of that user."""
    rp = _party(op)
    allowed: list[PublicKeyCredentialDescriptor] = []
    if expected_user_id is not None:
        allowed = _descriptors(op.storage.passkeys.of_user(expected_user_id))
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if expected_user_id is None
            else UserVerificationRequirement.PREFERRED
        ),
    )
    kept = {"challenge": bytes_to_base64url(options.challenge), "user": expected_user_id}
    op.flashes.put(request, session, ASSERTION, kept)
    return options_to_json(options)


def verify_assertion(
    op: Context,
    request: Request,
    session: BrowserSession,
    response: str,
    expected_user_id: int | None,
) -> tuple[User, tuple[str, ...]]:
    """The user a sign-in with a passkey proves, and its ``amr`` (``hwk`` or ``swk``, and
    ``user`` when verified).  ``response``: the JSON of the browser's
    ``navigator.credentials.get()`` answer to :func:`assertion_options` of this session
    (with the same ``expected_user_id``: None for a passwordless sign-in).

    Raises PasskeyRefused (counted per address, and at a second step on the user's
    second-factor counter) or :class:`~oidc_core.throttle.Throttled` while one of them
    is locked; a right passkey at a second step resets the user's counter."""
    address = op.client_address(request)
    op.throttle.passkey_check(address, expected_user_id)
    try:
        verified = _verified(op, request, session, response, expected_user_id)
    except PasskeyRefused as refused:
        log.info("passkey sign-in refused from %s: %s", address, refused)
        op.throttle.passkey_failed(address, expected_user_id)
        raise
    if expected_user_id is not None:
        op.throttle.passkey_succeeded(expected_user_id)
    return verified


def _verified(
    op: Context,
    request: Request,
    session: BrowserSession,
    response: str,
    expected_user_id: int | None,
) -> tuple[User, tuple[str, ...]]:
    rp = _party(op)
    kept = op.flashes.take(request, session, ASSERTION)
    if kept is None or kept.get("user") != expected_user_id:
        raise PasskeyRefused("no sign-in challenge waits in this session")
    try:
        credential = parse_authentication_credential_json(_bounded(response))
    except (WebAuthnException, ValueError, TypeError) as refused:
        raise PasskeyRefused(f"malformed assertion: {refused}") from None
    passkey = op.storage.passkeys.by_credential_id(bytes_to_base64url(credential.raw_id))
    if passkey is None:
        raise PasskeyRefused("unknown credential")
    user = op.storage.users.by_id(passkey.user_id)
    if user is None or not op.accounts.active(user) or op.accounts.account_of(user) is None:
        raise PasskeyRefused("the credential's account is gone, suspended or closed")
    _check_owner(passkey, user, credential.response.user_handle, expected_user_id)
    passwordless = expected_user_id is None
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(kept["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=0,  # checked below, once the signature holds
            require_user_verification=passwordless,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as refused:
        raise PasskeyRefused(f"assertion refused (credential {passkey.id}): {refused}") from None
    _check_counter(passkey, verified.new_sign_count)
    if not op.storage.passkeys.used(passkey.id, passkey.sign_count, verified.new_sign_count):
        raise PasskeyRefused(f"credential {passkey.id} was used by another sign-in meanwhile")
    synced = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    amr = [authn.SOFTWARE_KEY if synced else authn.HARDWARE_KEY]
    if verified.user_verified:
        amr.append(authn.USER_PRESENCE)
    return user, tuple(amr)


def _check_owner(
    passkey: Passkey, user: User, handle: bytes | None, expected_user_id: int | None
) -> None:
    """A second factor must be the expected user's; a passwordless sign-in needs a
    credential allowed for it that names its user (WebAuthn 7.2 steps 6 and 7)."""
    if expected_user_id is not None:
        if passkey.user_id != expected_user_id:
            raise PasskeyRefused(f"credential {passkey.id} is another user's")
        if handle is not None and handle != user_handle(user):
            raise PasskeyRefused(f"credential {passkey.id}: user handle does not match")
        return
    if not passkey.passwordless:
        raise PasskeyRefused(f"credential {passkey.id} is not for passwordless sign-in")
    if handle is None or handle != user_handle(user):
        raise PasskeyRefused(f"credential {passkey.id}: user handle does not match")


def _check_counter(passkey: Passkey, new_count: int) -> None:
    """WebAuthn 7.2 step 21: a counter that did not move forward (either one non-zero)
    means two copies of the key exist: refused, and logged as a warning."""
    if (new_count or passkey.sign_count) and new_count <= passkey.sign_count:
        log.warning(
            "passkey %d of user %d: signature counter %d after %d; a cloned authenticator?",
            passkey.id,
            passkey.user_id,
            new_count,
            passkey.sign_count,
        )
        raise PasskeyRefused(f"credential {passkey.id}: signature counter went backwards")


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports],
        )
        for p in passkeys
    ]


def _bounded(response: str) -> str:
    if not response or len(response) > MAX_RESPONSE:
        raise PasskeyRefused("no credential, or one too long")
    return response
