"""Keys, signatures and the JWK Set: the only module that imports josepy.

RFC 7515 (JWS), RFC 7517 (JWK), RFC 7638 (thumbprints as ``kid``).  ID tokens are signed
with ``kid``, ``alg`` and ``typ`` in the protected header and no embedded key
(``include_jwk=False``): a verifier finds our key by ``kid`` in the JWKS.  Private keys are
parsed once per process (parsing an RSA-2048 PEM costs ~40 ms, ~130 signatures).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import josepy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# Re-exported: callers of verify_jwt catch jose.InvalidToken (one class, errors.py's).
from .errors import InvalidToken as InvalidToken

SUPPORTED_ALGORITHMS = ("RS256", "ES256")
_ALGORITHMS = {"RS256": josepy.RS256, "ES256": josepy.ES256}
_PROTECTED = frozenset({"alg", "kid", "typ"})
MAX_JWT_LENGTH = 8192  # our ID tokens are well under 2 KB; refuse bigger before parsing


@dataclass(frozen=True)
class SigningKey:
    """A parsed private key with its ``kid`` and algorithm."""

    kid: str
    alg: str
    jwk: josepy.JWK

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK dict; never the private members."""
        public = dict(self.jwk.public_key().to_json())
        public.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return public


def generate_private_pem(alg: str = "RS256") -> str:
    """A new private key in PKCS#8 PEM: RSA-2048 for RS256, P-256 for ES256."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def key_id(pem: str) -> str:
    """RFC 7638 thumbprint of the key, base64url: stable and unique per key."""
    thumbprint = josepy.JWK.load(pem.encode("ascii")).thumbprint()
    return str(josepy.b64.b64encode(thumbprint).decode("ascii"))


def load_signing_key(pem: str, alg: str, kid: str) -> SigningKey:
    """Parse a private key once; the result signs any number of tokens."""
    if alg not in _ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    return SigningKey(kid=kid, alg=alg, jwk=josepy.JWK.load(pem.encode("ascii")))


def sign_jwt(claims: dict[str, Any], key: SigningKey, typ: str = "JWT") -> str:
    """Compact JWS (RFC 7515 section 7.1) of ``claims`` with ``alg``, ``kid`` and ``typ``
    protected; the signature is josepy's JWA algorithm for the key.

    ``typ`` is a media type without its ``application/`` prefix (RFC 7515 section 4.1.9).
    The compact form is assembled here rather than by ``josepy.JWS.sign``: its header and
    field objects cost a third of an RS256 signature again on every ID token.
    """
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + b"." + _b64(payload)
    signature = _ALGORITHMS[key.alg].sign(key.jwk.key, signing_input)
    return (signing_input + b"." + _b64(signature)).decode("ascii")


def _b64(data: bytes) -> bytes:
    """base64url without padding (RFC 7515 section 2)."""
    encoded: bytes = josepy.b64.b64encode(data)
    return encoded


def verify_jwt(token: str, keys: Mapping[str, SigningKey], typ: str = "JWT") -> dict[str, Any]:
    """The claims of a compact JWS signed by one of ``keys`` (looked up by ``kid``).

    The protected header may hold only ``alg``, ``kid`` and ``typ``; ``alg`` is pinned to
    the algorithm of the key named by ``kid`` (never ``none``, never a key from the token
    itself); ``typ``, when present, must be ``typ`` (RFC 8725 3.11: an ``at+jwt`` access
    token or a ``logout+jwt`` is never taken for an ID token).  Claims such as ``exp`` and
    ``iss`` are the caller's to check.
    """
    if len(token) > MAX_JWT_LENGTH or token.count(".") != 2:
        raise InvalidToken("not a compact JWS of a sensible size")
    try:
        header = json.loads(josepy.b64.b64decode(token.split(".", 1)[0]))
        if not isinstance(header, dict) or not set(header) <= _PROTECTED:
            raise InvalidToken("unexpected header parameters")
        media_type = str(header.get("typ", typ)).lower().removeprefix("application/")
        if media_type != typ.lower():
            raise InvalidToken("another type of token")
        key = keys.get(header.get("kid"))  # type: ignore[arg-type]
        if key is None or header.get("alg") != key.alg:
            raise InvalidToken("unknown key or algorithm")
        jws = josepy.JWS.from_compact(token.encode("ascii"))
        if not jws.verify(key.jwk.public_key()):
            raise InvalidToken("bad signature")
        claims = json.loads(jws.payload)
    except (
        AssertionError,  # josepy validates some input with assert
        TypeError,
        KeyError,
        ValueError,  # also json, binascii and Unicode errors
        binascii.Error,
        josepy.errors.Error,
    ) as error:
        if isinstance(error, InvalidToken):
            raise
        raise InvalidToken("malformed token") from None
    if not isinstance(claims, dict):
        raise InvalidToken("the payload is not a JSON object")
    return claims


def jwk_set(keys: list[SigningKey]) -> dict[str, Any]:
    """RFC 7517 section 5 JWK Set of the public keys."""
    return {"keys": [key.public_jwk() for key in keys]}
