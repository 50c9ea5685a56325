"""The provider's mail: links for a password reset and for verifying an address.

:mod:`.letter` turns a :class:`~.letter.Letter` into a message (plain text and HTML, in the
reader's language); :mod:`.outbox` sends it through the configured SMTP server from a
background thread, so no page waits on a slow server and a failure is logged, never shown.
"""

from .letter import Letter, compose
from .outbox import Outbox

__all__ = ["Letter", "Outbox", "compose"]
