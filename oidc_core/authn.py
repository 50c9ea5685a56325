"""How a person proved who they are: authentication method references (``amr``, RFC 8176)
and the authentication context classes (``acr``) the provider offers.

A sign-in collects method values as it goes (a password, then a one-time code); the set
is kept with the browser session and copied into each code, refresh token and ID token.
The context class an ID token states is derived from those methods (:func:`acr_of`), and
a relying party asking for a class (``acr_values``, an essential ``acr`` claim) is served
only once the session's methods satisfy it (:func:`satisfies`).
"""

from __future__ import annotations

from collections.abc import Iterable

# RFC 8176 section 2
KNOWLEDGE = "pwd"  # a password
OTP = "otp"  # a one-time code: TOTP, or a recovery code
HARDWARE_KEY = "hwk"  # a security key or a device-bound passkey
SOFTWARE_KEY = "swk"  # a synced passkey (WebAuthn backup eligible)
USER_PRESENCE = "user"
MULTI_FACTOR = "mfa"

METHODS = frozenset({KNOWLEDGE, OTP, HARDWARE_KEY, SOFTWARE_KEY, USER_PRESENCE, MULTI_FACTOR})
SECOND_FACTORS = frozenset({OTP, HARDWARE_KEY, SOFTWARE_KEY})

# Authentication context classes, weakest first.  ``phr`` is OpenID Connect Extended
# Authentication Profile ACR Values 1.0's "phishing-resistant" (a WebAuthn key).
ACR_SINGLE_FACTOR = "urn:oidc-core:acr:single-factor"
ACR_MFA = "urn:oidc-core:acr:mfa"
ACR_PHISHING_RESISTANT = "phr"
ACR_VALUES = (ACR_SINGLE_FACTOR, ACR_MFA, ACR_PHISHING_RESISTANT)


def normalized(amr: Iterable[str]) -> tuple[str, ...]:
    """``amr`` without repeats, in a stable order, with ``mfa`` added when two kinds of
    factor were used (a password and a code or key, or a key that verified the user)."""
    methods = set(amr)
    unknown = methods - METHODS
    if unknown:
        raise ValueError(f"unknown authentication methods {sorted(unknown)}")
    keys = methods & {HARDWARE_KEY, SOFTWARE_KEY}
    if (KNOWLEDGE in methods and methods & SECOND_FACTORS) or (keys and USER_PRESENCE in methods):
        methods.add(MULTI_FACTOR)
    return tuple(sorted(methods))


def acr_of(amr: Iterable[str]) -> str:
    """The strongest context class the methods ``amr`` reach."""
    methods = set(amr)
    if MULTI_FACTOR in methods and methods & {HARDWARE_KEY, SOFTWARE_KEY}:
        return ACR_PHISHING_RESISTANT
    if MULTI_FACTOR in methods:
        return ACR_MFA
    return ACR_SINGLE_FACTOR


def satisfies(amr: Iterable[str], acr: str) -> bool:
    """Whether a sign-in made with ``amr`` meets the context class ``acr`` (an unknown
    class is never met)."""
    if acr not in ACR_VALUES:
        return False
    return ACR_VALUES.index(acr_of(amr)) >= ACR_VALUES.index(acr)
