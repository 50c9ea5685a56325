"""The pairwise ``sub`` (OIDC Core 8.1) as :mod:`oidc_core.subjects` documents it: HMAC-SHA-256
keyed by the salt over the length-prefixed sector and subject, base64url without padding."""

from __future__ import annotations

import base64
import hashlib
import hmac

from oidc_core.subjects import pairwise_subject


def test_the_documented_construction() -> None:
    message = b"\x00\x00\x00\x0arp.example" + b"\x00\x00\x00\x05alice"
    mac = hmac.new(b"salt", message, hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert pairwise_subject("salt", "rp.example", "alice") == expected
    assert len(expected) == 43 and "=" not in expected


def test_no_two_pairs_share_a_message() -> None:
    assert pairwise_subject("salt", "ab", "c") != pairwise_subject("salt", "a", "bc")
    assert pairwise_subject("salt", "a", "b") != pairwise_subject("other", "a", "b")
    assert pairwise_subject("salt", "a", "b") == pairwise_subject("salt", "a", "b")
