"""The channel-summary flow reading the real Discord API (discord.py against the emulator): history paged as the
daily pipeline pages it, since-last asking only after the cursor, and an unknown or forbidden channel named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from discord.utils import time_snowflake

from flows.summary import channel_summary
from tests.emulators.discord import DiscordEmulator, api_message, api_user

GUILD = "1200000000000000001"
CHANNEL, HIDDEN, GONE = 1300000000000000201, 1300000000000000202, 1300000000000000203
START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
MESSAGES = 250
OLD = 5  # ten days old: a first since-last run reads GUILDFLOW_SUMMARY_FIRST_LOOKBACK_DAYS (7) back


@pytest.fixture
def discord(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(CHANNEL, "dev-core")
    emulator.add_channel(HIDDEN, "staff", access="none")
    old = START - timedelta(days=8)
    emulator.add_messages(
        CHANNEL, [api_message(time_snowflake(old + timedelta(minutes=n)), CHANNEL, "old") for n in range(OLD)]
    )
    emulator.add_messages(
        CHANNEL,
        [
            api_message(
                time_snowflake(START + timedelta(minutes=n)),
                CHANNEL,
                f"the indexer backfill reached block {n}, RPC node healthy",
                author=api_user(100 + n % 5, f"dev{n % 5}"),
            )
            for n in range(MESSAGES)
        ],
    )
    with emulator.running():
        monkeypatch.setenv("GUILDFLOW_DISCORD_BACKEND", "api")
        monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN", emulator.token)
        monkeypatch.setenv("GUILDFLOW_DISCORD_API_BASE", emulator.api_base)
        yield emulator


def test_history_is_paged_from_the_first_lookback_then_only_after_the_cursor(
    discord: DiscordEmulator, guildflow_env: Path
) -> None:
    out = [f"file:{guildflow_env / 'out'}"]
    first = channel_summary(GUILD, [str(CHANNEL)], out, schedule="api")
    assert first.message_count == MESSAGES  # not the OLD ones
    assert discord.calls("GET", rf"/channels/{CHANNEL}/messages") == MESSAGES // 100 + 1  # the floor

    discord.add_messages(
        CHANNEL,
        [
            api_message(time_snowflake(START + timedelta(hours=30, minutes=n)), CHANNEL, f"new message number {n}")
            for n in range(6)
        ],
    )
    second = channel_summary(GUILD, [str(CHANNEL)], out, schedule="api")
    assert second.message_count == 6
    assert discord.calls("GET", rf"/channels/{CHANNEL}/messages") == MESSAGES // 100 + 2  # one page after the cursor
    assert channel_summary(GUILD, [str(CHANNEL)], out, window="30d").message_count == MESSAGES + 6 + OLD


@pytest.mark.parametrize(
    ("channel", "says"),
    [
        (GONE, f"Discord channel {GONE} not found (404"),
        (HIDDEN, f"the bot may not read Discord channel {HIDDEN} (403"),
    ],
)
def test_an_unknown_or_forbidden_channel_is_named(
    discord: DiscordEmulator, guildflow_env: Path, channel: int, says: str
) -> None:
    state = channel_summary(GUILD, [str(channel)], [f"file:{guildflow_env / 'out'}"], return_state=True)
    assert state.is_failed() and str(state.result(raise_on_failure=False)).startswith(says)
    assert not (guildflow_env / "out").exists()
