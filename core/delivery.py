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

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from core.errors import UserFacingError

DestinationKind = Literal["discord", "webhook", "email", "file"]
DISCORD_FORMATS = ("embed", "markdown")
FILE_FORMATS = ("markdown", "json")
_CHANNEL_ID = re.compile(r"\d{17,20}")
_EMAIL = re.compile(r"[^@\s:]+@[^@\s:]+\.[^@\s:]+")
EXAMPLES = (
    "discord:<channel id>[:embed|:markdown], webhook:<https url>, email:<address> or file:<folder>[:markdown|:json]"
)


DISCORD_WEBHOOK_URL = re.compile(
    r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/(?P<id>\d{17,20})/(?P<token>[\w.-]+)/?"
)


def discord_webhook_parts(url: str) -> tuple[int, str] | None:
    """The (id, token) of a Discord webhook URL (as Discord shows it, with or without an API version), else None."""
    match = DISCORD_WEBHOOK_URL.fullmatch(url.strip())
    return (int(match["id"]), match["token"]) if match else None


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
class Button:
    """A button under a message, answered by guildflow's bot (core.bot_ui custom ids). Only messages the bot posts
    itself can carry one: other destinations (webhooks, email, files) leave buttons out."""

    custom_id: str
    label: str
    primary: bool = False


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
    buttons: tuple[Button, ...] = ()  # shown under the last part, where the destination can (see Button)

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

    def __repr__(self) -> str:
        """The dataclass's repr would spell out a webhook URL (its token) in logs and tracebacks."""
        return f"Destination({self.describe()!r}, key={self.key!r})"

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


# --- renderings shared by destinations ---------------------------------------------------------------


def message_markdown(message: Message) -> str:
    """The whole message as one Markdown document: a file destination's .md, an email's plain-text part."""
    blocks = []
    title = " ".join(message.title.split())  # a heading is one line
    if title:
        blocks.append(f"# [{title}]({message.url})" if message.url else f"# {title}")
    if message.body.strip():
        blocks.append(message.body.strip("\n"))
    if message.fields:
        blocks.extend(_markdown_fields(message.fields))
    if message.attachments:
        names = ", ".join(f"{item.name} ({len(item.content)} bytes)" for item in message.attachments)
        blocks.append(f"Attachments: {names}")
    if message.footer:
        blocks.append(f"---\n{message.footer}")
    return "\n\n".join(blocks) + "\n"


def _markdown_fields(fields: Sequence[MessageField]) -> list[str]:
    """One-line fields as one list (`- **Posts**: 42`); a field of several lines (a list itself) as its own
    section under a bold heading, so the Markdown does not nest a list in a list item's first line."""
    blocks: list[str] = []
    for item in fields:
        if "\n" in item.value.strip():
            blocks.append(f"**{item.name}**\n\n{item.value.strip()}")
        elif blocks and blocks[-1].startswith("- **"):
            blocks[-1] += f"\n- **{item.name}**: {item.value}"
        else:
            blocks.append(f"- **{item.name}**: {item.value}")
    return blocks


def message_document(message: Message, delivered_at: datetime) -> dict[str, Any]:
    """The whole message as JSON: a file destination's .json and a webhook's body. Attachments are inline
    (base64), so one document is the whole message."""
    return {
        "title": message.title,
        "body": message.body,
        "fields": [{"name": item.name, "value": item.value, "inline": item.inline} for item in message.fields],
        "url": message.url,
        "footer": message.footer,
        "digest": message.digest,
        "delivered_at": delivered_at.isoformat(),
        "attachments": [
            {
                "name": item.name,
                "size": len(item.content),
                "sha256": hashlib.sha256(item.content).hexdigest(),
                "content_base64": base64.b64encode(item.content).decode(),
            }
            for item in message.attachments
        ],
    }


# A file destination names each message <UTC time>-<title slug>-<digest>.md|.json and its attachments
# <that stem>.<attachment name>, so the time orders them and a message's files share a prefix.
_MESSAGE_FILE = re.compile(r"(?P<stem>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(?:-[a-z0-9-]+)?-[0-9a-f]{8})\.(?:md|json)")
_SLUG_LENGTH = 40


def message_file_stem(message: Message, delivered_at: datetime) -> str:
    """The name every file of this message starts with (delivered_at is UTC)."""
    slug = re.sub(r"[^a-z0-9]+", "-", message.title.lower()).strip("-")[:_SLUG_LENGTH].strip("-")
    return "-".join(part for part in (f"{delivered_at:%Y-%m-%dT%H-%M-%SZ}", slug, message.digest[:8]) if part)


def attachment_file_name(stem: str, attachment: Attachment) -> str:
    """stem.<name>, the name made safe for any file system (it may come from a user)."""
    return f"{stem}.{re.sub(r'[^A-Za-z0-9._-]', '_', attachment.name).lstrip('.') or 'attachment'}"


def message_files_to_delete(names: Iterable[str], keep: int) -> list[str]:
    """The files of all but the newest `keep` messages among the names in a folder; other files are left."""
    names = list(names)
    stems = sorted({match["stem"] for name in names if (match := _MESSAGE_FILE.fullmatch(name))})
    old = stems[: max(len(stems) - keep, 0)]
    return sorted(name for name in names if any(name.startswith(f"{stem}.") for stem in old))


def message_files_older_than(names: Iterable[str], cutoff: datetime) -> list[str]:
    """The files of the messages (in a file destination's folder) delivered before cutoff (UTC); others are left."""
    names = list(names)
    old = {
        match["stem"]
        for name in names
        if (match := _MESSAGE_FILE.fullmatch(name))
        and datetime.strptime(match["stem"][:20], "%Y-%m-%dT%H-%M-%SZ").replace(tzinfo=timezone.utc) < cutoff
    }
    return sorted(name for name in names if any(name.startswith(f"{stem}.") for stem in old))
