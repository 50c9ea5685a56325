"""A software authenticator for the passkey tests: what a browser and a security key send,
built by hand as WebAuthn Level 2 says (section 6.1 authenticator data, 6.5 attestation,
"none" format; 6.3.3 assertion signature) with ``cryptography`` (ES256) and ``cbor2``.

It answers the JSON options the provider hands out with the JSON a page's script posts, and
can be told to lie: another origin, another RP ID, a counter that goes backwards, no user
verification, another user handle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40  # authenticator data flags
AAGUID = bytes.fromhex("6d44ba9bf6ec2e49b9300c8fe920cb73")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One credential on one authenticator (a fresh P-256 key)."""

    origin: str  # the page's origin, as a browser puts it in clientDataJSON
    rp_id: str
    synced: bool = False  # backup eligible (a synced passkey): amr swk
    verifies_user: bool = True
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    user_handle: bytes | None = None
    sign_count: int = 0

    # -- navigator.credentials.create() ------------------------------------------------

    def create(self, options: dict[str, Any], **lies: Any) -> str:
        """The registration credential (JSON) answering creation ``options``."""
        self.user_handle = from_b64url(options["user"]["id"])
        rp_id = lies.get("rp_id", options["rp"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose_key = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = self._auth_data(rp_id, AT, self.sign_count) + attested + cbor2.dumps(cose_key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], **lies)
        return self._credential(
            {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            }
        )

    # -- navigator.credentials.get() ---------------------------------------------------

    def get(self, options: dict[str, Any], **lies: Any) -> str:
        """The assertion (JSON) answering request ``options``; the counter moves on by one
        unless ``counter=`` says what to report."""
        self.sign_count = lies.get("counter", self.sign_count + 1)
        auth_data = self._auth_data(lies.get("rp_id", options["rpId"]), 0, self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], **lies)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        handle = lies.get("user_handle", self.user_handle)
        return self._credential(
            {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if handle is not None else None,
            }
        )

    def _credential(self, response: dict[str, Any]) -> str:
        """A ``PublicKeyCredential`` as JSON (WebAuthn Level 3 ``toJSON()``)."""
        credential_id = b64url(self.credential_id)
        return json.dumps(
            {
                "id": credential_id,
                "rawId": credential_id,
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "response": response,
            }
        )

    def _auth_data(self, rp_id: str, extra_flags: int, count: int) -> bytes:
        flags = UP | extra_flags
        if self.verifies_user:
            flags |= UV
        if self.synced:
            flags |= BE | BS
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)

    def _client_data(self, kind: str, challenge: str, **lies: Any) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": lies.get("origin", self.origin)}
        data["crossOrigin"] = False
        return json.dumps(data).encode()
