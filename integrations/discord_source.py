"""Discord messages. Embedded default: DiscordChatExporter JSON exports on disk."""

from __future__ import annotations

import glob
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from core.collection import CollectionWindow, Cursors, in_window
from core.models import DiscordMessage, Embed
from integrations.errors import SourceError

EXPORT_FIX = "export the channel again with DiscordChatExporter in JSON format"


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
        # Every file is parsed before any message is returned, so a bad file fails the run up front.
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
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found; check GUILDFLOW_DISCORD_EXPORT") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceError(f"{path}: not valid JSON ({error}); {EXPORT_FIX}") from None
    try:
        channel_id = int(document["channel"]["id"])
        raw_messages = document["messages"]
        if not isinstance(raw_messages, list):
            raise TypeError("'messages' is not a list")
        return [_message(raw, channel_id) for raw in raw_messages]
    except (KeyError, TypeError, ValueError) as error:
        raise SourceError(f"{path}: not a DiscordChatExporter JSON export ({_describe(error)}); {EXPORT_FIX}") from None


def _describe(error: Exception) -> str:
    return f"missing field {error}" if isinstance(error, KeyError) else str(error)


def _message(raw: dict[str, Any], channel_id: int) -> DiscordMessage:
    author = raw["author"]
    return DiscordMessage(
        id=int(raw["id"]),
        channel_id=channel_id,
        timestamp=_utc(raw["timestamp"]),
        author_id=int(author["id"]),
        author_name=str(author.get("name") or author.get("nickname") or ""),
        author_is_bot=bool(author.get("isBot", False)),
        content=str(raw.get("content") or ""),
        embeds=tuple(_embed(embed) for embed in raw.get("embeds") or ()),
        edited_timestamp=_utc(raw["timestampEdited"]) if raw.get("timestampEdited") else None,
    )


def _embed(raw: dict[str, Any]) -> Embed:
    author = raw.get("author") or {}
    return Embed(
        url=str(raw.get("url") or ""),
        title=str(raw.get("title") or ""),
        description=str(raw.get("description") or ""),
        author_name=str(author.get("name") or ""),
        author_url=str(author.get("url") or ""),
    )


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp '{text}' has no UTC offset")
    return moment.astimezone(timezone.utc)
