"""Discord's REST API v10, the part our discord.py clients use: logging in, reading history (DiscordApiSource),
and posting messages as the bot or through webhooks (DiscordDelivery: create message, fetch and execute a webhook).

    discord = DiscordEmulator()
    channel_id = discord.load_export("examples/discord/general.json")  # or add_channel + add_messages
    with discord.running():
        source = DiscordApiSource(SecretStr(discord.token), [channel_id], discord.api_base)

Checks what Discord checks: `Authorization: Bot <token>` (401 otherwise), unknown channels (404, code 10003),
channels the bot may not see (403 Missing Access, code 50001), the history `limit` (1-100). A bot without
View Channel gets 403; one without Read Message History gets an empty history, as on Discord; without the
Message Content intent messages come without content, embeds or attachments. History pages come newest
first, with `after` too. Faults: fail_next(Fault(rate_limited(0.05), path_pattern="/messages$")).

Posting: the bot creates a message with POST /channels/{id}/messages (403 Missing Permissions without Send
Messages, or Attach Files for files: deny(channel_id, "send_messages")); its nonce with enforce_nonce answers the
message already made with that nonce instead of a second one, as Discord does for a few minutes.
`add_webhook(channel_id)` returns a webhook's URL (https://discord.com/api/webhooks/...; the client reaches the
emulator through its api_base); executing one (JSON, or multipart payload_json + files[n]) with ?wait=true
answers the saved Message. Both check what Discord checks of a message: not empty (50006), content 2,000,
10 embeds, 6,000 characters over all embeds, per embed title 256, description 4,096, 25 fields of name 256 and
value 1,024, footer 2,048 (400, 50035); 10 files, the per-file upload cap (413, 40005) and the request size.
Every post is kept in `posts` with its embeds and the uploaded bytes. delete_channel(id) deletes the channel
and its webhooks (404, 10003 / 10015).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from discord.utils import snowflake_time, time_snowflake

from tests.emulators.base import Emulator, Handler, Request, Response

API = "/api/v10"
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19  # the Message Content intent switch of an unverified bot
Access = Literal["read", "view", "none"]  # full access / View Channel only / not even View Channel

Permission = Literal["send_messages", "attach_files"]

BOT_ID = 1_300_000_000_000_000_001
GUILD_ID = 1_300_000_000_000_000_002
UPLOAD_CAP = 10 * 1024 * 1024  # per attachment, webhooks included
MAX_REQUEST = 25 * 1024 * 1024  # the whole multipart body
MAX_FILES = 10


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


@dataclass
class Post:
    """A message posted by the bot (webhook_id None) or through a webhook, with the bytes of its attachments."""

    channel_id: int
    webhook_id: int | None
    message_id: int
    content: str
    files: dict[str, bytes] = dataclass_field(default_factory=dict)  # file name -> bytes, in upload order
    embeds: list[dict[str, Any]] = dataclass_field(default_factory=list)


def _error(status: int, message: str, code: int) -> Response:
    return Response.json({"message": message, "code": code}, status=status)


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
        self.denied: dict[int, set[Permission]] = {}  # channel id -> permissions the bot lacks there
        self.webhooks: dict[int, dict[str, Any]] = {}  # the live ones, by id
        self.posts: list[Post] = []
        self.nonces: dict[tuple[int, str], dict[str, Any]] = {}  # (channel, nonce) -> the message it made
        self.upload_cap = UPLOAD_CAP
        self._ids = itertools.count(time_snowflake(datetime.now(timezone.utc)))
        for method, path, handler in [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/channels/(?P<channel>\d+)", self._channel),
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._history),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._create_message),
        ]:
            self.route(method, API + path, self._authorized(handler))
        for method, path, handler in [  # authorised by the token in the path
            ("GET", r"/webhooks/(?P<webhook>\d+)/(?P<token>[^/]+)", self._fetch_webhook),
            ("POST", r"/webhooks/(?P<webhook>\d+)/(?P<token>[^/]+)", self._execute_webhook),
        ]:
            self.route(method, API + path, self._with_webhook_token(handler))

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

    def deny(self, channel_id: int, *permissions: Permission) -> None:
        """The bot lacks these permissions in the channel (it can still see it)."""
        self.denied.setdefault(channel_id, set()).update(permissions)

    def delete_channel(self, channel_id: int) -> None:
        """As when an admin deletes the channel: it and its webhooks are gone."""
        del self.channels[channel_id]
        for webhook_id in [i for i, hook in self.webhooks.items() if hook["channel_id"] == str(channel_id)]:
            del self.webhooks[webhook_id]

    def add_webhook(self, channel_id: int, name: str = "Backups") -> str:
        """A webhook an admin made in the channel; returns its URL as Discord shows it."""
        webhook = self._new_webhook(channel_id, name)
        return f"https://discord.com/api/webhooks/{webhook['id']}/{webhook['token']}"

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
                return _error(401, "401: Unauthorized", 0)
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
            return channel_id, _error(404, "Unknown Channel", 10003)
        if self.access[channel_id] == "none":
            return channel_id, _error(403, "Missing Access", 50001)
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

    # webhooks and posting

    def _with_webhook_token(self, handler: Handler) -> Handler:
        def checked(request: Request) -> Response:
            webhook = self.webhooks.get(int(request.params["webhook"]))
            if webhook is None:
                return _error(404, "Unknown Webhook", 10015)
            if request.params["token"] != webhook["token"]:
                return _error(401, "Invalid Webhook Token", 50027)
            return handler(request)

        return checked

    def _fetch_webhook(self, request: Request) -> Response:
        return Response.json(self.webhooks[int(request.params["webhook"])])

    def _create_message(self, request: Request) -> Response:
        channel_id, refusal = self._visible_channel(request)
        if refusal:
            return refusal
        payload, files = _multipart(request)
        denied = self.denied.get(channel_id, set())
        if "send_messages" in denied or (files and "attach_files" in denied):
            return _error(403, "Missing Permissions", 50013)
        nonce = payload.get("nonce")
        if nonce and payload.get("enforce_nonce") and (channel_id, str(nonce)) in self.nonces:
            return Response.json(self.nonces[(channel_id, str(nonce))])  # the one already made: no second
        problem = self._refused(request, payload, files)
        if problem:
            return problem
        message = self._save(channel_id, payload, files, author=self.bot, webhook_id=None)
        if nonce and payload.get("enforce_nonce"):
            self.nonces[(channel_id, str(nonce))] = message
        return Response.json(message)

    def _execute_webhook(self, request: Request) -> Response:
        webhook = self.webhooks[int(request.params["webhook"])]
        channel_id = int(webhook["channel_id"])
        payload, files = _multipart(request)
        if files and "attach_files" in self.denied.get(channel_id, set()):
            return _error(403, "Missing Permissions", 50013)
        problem = self._refused(request, payload, files)
        if problem:
            return problem
        author = {**api_user(int(webhook["id"]), webhook["name"], bot=True), "discriminator": "0000"}
        message = self._save(channel_id, payload, files, author=author, webhook_id=int(webhook["id"]))
        waited = (request.arg("wait") or "").lower() in ("true", "1")  # discord.py sends wait=1
        return Response.json(message) if waited else Response(204)

    def _refused(self, request: Request, payload: dict[str, Any], files: dict[str, bytes]) -> Response | None:
        """Discord's answer to a message it does not take, or None."""
        if len(request.body) > MAX_REQUEST:
            return _error(413, "Request entity too large", 40005)
        if len(files) > MAX_FILES:
            return _error(400, "Invalid Form Body", 50035)
        if any(len(data) > self.upload_cap for data in files.values()):
            return _error(413, "Request entity too large", 40005)
        embeds = payload.get("embeds") or []
        if not (payload.get("content") or embeds or files):
            return _error(400, "Cannot send an empty message", 50006)
        if len(payload.get("content") or "") > 2000 or len(embeds) > 10 or _embeds_over_limits(embeds):
            return _error(400, "Invalid Form Body", 50035)
        return None

    def _save(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: dict[str, bytes],
        *,
        author: dict[str, Any],
        webhook_id: int | None,
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        embeds = payload.get("embeds") or []
        message = api_message(message_id, channel_id, payload.get("content") or "", author=author, embeds=embeds)
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
        if payload.get("nonce"):
            message["nonce"] = str(payload["nonce"])
        message["attachments"] = [
            {
                "id": str(next(self._ids)),
                "filename": name,
                "size": len(data),
                "url": f"https://cdn.discordapp.com/attachments/{channel_id}/{message_id}/{name}",
                "proxy_url": f"https://media.discordapp.net/attachments/{channel_id}/{message_id}/{name}",
                "content_type": "application/gzip" if name.endswith(".gz") else "application/json",
            }
            for name, data in files.items()
        ]
        self.add_messages(channel_id, [message])
        self.posts.append(Post(channel_id, webhook_id, message_id, message["content"], files, embeds))
        return message

    def _new_webhook(self, channel_id: int, name: str) -> dict[str, Any]:
        webhook_id = next(self._ids)
        webhook = {
            "id": str(webhook_id),
            "type": 1,
            "guild_id": self.channels[channel_id]["guild_id"],
            "channel_id": str(channel_id),
            "name": name,
            "avatar": None,
            "token": secrets.token_urlsafe(51),  # 68 characters, as Discord's
            "application_id": None,  # made by an admin, not by an application
        }
        self.webhooks[webhook_id] = webhook
        return webhook

    def _as_seen(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.message_content:
            return message
        return {**message, "content": "", "embeds": [], "attachments": []}


def _embeds_over_limits(embeds: list[dict[str, Any]]) -> bool:
    total = 0
    for embed in embeds:
        fields = embed.get("fields") or []
        texts = [embed.get("title") or "", embed.get("description") or "", (embed.get("footer") or {}).get("text", "")]
        sizes = [len(text) for text in texts]
        if sizes[0] > 256 or sizes[1] > 4096 or sizes[2] > 2048 or len(fields) > 25:
            return True
        for item in fields:
            if not 1 <= len(item.get("name") or "") <= 256 or not 1 <= len(item.get("value") or "") <= 1024:
                return True
            sizes += [len(item["name"]), len(item["value"])]
        total += sum(sizes)
    return total > 6000


def _multipart(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """payload_json and files[n] of a multipart/form-data body, byte for byte (or a JSON body alone)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return request.json() or {}, {}
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    assert boundary, content_type
    payload: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for part in request.body.split(b"--" + boundary[1].encode())[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if name and name[1] == b"payload_json":
            payload = json.loads(data)
        elif filename:
            files[filename[1].decode()] = data
    return payload, files


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
