"""Discord's gateway and interactions, the part a discord.py bot uses: on top of the REST emulator
(tests/emulators/discord.py), a websocket gateway and the interaction routes.

    discord = DiscordBotEmulator()
    discord.add_channel(CHANNEL, "backups", guild_id=GUILD)
    with discord.running():
        ...  # start the bot with GUILDFLOW_DISCORD_API_BASE=discord.api_base; discord.wait_connected()
        asked = discord.slash("backups schedule", {"interval": 60, "type": "server"}, member=admin, channel=CHANNEL)
        reply = discord.reply(asked)  # the message the user sees in the end (a deferred one once edited)

Gateway (GET /gateway/bot names it; JSON text frames, no compression): HELLO, heartbeats ACKed, IDENTIFY with
the bot's token (4004 closes the socket otherwise) answered by READY and a GUILD_CREATE per guild (its channels and
roles), INTERACTION_CREATE dispatched by the tests. Commands: the bulk overwrite of global commands
(PUT /applications/{id}/commands), checked as Discord checks names and descriptions; `slash` builds an interaction
only for a registered command, subcommand and options (required ones present, choices respected), as a Discord
client can only send those. Interactions are answered once (POST /interactions/{id}/{token}/callback: 4 message,
5 deferred, 6 deferred update, 7 update message, 9 modal; a second answer is 400 code 40060), then through the
interaction's webhook: follow-ups (POST /webhooks/{app}/{token}) and @original edits, for 15 minutes in Discord,
here for as long as the emulator runs. A modal that was answered can be submitted with `submit_modal` (its
fields by custom id), a button on a message pressed with `click` (it must be on that message).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web
from discord.utils import time_snowflake

from tests.emulators.base import Handler, Request, Response
from tests.emulators.discord import API, BOT_ID, DiscordEmulator, _error, _multipart, api_message, api_user

MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16)  # View Channel, Send Messages, Read Message History
EPHEMERAL, LOADING = 1 << 6, 1 << 7  # message flags
HEARTBEAT_MS = 41_250
ALREADY_ACKNOWLEDGED = 40060
_COMMAND_NAME = re.compile(r"[-_a-z0-9]{1,32}")
_OPTION_TYPES = {"subcommand": 1, "group": 2, "string": 3, "integer": 4, "boolean": 5, "number": 10}


@dataclass
class Member:
    """A guild member as an interaction carries it."""

    user_id: int
    name: str
    manage_guild: bool = False
    role_ids: tuple[int, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {
            "user": api_user(self.user_id, self.name),
            "roles": [str(role) for role in self.role_ids],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(EVERYONE_PERMISSIONS | (MANAGE_GUILD if self.manage_guild else 0)),
        }


@dataclass
class Interaction:
    """One interaction the tests sent, and everything the bot answered to it."""

    id: int
    token: str
    guild_id: int
    channel_id: int
    callback: dict[str, Any] | None = None  # the one callback: {"type": 4, "data": {...}}
    messages: list[dict[str, Any]] = field(default_factory=list)  # the original response first, then follow-ups
    updated: dict[str, Any] | None = None  # the component's message as a type 7 callback or an edit left it
    user: dict[str, Any] = field(default_factory=dict)  # who used it
    message_id: int | None = None  # the message whose component was used

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.callback["data"] if self.callback and self.callback["type"] == 9 else None

    def answered(self) -> bool:
        """A user sees an answer: a message that is not "thinking...", a modal, or an updated message."""
        if self.callback is None or self.callback["type"] == 5 and not self._shown():
            return False
        return self.callback["type"] != 6 or self.updated is not None or bool(self._shown())

    def _shown(self) -> list[dict[str, Any]]:
        return [message for message in self.messages if not message["flags"] & LOADING]


@dataclass(frozen=True)
class Reply:
    """What the user sees in the end: the text (content and embeds), whether only they see it, the buttons."""

    text: str
    ephemeral: bool
    message: dict[str, Any]

    @property
    def buttons(self) -> dict[str, str]:
        """custom id -> label of every button on the message."""
        return {
            item["custom_id"]: item.get("label", "")
            for item in _walk(self.message.get("components") or [])
            if item.get("type") == 2 and "custom_id" in item
        }


class DiscordBotEmulator(DiscordEmulator):
    """The REST emulator, plus the gateway and interactions a bot needs (see the module's docstring)."""

    def __init__(self, token: str = "emulated.bot-token.0123456789", **options: Any) -> None:
        super().__init__(token, **options)
        self.commands: dict[str, dict[str, Any]] = {}  # registered global commands, by name
        self.roles: dict[int, dict[int, str]] = {}  # guild id -> role id -> name
        self.interactions: dict[int, Interaction] = {}
        self.identified: list[int] = []  # the intents of every IDENTIFY, in order
        self._changed = threading.Condition()
        self._gateway = _Gateway(self)
        self._interaction_ids = itertools.count(time_snowflake(datetime.now(timezone.utc)) + 10_000_000)
        app = rf"/(?:applications|webhooks)/{BOT_ID}"
        self._first(
            [
                ("GET", r"/gateway/bot", self._authorized(self._gateway_bot)),
                ("GET", rf"{app}/commands", self._authorized(self._list_commands)),
                ("PUT", rf"{app}/commands", self._authorized(self._overwrite_commands)),
                ("POST", r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback", self._callback),
                ("POST", rf"{app}/(?P<token>[^/]+)", self._follow_up),
                ("PATCH", rf"{app}/(?P<token>[^/]+)/messages/(?P<message>@original|\d+)", self._edit),
                ("GET", rf"{app}/(?P<token>[^/]+)/messages/(?P<message>@original|\d+)", self._fetch),
            ]
        )

    # --- for tests ------------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[DiscordBotEmulator]:
        with super().running(), self._gateway.running():
            yield self

    def add_role(self, guild_id: int, role_id: int, name: str) -> None:
        self.roles.setdefault(guild_id, {})[role_id] = name

    def sessions(self) -> int:
        """How many bots are connected and identified now."""
        return self._gateway.sessions()

    def wait_connected(self, timeout: float = 60, *, commands: bool = True) -> None:
        """Until a bot has identified (and, with commands, registered them): a bot that is ready for users."""
        ready = lambda: self.sessions() > 0 and (bool(self.commands) or not commands)  # noqa: E731
        self.wait_for(ready, timeout, "a bot to connect")

    def wait_disconnected(self, timeout: float = 30) -> None:
        self.wait_for(lambda: self.sessions() == 0, timeout, "the bot to disconnect")

    def slash(
        self, command: str, options: Mapping[str, Any] | None = None, *, member: Member, channel: int
    ) -> Interaction:
        """A member uses a registered command ("backups schedule": the command and its subcommand) in a channel."""
        name, *path = command.split()
        registered = self.commands.get(name)
        assert registered is not None, f"/{name} is not registered (registered: {sorted(self.commands)})"
        data: dict[str, Any] = {"id": registered["id"], "name": name, "type": 1, "options": []}
        level, holder = registered, data
        for part in path:
            level = next(o for o in level.get("options", []) if o["name"] == part and o["type"] in (1, 2))
            inner = {"type": level["type"], "name": part, "options": []}
            holder["options"].append(inner)
            holder = inner
        holder["options"] = _command_options(command, level.get("options", []), dict(options or {}))
        return self._send(2, data, member, channel)

    def click(self, message: dict[str, Any], custom_id: str, *, member: Member, channel: int) -> Interaction:
        """A member presses the button with this custom id on the message (it must be there)."""
        found = [item for item in _walk(message.get("components") or []) if item.get("custom_id") == custom_id]
        assert found, f"no component {custom_id!r} on the message {message.get('id')}"
        data = {"custom_id": custom_id, "component_type": found[0]["type"]}
        return self._send(3, data, member, channel, message=message)

    def submit_modal(
        self, opened_by: Interaction, values: Mapping[str, str], *, member: Member, channel: int
    ) -> Interaction:
        """The member fills the modal the bot answered `opened_by` with (text inputs and selects by custom id)
        and submits it (once the bot has answered with it)."""
        self.reply(opened_by)
        modal = opened_by.modal
        assert modal is not None, f"interaction {opened_by.id} was not answered with a modal: {opened_by.callback}"
        components = [_submitted(component, values) for component in modal["components"]]
        data = {"custom_id": modal["custom_id"], "components": [c for c in components if c is not None]}
        return self._send(5, data, member, channel)

    def reply(self, interaction: Interaction, timeout: float = 60) -> Reply:
        """The answer the member sees in the end (the last message shown, or the updated message)."""
        self.wait_for(interaction.answered, timeout, f"an answer to interaction {interaction.id}")
        with self._changed:
            if interaction.modal is not None:
                return Reply(f"(modal) {interaction.modal.get('title', '')}", True, interaction.modal)
            shown = interaction._shown()
            message = shown[-1] if shown else interaction.updated
            assert message is not None
            return Reply(_text(message), bool(message.get("flags", 0) & EPHEMERAL), message)

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [self.messages[channel_id][key] for key in sorted(self.messages.get(channel_id, {}))]

    # --- gateway side ---------------------------------------------------------------------------

    def guild_payloads(self) -> list[dict[str, Any]]:
        """Every guild as GUILD_CREATE carries it: channels and roles (@everyone's id is the guild's)."""
        guilds = []
        for guild_id, name in self.guilds.items():
            everyone: dict[str, Any] = {
                "id": str(guild_id),
                "name": "@everyone",
                "permissions": str(EVERYONE_PERMISSIONS),
            }
            roles: list[dict[str, Any]] = [everyone] + [
                {"id": str(role_id), "name": role_name, "permissions": "0"}
                for role_id, role_name in self.roles.get(guild_id, {}).items()
            ]
            for position, role in enumerate(roles):
                role.update(color=0, hoist=False, position=position, managed=False, mentionable=False, flags=0)
            channels = [
                {key: value for key, value in channel.items() if key != "guild_id"}
                for channel in self.channels.values()
                if channel["guild_id"] == str(guild_id)
            ]
            guilds.append(
                {
                    "id": str(guild_id),
                    "name": name,
                    "owner_id": "7",
                    "roles": roles,
                    "channels": channels,
                    "threads": [],
                    "members": [],
                    "emojis": [],
                    "stickers": [],
                    "features": [],
                    "member_count": 2,
                    "large": False,
                    "unavailable": False,
                    "joined_at": "2026-01-01T00:00:00+00:00",
                    "preferred_locale": "en-US",
                    "premium_tier": 0,
                }
            )
        return guilds

    def wait_for(self, done: Callable[[], object], timeout: float, what: str) -> None:
        """Until done() is true, re-checked whenever the bot connects, answers or registers (no polling sleeps)."""
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _first(self, routes: list[tuple[str, str, Handler]]) -> None:
        """These routes before the REST emulator's own (its webhook routes would take the interaction ones)."""
        for method, path, handler in routes:
            self.route(method, API + path, handler)
        self._routes[:0] = self._routes[-len(routes) :]
        del self._routes[-len(routes) :]

    def _send(
        self, kind: int, data: dict[str, Any], member: Member, channel_id: int, message: dict[str, Any] | None = None
    ) -> Interaction:
        channel = self.channels[channel_id]
        payload: dict[str, Any] = {
            "id": str(next(self._interaction_ids)),
            "application_id": str(BOT_ID),
            "type": kind,
            "data": data,
            "guild_id": channel["guild_id"],
            "channel_id": str(channel_id),
            "channel": channel,
            "member": member.payload(),
            "token": "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(60),
            "version": 1,
            "app_permissions": str(EVERYONE_PERMISSIONS | (1 << 15)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": channel["guild_id"]},
            "context": 0,
            "attachment_size_limit": self.upload_cap,
        }
        if message is not None:
            payload["message"] = message
        return self._dispatch_interaction(payload)

    def _dispatch_interaction(self, payload: dict[str, Any]) -> Interaction:
        interaction = Interaction(
            int(payload["id"]),
            payload["token"],
            int(payload.get("guild_id") or 0),
            int(payload["channel_id"]),
            user=(payload.get("member") or {}).get("user") or payload.get("user") or {},
            message_id=int(payload["message"]["id"]) if payload.get("message") else None,
        )
        with self._changed:
            self.interactions[interaction.id] = interaction
        assert self._gateway.dispatch("INTERACTION_CREATE", payload), "no bot is connected to the gateway"
        return interaction

    # --- REST side ------------------------------------------------------------------------------

    def _gateway_bot(self, request: Request) -> Response:
        return Response.json(
            {
                "url": self._gateway.url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        )

    def _list_commands(self, request: Request) -> Response:
        return Response.json(list(self.commands.values()))

    def _overwrite_commands(self, request: Request) -> Response:
        given = request.json()
        problem = next((p for command in given if (p := _command_problem(command))), None)
        if problem:
            return Response.json(
                {"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": [{"message": problem}]}},
                status=400,
            )
        commands = {}
        for command in given:
            previous = self.commands.get(command["name"])
            commands[command["name"]] = {
                "type": 1,
                "default_member_permissions": None,
                "contexts": None,
                "integration_types": [0],
                "nsfw": False,
                **command,
                "id": previous["id"] if previous else str(next(self._ids)),
                "application_id": str(BOT_ID),
                "version": str(next(self._ids)),
            }
        with self._changed:
            self.commands = commands
            self._changed.notify_all()
        return Response.json(list(commands.values()))

    def _interaction(self, request: Request) -> Interaction | None:
        token = request.params["token"]
        return next((i for i in list(self.interactions.values()) if i.token == token), None)

    def _callback(self, request: Request) -> Response:
        interaction = self.interactions.get(int(request.params["interaction"]))
        if interaction is None or interaction.token != request.params["token"]:
            return _error(404, "Unknown interaction", 10062)
        body, _ = _multipart(request)
        with self._changed:
            if interaction.callback is not None:
                return _error(400, "Interaction has already been acknowledged.", ALREADY_ACKNOWLEDGED)
            interaction.callback = body
            kind, data = body["type"], body.get("data") or {}
            message = None
            if kind in (4, 5):
                flags = (data.get("flags") or 0) | (LOADING if kind == 5 else 0)
                message = self._interaction_message(interaction, data, flags)
                interaction.messages.append(message)
            elif kind == 7:
                interaction.updated = self._update_component_message(interaction, data)
            self._changed.notify_all()
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            resource["message"] = message
        answer = {"id": str(interaction.id), "type": 2, "response_message_loading": kind == 5}
        if message is not None:
            answer["response_message_id"] = message["id"]
            answer["response_message_ephemeral"] = bool(message["flags"] & EPHEMERAL)
        return Response.json({"interaction": answer, "resource": resource})

    def _follow_up(self, request: Request) -> Response:
        interaction = self._interaction(request)
        if interaction is None:
            return _error(404, "Unknown Webhook", 10015)
        if interaction.callback is None:
            return _error(400, "Unknown interaction: answer it first", 10062)
        data, _ = _multipart(request)
        with self._changed:
            if interaction.callback["type"] == 5 and all(m["flags"] & LOADING for m in interaction.messages):
                # the first follow-up of a deferred answer takes the place of "thinking..."
                message = interaction.messages[0]
                message.update(self._interaction_message(interaction, data, message["flags"] & EPHEMERAL))
                message["id"] = interaction.messages[0]["id"]
            else:
                message = self._interaction_message(interaction, data, data.get("flags") or 0)
                interaction.messages.append(message)
            self._changed.notify_all()
        return Response.json(message)

    def _edit(self, request: Request) -> Response:
        interaction = self._interaction(request)
        if interaction is None:
            return _error(404, "Unknown Webhook", 10015)
        data, _ = _multipart(request)
        with self._changed:
            if request.params["message"] == "@original" and interaction.callback and interaction.callback["type"] == 6:
                interaction.updated = self._update_component_message(interaction, data)
                self._changed.notify_all()
                return Response.json(interaction.updated)
            message = self._message_of(interaction, request.params["message"])
            if message is None:
                return _error(404, "Unknown Message", 10008)
            for key in ("content", "embeds", "components"):
                if key in data:
                    message[key] = data[key] or ([] if key != "content" else "")
            message["flags"] &= ~LOADING
            self._changed.notify_all()
        return Response.json(message)

    def _fetch(self, request: Request) -> Response:
        interaction = self._interaction(request)
        message = self._message_of(interaction, request.params["message"]) if interaction else None
        return Response.json(message) if message else _error(404, "Unknown Message", 10008)

    def _message_of(self, interaction: Interaction, which: str) -> dict[str, Any] | None:
        if which == "@original":
            return interaction.messages[0] if interaction.messages else None
        return next((m for m in interaction.messages if m["id"] == which), None)

    def _interaction_message(self, interaction: Interaction, data: dict[str, Any], flags: int) -> dict[str, Any]:
        message = api_message(
            next(self._ids),
            interaction.channel_id,
            data.get("content") or "",
            author=self.bot,
            embeds=data.get("embeds") or [],
        )
        message.update(flags=flags & (EPHEMERAL | LOADING), components=data.get("components") or [], type=20)
        message["interaction_metadata"] = {
            "id": str(interaction.id),
            "type": 2,
            "user": interaction.user,
            "authorizing_integration_owners": {"0": str(interaction.guild_id)},
        }
        return message

    def _update_component_message(self, interaction: Interaction, data: dict[str, Any]) -> dict[str, Any]:
        """A type 7 callback (or an edit after type 6) changes the message whose component was used."""
        messages = self.messages.get(interaction.channel_id, {})
        target = messages.get(interaction.message_id) if interaction.message_id else None
        updated = dict(target or {"id": "0", "flags": 0, "content": "", "embeds": [], "components": []})
        for key in ("content", "embeds", "components"):
            if key in data:
                updated[key] = data[key] or ([] if key != "content" else "")
        if target is not None:
            target.update(updated)
        return updated

    def _save(self, channel_id: int, payload: dict[str, Any], files: dict[str, bytes], **kwargs: Any) -> dict[str, Any]:
        """A posted message keeps its components (buttons), as Discord shows them."""
        message = super()._save(channel_id, payload, files, **kwargs)
        message["components"] = payload.get("components") or []
        return message


class _Gateway:
    """The websocket side: an aiohttp server in its own thread and event loop."""

    def __init__(self, emulator: DiscordBotEmulator) -> None:
        self.emulator = emulator
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: dict[web.WebSocketResponse, int] = {}  # identified sockets -> their last sequence number

    def sessions(self) -> int:
        return len(self._sockets)

    @contextmanager
    def running(self) -> Iterator[None]:
        started = threading.Event()
        stop: list[asyncio.Event] = []
        runner_box: list[web.AppRunner] = []

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/", self._socket)
            runner = web.AppRunner(app, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            self.url = f"ws://127.0.0.1:{port}/"
            runner_box.append(runner)
            stop.append(asyncio.Event())
            started.set()
            await stop[0].wait()
            for socket in list(self._sockets):
                await socket.close()
            await runner.cleanup()

        self._loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._loop.run_until_complete, args=(serve(),), name="DiscordGateway")
        thread.daemon = True
        thread.start()
        assert started.wait(30), "the gateway did not start"
        try:
            yield
        finally:
            self._loop.call_soon_threadsafe(stop[0].set)
            thread.join(timeout=10)
            self._loop.close()

    def dispatch(self, event: str, data: dict[str, Any]) -> bool:
        """Send the event to every identified bot; False when none is connected."""
        assert self._loop is not None
        if not self._sockets:
            return False
        future = asyncio.run_coroutine_threadsafe(self._broadcast(event, data), self._loop)
        future.result(timeout=10)
        return True

    async def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        for socket in list(self._sockets):
            await self._send_dispatch(socket, event, data)

    async def _send_dispatch(self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._sockets[socket] += 1
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": self._sockets[socket], "d": data}))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}))
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    break
                message = json.loads(frame.data)
                if message["op"] == 1:
                    await socket.send_str(json.dumps({"op": 11}))
                elif message["op"] == 2:
                    await self._identify(socket, message["d"])
                elif message["op"] == 6:  # no session to resume here: identify again
                    await socket.send_str(json.dumps({"op": 9, "d": False}))
        finally:
            self._sockets.pop(socket, None)
            self.emulator._notify()
        return socket

    async def _identify(self, socket: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        emulator = self.emulator
        if identify.get("token") != emulator.token:
            await socket.close(code=4004, message=b"Authentication failed.")
            return
        emulator.identified.append(int(identify.get("intents") or 0))
        self._sockets[socket] = 0
        guilds = emulator.guild_payloads()
        ready = {
            "v": 10,
            "user": {**emulator.bot, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": guild["id"], "unavailable": True} for guild in guilds],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.url,
            "application": {"id": str(BOT_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._send_dispatch(socket, "READY", ready)
        for guild in guilds:
            await self._send_dispatch(socket, "GUILD_CREATE", guild)
        emulator._notify()


# --- commands and components, as Discord checks and sends them -------------------------------------------------


def _command_problem(command: dict[str, Any]) -> str | None:
    """What Discord would refuse in a command (or an option of it), or None."""
    if not _COMMAND_NAME.fullmatch(str(command.get("name", ""))):
        return f"command name {command.get('name')!r} is not 1-32 lowercase letters, digits, - or _"
    description = command.get("description", "")
    if command.get("type", 1) == 1 and not 1 <= len(description) <= 100:
        return f"command {command['name']}: the description must be 1-100 characters"
    options = command.get("options") or []
    if len(options) > 25:
        return f"command {command['name']}: more than 25 options"
    for option in options:
        if option.get("choices") and len(option["choices"]) > 25:
            return f"option {option['name']}: more than 25 choices"
        problem = _command_problem({**option, "type": 1})
        if problem:
            return problem
    return None


def _command_options(command: str, registered: list[dict[str, Any]], given: dict[str, Any]) -> list[dict[str, Any]]:
    """The options a Discord client sends for these values; only registered ones, required ones present."""
    by_name = {option["name"]: option for option in registered}
    unknown = set(given) - set(by_name)
    assert not unknown, f"/{command} has no option(s) {sorted(unknown)} (it has {sorted(by_name)})"
    missing = [name for name, option in by_name.items() if option.get("required") and name not in given]
    assert not missing, f"/{command} needs {missing}: Discord would not send it"
    options = []
    for name, value in given.items():
        option = by_name[name]
        choices = [choice["value"] for choice in option.get("choices") or []]
        assert not choices or value in choices, f"/{command} {name}: {value!r} is not one of {choices}"
        low, high = option.get("min_value"), option.get("max_value")
        assert low is None or value >= low, f"/{command} {name}: {value} is below {low}"
        assert high is None or value <= high, f"/{command} {name}: {value} is above {high}"
        options.append({"name": name, "type": option["type"], "value": value})
    return options


def _submitted(component: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any] | None:
    """A modal component as its submission carries it: text inputs with their value, selects with the chosen."""
    kind = component["type"]
    if kind == 1:
        inner_rows = [_submitted(inner, values) for inner in component["components"]]
        return {"type": 1, "components": [inner for inner in inner_rows if inner]}
    if kind == 18:
        inner = _submitted(component["component"], values)
        return {"type": 18, "id": component.get("id", 0), "component": inner} if inner else None
    if kind == 4:
        value = values.get(component["custom_id"], component.get("value") or "")
        assert not component.get("required", True) or value, f"{component['custom_id']} is required"
        return {"type": 4, "custom_id": component["custom_id"], "value": value}
    if kind == 3:
        allowed = [option["value"] for option in component.get("options", [])]
        chosen = values.get(component["custom_id"])
        if chosen is None:
            chosen = next((o["value"] for o in component.get("options", []) if o.get("default")), None)
        assert chosen in allowed, f"{component['custom_id']}: {chosen!r} is not one of {allowed}"
        return {"type": 3, "custom_id": component["custom_id"], "values": [chosen]}
    return None  # text displays and other read-only parts send nothing back


def _walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk([component["component"]])


def _text(message: dict[str, Any]) -> str:
    """What a message says: its content and its embeds' titles, descriptions and fields."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{item['name']}: {item['value']}" for item in embed.get("fields") or []]
        parts += [(embed.get("footer") or {}).get("text", "")]
    parts += [item.get("content", "") for item in _walk(message.get("components") or []) if item.get("type") == 10]
    return "\n".join(part for part in parts if part)
