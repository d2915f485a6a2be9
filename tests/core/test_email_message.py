from datetime import datetime, timezone

from core.delivery import Attachment, Message
from core.email_message import email_message, email_message_id, message_html

AT = datetime(2026, 11, 30, 22, 43, 45, tzinfo=timezone.utc)


def test_html_escapes_raw_html_and_refuses_script_links() -> None:
    html = message_html(Message("<b>Title</b>", "a <img src=x onerror=alert(1)> b\n\n[x](javascript:alert(1))"))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<h1>&lt;b&gt;Title&lt;/b&gt;</h1>" in html and 'href="javascript' not in html


def test_markdown_becomes_html() -> None:
    html = message_html(Message("T", "**bold** and `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html and "<li>one</li>" in html
    assert "<td>1</td>" in html


def test_headers_cannot_be_injected_and_the_subject_is_never_empty() -> None:
    email = email_message(Message("Hi\r\nBcc: x@evil.org", "b"), "a@b.org", "c@d.org", "<k@b.org>", AT)
    assert email["Subject"] == "Hi Bcc: x@evil.org" and email["Bcc"] is None
    assert (
        email_message(Message("", "first words\nof the body"), "a@b.org", "c@d.org", "<k@b.org>", AT)["Subject"]
        == "first words of the body"
    )


def test_text_html_and_attachments_in_one_email() -> None:
    email = email_message(
        Message("T", "b", attachments=(Attachment("a.json", b"{}"),)), "a@b.org", "c@d.org", "<k@b.org>", AT
    )
    assert email.get_content_type() == "multipart/mixed" and email["Date"] == "Mon, 30 Nov 2026 22:43:45 +0000"
    assert [part.get_content_type() for part in email.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/json",
    ]


def test_the_message_id_is_in_the_senders_domain() -> None:
    assert email_message_id("0123abcd", "guildflow@mail.example.org") == "<0123abcd@mail.example.org>"
