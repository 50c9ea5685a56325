"""A message of the provider: a subject, paragraphs and one link, in the reader's language.

The texts are English messages (``N_``, :class:`~oidc_core.ui.translations.Message`)
translated like the pages' (``ui/locale``); ``mail.txt`` and ``mail.html`` lay them out as
the plain-text part and the HTML alternative of one ``multipart/alternative`` message.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from ..settings import Settings
from ..ui import render
from ..ui.translations import Message, translations

Text = str | Message


@dataclass(frozen=True)
class Letter:
    """What a message says: ``before`` the link (``action`` is its label), ``after`` it."""

    subject: Text
    before: tuple[Text, ...]
    action: Text
    link: str
    after: tuple[Text, ...] = ()


def compose(settings: Settings, to: str, language: str, letter: Letter) -> EmailMessage:
    """The message for ``to`` in ``language`` (one of the pages' languages)."""
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = _translated(letter.subject, language)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.issuer).hostname)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no automatic replies
    directory = settings.templates_dir  # an override of mail.txt or mail.html, if any
    message.set_content(render.render("mail.txt", language, directory, letter=letter))
    html = render.render("mail.html", language, directory, letter=letter)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the content: set_content clears Content-*
    return message


def _translated(text: Text, language: str) -> str:
    catalog = translations(language)
    if isinstance(text, Message):
        return catalog.gettext(text.text) % dict(text.values)
    return catalog.gettext(text)
