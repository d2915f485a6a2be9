from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.playerdata import ExportFile, ExportPlan, PlayerDataError
from core.playerdata_export import (
    ExportTarget,
    check_channel_allowed,
    check_same_guild,
    export_message,
)

GUILD, CHANNEL = "579805515301131997", "1300000000000000111"
AT = datetime(2026, 11, 22, 0, 41, 5, 123456, tzinfo=timezone.utc)
snowflakes = st.integers(10**16, 10**20 - 1).map(str)


@given(export_type=st.sampled_from(["server", "all"]), guild=snowflakes, channel=snowflakes)
def test_a_target_is_read_back_from_its_parameters(export_type: str, guild: str, channel: str) -> None:
    target = ExportTarget.validated(export_type, guild if export_type == "server" else None, channel)
    assert ExportTarget.from_parameters({**target.parameters, "source": None, "copy_to": "/x"}) == target


def test_one_slug_per_channel_type_and_guild() -> None:
    assert ExportTarget("server", CHANNEL, GUILD).slug == f"playerdata-server-{GUILD}-{CHANNEL}"
    assert ExportTarget("all", CHANNEL).slug == f"playerdata-all-{CHANNEL}"
    assert ExportTarget.from_parameters({}) is None


@pytest.mark.parametrize(
    ("export_type", "guild", "channel", "expected"),
    [
        ("backup", None, CHANNEL, "'backup' is not 'server' or 'all'"),
        ("server", None, CHANNEL, "needs the guild id"),
        ("all", GUILD, CHANNEL, "leave out the guild id"),
        ("server", "42", CHANNEL, "guild id '42' is not a Discord id"),
        ("server", GUILD, "#general", "channel id '#general' is not a Discord id"),
    ],
)
def test_bad_targets_name_the_option(export_type: str, guild: str | None, channel: str, expected: str) -> None:
    with pytest.raises(PlayerDataError, match=expected):
        ExportTarget.validated(export_type, guild, channel)


def test_a_schedule_needs_a_channel() -> None:
    with pytest.raises(PlayerDataError, match="give --channel"):
        _ = ExportTarget("all").slug


def test_only_allow_listed_channels_get_all_exports() -> None:
    check_channel_allowed(ExportTarget("all", CHANNEL), [CHANNEL])
    check_channel_allowed(ExportTarget("server", CHANNEL, GUILD), [])  # the allow-list is for `all` only
    check_channel_allowed(ExportTarget("all"), [])  # a local copy only
    with pytest.raises(PlayerDataError, match="GUILDFLOW_PLAYERDATA_ALL_CHANNELS"):
        check_channel_allowed(ExportTarget("all", CHANNEL), ["1300000000000000999"])


def test_server_exports_stay_in_their_guild() -> None:
    check_same_guild(ExportTarget("server", CHANNEL, GUILD), GUILD)
    with pytest.raises(PlayerDataError, match="is in guild 1, not in guild"):
        check_same_guild(ExportTarget("server", CHANNEL, GUILD), "1")
    with pytest.raises(PlayerDataError, match="is in no guild"):
        check_same_guild(ExportTarget("server", CHANNEL, GUILD), None)


def test_the_message_of_a_split_export() -> None:
    files = [ExportFile(f"p-part-{n}-of-2.json.gz", b"x" * 2048, 3) for n in (1, 2)]
    plan = ExportPlan(files, 5 * 1024 * 1024, warning="⚠️ close to the cap")
    text = export_message(ExportTarget("all", CHANNEL), plan, AT, ["A", "B"], AT + timedelta(hours=1))
    assert text.splitlines() == [
        "📦 **playerData export**: all guilds (A, B)",
        "Exported: <t:1795308065:F> (`2026-11-22T00:41:05.123Z`)",
        "Type: all · Guilds included: 6",
        "Size: 4.0 KiB gzipped in 2 files (5.0 MiB of JSON)",
        "⚠️ close to the cap",
        "Restore with every part: `guildflow export restore p-part-1-of-2.json.gz p-part-2-of-2.json.gz`",
        "Next export: <t:1795311665:R>",
    ]
