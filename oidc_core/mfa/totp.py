"""Time-based one-time passwords (RFC 6238) through ``pyotp``: secrets, the enrolment QR
code (``segno``, SVG drawn inline in the page), and matching a code to its time step.

A code is matched against the current 30-second step and one step either side (RFC 6238
section 5.2: clock drift and the time it takes to type).  The step that matched is
returned, so that the caller accepts each code once (``FactorStore.advance_totp``).
"""

from __future__ import annotations

import hmac
import time

import pyotp
import segno

DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one


def new_secret() -> str:
    """A random 160-bit secret in base32 (RFC 4226 section 4 recommends 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account_name: str, issuer_name: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer_name)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (no image, no data: URL)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", dark="#000")
    return svg


def normalized(code: str) -> str:
    """A typed code without the spaces and dashes people put in it."""
    return "".join(code.split()).replace("-", "")


def looks_like_code(code: str) -> bool:
    code = normalized(code)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within :data:`WINDOW` steps of ``now``), or
    None.  Each candidate is compared in constant time."""
    code = normalized(code)
    if not looks_like_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(time.time() if now is None else now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found
