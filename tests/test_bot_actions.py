"""guildflow.bot.actions without Prefect: which schedules a guild may touch, and the export estimate the
confirmation shows. (Everything that reads or changes Prefect is tested end to end: tests/e2e/test_discord_bot.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import UserFacingError
from core.playerdata import outline_player_data
from core.playerdata_export import ExportTarget
from guildflow.bot.actions import GuildMismatch, backup_target, estimate_export, target_of_slug
from guildflow.settings import load_settings
from tests.conftest import REPO

SAMPLE = REPO / "examples" / "playerData.json"
GUILD, OTHER_GUILD = "579805515301131997", "1227553073217360256"
CHANNEL, OTHER_CHANNEL = "1300000000000000111", "1300000000000000555"
CHANNELS = {CHANNEL: GUILD, OTHER_CHANNEL: OTHER_GUILD}


def test_a_guild_may_use_its_own_schedules_only() -> None:
    own = ExportTarget("server", CHANNEL, GUILD)
    assert target_of_slug(own.slug, GUILD, CHANNELS.get) == own
    with pytest.raises(GuildMismatch, match="another server"):
        target_of_slug(ExportTarget("server", OTHER_CHANNEL, OTHER_GUILD).slug, GUILD, CHANNELS.get)
    with pytest.raises(GuildMismatch):  # a server export of another guild, posted here: still not ours to touch
        target_of_slug(ExportTarget("server", CHANNEL, OTHER_GUILD).slug, GUILD, CHANNELS.get)


def test_an_all_export_belongs_to_the_guild_of_its_channel() -> None:
    assert target_of_slug(ExportTarget("all", CHANNEL).slug, GUILD, CHANNELS.get).export_type == "all"
    with pytest.raises(GuildMismatch):
        target_of_slug(ExportTarget("all", OTHER_CHANNEL).slug, GUILD, CHANNELS.get)
    with pytest.raises(GuildMismatch):  # a channel the bot does not know
        target_of_slug(ExportTarget("all", "1300000000000000999").slug, GUILD, CHANNELS.get)


def test_a_slug_that_is_no_backup_is_refused() -> None:
    with pytest.raises(UserFacingError, match="not a backup schedule"):
        target_of_slug("summary-daily-123", GUILD, CHANNELS.get)


def test_a_target_here_holds_this_guild_or_every_guild() -> None:
    assert backup_target(GUILD, CHANNEL, "server") == ExportTarget("server", CHANNEL, GUILD)
    assert backup_target(GUILD, CHANNEL, "all") == ExportTarget("all", CHANNEL, None)
    with pytest.raises(UserFacingError, match="not 'server' or 'all'"):
        backup_target(GUILD, CHANNEL, "everything")


def test_the_estimate_counts_guilds_and_sizes_the_export(guildflow_env: Path) -> None:
    settings = load_settings(playerdata=SAMPLE)
    guilds = len(outline_player_data(SAMPLE.read_bytes(), "sample").guilds)
    assert estimate_export(settings, ExportTarget("all", CHANNEL))[:1] == (guilds,)
    count, size, warning = estimate_export(settings, ExportTarget("server", CHANNEL, GUILD))
    assert count == 1 and size.endswith("KiB") and warning == ""
    assert estimate_export(settings, ExportTarget("all", CHANNEL))[1].endswith("KiB")


def test_the_estimate_says_when_it_cannot_know(guildflow_env: Path) -> None:
    missing = estimate_export(load_settings(playerdata=guildflow_env / "nope.json"), ExportTarget("all", CHANNEL))
    assert missing[0] is None and "not readable where the bot runs" in missing[1]
    absent = estimate_export(load_settings(playerdata=SAMPLE), ExportTarget("server", CHANNEL, "1" * 18))
    assert absent[0] == 0 and "not in" in absent[2] and "exports fail until it is" in absent[2]
    corrupt = guildflow_env / "corrupt.json"
    corrupt.write_text("{not json")
    broken = estimate_export(load_settings(playerdata=corrupt), ExportTarget("all", CHANNEL))
    assert broken[0] is None and broken[2]
