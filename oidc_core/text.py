"""Text people type: what may be stored, and how stored text is shown in a terminal.

A character of Unicode category ``C`` (``Cc`` control such as NUL, BEL, ESC, CR; ``Cf``
format such as the bidi override U+202E; ``Cs`` a lone surrogate, which no database can
store; ``Co`` private use; ``Cn`` unassigned) has no place in a name or a URI: it rewrites
a terminal, reorders what a consent page shows, or fails at the database.
"""

from __future__ import annotations

import re
import unicodedata

# The ASCII controls (C0 and DEL): what a log line or a configured URL must never carry raw.
ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_control(ch: str) -> bool:
    """``ch`` is of Unicode category C (control, format, surrogate, private, unassigned)."""
    return unicodedata.category(ch)[0] == "C"


def has_control_characters(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds a category C character other than those in ``allowed``."""
    return any(is_control(ch) and ch not in allowed for ch in text)


def escaped(text: str) -> str:
    """``text`` for a terminal: each category C character as its Python escape
    (``\\x1b``, ``\\r``, ``\\u202e``, ``\\ud800``), every other character as it is."""
    if not has_control_characters(text):
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if is_control(ch) else ch for ch in text
    )
