"""A local SMTP server (aiosmtpd) for the email destination, as a mail provider's submission server behaves:
STARTTLS (the login only after it) or implicit TLS with a certificate for 127.0.0.1 made here, a login that
must match, and addresses it refuses (550).

    smtp = SmtpServer(tmp_path, security="starttls", user="bot", password="pw")
    with smtp.running():
        ...EmailDelivery("127.0.0.1", smtp.port, "starttls", ..., tls_context=smtp.client_tls())
    smtp.messages   # what arrived, parsed; smtp.envelopes: (sender, recipients)
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


def self_signed_certificate(folder: Path, host: str = HOST) -> tuple[Path, Path]:
    """A certificate for host (its own CA) and its key, as PEM files in folder."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class _Controller(Controller):
    """aiosmtpd's threaded controller on a free port (it wants one given; it learns the one the OS chose)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        async def create() -> asyncio.AbstractServer:
            server = await super(_Controller, self)._create_server()
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class SmtpServer:
    def __init__(self, folder: Path, *, security: str = "starttls", user: str = "", password: str = "") -> None:
        self.security, self.user, self.password = security, user, password
        self.cert_file, self.key_file = self_signed_certificate(folder)
        self.refused: set[str] = set()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.port = 0
        self.offer_starttls = security == "starttls"

    def client_tls(self) -> ssl.SSLContext:
        """What a client that trusts this server's certificate uses."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    @contextmanager
    def running(self) -> Iterator[SmtpServer]:
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(self.cert_file, self.key_file)
        options: dict[str, Any] = {"authenticator": self._authenticate} if self.user else {}
        if self.security == "ssl":
            options.update(ssl_context=server_tls, auth_require_tls=False)
        elif self.offer_starttls:
            options.update(tls_context=server_tls, require_starttls=True)
        controller = _Controller(self, hostname=HOST, port=0, **options)
        controller.start()
        self.port = controller.port
        try:
            yield self
        finally:
            controller.stop()

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        login = data if isinstance(data, LoginPassword) else None
        ok = login is not None and (login.login.decode(), login.password.decode()) == (self.user, self.password)
        if ok:
            self.logins.append(self.user)
        return AuthResult(success=ok, handled=False)
