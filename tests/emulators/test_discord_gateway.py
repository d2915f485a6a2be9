"""The Discord gateway emulator behaves as Discord does where the bot's tests rely on it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import httpx
import pytest

from tests.emulators.discord import BOT_ID
from tests.emulators.discord_gateway import ALREADY_ACKNOWLEDGED, DiscordBotEmulator, Member

GUILD, CHANNEL = 1300000000000000002, 1300000000000000111
ADMIN = Member(42, "alice", manage_guild=True)
COMMAND = {
    "name": "backups",
    "description": "backups",
    "options": [
        {
            "type": 1,
            "name": "schedule",
            "description": "schedule",
            "options": [{"type": 4, "name": "interval", "description": "minutes", "required": True, "max_value": 60}],
        }
    ],
}


@pytest.fixture
def discord() -> Any:
    emulator = DiscordBotEmulator()
    emulator.add_channel(CHANNEL, "backups", guild_id=GUILD, guild_name="Guild")
    emulator.add_role(GUILD, 7, "Backup admins")
    with emulator.running():
        yield emulator


def rest(discord: DiscordBotEmulator) -> httpx.Client:
    return httpx.Client(base_url=discord.api_base, headers={"Authorization": f"Bot {discord.token}"}, timeout=10)


async def connect(discord: DiscordBotEmulator, token: str) -> list[dict[str, Any]]:
    """Identify on the gateway; what it sends until its GUILD_CREATE (or the close)."""
    received: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(discord._gateway.url) as socket:
            received.append(json.loads((await socket.receive()).data))
            await socket.send_str(json.dumps({"op": 2, "d": {"token": token, "intents": 1}}))
            while not received or received[-1].get("t") != "GUILD_CREATE":
                frame = await socket.receive()
                if frame.type != aiohttp.WSMsgType.TEXT:
                    received.append({"closed": socket.close_code})
                    break
                received.append(json.loads(frame.data))
    return received


def test_gateway_says_hello_then_ready_and_each_guild(discord: DiscordBotEmulator) -> None:
    with rest(discord) as client:
        assert client.get("/gateway/bot").json()["url"] == discord._gateway.url
    events = asyncio.run(connect(discord, discord.token))
    assert events[0]["op"] == 10 and events[0]["d"]["heartbeat_interval"] > 0
    assert [event.get("t") for event in events[1:]] == ["READY", "GUILD_CREATE"]
    assert events[1]["d"]["application"]["id"] == str(BOT_ID)
    guild = events[2]["d"]
    assert [role["name"] for role in guild["roles"]] == ["@everyone", "Backup admins"]
    assert [channel["id"] for channel in guild["channels"]] == [str(CHANNEL)]
    assert discord.identified == [1]


def test_gateway_closes_on_a_wrong_token(discord: DiscordBotEmulator) -> None:
    events = asyncio.run(connect(discord, "wrong"))
    assert events[-1] == {"closed": 4004}
    assert discord.identified == []


def test_commands_are_checked_as_discord_checks_them(discord: DiscordBotEmulator) -> None:
    with rest(discord) as client:
        bad = client.put(f"/applications/{BOT_ID}/commands", json=[{**COMMAND, "name": "Backups!"}])
        assert bad.status_code == 400 and bad.json()["code"] == 50035
        good = client.put(f"/applications/{BOT_ID}/commands", json=[COMMAND])
        assert good.status_code == 200 and good.json()[0]["id"]
    assert list(discord.commands) == ["backups"]
    with pytest.raises(AssertionError, match="no option"):
        discord.slash("backups schedule", {"minutes": 5}, member=ADMIN, channel=CHANNEL)
    with pytest.raises(AssertionError, match="needs"):
        discord.slash("backups schedule", {}, member=ADMIN, channel=CHANNEL)
    with pytest.raises(AssertionError, match="above 60"):
        discord.slash("backups schedule", {"interval": 61}, member=ADMIN, channel=CHANNEL)


def test_an_interaction_is_answered_once_then_through_its_webhook(discord: DiscordBotEmulator) -> None:
    with rest(discord) as client:
        client.put(f"/applications/{BOT_ID}/commands", json=[COMMAND])
    sent = {}

    async def bot_side() -> None:  # a bot that only receives: the test answers over REST
        async with aiohttp.ClientSession() as session, session.ws_connect(discord._gateway.url) as socket:
            await socket.receive()
            await socket.send_str(json.dumps({"op": 2, "d": {"token": discord.token, "intents": 1}}))
            async for frame in socket:
                event = json.loads(frame.data)
                if event.get("t") == "GUILD_CREATE":
                    await asyncio.to_thread(send)
                if event.get("t") == "INTERACTION_CREATE":
                    sent["interaction"] = event["d"]
                    return

    def send() -> None:
        sent["record"] = discord.slash("backups schedule", {"interval": 5}, member=ADMIN, channel=CHANNEL)

    asyncio.run(bot_side())
    payload, record = sent["interaction"], sent["record"]
    assert payload["data"]["options"][0]["options"] == [{"name": "interval", "type": 4, "value": 5}]
    assert payload["member"]["permissions"] == str(int(payload["member"]["permissions"]) | 32)
    callback = f"/interactions/{payload['id']}/{payload['token']}/callback"
    with rest(discord) as client:
        deferred = client.post(callback, params={"with_response": 1}, json={"type": 5, "data": {"flags": 64}})
        assert deferred.json()["interaction"]["response_message_loading"] is True
        assert not record.answered()  # "thinking..." is no answer yet
        again = client.post(callback, json={"type": 4, "data": {"content": "twice"}})
        assert again.status_code == 400 and again.json()["code"] == ALREADY_ACKNOWLEDGED
        edited = client.patch(f"/webhooks/{BOT_ID}/{payload['token']}/messages/@original", json={"content": "done"})
        assert edited.status_code == 200
    reply = discord.reply(record, timeout=5)
    assert reply.text == "done" and reply.ephemeral
