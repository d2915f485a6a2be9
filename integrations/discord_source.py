"""Discord messages. Embedded default: DiscordChatExporter JSON exports on disk."""

from __future__ import annotations

import glob
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from core.collection import CollectionWindow, Cursors, in_window
from core.discord_markdown import unescape_discord_markdown
from core.models import DiscordMessage, Embed
from integrations.errors import SourceError
from integrations.local_files import NotARegularFile, read_regular_file

EXPORT_FIX = "export the channel again with DiscordChatExporter in JSON format"
_LARGEST_SNOWFLAKE = 2**64 - 1


class MessageSource(Protocol):
    def describe(self) -> str: ...

    def check(self) -> str:
        """Verify the source is usable without changing anything; return what was found."""
        ...

    def read_messages(self, window: CollectionWindow, cursors: Cursors) -> list[DiscordMessage]:
        """Messages in the window, oldest first, each message once."""
        ...


class ExportFileSource:
    """Reads one or more DiscordChatExporter exports (a path or a glob)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def describe(self) -> str:
        return f"DiscordChatExporter files {self.pattern}"

    def check(self) -> str:
        messages = self._all_messages()
        channels = {message.channel_id for message in messages}
        return f"{len(self._paths())} file(s), {len(channels)} channel(s), {len(messages)} messages"

    def read_messages(self, window: CollectionWindow, cursors: Cursors) -> list[DiscordMessage]:
        return [message for message in self._all_messages() if in_window(message, window, cursors)]

    def _paths(self) -> list[Path]:
        paths = sorted(Path(path) for path in glob.glob(self.pattern))
        if not paths:
            raise SourceError(
                f"no Discord export matches '{self.pattern}': set GUILDFLOW_DISCORD_EXPORT "
                "to a DiscordChatExporter JSON file or a glob such as 'exports/*.json'"
            )
        return paths

    def _all_messages(self) -> list[DiscordMessage]:
        # Every file is read and validated before any message is returned: a message that cannot be
        # understood fails the run before anything is written, so no cursor ever moves past it.
        # Overlapping exports of one channel are merged: the same id keeps its latest (edited) version.
        by_id: dict[int, DiscordMessage] = {}
        for path in self._paths():
            for message in parse_export(path):
                kept = by_id.get(message.id)
                if kept is None or _version(message) >= _version(kept):
                    by_id[message.id] = message
        return sorted(by_id.values(), key=lambda message: message.id)


def _version(message: DiscordMessage) -> datetime:
    return message.edited_timestamp or message.timestamp


def parse_export(path: Path) -> list[DiscordMessage]:
    """Every message of one export, or a SourceError naming the file, the message and the field."""
    try:
        data = read_regular_file(path)
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found; check GUILDFLOW_DISCORD_EXPORT") from None
    except NotARegularFile as error:
        raise SourceError(
            f"{error}: GUILDFLOW_DISCORD_EXPORT must name DiscordChatExporter JSON files (a path or a glob)"
        ) from None
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error}); check its permissions") from None
    try:
        # Parsed and validated in one pass (pydantic's JSON parser also refuses nesting deeper than 200 levels).
        export = ChatExport.model_validate_json(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise SourceError(f"{path}: not valid JSON ({first['ctx']['error']}); {EXPORT_FIX}") from None
        raise SourceError(
            f"{path}: not a valid DiscordChatExporter JSON export: {_first_problem(error, json.loads(data))}; "
            f"nothing was collected: fix that field or {EXPORT_FIX}"
        ) from None
    return [_message(message, export.channel.id) for message in export.messages]


# --- the DiscordChatExporter JSON format: the parts guildflow reads, with strict types -----------------


def _snowflake(value: object) -> int:
    """A Discord id: DiscordChatExporter writes them as strings of digits; a positive whole number also passes."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError("must be a Discord id (a string of digits)")
    if not 0 < number <= _LARGEST_SNOWFLAKE:
        raise ValueError("must be a Discord id (a positive number below 2^64)")
    return number


def _timestamp(value: object) -> datetime:
    """An ISO 8601 time with its UTC offset, as timezone-aware UTC."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time such as 2026-11-20T10:00:00.000+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 time such as 2026-11-20T10:00:00.000+00:00") from None
    if moment.tzinfo is None:
        raise ValueError("has no UTC offset")
    return moment.astimezone(timezone.utc)


Snowflake = Annotated[int, PlainValidator(_snowflake)]
Timestamp = Annotated[datetime, PlainValidator(_timestamp)]


class _ExportPart(BaseModel):
    # strict: "false" is not a boolean and 1.5 is not an id; fields guildflow does not read are ignored.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ExportedEmbedAuthor(_ExportPart):
    name: str | None = None
    url: str | None = None


class ExportedEmbed(_ExportPart):
    url: str | None = None
    title: str | None = None
    description: str | None = None
    author: ExportedEmbedAuthor | None = None


class ExportedAuthor(_ExportPart):
    id: Snowflake
    name: str = ""
    nickname: str | None = None
    is_bot: bool = Field(alias="isBot")


class ExportedMessage(_ExportPart):
    id: Snowflake
    timestamp: Timestamp
    timestamp_edited: Timestamp | None = Field(None, alias="timestampEdited")
    author: ExportedAuthor
    content: str
    embeds: list[ExportedEmbed] = []


class ExportedChannel(_ExportPart):
    id: Snowflake


class ChatExport(_ExportPart):
    channel: ExportedChannel
    messages: list[ExportedMessage]


def _message(message: ExportedMessage, channel_id: int) -> DiscordMessage:
    return DiscordMessage(
        id=message.id,
        channel_id=channel_id,
        timestamp=message.timestamp,
        author_id=message.author.id,
        author_name=message.author.name or message.author.nickname or "",
        author_is_bot=message.author.is_bot,
        content=message.content,
        embeds=tuple(_embed(embed) for embed in message.embeds),
        edited_timestamp=message.timestamp_edited,
    )


def _embed(embed: ExportedEmbed) -> Embed:
    author = embed.author or ExportedEmbedAuthor()
    return Embed(
        url=embed.url or "",
        title=unescape_discord_markdown(embed.title or ""),
        description=unescape_discord_markdown(embed.description or ""),
        author_name=author.name or "",
        author_url=author.url or "",
    )


def _first_problem(error: ValidationError, document: Any) -> str:
    """Where the first problem is (the message by id, else by its number in the file), the field, and what is wrong."""
    problems = error.errors(include_url=False)
    first = problems[0]
    location = list(first["loc"])
    what, where = "the file", ""
    if len(location) >= 2 and location[0] == "messages" and isinstance(location[1], int):
        what, where = "the message", f"{_message_named(document['messages'], location[1])}: "
        location = location[2:]
    if location:
        what = f"field {_dotted(location)}"
    if first["type"] == "missing":
        problem = "is missing"
    elif first["type"] in ("model_type", "model_attributes_type", "dict_type"):
        problem = f"should be a JSON object (it is {_shown(first['input'])})"
    else:
        message = first["msg"].removeprefix("Value error, ").removeprefix("Input ")
        problem = f"{message} (it is {_shown(first['input'])})"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{where}{what} {problem}{more}"


def _message_named(messages: list[Any], index: int) -> str:
    raw_id = messages[index].get("id") if isinstance(messages[index], dict) else None
    position = f"number {index + 1} in the file"
    if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
        return f"message {str(raw_id)[:30]} ({position})"
    return f"message {position}"


def _dotted(location: list[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
