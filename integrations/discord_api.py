"""Discord through its API with discord.py, REST only (log in, then HTTP calls; no gateway): messages read
from channels (DiscordApiSource), and messages delivered to a channel by the bot or through a webhook
(DiscordDelivery: the discord: destination, and webhook: with a Discord webhook URL).

discord.py is asynchronous and our tasks are not: every public call runs its own event loop, with a fresh
client whose HTTP session is closed before the call returns, so it works from any thread.
"""

from __future__ import annotations

import asyncio
import copy
import io
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import discord
import discord.abc
import discord.http
import discord.webhook.async_
from pydantic import SecretStr

from core.collection import CollectionWindow, Cursors, in_window
from core.delivery import Button, Message, discord_webhook_parts
from core.delivery import Destination as CoreDestination
from core.discord_markdown import unescape_discord_markdown
from core.discord_message import DiscordMessageError, DiscordPost, discord_posts
from core.models import DiscordMessage, Embed
from integrations.delivery import DeliveryError, DeliveryProgress, DestinationUnusable, Receipt
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


class RebasedHTTPClient(discord.http.HTTPClient):
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
        self.http = self._connection.http = RebasedHTTPClient(api_base, self.loop, max_ratelimit_timeout)


class _RebasedWebhookAdapter(discord.webhook.async_.AsyncWebhookAdapter):
    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base

    async def request(self, route: discord.http.Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        return await super().request(_rebased(route, self.api_base), session, **kwargs)


@contextmanager
def webhooks_at(api_base: str) -> Iterator[None]:
    """discord.Webhook requests in the block go to api_base; a context variable, so in this task only."""
    reset = discord.webhook.async_.async_context.set(_RebasedWebhookAdapter(api_base))
    try:
        yield
    finally:
        discord.webhook.async_.async_context.reset(reset)


# --- delivering messages ---------------------------------------------------------------------------

POST_PERMISSIONS = "View Channel, Send Messages, Embed Links and Attach Files"
WEBHOOK_URL_SETTING = "GUILDFLOW_PLAYERDATA_WEBHOOK_URL"
WEBHOOK_URL_FIX = (
    "copy it from the channel's Edit Channel > Integrations > Webhooks > Copy Webhook URL "
    "(https://discord.com/api/webhooks/<id>/<token>)"
)
UNKNOWN_WEBHOOK, REQUEST_TOO_LARGE, NOT_A_TEXT_CHANNEL = 10015, 40005, 50008  # Discord JSON error codes
CONFIGURED, OWN = f"the webhook in {WEBHOOK_URL_SETTING}", "the destination's Discord webhook"


class UploadTooLarge(DeliveryError):
    pass


@dataclass(frozen=True)
class DiscordChannel:
    channel_id: int
    guild_id: int | None  # None for a channel outside any guild (a DM)
    name: str


class DiscordDelivery:
    """Posts a message (core.discord_message: split within Discord's limits) in a Discord channel: through the
    configured webhook when it is that channel's (webhook_url; no bot needed), else as the bot (create message,
    token). With channel_id None, through webhook_url itself: a webhook: destination with a Discord webhook URL.

    Each Discord message is recorded in the progress as soon as Discord has saved it (webhooks with ?wait=true),
    so a retry posts only the rest; the bot's posts carry the part's nonce, which Discord enforces, so a post
    whose record was lost is not repeated within minutes. upload_cap: bytes per file, and per message together.
    """

    def __init__(
        self,
        api_base: str,
        *,
        channel_id: int | None = None,
        token: SecretStr | None = None,
        webhook_url: SecretStr | None = None,
        format: str = "embed",
        upload_cap: int = 10 * 1024 * 1024,
        max_ratelimit_timeout: float = 60.0,
    ) -> None:
        if token is None and webhook_url is None:
            raise DeliveryError(
                "posting to Discord needs the bot token (GUILDFLOW_DISCORD_TOKEN) or a webhook URL "
                f"({WEBHOOK_URL_SETTING})"
            )
        self.api_base = api_base.rstrip("/")
        self.channel_id = channel_id
        self._token = token
        self._webhook_url = webhook_url
        self.format = format
        self.upload_cap = upload_cap
        self.max_ratelimit_timeout = max_ratelimit_timeout
        self._webhook_label = OWN if channel_id is None else CONFIGURED

    def describe(self) -> str:
        if self._webhook_url is not None and self.channel_id is None:
            return CoreDestination("webhook", self._webhook_url.get_secret_value()).describe()  # its host only
        return CoreDestination("discord", str(self.channel_id), self.format).describe()

    def check(self) -> str:
        return _run_sync(self._check)

    def channel(self) -> DiscordChannel:
        """The channel as Discord reports it (its guild decides where a server export may go)."""
        return _run_sync(self._channel)

    def deliver(self, message: Message, progress: DeliveryProgress) -> Receipt:
        try:
            posts = discord_posts(message, self.format, self.upload_cap)
        except DiscordMessageError as error:
            raise DeliveryError(f"{self.describe()}: {error}") from None
        delivered = progress.delivered_parts()
        if len(delivered) >= len(posts):  # all out in an earlier attempt of this run
            return Receipt(self.describe(), delivered)
        return _run_sync(lambda: self._deliver(posts, progress, delivered))

    async def _deliver(self, posts: list[DiscordPost], progress: DeliveryProgress, delivered: list[str]) -> Receipt:
        part_ids = list(delivered)
        with webhooks_at(self.api_base):
            return await self._post_all(posts, progress, part_ids)

    async def _post_all(self, posts: list[DiscordPost], progress: DeliveryProgress, part_ids: list[str]) -> Receipt:
        delivered = len(part_ids)
        async with self._poster() as post:
            for index, item in enumerate(posts[delivered:], start=delivered):
                message_id = str(await post(item, progress.part_key(index)))
                progress.record_part(index, message_id)
                part_ids.append(message_id)
        return Receipt(self.describe(), part_ids)

    @asynccontextmanager
    async def _poster(self) -> AsyncIterator[Callable[[DiscordPost, str], Coroutine[Any, Any, int]]]:
        """post(item, nonce) -> message id, through the webhook when there is one for this channel, else the bot."""
        async with aiohttp.ClientSession() as session:
            webhook = await self._webhook(session)
            if webhook is not None and self._posts_through(webhook):
                yield lambda item, nonce: self._post_through_webhook(webhook, item)
                return
        async with self._client(webhook) as client:
            assert self.channel_id is not None  # without a channel there is always a webhook
            channel = client.get_partial_messageable(self.channel_id)
            yield lambda item, nonce: self._post_as_bot(channel, item, nonce)

    async def _post_as_bot(self, channel: discord.PartialMessageable, item: DiscordPost, nonce: str) -> int:
        needs = _permissions_needed(item)
        with _delivery_errors(f"posting to Discord channel {channel.id}", channel.id, needs=needs):
            sent = await channel.send(**_message_arguments(item, as_bot=True), nonce=nonce)
        return sent.id

    async def _post_through_webhook(self, webhook: discord.Webhook, item: DiscordPost) -> int:
        where = f"posting to Discord channel {self.channel_id}" if self.channel_id else f"posting through {OWN}"
        with _delivery_errors(where, self.channel_id, webhook=self._webhook_label, needs=_permissions_needed(item)):
            sent = await webhook.send(**_message_arguments(item), wait=True)
        return sent.id

    async def _check(self) -> str:
        with webhooks_at(self.api_base):
            async with aiohttp.ClientSession() as session:
                webhook = await self._webhook(session, fetch=True)
        if webhook is not None and self._posts_through(webhook):
            return f"{self._webhook_label} posts to channel {webhook.channel_id}; nothing posted"
        async with self._client(webhook) as client:
            assert client.user is not None and self.channel_id is not None  # set by login; no webhook: a channel
            with _delivery_errors(f"fetching Discord channel {self.channel_id}", self.channel_id):
                channel = await client.fetch_channel(self.channel_id)
            name = f"#{getattr(channel, 'name', None) or self.channel_id}"
            return f"bot {client.user.name} posts in {name} (it needs {POST_PERMISSIONS}); nothing posted"

    async def _channel(self) -> DiscordChannel:
        assert self.channel_id is not None, "a Discord channel destination"
        with webhooks_at(self.api_base):
            async with aiohttp.ClientSession() as session:
                webhook = await self._webhook(session)
        if webhook is not None and self._posts_through(webhook):
            return DiscordChannel(self.channel_id, webhook.guild_id, f"channel {self.channel_id}")
        async with self._client(webhook) as client:
            with _delivery_errors(f"fetching Discord channel {self.channel_id}", self.channel_id):
                channel = await client.fetch_channel(self.channel_id)
        guild_id = getattr(channel, "guild_id", None) or getattr(getattr(channel, "guild", None), "id", None)
        return DiscordChannel(self.channel_id, guild_id, f"#{getattr(channel, 'name', None) or self.channel_id}")

    def _posts_through(self, webhook: discord.Webhook) -> bool:
        """Whether to post through this webhook: the destination's own, or the configured one of this channel."""
        return self.channel_id is None or webhook.channel_id == self.channel_id

    async def _webhook(self, session: aiohttp.ClientSession, *, fetch: bool = False) -> discord.Webhook | None:
        """The destination's own webhook, or the configured one (fetched, so its channel and guild are known);
        None when there is none."""
        if self._webhook_url is None:
            return None
        parts = discord_webhook_parts(self._webhook_url.get_secret_value())
        if parts is None:
            # The value is a secret: say what shape it must have, never echo it.
            where = WEBHOOK_URL_SETTING if self.channel_id is not None else "the destination's URL"
            raise DeliveryError(f"{where} is not a Discord webhook URL: {WEBHOOK_URL_FIX}")
        partial = discord.Webhook.partial(parts[0], parts[1], session=session)
        if self.channel_id is None and not fetch:
            return partial
        with _delivery_errors(f"fetching {self._webhook_label}", None, webhook=self._webhook_label):
            return await partial.fetch(prefer_auth=False)

    @asynccontextmanager
    async def _client(self, configured: discord.Webhook | None) -> AsyncIterator[discord.Client]:
        """The bot, logged in; configured: the configured webhook (of another channel) if there is one."""
        if self._token is None:
            elsewhere = configured.channel_id if configured else "?"
            raise DeliveryError(
                f"{WEBHOOK_URL_SETTING} posts to channel {elsewhere}, not {self.channel_id}: set "
                "GUILDFLOW_DISCORD_TOKEN so the bot can post there, or use that webhook's channel"
            )
        try:
            async with _bot_client(self._token, self.api_base, self.max_ratelimit_timeout) as client:
                yield client
        except SourceError as error:  # logging in failed: same words, delivery's error type
            raise DeliveryError(str(error)) from None


def _message_arguments(item: DiscordPost, *, as_bot: bool = False) -> dict[str, Any]:
    """discord.py's send() arguments for one post (no mentions: a message never pings anyone); as the bot, with its
    buttons (a webhook's message cannot carry them)."""
    arguments: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    if as_bot and item.buttons:
        arguments["view"] = buttons_view(item.buttons)
    if item.content:
        arguments["content"] = item.content
    if item.embeds:
        arguments["embeds"] = [discord.Embed.from_dict(embed.payload()) for embed in item.embeds]
    if item.attachments:
        arguments["files"] = [discord.File(io.BytesIO(file.content), filename=file.name) for file in item.attachments]
    return arguments


def buttons_view(buttons: Iterable[Button]) -> discord.ui.View:
    """Buttons under a message (only the bot's own messages can carry them). guildflow's bot answers them by custom
    id, so the view is stopped: discord.py keeps no copy to dispatch to."""
    view = discord.ui.View(timeout=None)
    for button in buttons:
        style = discord.ButtonStyle.primary if button.primary else discord.ButtonStyle.secondary
        view.add_item(discord.ui.Button(custom_id=button.custom_id, label=button.label, style=style))
    view.stop()
    return view


def _permissions_needed(item: DiscordPost) -> str:
    needed = ["View Channel", "Send Messages"]
    needed += ["Embed Links"] if item.embeds else []
    needed += ["Attach Files"] if item.attachments else []
    return ", ".join(needed[:-1]) + f" and {needed[-1]}"


@contextmanager
def _delivery_errors(
    doing: str, channel_id: int | None, *, webhook: str | None = None, needs: str = "View Channel"
) -> Iterator[None]:
    """discord.py and aiohttp errors while delivering as DeliveryError saying what to fix: DestinationUnusable
    when the channel or webhook is gone (404) or a permission is missing (403)."""
    where = f"Discord channel {channel_id}" if channel_id is not None else "Discord"
    try:
        yield
    except discord.NotFound as error:
        if error.code == UNKNOWN_WEBHOOK and webhook is not None:
            fix = f"put its URL in {WEBHOOK_URL_SETTING}" if webhook == CONFIGURED else "use its URL in the destination"
            raise DestinationUnusable(
                f"{doing}: {webhook} was deleted ({_status(error)}): create a new one and {fix} ({WEBHOOK_URL_FIX})",
                "webhook deleted (404)",
            ) from None
        raise DestinationUnusable(
            f"{doing}: {where} not found ({_status(error)}): was it deleted, or is the bot not in that server? "
            "Fix the channel id, or invite the bot",
            "channel not found (404)",
        ) from None
    except discord.Forbidden as error:
        raise DestinationUnusable(
            f"{doing}: the bot lacks a permission in {where} ({_status(error)}): give its role {needs} there",
            "missing permission (403)",
        ) from None
    except discord.RateLimited as error:
        raise DeliveryError(
            f"{doing}: Discord asked to wait {error.retry_after:.0f} s (429), longer than the configured limit; "
            "try again later",
            transient=True,
        ) from None
    except discord.HTTPException as error:
        if error.status == 413 or error.code == REQUEST_TOO_LARGE:
            raise UploadTooLarge(
                f"{doing}: Discord refused the upload as too large ({_status(error)}); the server's cap is "
                "lower than GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB: lower it (10 unless the server is boosted)"
            ) from None
        if error.code == NOT_A_TEXT_CHANNEL:
            raise DestinationUnusable(
                f"{doing}: {where} is not a text channel ({_status(error)}): choose a text channel",
                "not a text channel",
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
