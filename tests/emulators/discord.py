"""Discord's REST API v10, the part DiscordApiSource uses (what discord.py calls to log in and read history).

    discord = DiscordEmulator()
    channel_id = discord.load_export("examples/discord/general.json")  # or add_channel + add_messages
    with discord.running():
        source = DiscordApiSource(SecretStr(discord.token), [channel_id], discord.api_base)

Checks what Discord checks: `Authorization: Bot <token>` (401 otherwise), unknown channels (404, code 10003),
channels the bot may not see (403 Missing Access, code 50001), the history `limit` (1-100). A bot without
View Channel gets 403; one without Read Message History gets an empty history, as on Discord; without the
Message Content intent messages come without content, embeds or attachments. History pages come newest
first, with `after` too. Faults: fail_next(Fault(rate_limited(0.05), path_pattern="/messages$")).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from discord.utils import snowflake_time

from tests.emulators.base import Emulator, Handler, Request, Response

API = "/api/v10"
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19  # the Message Content intent switch of an unverified bot
Access = Literal["read", "view", "none"]  # full access / View Channel only / not even View Channel

BOT_ID = 1_300_000_000_000_000_001
GUILD_ID = 1_300_000_000_000_000_002


def rate_limited(retry_after: float, *, is_global: bool = False) -> Response:
    """Discord's 429: JSON body with retry_after, rate-limit headers and the `Via` header of its proxy."""
    return Response.json(
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global},
        status=429,
        headers={
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Scope": "global" if is_global else "user",
            "Via": "1.1 google",
        },
    )


def api_user(user_id: int, username: str, *, global_name: str | None = None, bot: bool = False) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
    }
    if bot:
        user["bot"] = True
    return user


def api_message(
    message_id: int,
    channel_id: int,
    content: str = "",
    *,
    author: dict[str, Any] | None = None,
    embeds: Iterable[dict[str, Any]] = (),
    edited_at: datetime | None = None,
) -> dict[str, Any]:
    """A message as Discord returns it; its timestamp is the one encoded in the snowflake id, as on Discord."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": 0,
        "content": content,
        "author": author or api_user(42, "alice"),
        "timestamp": _iso(snowflake_time(message_id)),
        "edited_timestamp": _iso(edited_at) if edited_at else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": list(embeds),
        "pinned": False,
        "flags": 0,
    }


class DiscordEmulator(Emulator):
    def __init__(
        self, token: str = "emulated.bot-token.0123456789", *, bot_name: str = "Guildflow", message_content: bool = True
    ) -> None:
        super().__init__()
        self.token = token
        self.bot = api_user(BOT_ID, bot_name, bot=True)
        self.message_content = message_content  # the bot's privileged Message Content intent
        self.guilds: dict[int, str] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.access: dict[int, Access] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}  # channel id -> message id -> message
        for method, path, handler in [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/channels/(?P<channel>\d+)", self._channel),
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._history),
        ]:
            self.route(method, API + path, self._authorized(handler))

    @property
    def api_base(self) -> str:
        """What GUILDFLOW_DISCORD_API_BASE would be: the base URL discord.py puts the routes on."""
        return self.url + API

    def add_channel(
        self,
        channel_id: int,
        name: str,
        *,
        guild_id: int = GUILD_ID,
        guild_name: str = "Guild",
        access: Access = "read",
    ) -> None:
        self.guilds.setdefault(guild_id, guild_name)
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": [],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
        }
        self.access[channel_id] = access
        self.messages.setdefault(channel_id, {})

    def add_messages(self, channel_id: int, messages: Iterable[dict[str, Any]]) -> None:
        """API-shaped messages (see api_message) into an added channel."""
        for message in messages:
            self.messages[channel_id][int(message["id"])] = message
        if self.messages[channel_id]:
            self.channels[channel_id]["last_message_id"] = str(max(self.messages[channel_id]))

    def load_export(self, path: str | Path, *, access: Access = "read") -> int:
        """A DiscordChatExporter JSON export as that channel's API history; returns the channel id."""
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        channel_id = int(document["channel"]["id"])
        guild = document.get("guild") or {}
        self.add_channel(
            channel_id,
            document["channel"]["name"],
            guild_id=int(guild.get("id") or GUILD_ID),
            guild_name=guild.get("name") or "Guild",
            access=access,
        )
        self.add_messages(channel_id, (_message_from_export(raw, channel_id) for raw in document["messages"]))
        return channel_id

    # --- wire API ------------------------------------------------------------------------------

    def _authorized(self, handler: Handler) -> Handler:
        def checked(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bot {self.token}":
                return Response.json({"message": "401: Unauthorized", "code": 0}, status=401)
            return handler(request)

        return checked

    def _me(self, request: Request) -> Response:
        return Response.json({**self.bot, "verified": True, "mfa_enabled": False, "flags": 0})

    def _application(self, request: Request) -> Response:
        return Response.json(
            {
                "id": self.bot["id"],
                "name": self.bot["username"],
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": api_user(7, "owner"),
                "flags": GATEWAY_MESSAGE_CONTENT_LIMITED if self.message_content else 0,
                "bot": self.bot,
            }
        )

    def _visible_channel(self, request: Request) -> tuple[int, Response | None]:
        channel_id = int(request.params["channel"])
        if channel_id not in self.channels:
            return channel_id, Response.json({"message": "Unknown Channel", "code": 10003}, status=404)
        if self.access[channel_id] == "none":
            return channel_id, Response.json({"message": "Missing Access", "code": 50001}, status=403)
        return channel_id, None

    def _channel(self, request: Request) -> Response:
        channel_id, refusal = self._visible_channel(request)
        return refusal or Response.json(self.channels[channel_id])

    def _history(self, request: Request) -> Response:
        channel_id, refusal = self._visible_channel(request)
        if refusal:
            return refusal
        limit = int(request.arg("limit") or 50)
        if not 1 <= limit <= 100:
            return Response.json(
                {
                    "message": "Invalid Form Body",
                    "code": 50035,
                    "errors": {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "1-100"}]}},
                },
                status=400,
            )
        if self.access[channel_id] == "view":  # no Read Message History: Discord answers an empty page
            return Response.json([])
        ids = sorted(self.messages[channel_id])
        if request.arg("after") is not None:
            after = int(request.arg("after") or 0)
            page = [i for i in ids if i > after][:limit]  # the oldest after the cursor...
        else:
            before = int(request.arg("before") or 0)
            page = [i for i in ids if not before or i < before][-limit:]
        return Response.json([self._as_seen(self.messages[channel_id][i]) for i in reversed(page)])  # ...newest first

    def _as_seen(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.message_content:
            return message
        return {**message, "content": "", "embeds": [], "attachments": []}


# --- DiscordChatExporter -> API shapes -----------------------------------------------------------

_EXPORT_TYPES = {"Default": 0, "ChannelPinnedMessage": 6, "GuildMemberJoin": 7, "ThreadCreated": 18, "Reply": 19}


def _message_from_export(raw: dict[str, Any], channel_id: int) -> dict[str, Any]:
    message = {
        "id": raw["id"],
        "channel_id": str(channel_id),
        "type": _EXPORT_TYPES.get(raw.get("type") or "Default", 0),
        "content": raw.get("content") or "",
        "author": _user_from_export(raw["author"]),
        "timestamp": _iso(datetime.fromisoformat(raw["timestamp"])),
        "edited_timestamp": _iso(datetime.fromisoformat(raw["timestampEdited"]))
        if raw.get("timestampEdited")
        else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [_user_from_export(user) for user in raw.get("mentions") or ()],
        "mention_roles": [],
        "attachments": [_attachment_from_export(item) for item in raw.get("attachments") or ()],
        "embeds": [_embed_from_export(embed) for embed in raw.get("embeds") or ()],
        "pinned": bool(raw.get("isPinned")),
        "flags": 0,
    }
    reactions = [_reaction_from_export(item) for item in raw.get("reactions") or ()]
    if reactions:
        message["reactions"] = reactions
    reference = raw.get("reference")
    if reference:
        message["message_reference"] = {
            "type": 0,
            "message_id": reference.get("messageId"),
            "channel_id": reference.get("channelId"),
            "guild_id": reference.get("guildId"),
        }
    return message


def _user_from_export(raw: dict[str, Any]) -> dict[str, Any]:
    nickname = raw.get("nickname")
    user = api_user(
        int(raw["id"]),
        raw["name"],
        global_name=nickname if nickname != raw["name"] else None,
        bot=bool(raw.get("isBot")),
    )
    user["discriminator"] = "0" if raw.get("discriminator") in (None, "0000") else raw["discriminator"]
    return user


def _embed_from_export(raw: dict[str, Any]) -> dict[str, Any]:
    embed: dict[str, Any] = {"type": "rich"}
    for field in ("url", "title", "description", "timestamp"):
        if raw.get(field):
            embed[field] = raw[field]
    if raw.get("color"):
        embed["color"] = int(raw["color"].lstrip("#"), 16)
    author = {key: value for key, value in (raw.get("author") or {}).items() if key in ("name", "url") and value}
    if author:
        embed["author"] = author
    if (raw.get("thumbnail") or {}).get("url"):
        embed["thumbnail"] = {"url": raw["thumbnail"]["url"]}
    if raw.get("images"):
        embed["image"] = {"url": raw["images"][0]["url"]}
    if raw.get("fields"):
        embed["fields"] = [
            {"name": item.get("name", ""), "value": item.get("value", ""), "inline": bool(item.get("isInline"))}
            for item in raw["fields"]
        ]
    return embed


def _attachment_from_export(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "filename": raw.get("fileName") or "file",
        "size": int(raw.get("fileSizeBytes") or 0),
        "url": raw["url"],
        "proxy_url": raw["url"],
    }


def _reaction_from_export(raw: dict[str, Any]) -> dict[str, Any]:
    emoji = raw.get("emoji") or {}
    count = int(raw.get("count") or 0)
    return {
        "count": count,
        "count_details": {"burst": 0, "normal": count},
        "me": False,
        "me_burst": False,
        "burst_colors": [],
        "emoji": {"id": emoji.get("id") or None, "name": emoji.get("name")},
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
