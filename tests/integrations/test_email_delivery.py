"""EmailDelivery, smtplib against a local aiosmtpd server: STARTTLS and implicit TLS with a login, multipart text +
HTML with attachments, and the errors a user can fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from core.delivery import Attachment, Message, MessageField
from integrations.delivery import DeliveryError, DestinationUnusable
from integrations.delivery_ledger import DeliveryLedger
from integrations.email_delivery import EmailDelivery
from tests.emulators.smtp import HOST, SmtpServer

MESSAGE = Message(
    "Weekly\nsummary",  # a line break in a title must not reach the Subject header
    "**Five** new projects.\n\n<script>alert(1)</script>",
    fields=(MessageField("Posts", "42"),),
    attachments=(Attachment("report.csv", b"a,b\n1,2\n"),),
)
SENDER, RECIPIENT = "guildflow@example.org", "admin@example.org"


def email(smtp: SmtpServer, security: str = "", *, user: str = "bot", password: str = "pw", **options) -> EmailDelivery:
    return EmailDelivery(
        HOST,
        smtp.port,
        security or smtp.security,  # type: ignore[arg-type]
        SENDER,
        options.pop("recipient", RECIPIENT),
        user=user,
        password=SecretStr(password),
        timeout=10,
        tls_context=options.pop("tls_context", smtp.client_tls()),
    )


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(tmp_path / "deliveries.sqlite")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_message_arrives_as_text_html_and_attachments(tmp_path: Path, ledger: DeliveryLedger, security: str) -> None:
    with SmtpServer(tmp_path, security=security, user="bot", password="pw").running() as smtp:
        progress = ledger.progress("run-1", "email-x", MESSAGE.digest)
        receipt = email(smtp).deliver(MESSAGE, progress)

    [received] = smtp.messages
    assert smtp.logins == ["bot"] and smtp.envelopes == [(SENDER, [RECIPIENT])]
    assert received["Subject"] == "Weekly summary" and received["From"] == SENDER and received["To"] == RECIPIENT
    assert receipt.part_ids == [received["Message-ID"]] and received["Message-ID"].endswith("@example.org>")
    assert receipt.destination == f"email {RECIPIENT}"
    assert received.get_content_type() == "multipart/mixed"
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = received.get_body(("html",)).get_content()
    assert text.startswith("# Weekly summary\n\n**Five** new projects.\n") and "- **Posts**: 42" in text
    assert "<strong>Five</strong> new projects." in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # user text stays text
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == "report.csv" and attachment.get_content() == "a,b\n1,2\n"


def test_a_retry_sends_nothing_again_and_keeps_the_message_id(tmp_path: Path, ledger: DeliveryLedger) -> None:
    with SmtpServer(tmp_path, user="bot", password="pw").running() as smtp:
        first = email(smtp).deliver(MESSAGE, ledger.progress("run-1", "email-x", MESSAGE.digest))
        again = email(smtp).deliver(MESSAGE, ledger.progress("run-1", "email-x", MESSAGE.digest))
    assert len(smtp.messages) == 1 and again.part_ids == first.part_ids


def test_a_plain_relay_needs_no_login(tmp_path: Path, ledger: DeliveryLedger) -> None:
    with SmtpServer(tmp_path, security="none").running() as smtp:
        email(smtp, user="").deliver(MESSAGE, ledger.progress("run-1", "email-x", MESSAGE.digest))
    assert len(smtp.messages) == 1 and smtp.logins == []


def test_a_wrong_password_names_the_settings_and_never_the_password(tmp_path: Path, ledger: DeliveryLedger) -> None:
    with SmtpServer(tmp_path, user="bot", password="pw").running() as smtp:
        with pytest.raises(DeliveryError, match="login of 'bot' was refused .*GUILDFLOW_SMTP_PASSWORD") as raised:
            email(smtp, password="wrong-password").deliver(MESSAGE, ledger.progress("r", "e", MESSAGE.digest))
    assert "wrong-password" not in str(raised.value) and not raised.value.transient and smtp.messages == []


def test_a_refused_address_makes_the_destination_unusable(tmp_path: Path, ledger: DeliveryLedger) -> None:
    with SmtpServer(tmp_path, user="bot", password="pw").running() as smtp:
        smtp.refused.add("gone@example.org")
        with pytest.raises(DestinationUnusable, match="refused the address gone@example.org .550") as raised:
            email(smtp, recipient="gone@example.org").deliver(MESSAGE, ledger.progress("r", "e", MESSAGE.digest))
    assert raised.value.reason == "address refused (550)" and smtp.messages == []


def test_tls_problems_say_what_to_change(tmp_path: Path, ledger: DeliveryLedger) -> None:
    progress = ledger.progress("r", "e", MESSAGE.digest)
    with SmtpServer(tmp_path, user="bot", password="pw").running() as smtp:
        with pytest.raises(DeliveryError, match="certificate is not trusted .*SSL_CERT_FILE"):
            email(smtp, tls_context=None).deliver(MESSAGE, progress)  # the system's CAs do not know it
        with pytest.raises(DeliveryError, match="TLS failed .*GUILDFLOW_SMTP_SECURITY"):
            email(smtp, "ssl").deliver(MESSAGE, progress)  # implicit TLS to a STARTTLS port
    server = SmtpServer(tmp_path, security="none", user="bot", password="pw")
    with server.running():
        with pytest.raises(DeliveryError, match="does not offer STARTTLS: set GUILDFLOW_SMTP_SECURITY=ssl"):
            email(server, "starttls").deliver(MESSAGE, progress)
    assert progress.delivered_parts() == []


def test_an_unreachable_server_is_transient(tmp_path: Path, ledger: DeliveryLedger) -> None:
    server = SmtpServer(tmp_path)
    with server.running():
        port = server.port
    delivery = EmailDelivery(HOST, port, "starttls", SENDER, RECIPIENT, timeout=5)
    with pytest.raises(DeliveryError, match="could not reach it .*GUILDFLOW_SMTP_HOST") as raised:
        delivery.deliver(MESSAGE, ledger.progress("r", "e", MESSAGE.digest))
    assert raised.value.transient


def test_check_logs_in_and_sends_nothing(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, user="bot", password="pw").running() as smtp:
        summary = email(smtp).check()
    assert "answers (starttls, logged in as bot); nothing sent" in summary and smtp.messages == []
