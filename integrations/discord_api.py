"""Discord through its API with discord.py, REST only (log in, then HTTP calls; no gateway): messages read
from channels (DiscordApiSource), and playerData exports posted to a channel through a webhook
(DiscordExportDelivery).

discord.py is asynchronous and our tasks are not: every public call runs its own event loop, with a fresh
client whose HTTP session is closed before the call returns, so it works from any thread.
"""

from __future__ import annotations

import asyncio
import copy
import io
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import discord
import discord.abc
import discord.http
import discord.webhook.async_
from pydantic import SecretStr

from core.collection import CollectionWindow, Cursors, in_window
from core.discord_markdown import unescape_discord_markdown
from core.models import DiscordMessage, Embed
from integrations.delivery import DeliveryError, DestinationUnusable
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

    def _client(self) -> AbstractAsyncContextManager[discord.Client]:
        return _bot_client(self._token, self.api_base, self.max_ratelimit_timeout)


@asynccontextmanager
async def _bot_client(token: SecretStr, api_base: str, max_ratelimit_timeout: float) -> AsyncIterator[discord.Client]:
    """A logged-in REST-only client whose requests go to api_base; its HTTP session is closed on exit."""
    client = _RestClient(api_base, max_ratelimit_timeout)
    async with client:  # closes the aiohttp session whatever happens inside
        with _translated_errors("logging in to Discord", None):
            try:
                await client.login(token.get_secret_value())
            except discord.LoginFailure:
                raise SourceError(TOKEN_FIX) from None
        yield client


# --- the API base, per client -----------------------------------------------------------------------
# discord.py puts every route on the class attribute Route.BASE, shared by the whole process. Instead of
# setting it (two clients with different bases would race), each request's URL is rebased: a bot client's
# in its HTTPClient, a discord.Webhook's in the adapter that discord.py looks up in a context variable,
# set for one operation (docs/private-apis.md lists these hooks and the tests that catch their change).


def _rebased(route: discord.http.Route, api_base: str) -> discord.http.Route:
    """A copy of the route with its URL on api_base instead of Route.BASE."""
    if not route.url.startswith(discord.http.Route.BASE):
        raise RuntimeError(f"discord.py built {route.method} {route.path} on a base other than Route.BASE")
    rebased = copy.copy(route)
    rebased.url = api_base + route.url.removeprefix(discord.http.Route.BASE)
    return rebased


class _RebasedHTTPClient(discord.http.HTTPClient):
    def __init__(self, api_base: str, loop: asyncio.AbstractEventLoop, max_ratelimit_timeout: float) -> None:
        super().__init__(loop, max_ratelimit_timeout=max_ratelimit_timeout)
        self.api_base = api_base

    async def request(self, route: discord.http.Route, **kwargs: Any) -> Any:
        return await super().request(_rebased(route, self.api_base), **kwargs)


class _RestClient(discord.Client):
    """A discord.Client for REST calls only, its requests sent to api_base."""

    def __init__(self, api_base: str, max_ratelimit_timeout: float) -> None:
        # REST only, so intents are never sent; the (unprivileged) guilds one keeps discord.py from warning.
        super().__init__(intents=discord.Intents(guilds=True), max_ratelimit_timeout=max_ratelimit_timeout)
        # Replaces the HTTPClient discord.py made, also in the state that channels and webhooks it fetches use.
        self.http = self._connection.http = _RebasedHTTPClient(api_base, self.loop, max_ratelimit_timeout)


class _RebasedWebhookAdapter(discord.webhook.async_.AsyncWebhookAdapter):
    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base

    async def request(self, route: discord.http.Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        return await super().request(_rebased(route, self.api_base), session, **kwargs)


@contextmanager
def _webhooks_at(api_base: str) -> Iterator[None]:
    """discord.Webhook requests in the block go to api_base; a context variable, so in this task only."""
    reset = discord.webhook.async_.async_context.set(_RebasedWebhookAdapter(api_base))
    try:
        yield
    finally:
        discord.webhook.async_.async_context.reset(reset)


# --- playerData exports -----------------------------------------------------------------------------

DELIVERY_PERMISSIONS = "View Channel, Manage Webhooks and Attach Files"
WEBHOOK_URL_SETTING = "GUILDFLOW_PLAYERDATA_WEBHOOK_URL"
WEBHOOK_URL_FIX = (
    "copy it from the channel's Edit Channel > Integrations > Webhooks > Copy Webhook URL "
    "(https://discord.com/api/webhooks/<id>/<token>)"
)
MAX_FILES_PER_MESSAGE = 10  # Discord's limit of attachments on one message
UNKNOWN_WEBHOOK, REQUEST_TOO_LARGE = 10015, 40005  # Discord JSON error codes
CONFIGURED, TEMPORARY = "the configured webhook", "a temporary webhook"
WEBHOOK_NAME = "guildflow export"

_log = logging.getLogger(__name__)


class UploadTooLarge(DeliveryError):
    pass


@dataclass(frozen=True)
class Destination:
    channel_id: int
    guild_id: int | None  # None for a channel outside any guild (a DM)
    name: str


@dataclass
class Delivered:
    message_ids: list[int]
    attachments: list[str]
    via: str  # CONFIGURED or TEMPORARY
    warnings: list[str] = field(default_factory=list)


class DiscordExportDelivery:
    """Posts export files to a channel as one message (more only past Discord's per-message limits),
    through a webhook with ?wait=true, so a failed post is an error rather than silence.

    The webhook is the one in webhook_url when it belongs to the channel; otherwise the bot (token) creates
    a temporary webhook in the channel and always deletes it afterwards, also when posting fails.
    upload_cap: the per-file cap in bytes; files are grouped so no message carries more than it in total
    (Discord also caps the whole request), at most 10 per message.
    """

    def __init__(
        self,
        token: SecretStr | None,
        api_base: str,
        webhook_url: SecretStr | None = None,
        *,
        upload_cap: int = 10 * 1024 * 1024,
        max_ratelimit_timeout: float = 60.0,
    ) -> None:
        if token is None and webhook_url is None:
            raise DeliveryError(
                f"posting to Discord needs the bot token (GUILDFLOW_DISCORD_TOKEN; the bot creates a temporary "
                f"webhook per export) or a webhook URL ({WEBHOOK_URL_SETTING})"
            )
        self._token = token
        self._webhook_url = webhook_url
        self.api_base = api_base.rstrip("/")
        self.upload_cap = upload_cap
        self.max_ratelimit_timeout = max_ratelimit_timeout

    def describe(self) -> str:
        via = f"the webhook in {WEBHOOK_URL_SETTING}" if self._webhook_url else "a temporary webhook per export"
        return f"Discord API {self.api_base}, posting through {via}"

    def check(self) -> str:
        return _run_sync(self._check)

    def destination(self, channel_id: int) -> Destination:
        """The channel as Discord reports it (its guild decides where a server export may go)."""
        return _run_sync(lambda: self._destination(channel_id))

    def deliver(self, channel_id: int, content: str, files: list[tuple[str, bytes]]) -> Delivered:
        """Post content with the files (name, bytes); the returned ids are of the messages Discord saved."""
        return _run_sync(lambda: self._deliver(channel_id, content, files))

    def post_notice(self, channel_id: int, content: str) -> Delivered:
        return self.deliver(channel_id, content, [])

    async def _check(self) -> str:
        parts = []
        async with aiohttp.ClientSession() as session:
            webhook = await self._configured_webhook(session)
            if webhook is not None:
                parts.append(f"{WEBHOOK_URL_SETTING} posts to channel {webhook.channel_id}")
        if self._token is not None:
            async with self._client() as client:
                assert client.user is not None  # set by login
                parts.append(f"bot {client.user.name} may create temporary webhooks (needs {DELIVERY_PERMISSIONS})")
        return f"Discord API {self.api_base}: " + "; ".join(parts)

    async def _destination(self, channel_id: int) -> Destination:
        async with aiohttp.ClientSession() as session:
            webhook = await self._configured_webhook(session)
        if webhook is not None and webhook.channel_id == channel_id:
            return Destination(channel_id, webhook.guild_id, f"channel {channel_id}")
        async with self._client(channel_id, webhook) as client:
            with _delivery_errors(f"fetching Discord channel {channel_id}", channel_id):
                channel = await client.fetch_channel(channel_id)
        guild_id = getattr(channel, "guild_id", None) or getattr(getattr(channel, "guild", None), "id", None)
        return Destination(channel_id, guild_id, f"#{getattr(channel, 'name', None) or channel_id}")

    async def _deliver(self, channel_id: int, content: str, files: list[tuple[str, bytes]]) -> Delivered:
        with _webhooks_at(self.api_base):  # the configured or the temporary webhook posts and is deleted
            async with aiohttp.ClientSession() as session:
                webhook = await self._configured_webhook(session)
                if webhook is not None and webhook.channel_id == channel_id:
                    return await self._post(webhook, CONFIGURED, content, files)
            async with self._client(channel_id, webhook) as client:
                with _delivery_errors(f"fetching Discord channel {channel_id}", channel_id):
                    channel = await client.fetch_channel(channel_id)
                if not isinstance(channel, discord.TextChannel):
                    raise DestinationUnusable(
                        f"Discord channel {channel_id} is a {_kind(channel)} channel; exports are posted in text "
                        "channels",
                        "not a text channel",
                    )
                with _delivery_errors(
                    f"creating a webhook in Discord channel {channel_id}", channel_id, needs="Manage Webhooks"
                ):
                    temporary = await channel.create_webhook(name=WEBHOOK_NAME, reason="guildflow playerData export")
                try:
                    delivered = await self._post(temporary, TEMPORARY, content, files)
                except BaseException:
                    await _delete_webhook(temporary, channel_id)
                    raise
                if leftover := await _delete_webhook(temporary, channel_id):
                    delivered.warnings.append(leftover)
                return delivered

    async def _post(
        self, webhook: discord.Webhook, via: str, content: str, files: list[tuple[str, bytes]]
    ) -> Delivered:
        channel_id = webhook.channel_id
        delivered = Delivered([], [], via)
        for index, group in enumerate(self._message_groups(files)):
            text = content if index == 0 else f"(continued: {', '.join(name for name, _ in group)})"
            with _delivery_errors(
                f"posting to Discord channel {channel_id}", channel_id, webhook=via, needs="Attach Files"
            ):
                message = await webhook.send(
                    text,
                    files=[discord.File(io.BytesIO(data), filename=name) for name, data in group],
                    wait=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            delivered.message_ids.append(message.id)
            delivered.attachments.extend(attachment.filename for attachment in message.attachments)
        return delivered

    def _message_groups(self, files: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
        groups: list[list[tuple[str, bytes]]] = [[]]
        total = 0
        for name, data in files:
            if groups[-1] and (len(groups[-1]) == MAX_FILES_PER_MESSAGE or total + len(data) > self.upload_cap):
                groups.append([])
                total = 0
            groups[-1].append((name, data))
            total += len(data)
        return groups

    async def _configured_webhook(self, session: aiohttp.ClientSession) -> discord.Webhook | None:
        """The webhook of webhook_url, fetched (so its channel and guild are known), or None if none is set."""
        if self._webhook_url is None:
            return None
        try:
            partial = discord.Webhook.from_url(self._webhook_url.get_secret_value().strip(), session=session)
        except ValueError:
            # The value is a secret: say what shape it must have, never echo it.
            raise DeliveryError(f"{WEBHOOK_URL_SETTING} is not a Discord webhook URL: {WEBHOOK_URL_FIX}") from None
        with _webhooks_at(self.api_base):
            with _delivery_errors(f"fetching the webhook in {WEBHOOK_URL_SETTING}", None, webhook=CONFIGURED):
                return await partial.fetch(prefer_auth=False)

    @asynccontextmanager
    async def _client(
        self, channel_id: int | None = None, configured: discord.Webhook | None = None
    ) -> AsyncIterator[discord.Client]:
        if self._token is None:
            raise DeliveryError(
                f"{WEBHOOK_URL_SETTING} posts to channel {configured.channel_id if configured else '?'}, not "
                f"{channel_id}: set GUILDFLOW_DISCORD_TOKEN so the bot can post there through a temporary webhook, "
                "or use that webhook's channel"
            )
        try:
            async with _bot_client(self._token, self.api_base, self.max_ratelimit_timeout) as client:
                yield client
        except SourceError as error:  # logging in failed: same words, delivery's error type
            raise DeliveryError(str(error)) from None


async def _delete_webhook(webhook: discord.Webhook, channel_id: int) -> str | None:
    """Delete a temporary webhook; what is left behind (to report) when that fails, else None."""
    try:
        await webhook.delete(reason="guildflow playerData export done")
    except discord.NotFound:
        return None  # gone with its channel, or deleted by hand
    except (discord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        leftover = (
            f"the temporary webhook {webhook.id} in channel {channel_id} could not be deleted "
            f"({type(error).__name__}); delete it in Edit Channel > Integrations > Webhooks"
        )
        _log.warning(leftover)
        return leftover
    return None


@contextmanager
def _delivery_errors(
    doing: str, channel_id: int | None, *, webhook: str | None = None, needs: str = "View Channel"
) -> Iterator[None]:
    """discord.py and aiohttp errors while posting an export as DeliveryError saying what to fix."""
    where = f"Discord channel {channel_id}" if channel_id is not None else "Discord"
    try:
        yield
    except discord.NotFound as error:
        if error.code == UNKNOWN_WEBHOOK and webhook == CONFIGURED:
            raise DestinationUnusable(
                f"{doing}: the webhook in {WEBHOOK_URL_SETTING} was deleted ({_status(error)}): create a new one "
                f"and put its URL there ({WEBHOOK_URL_FIX})",
                "webhook deleted (404)",
            ) from None
        if error.code == UNKNOWN_WEBHOOK:
            # Our own temporary webhook, deleted by someone while we posted: the next export makes a new one.
            raise DeliveryError(f"{doing}: the temporary webhook was deleted meanwhile ({_status(error)})") from None
        raise DestinationUnusable(
            f"{doing}: {where} not found ({_status(error)}): was it deleted, or is the bot not in that server? "
            "Fix the channel id of the export, or invite the bot",
            "channel not found (404)",
        ) from None
    except discord.Forbidden as error:
        raise DestinationUnusable(
            f"{doing}: the bot lacks {needs} in {where} ({_status(error)}): give its role {needs} there "
            f"(exports need {DELIVERY_PERMISSIONS})",
            "missing permission (403)",
        ) from None
    except discord.HTTPException as error:
        if error.status == 413 or error.code == REQUEST_TOO_LARGE:
            raise UploadTooLarge(
                f"{doing}: Discord refused the upload as too large ({_status(error)}); the server's cap is "
                "lower than GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB: lower it (10 unless the server is boosted)"
            ) from None
        if error.status == 401:
            raise DeliveryError(
                f"{doing}: Discord answered {_status(error)}; check {WEBHOOK_URL_SETTING} ({WEBHOOK_URL_FIX})"
                if webhook == CONFIGURED
                else f"{doing}: Discord answered {_status(error)}; {TOKEN_FIX}"
            ) from None
        raise DeliveryError(
            f"{doing}: Discord answered {_status(error)}",
            transient=error.status == 429 or error.status >= 500,  # after discord.py's own retries
        ) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        raise DeliveryError(
            f"{doing}: could not reach Discord ({type(error).__name__}: {error}); check the network "
            "and GUILDFLOW_DISCORD_API_BASE",
            transient=True,
        ) from None


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
            f"Discord channel {channel_id} ({name}) is a {_kind(channel)} channel, which has no messages of its "
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
        title=unescape_discord_markdown(embed.title or ""),
        description=unescape_discord_markdown(embed.description or ""),
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
            raise SourceError(f"{doing}: Discord answered {_status(error)}; check GUILDFLOW_DISCORD_API_BASE") from None
        raise SourceError(
            f"Discord channel {channel_id} not found ({_status(error)}): is the id right (Developer Mode > "
            "right-click the channel > Copy Channel ID) and is the bot in that server? "
            "Fix GUILDFLOW_DISCORD_CHANNELS or invite the bot"
        ) from None
    except discord.Forbidden as error:
        where = f"Discord channel {channel_id}" if channel_id is not None else "Discord"
        raise SourceError(
            f"the bot may not read {where} ({_status(error)}): invite the bot to that server and give it "
            f"{READ_PERMISSIONS} in the channel; its text also needs the Message Content intent "
            f"({MESSAGE_CONTENT_FIX})"
        ) from None
    except discord.RateLimited as error:
        raise SourceError(
            f"{doing}: Discord asked to wait {error.retry_after:.0f} s (429), longer than the "
            "configured limit; try again later",
            transient=True,
        ) from None
    except discord.DiscordServerError as error:
        raise SourceError(
            f"{doing}: Discord failed with {error.status} even after discord.py's retries; try again later",
            transient=True,
        ) from None
    except discord.HTTPException as error:
        if error.status == 429:
            raise SourceError(
                f"{doing}: Discord kept answering 429 Too Many Requests (rate limited, or this address is "
                "briefly banned after too many rejected requests); try again later",
                transient=True,
            ) from None
        raise SourceError(f"{doing}: Discord answered {_status(error)}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        raise SourceError(
            f"{doing}: could not reach Discord ({type(error).__name__}: {error}); check the network "
            "and GUILDFLOW_DISCORD_API_BASE",
            transient=True,
        ) from None


def _kind(channel: object) -> str:
    return str(getattr(channel, "type", "unknown"))  # every channel has a type; discord.py's stubs miss one


def _status(error: discord.HTTPException) -> str:
    return f"{error.status} {error.text}".strip()


def _run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run on a fresh event loop; from a thread that already runs one (async caller), on a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discord-api") as pool:
        return pool.submit(asyncio.run, make_coroutine()).result()
