"""A message as Discord posts: within every limit Discord sets, split where they require it, never truncated.

Two formats: `embed` (title, description, fields and footer in embeds) and `markdown` (everything in the message
text). Limits (Discord's API reference): message content 2,000 characters; 10 embeds per message and 6,000
characters over all of them (title, description, field names and values, footer); per embed a title of 256, a
description of 4,096, 25 fields of name 256 and value 1,024, a footer of 2,048; 10 files per message, each under the
upload cap (10 MiB unless the server is boosted). Lengths are counted in UTF-16 code units, which is never less
than the characters Discord counts, so a post within them is within Discord's limits either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from core.delivery import Attachment, Button, Message, MessageField
from core.errors import UserFacingError

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_PER_EMBED = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
EMBEDS_TOTAL_LIMIT = 6000
FILES_PER_MESSAGE = 10
BLANK = "\u200b"  # a zero-width space: the name of a field that continues the one before it
_FENCE = re.compile(r"^```.*$", re.MULTILINE)
_CLOSING_FENCE = "\n```"


class DiscordMessageError(UserFacingError, ValueError):
    """A message Discord cannot take whatever the splitting (an attachment over the cap, nothing to post)."""


def discord_length(text: str) -> int:
    """Characters as Discord may count them: UTF-16 code units (a character beyond the BMP counts twice)."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


@dataclass(frozen=True)
class DiscordEmbed:
    title: str = ""
    url: str = ""
    description: str = ""
    fields: tuple[MessageField, ...] = ()
    footer: str = ""

    @property
    def size(self) -> int:
        """What counts toward the 6,000 characters of a message's embeds."""
        texts = [self.title, self.description, self.footer, *(t for f in self.fields for t in (f.name, f.value))]
        return sum(discord_length(text) for text in texts)

    def payload(self) -> dict[str, Any]:
        """The embed in Discord's JSON shape."""
        embed: dict[str, Any] = {"type": "rich"}
        for key in ("title", "url", "description"):
            if getattr(self, key):
                embed[key] = getattr(self, key)
        if self.fields:
            embed["fields"] = [{"name": f.name, "value": f.value, "inline": f.inline} for f in self.fields]
        if self.footer:
            embed["footer"] = {"text": self.footer}
        return embed


@dataclass(frozen=True)
class DiscordPost:
    """One Discord message: text, embeds, files."""

    content: str = ""
    embeds: tuple[DiscordEmbed, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    buttons: tuple[Button, ...] = ()  # the message's buttons, on its last post


def discord_posts(message: Message, format: str, upload_cap: int) -> list[DiscordPost]:
    """The Discord messages that carry the whole message, in order; files ride on the last one that has text,
    further file groups on their own messages."""
    too_large = [item for item in message.attachments if len(item.content) > upload_cap]
    if too_large:
        item = too_large[0]
        raise DiscordMessageError(
            f"attachment {item.name} is {_mib(len(item.content))}, over Discord's upload cap of {_mib(upload_cap)} "
            "(GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB; 10 MiB unless the server is boosted): send a smaller file"
        )
    posts = _embed_posts(message) if format == "embed" else [DiscordPost(text) for text in _markdown_texts(message)]
    groups = _file_groups(message.attachments, upload_cap)
    if not posts and not groups:
        raise DiscordMessageError("the message is empty: there is nothing to post to Discord")
    if groups:
        first, *rest = groups
        if posts:
            posts[-1] = DiscordPost(posts[-1].content, posts[-1].embeds, first)
        else:
            posts = [DiscordPost("", (), first)]
        posts += [DiscordPost(f"(continued: {', '.join(item.name for item in group)})", (), group) for group in rest]
    if message.buttons:
        posts[-1] = replace(posts[-1], buttons=message.buttons)
    return posts


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` (discord_length) that hold all of text: cut between paragraphs, else lines, else
    words, else anywhere; whitespace at a cut is dropped. A code block cut in two is closed and opened again."""
    pieces: list[str] = []
    rest = text.strip()
    reopened = 0  # the length of the code block's opening line that starts rest, if it was cut
    while rest:
        if discord_length(rest) <= limit:
            pieces.append(rest)
            break
        room = limit - len(_CLOSING_FENCE)  # a piece may need its code block closed
        piece, rest = _cut(rest, room, reopened)
        fences = _FENCE.findall(piece)
        reopened = 0
        if len(fences) % 2:  # cut inside a code block: close it here, open it again in the next piece
            piece += _CLOSING_FENCE
            rest = f"{fences[-1]}\n{rest}"
            reopened = len(fences[-1]) + 1
        pieces.append(piece)
    return pieces


def _cut(text: str, room: int, after: int) -> tuple[str, str]:
    """A head within room and the rest: cut at the last paragraph break, else line break, else space past
    `after` characters, taking a lesser kind of break when the better one would leave the head under half full."""
    fits = _fitting_prefix(text, room)
    cuts = []
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, after, fits + 1)
        head = text[:at].rstrip()
        if at > after and head and not _opens_code_block_at_end(head):
            cuts.append((head, text[at + len(separator) :].lstrip()))
            if at >= fits // 2:
                return cuts[-1]
    if cuts:
        return cuts[0]
    return text[:fits], text[fits:].lstrip()


def _opens_code_block_at_end(text: str) -> bool:
    """Whether the last line opens a code block (a cut right after it would leave the block empty)."""
    fences = _FENCE.findall(text)
    return len(fences) % 2 == 1 and text.endswith(fences[-1])


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of text fit in limit (discord_length)."""
    used = 0
    for index, character in enumerate(text):
        used += 2 if ord(character) > 0xFFFF else 1
        if used > limit:
            return max(index, 1)
    return len(text)


# --- markdown ---------------------------------------------------------------------------------------


def _markdown_texts(message: Message) -> list[str]:
    blocks = []
    title = " ".join(message.title.split())
    if title:
        blocks.append(f"**[{title}](<{message.url}>)**" if message.url else f"**{title}**")
    if message.body.strip():
        blocks.append(message.body.strip())
    if message.fields:
        blocks.append(
            "\n".join(
                f"**{item.name}**\n{item.value.strip()}"
                if "\n" in item.value.strip()
                else f"**{item.name}**: {item.value}"
                for item in message.fields
            )
        )
    if message.footer.strip():
        blocks.append("\n".join(f"-# {line}" for line in message.footer.strip().splitlines() if line.strip()))
    return split_text("\n\n".join(blocks), CONTENT_LIMIT)


# --- embeds -----------------------------------------------------------------------------------------


def _embed_posts(message: Message) -> list[DiscordPost]:
    embeds = _embeds(message)
    posts: list[list[DiscordEmbed]] = []
    size = 0
    for embed in embeds:
        if not posts or len(posts[-1]) == EMBEDS_PER_MESSAGE or size + embed.size > EMBEDS_TOTAL_LIMIT:
            posts.append([])
            size = 0
        posts[-1].append(embed)
        size += embed.size
    return [DiscordPost("", tuple(group)) for group in posts]


def _embeds(message: Message) -> list[DiscordEmbed]:
    """Title and url on the first embed, the description over as many as it needs, then the fields, then the
    footer; what does not fit its own place (a long title, field name or footer) goes in the description."""
    title = " ".join(message.title.split())
    text_before: list[str] = []
    text_after: list[str] = []
    if discord_length(title) > TITLE_LIMIT:
        text_before.append(f"**[{title}]({message.url})**" if message.url else f"**{title}**")
        title = ""
    fields: list[MessageField] = []
    for item in message.fields:
        if discord_length(item.name) > FIELD_NAME_LIMIT:
            text_after.append(f"**{item.name}**\n{item.value}")
        else:
            fields.extend(_field_parts(item))
    footer = message.footer.strip()
    if discord_length(footer) > FOOTER_LIMIT:
        text_after.append(footer)
        footer = ""
    text = "\n\n".join(part for part in [*text_before, message.body.strip(), *text_after] if part)
    embeds = [DiscordEmbed(description=piece) for piece in split_text(text, DESCRIPTION_LIMIT)] or [DiscordEmbed()]
    if title:
        embeds[0] = DiscordEmbed(title, message.url, embeds[0].description)
    for item in fields:
        last = embeds[-1]
        if len(last.fields) == FIELDS_PER_EMBED or last.size + _field_size(item) > EMBEDS_TOTAL_LIMIT:
            embeds.append(DiscordEmbed())
            last = embeds[-1]
        embeds[-1] = DiscordEmbed(last.title, last.url, last.description, (*last.fields, item))
    if footer:
        last = embeds[-1]
        if last.size + discord_length(footer) > EMBEDS_TOTAL_LIMIT:
            embeds.append(DiscordEmbed(footer=footer))
        else:
            embeds[-1] = DiscordEmbed(last.title, last.url, last.description, last.fields, footer)
    return [embed for embed in embeds if embed.size]


def _field_parts(item: MessageField) -> list[MessageField]:
    """The field, its value over several fields when it is longer than a field holds (the others named BLANK)."""
    name = item.name.strip() or BLANK  # Discord refuses empty names and values
    values = split_text(item.value, FIELD_VALUE_LIMIT) or [BLANK]
    first = MessageField(name, values[0], item.inline)
    return [first] + [MessageField(BLANK, value) for value in values[1:]]


def _field_size(item: MessageField) -> int:
    return discord_length(item.name) + discord_length(item.value)


# --- files ------------------------------------------------------------------------------------------


def _file_groups(attachments: tuple[Attachment, ...], upload_cap: int) -> list[tuple[Attachment, ...]]:
    """Files in order, at most 10 and upload_cap bytes together per message (Discord caps the whole request)."""
    groups: list[list[Attachment]] = []
    total = 0
    for item in attachments:
        if not groups or len(groups[-1]) == FILES_PER_MESSAGE or total + len(item.content) > upload_cap:
            groups.append([])
            total = 0
        groups[-1].append(item)
        total += len(item.content)
    return [tuple(group) for group in groups]


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"
