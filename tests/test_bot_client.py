"""guildflow.bot.client in this process against the Discord emulator, without Prefect (the actions that would call
it are replaced): what a member is told when something goes wrong (a bug, a Prefect server too slow), never
Discord's silent "This interaction failed"."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from discord.gateway import DiscordWebSocket

from core.bot_ui import UNEXPECTED, Section, custom_id
from guildflow.bot import actions, client
from guildflow.bot.client import GuildflowBot
from guildflow.settings import load_settings
from integrations.discord_api import webhooks_at
from tests.emulators.discord_gateway import DiscordBotEmulator, Member

GUILD, CHANNEL = 579805515301131997, 1300000000000000111
ADMIN = Member(42, "alice", manage_guild=True)


@pytest.fixture
def discord(guildflow_env: Path) -> Iterator[DiscordBotEmulator]:
    emulator = DiscordBotEmulator()
    emulator.add_channel(CHANNEL, "backups", guild_id=GUILD, guild_name="Sample server")
    gateway = DiscordWebSocket.DEFAULT_GATEWAY
    with emulator.running():
        settings = load_settings(discord_api_base=emulator.api_base)
        bots: list[tuple[GuildflowBot, asyncio.AbstractEventLoop]] = []

        async def run() -> None:
            with webhooks_at(settings.discord_api_base):
                async with GuildflowBot(settings, "http://127.0.0.1:9/api") as bot:
                    bots.append((bot, asyncio.get_running_loop()))
                    await bot.start(emulator.token)

        thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)  # as `guildflow bot` runs it
        thread.start()
        try:
            emulator.wait_connected(60)
            yield emulator
        finally:
            bot, loop = bots[0]
            asyncio.run_coroutine_threadsafe(bot.close(), loop).result(30)
            thread.join(30)
            DiscordWebSocket.DEFAULT_GATEWAY = gateway  # setup_hook set it to the emulator's


def broken(*args: Any) -> Any:
    raise RuntimeError("a bug")


def test_a_bug_in_the_work_is_answered(discord: DiscordBotEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "status_overview", broken)
    reply = discord.reply(discord.slash("status", member=ADMIN, channel=CHANNEL))
    assert reply.ephemeral and reply.text == UNEXPECTED


def test_a_bug_in_a_button_handler_is_answered(discord: DiscordBotEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "backup_modal_state", lambda *args: (Section("Backups", (), "none"), None))
    monkeypatch.setattr(client, "backup_modal", broken)
    message = {"id": "1", "components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Schedule backups", "custom_id": custom_id("backup-setup")}
    ]}]}  # fmt: skip
    reply = discord.reply(discord.click(message, custom_id("backup-setup"), member=ADMIN, channel=CHANNEL))
    assert reply.ephemeral and reply.text == UNEXPECTED


def test_a_prefect_server_too_slow_is_answered(discord: DiscordBotEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck(*args: Any) -> Any:
        release.wait(30)
        return []

    monkeypatch.setattr(actions, "status_overview", stuck)
    monkeypatch.setattr(client, "PREFECT_WITHIN", 0.2)
    try:
        reply = discord.reply(discord.slash("status", member=ADMIN, channel=CHANNEL))
    finally:
        release.set()
    assert reply.ephemeral and "did not answer" in reply.text and "check with `/status`" in reply.text


def test_the_answer_is_deferred_before_prefect_answers(
    discord: DiscordBotEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def slow(*args: Any) -> list[Section]:
        release.wait(30)
        return [Section("Backups", (), "No backups to this server yet.")]

    monkeypatch.setattr(actions, "status_overview", slow)
    asked = discord.slash("status", member=ADMIN, channel=CHANNEL)
    try:
        discord.wait_for(lambda: asked.callback is not None, 30, "the deferred answer")
        assert asked.callback == {"type": 5, "data": {"flags": 64}}  # "thinking...", only for the member
        assert not asked.answered()
    finally:
        release.set()
    assert discord.reply(asked).text == "__Backups__\nNo backups to this server yet."
