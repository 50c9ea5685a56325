"""Generated credentials: client ids and secrets, codes, tokens, session keys, subjects.

Everything is CSPRNG output of at least 128 bits (RFC 6749 section 10.10, OIDC Core
section 16.19).  Bearer credentials are stored only as SHA-256 digests: they are
server-generated and high-entropy, so a fast hash is the right tool (a slow KDF would cost
100 times the whole token request) and a lookup by digest leaks no timing about the value.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string


def new_token() -> str:
    """A 256-bit URL-safe random credential (codes, access tokens, session keys)."""
    return secrets.token_urlsafe(32)


CLIENT_ID_ALPHABET = string.ascii_letters + string.digits
CLIENT_ID_LENGTH = 22  # 22 * log2(62) = 131 bits


def new_client_id() -> str:
    """A client identifier: public, random, 131 bits of letters and digits only, so it is
    selected whole by a double click and never taken for a command-line option."""
    return "".join(secrets.choice(CLIENT_ID_ALPHABET) for _ in range(CLIENT_ID_LENGTH))


def new_client_secret() -> str:
    """A client secret: 256 bits, shown once, stored hashed."""
    return secrets.token_urlsafe(32)


SUBJECT_LENGTH = 24  # 24 * log2(62) = 142 bits


def new_subject() -> str:
    """A stable, never-reused subject identifier for a user: random letters and digits, so
    that, like a client id, it is never taken for an option (``oidc-core user suspend SUB``;
    one made by an earlier version may start with ``-``: give it after ``--``)."""
    return "".join(secrets.choice(CLIENT_ID_ALPHABET) for _ in range(SUBJECT_LENGTH))


def digest(value: str) -> str:
    """The stored form of a bearer credential: hex SHA-256."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(value: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented credential with its stored digest."""
    return hmac.compare_digest(digest(value), stored_digest)
