"""The email destination: one message to one address through an SMTP server (smtplib), over STARTTLS (submission,
587), implicit TLS (465) or plain (25, a relay on a trusted network), with a login when a user is set."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from pydantic import SecretStr

from core.delivery import Destination, Message
from core.email_message import SmtpSecurity, email_message, email_message_id
from integrations.delivery import DeliveryError, DeliveryProgress, DestinationUnusable, Receipt

LOGIN_FIX = "check GUILDFLOW_SMTP_USER and GUILDFLOW_SMTP_PASSWORD (many providers want an app password)"


class EmailDelivery:
    """tls_context: whom to trust (default: the system's CAs, or the bundle in SSL_CERT_FILE)."""

    def __init__(
        self,
        host: str,
        port: int,
        security: SmtpSecurity,
        sender: str,
        recipient: str,
        *,
        user: str = "",
        password: SecretStr | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipient = sender, recipient
        self.user = user
        self._password = password
        self.timeout = timeout
        self._tls = tls_context or ssl.create_default_context()

    def describe(self) -> str:
        return f"email to {self.recipient} via {self.host}:{self.port} ({self.security})"

    def check(self) -> str:
        with self._session() as smtp:
            smtp.noop()
        login = f"logged in as {self.user}" if self.user else "no login"
        return f"SMTP server {self.host}:{self.port} answers ({self.security}, {login}); nothing sent"

    def deliver(self, message: Message, progress: DeliveryProgress) -> Receipt:
        where = Destination("email", self.recipient).describe()
        delivered = progress.delivered_parts()
        if delivered:
            return Receipt(where, delivered)
        message_id = email_message_id(progress.part_key(0), self.sender)
        email = email_message(message, self.sender, self.recipient, message_id, datetime.now(timezone.utc))
        with self._session() as smtp, self._errors("sending"):
            smtp.send_message(email)
        progress.record_part(0, message_id)
        return Receipt(where, [message_id])

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """Connected, encrypted as configured and logged in; closed on exit."""
        with self._errors("connecting to"):
            if self.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            with self._errors("connecting to"):
                smtp.ehlo_or_helo_if_needed()
                if self.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(
                            f"SMTP server {self.host}:{self.port} does not offer STARTTLS: set "
                            "GUILDFLOW_SMTP_SECURITY=ssl (and the port, usually 465), or none on a trusted network"
                        )
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                if self.user:
                    if not smtp.has_extn("auth"):
                        raise DeliveryError(
                            f"SMTP server {self.host}:{self.port} does not offer a login (AUTH)"
                            + (" without TLS: set GUILDFLOW_SMTP_SECURITY" if self.security == "none" else "")
                            + "; or leave GUILDFLOW_SMTP_USER empty if it needs none"
                        )
                    smtp.login(self.user, self._password.get_secret_value() if self._password else "")
            yield smtp
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """smtplib's and ssl's errors as DeliveryError saying what to fix (never the password)."""
        server = f"SMTP server {self.host}:{self.port}"
        what = f"{doing} {server}"
        try:
            yield
        except smtplib.SMTPAuthenticationError as error:
            refused = f"{what}: the login of {self.user!r} was refused ({_reply(error)})"
            raise DeliveryError(f"{refused}; {LOGIN_FIX}") from None
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (0, b""))
            refused = f"{server} refused the address {self.recipient} ({code} {_text(reply)})"
            if 500 <= code < 600:
                raise DestinationUnusable(
                    f"{refused}: fix the destination's address", f"address refused ({code})"
                ) from None
            raise DeliveryError(f"{refused}; try again later", transient=True) from None
        except smtplib.SMTPSenderRefused as error:
            raise DeliveryError(
                f"{server} refused the sender {self.sender} ({_reply(error)}): set GUILDFLOW_SMTP_FROM to an address "
                "the login may send as"
            ) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"{what}: it answered {_reply(error)}", transient=error.smtp_code < 500) from None
        except ssl.SSLCertVerificationError as error:
            raise DeliveryError(
                f"{what}: its TLS certificate is not trusted ({error.verify_message}); check GUILDFLOW_SMTP_HOST "
                "(the name on the certificate), or trust its CA (SSL_CERT_FILE)"
            ) from None
        except ssl.SSLError as error:
            raise DeliveryError(
                f"{what}: TLS failed ({error.reason or error}); is GUILDFLOW_SMTP_SECURITY right for port {self.port} "
                "(ssl: 465, starttls: 587)?"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"{what}: could not reach it ({type(error).__name__}: {error}); check GUILDFLOW_SMTP_HOST and "
                "GUILDFLOW_SMTP_PORT and the network",
                transient=True,
            ) from None


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else reply).strip()
