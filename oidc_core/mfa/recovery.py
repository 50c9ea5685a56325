"""Recovery codes: ten single-use codes that stand in for a lost second factor.

Each code is 16 random base32 characters (80 bits) shown in groups of four.  At 80 bits a
code cannot be found from its SHA-256 digest by trying them all, so the digest is stored
as for the provider's other random credentials (:mod:`oidc_core.credentials`), and a
presented code is found by its digest.
"""

from __future__ import annotations

import secrets

from ..credentials import digest

COUNT = 10
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32 (RFC 4648), lower case
LENGTH = 16  # characters: 80 bits
GROUP = 4


def new_codes(count: int = COUNT) -> list[str]:
    """``count`` new codes as shown to the user (``abcd-efgh-ijkl-mnop``)."""
    return [
        _grouped("".join(secrets.choice(ALPHABET) for _ in range(LENGTH))) for _ in range(count)
    ]


def normalized(code: str) -> str:
    """A typed code without spaces and dashes, in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def looks_like_code(code: str) -> bool:
    code = normalized(code)
    return len(code) == LENGTH and all(c in ALPHABET for c in code)


def code_digest(code: str) -> str:
    """The stored form of a code, however it was typed."""
    return digest(normalized(code))


def _grouped(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
