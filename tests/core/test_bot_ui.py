"""core.bot_ui: the bot's custom ids, modal input parsing, confirmation and overview texts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.bot_ui import (
    ACTIONS,
    MAX_CUSTOM_ID,
    BackupConfirmation,
    BotInputError,
    ScheduleLine,
    Section,
    custom_id,
    export_buttons,
    not_admin_text,
    overview,
    parse_custom_id,
    parse_export_type,
    parse_interval,
    prefect_down_text,
    submitted_values,
)
from core.playerdata_export import ExportTarget

GUILD, CHANNEL = "579805515301131997", "1300000000000000111"


@given(st.sampled_from(ACTIONS), st.from_regex(r"[a-z0-9-]{0,80}", fullmatch=True))
def test_custom_ids_round_trip(action: str, argument: str) -> None:
    text = custom_id(action, argument)  # type: ignore[arg-type]
    assert len(text) <= MAX_CUSTOM_ID
    assert parse_custom_id(text) == (action, argument)


@pytest.mark.parametrize("text", ["", "guildflow", "guildflow:unknown:x", "other-bot:backup-now:x", "backup-now"])
def test_ids_that_are_not_guildflows_are_ignored(text: str) -> None:
    assert parse_custom_id(text) is None


def test_a_custom_id_over_discords_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="100"):
        custom_id("backup-now", "x" * 100)


def test_export_buttons_name_their_schedule_and_fit() -> None:
    slug = ExportTarget("server", CHANNEL, GUILD).slug
    now, adjust = export_buttons(slug)
    assert parse_custom_id(now.custom_id) == ("backup-now", slug)
    assert parse_custom_id(adjust.custom_id) == ("backup-adjust", slug)
    assert ExportTarget.from_slug(slug) == ExportTarget("server", CHANNEL, GUILD)
    assert ExportTarget.from_slug(ExportTarget("all", CHANNEL).slug) == ExportTarget("all", CHANNEL)
    assert ExportTarget.from_slug("summary-123") is None


@pytest.mark.parametrize(("text", "minutes"), [("0", 0), ("60", 60), (" 1440 ", 1440), ("10080", 10080), ("90min", 90)])
def test_interval_in_range(text: str, minutes: int) -> None:
    assert parse_interval(text) == minutes


@pytest.mark.parametrize("text", ["", "-5", "10081", "1.5", "hourly", "1e3"])
def test_interval_out_of_range_says_what_to_type(text: str) -> None:
    with pytest.raises(BotInputError, match="0 to 10080"):
        parse_interval(text)


def test_export_type() -> None:
    assert parse_export_type(" Server ") == "server"
    assert parse_export_type("all") == "all"
    with pytest.raises(BotInputError, match="server or all"):
        parse_export_type("everything")


def test_confirmation_says_everything_the_issue_asks() -> None:
    text = BackupConfirmation(
        minutes=120,
        export_type="all",
        channel_id=CHANNEL,
        guild_count=3,
        estimated_size="1.2 MiB gzipped",
        replaced=False,
        first_run_started=True,
    ).text()
    assert "every 2 h" in text and "120 minutes" in text
    assert "Type: all" in text and "Guilds included: 3" in text and f"<#{CHANNEL}>" in text
    assert "Estimated size: 1.2 MiB gzipped" in text
    assert "first export runs in a few seconds" in text
    assert "survives restarts" in text
    updated = BackupConfirmation(15, "server", CHANNEL, None, "unknown", True, False, "server not in file").text()
    assert "updated" in updated and "Guilds included: unknown" in updated and "⚠️ server not in file" in updated


def test_overview_lists_sections_and_says_how_many_were_left_out() -> None:
    line = ScheduleLine("server backups to <#1>", "every 1 h", "active", "<t:1:R>", "Completed <t:0:R>")
    paused = ScheduleLine("all backups to <#2>", "every 2 h", "paused: too many failures", "none", "Failed: boom")
    text = overview([Section("Backups", (line, paused, line), "none"), Section("Jobs", (), "No jobs yet.")], limit=2)
    assert text.count("server backups") == 1 and "paused: too many failures" in text
    assert "No jobs yet." in text
    assert "… and 1 more" in text
    assert "… and" not in overview([Section("Backups", (line,), "none")])


def test_an_overview_fits_an_embed_whatever_it_holds() -> None:
    long = ScheduleLine("x" * 300, "every 1 h", "paused: " + "why " * 100, "<t:1:R>", "Failed: " + "e" * 200)
    text = overview([Section("Backups", (long,) * 39, "none"), Section("Jobs", (long,), "none")])
    assert len(text) <= 4096
    shown = text.count("x" * 300)
    assert f"… and {40 - shown} more" in text and 0 < shown < 40


def test_refusal_and_prefect_down_texts() -> None:
    assert "Manage Server" in not_admin_text([]) and "role" not in not_admin_text([])
    assert "**Backup admins**" in not_admin_text(["Backup admins"])
    assert "http://127.0.0.1:4200/api" in prefect_down_text("http://127.0.0.1:4200/api")
    assert "try again" in prefect_down_text(None)


def test_submitted_values_of_labels_rows_and_selects() -> None:
    components = [
        {"type": 18, "id": 1, "component": {"type": 4, "custom_id": "interval", "value": "30"}},
        {"type": 18, "id": 2, "component": {"type": 3, "custom_id": "type", "values": ["all"]}},
        {"type": 1, "components": [{"type": 4, "custom_id": "note", "value": ""}]},
        {"type": 10, "id": 3, "content": "status"},
    ]
    assert submitted_values(components) == {"interval": "30", "type": "all", "note": ""}
