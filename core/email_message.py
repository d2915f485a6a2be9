"""A message as an email: multipart text + HTML (the Markdown itself is the text part; its rendering with raw HTML
escaped is the HTML part), attachments after them."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from markdown_it import MarkdownIt

from core.delivery import Message, message_markdown

SmtpSecurity = Literal["starttls", "ssl", "none"]  # STARTTLS (submission, 587), implicit TLS (465), plain (25)

# CommonMark with raw HTML off: a summary quoting a user's "<script>" shows it as text. markdown-it also refuses
# javascript:, vbscript: and file: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def message_html(message: Message) -> str:
    body = _MARKDOWN.render(message_markdown(message))
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'


def email_message_id(part_key: str, sender: str) -> str:
    """The Message-ID of a delivery: the same in every retry of it, so mail systems can drop a duplicate."""
    return f"<{part_key}@{sender.rpartition('@')[2]}>"


def email_message(message: Message, sender: str, recipient: str, message_id: str, sent_at: datetime) -> EmailMessage:
    email = EmailMessage()
    # A header may not hold line breaks (and with them, injected headers): the subject is the title on one line.
    email["Subject"] = " ".join(message.title.split()) or " ".join(message.body.split())[:78]
    email["From"] = sender
    email["To"] = recipient
    email["Date"] = format_datetime(sent_at)
    email["Message-ID"] = message_id
    email.set_content(message_markdown(message))
    email.add_alternative(message_html(message), subtype="html")
    for attachment in message.attachments:
        kind = mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        email.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.name)
    return email
