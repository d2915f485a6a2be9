"""What is delivered (a message) and where to (a destination), shared by every feature that delivers: summaries,
job messages and reminders, playerData exports, pause notices. Pure: parsing, validation, identity.

A destination is written the way a user types it on the command line and stores it in a schedule:
    discord:<channel id>[:embed|:markdown]   a Discord channel (the bot, or a webhook of that channel)
    webhook:<url>                            a JSON POST signed with HMAC-SHA256 (Discord's own format for a
                                             Discord webhook URL)
    email:<address>                          an email through the configured SMTP server
    file:<folder>[:markdown|:json]           a file in a local folder (the embedded default, no account)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from core.errors import UserFacingError

DestinationKind = Literal["discord", "webhook", "email", "file"]
DISCORD_FORMATS = ("embed", "markdown")
FILE_FORMATS = ("markdown", "json")
_CHANNEL_ID = re.compile(r"\d{17,20}")
_EMAIL = re.compile(r"[^@\s:]+@[^@\s:]+\.[^@\s:]+")
EXAMPLES = (
    "discord:<channel id>[:embed|:markdown], webhook:<https url>, email:<address> or file:<folder>[:markdown|:json]"
)


class DestinationError(UserFacingError, ValueError):
    """A destination written wrong; the message shows the forms that work."""


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class MessageField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Message:
    """One thing to deliver. body is Markdown; a destination renders it in its own way (a Discord embed, an
    email's text and HTML parts, a JSON document, a .md file) and splits it where its limits require, never
    truncating silently."""

    title: str
    body: str
    fields: tuple[MessageField, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    url: str = ""  # where the title links to, if anywhere
    footer: str = ""

    @property
    def digest(self) -> str:
        """A stable id of the content: the same message delivered twice has the same digest."""
        content = hashlib.sha256()
        head = [self.title, self.body, [[f.name, f.value, f.inline] for f in self.fields], self.url, self.footer]
        content.update(json.dumps(head, ensure_ascii=False).encode())
        for attachment in self.attachments:
            content.update(attachment.name.encode() + b"\0" + hashlib.sha256(attachment.content).digest())
        return content.hexdigest()[:16]


@dataclass(frozen=True)
class Destination:
    kind: DestinationKind
    target: str  # channel id, URL, address or folder
    format: str = ""  # discord: embed (default) | markdown; file: markdown (default) | json; else ""

    @classmethod
    def parse(cls, text: str) -> Destination:
        """A destination as typed (see the module docstring); DestinationError names what is wrong."""
        kind, _, rest = text.strip().partition(":")
        if kind not in get_args(DestinationKind) or not rest:
            raise DestinationError(f"destination {text!r} is not one of {EXAMPLES}")
        if kind == "discord":
            channel, _, form = rest.partition(":")
            if not _CHANNEL_ID.fullmatch(channel):
                raise DestinationError(
                    f"destination {text!r}: {channel!r} is not a Discord channel id (Developer Mode > right-click "
                    "the channel > Copy Channel ID)"
                )
            return cls("discord", channel, _format(text, form, DISCORD_FORMATS))
        if kind == "webhook":
            if not rest.startswith(("https://", "http://")):
                raise DestinationError(f"destination {text!r}: a webhook is an http(s) URL, e.g. webhook:https://...")
            return cls("webhook", rest)
        if kind == "email":
            if not _EMAIL.fullmatch(rest):
                raise DestinationError(f"destination {text!r}: {rest!r} is not an email address")
            return cls("email", rest)
        folder, form = rest, ""
        if rest.rsplit(":", 1)[-1] in FILE_FORMATS and ":" in rest:
            folder, form = rest.rsplit(":", 1)
        return cls("file", folder, _format(text, form, FILE_FORMATS))

    def __str__(self) -> str:
        """The form parse() reads: parse(str(d)) == d."""
        default = {"discord": DISCORD_FORMATS[0], "file": FILE_FORMATS[0]}.get(self.kind, "")
        suffix = f":{self.format}" if self.format and self.format != default else ""
        return f"{self.kind}:{self.target}{suffix}"

    @property
    def key(self) -> str:
        """A short stable id (for cursors and idempotency records) that does not spell out URLs, which may hold
        secrets (a webhook URL's token)."""
        return f"{self.kind}-{hashlib.sha256(str(self).encode()).hexdigest()[:12]}"

    def describe(self) -> str:
        """For messages and logs: a webhook URL is shown as its host only (its path may hold a token)."""
        if self.kind == "webhook":
            host = re.sub(r"^https?://([^/]+).*$", r"\1", self.target)
            return f"webhook at {host}"
        if self.kind == "discord":
            return f"Discord channel {self.target}" + (" (markdown)" if self.format == "markdown" else "")
        return f"{self.kind} {self.target}" + (f" ({self.format})" if self.format == "json" else "")


def _format(text: str, given: str, allowed: tuple[str, ...]) -> str:
    if not given:
        return allowed[0]
    if given not in allowed:
        raise DestinationError(f"destination {text!r}: format {given!r} is not one of {', '.join(allowed)}")
    return given


def parse_destinations(texts: list[str]) -> list[Destination]:
    """Several destinations, each once (the first spelling kept); an empty list is an error."""
    if not texts:
        raise DestinationError(f"give at least one destination: {EXAMPLES}")
    unique: dict[Destination, None] = {}
    for text in texts:
        unique.setdefault(Destination.parse(text), None)
    return list(unique)
