"""Discord messages read through Discord's API with discord.py, REST only (log in, then HTTP calls; no gateway).

discord.py is asynchronous and our tasks are not: every public call runs its own event loop, with a fresh
client whose HTTP session is closed before the call returns, so it works from any thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import aiohttp
import discord
import discord.abc
import discord.http
from pydantic import SecretStr

from core.collection import CollectionWindow, Cursors, in_window
from core.models import DiscordMessage, Embed
from integrations.errors import SourceError

T = TypeVar("T")

TOKEN_FIX = (
    "Discord rejected the bot token (401): check GUILDFLOW_DISCORD_TOKEN "
    "(Developer Portal > your application > Bot > Reset Token; the token alone, without 'Bot ')"
)
READ_PERMISSIONS = "View Channel and Read Message History"
MESSAGE_CONTENT_FIX = (
    "turn on 'Message Content Intent' in the Developer Portal (your application > Bot > Privileged Gateway Intents)"
)


class DiscordApiSource:
    """Reads the configured channels' history through Discord's REST API.

    max_ratelimit_timeout: the longest 429 wait (seconds) discord.py sits out before giving up; discord.py
    raises anything below 30 to 30. Shorter 429s are waited out by discord.py itself (it honours
    retry_after); it also retries 500/502/504 with fixed 1-9 s pauses, which it does not let us tune.
    """

    def __init__(
        self,
        token: SecretStr,
        channel_ids: list[int],
        api_base: str,
        *,
        max_ratelimit_timeout: float = 60.0,
    ) -> None:
        self._token = token
        self.channel_ids = list(dict.fromkeys(channel_ids))
        self.api_base = api_base.rstrip("/")
        self.max_ratelimit_timeout = max_ratelimit_timeout

    def describe(self) -> str:
        channels = ", ".join(str(channel_id) for channel_id in self.channel_ids)
        return f"Discord API {self.api_base}, channel(s) {channels}"

    def check(self) -> str:
        return _run_sync(self._check)

    def read_messages(self, window: CollectionWindow, cursors: Cursors) -> list[DiscordMessage]:
        return _run_sync(lambda: self._read_messages(window, cursors))

    async def _check(self) -> str:
        async with self._client() as client:
            readable = [await _describe_channel(client, channel_id) for channel_id in self.channel_ids]
            assert client.user is not None  # set by login
            summary = f"Discord bot {client.user.name} at {self.api_base} reads {', '.join(readable)}"
            flags = client.application_flags
            if not (flags.gateway_message_content or flags.gateway_message_content_limited):
                summary += (
                    "; WARNING: the bot's Message Content intent is off, so messages arrive without text or "
                    f"embeds and no links are found: {MESSAGE_CONTENT_FIX}"
                )
            return summary

    async def _read_messages(self, window: CollectionWindow, cursors: Cursors) -> list[DiscordMessage]:
        by_id: dict[int, DiscordMessage] = {}
        async with self._client() as client:
            for channel_id in self.channel_ids:
                channel = client.get_partial_messageable(channel_id)
                after = discord.Object(_first_id_before(channel_id, window, cursors))
                with _translated_errors(f"reading Discord channel {channel_id}", channel_id):
                    async for raw in channel.history(limit=None, after=after):
                        message = discord_message(raw, channel_id)
                        if in_window(message, window, cursors):
                            by_id[message.id] = message
        return sorted(by_id.values(), key=lambda message: message.id)

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[discord.Client]:
        # Route.BASE is a class attribute of discord.py: set it right before each use (never call
        # discord.http._set_api_version afterwards, it resets it).
        discord.http.Route.BASE = self.api_base
        client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=self.max_ratelimit_timeout)
        async with client:  # closes the aiohttp session whatever happens inside
            with _translated_errors("logging in to Discord", None):
                try:
                    await client.login(self._token.get_secret_value())
                except discord.LoginFailure:
                    raise SourceError(TOKEN_FIX) from None
            yield client


def _first_id_before(channel_id: int, window: CollectionWindow, cursors: Cursors) -> int:
    """The `after` snowflake: history after it covers the window (in_window then trims the edge exactly)."""
    if window.since is None:
        return cursors.get(channel_id, 0)
    return max(discord.utils.time_snowflake(window.since) - 1, 0)


async def _describe_channel(client: discord.Client, channel_id: int) -> str:
    with _translated_errors(f"fetching Discord channel {channel_id}", channel_id):
        channel = await client.fetch_channel(channel_id)
    name = f"#{getattr(channel, 'name', None) or channel_id}"
    if not isinstance(channel, discord.abc.Messageable):
        raise SourceError(
            f"Discord channel {channel_id} ({name}) is a {channel.type} channel, which has no messages of its "
            "own: list text channel ids in GUILDFLOW_DISCORD_CHANNELS"
        )
    with _translated_errors(f"reading Discord channel {channel_id}", channel_id):
        latest = [message async for message in channel.history(limit=1)]
    if not latest:
        return f"{name} (no messages visible: the channel is empty, or the bot lacks Read Message History there)"
    return name


def discord_message(message: discord.Message, channel_id: int) -> DiscordMessage:
    """The same record ExportFileSource builds from a DiscordChatExporter export of this message."""
    return DiscordMessage(
        id=message.id,
        channel_id=channel_id,
        timestamp=message.created_at,  # from the snowflake id: the same instant as the API's timestamp, in UTC
        author_id=message.author.id,
        author_name=message.author.name,
        author_is_bot=message.author.bot,
        content=message.content or "",
        embeds=tuple(_embed(embed) for embed in message.embeds),
        edited_timestamp=message.edited_at,
    )


def _embed(embed: discord.Embed) -> Embed:
    return Embed(
        url=embed.url or "",
        title=embed.title or "",
        description=embed.description or "",
        author_name=embed.author.name or "",
        author_url=embed.author.url or "",
    )


@contextmanager
def _translated_errors(doing: str, channel_id: int | None) -> Iterator[None]:
    """discord.py and aiohttp errors as SourceError saying what to fix (never the token)."""
    try:
        yield
    except discord.NotFound as error:
        if channel_id is None:
            raise _error(f"{doing}: Discord answered {_status(error)}; check GUILDFLOW_DISCORD_API_BASE") from None
        raise _error(
            f"Discord channel {channel_id} not found ({_status(error)}): is the id right (Developer Mode > "
            "right-click the channel > Copy Channel ID) and is the bot in that server? "
            "Fix GUILDFLOW_DISCORD_CHANNELS or invite the bot"
        ) from None
    except discord.Forbidden as error:
        where = f"Discord channel {channel_id}" if channel_id is not None else "Discord"
        raise _error(
            f"the bot may not read {where} ({_status(error)}): invite the bot to that server and give it "
            f"{READ_PERMISSIONS} in the channel; its text also needs the Message Content intent "
            f"({MESSAGE_CONTENT_FIX})"
        ) from None
    except discord.RateLimited as error:
        raise _error(
            f"{doing}: Discord asked to wait {error.retry_after:.0f} s (429), longer than the "
            "configured limit; try again later",
            transient=True,
        ) from None
    except discord.DiscordServerError as error:
        raise _error(
            f"{doing}: Discord failed with {error.status} even after discord.py's retries; try again later",
            transient=True,
        ) from None
    except discord.HTTPException as error:
        if error.status == 429:
            raise _error(
                f"{doing}: Discord kept answering 429 Too Many Requests (rate limited, or this address is "
                "briefly banned after too many rejected requests); try again later",
                transient=True,
            ) from None
        raise _error(f"{doing}: Discord answered {_status(error)}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        raise _error(
            f"{doing}: could not reach Discord ({type(error).__name__}: {error}); check the network "
            "and GUILDFLOW_DISCORD_API_BASE",
            transient=True,
        ) from None


def _status(error: discord.HTTPException) -> str:
    return f"{error.status} {error.text}".strip()


def _error(message: str, *, transient: bool = False) -> SourceError:
    error = SourceError(message)
    error.transient = transient
    return error


def _run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run on a fresh event loop; from a thread that already runs one (async caller), on a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discord-api") as pool:
        return pool.submit(asyncio.run, make_coroutine()).result()
