"""The bot's command tree as it registers with Discord: what the emulator (as Discord) accepts, every description
from core.bot_ui, the options a member fills in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.bot_ui import DESCRIPTIONS
from guildflow.bot.client import GuildflowBot
from guildflow.settings import load_settings
from tests.emulators.discord_gateway import _command_problem


def registered(guildflow_env: Path) -> dict[str, dict[str, Any]]:
    bot = GuildflowBot(load_settings(), None)
    return {command.name: command.to_dict(bot.tree) for command in bot.tree.get_commands()}


def test_every_command_is_one_discord_accepts(guildflow_env: Path) -> None:
    commands = registered(guildflow_env)
    assert set(commands) == {"backups", "summaries", "jobs", "status"}
    assert [problem for command in commands.values() if (problem := _command_problem(command))] == []
    for name, command in commands.items():
        assert command["description"] == DESCRIPTIONS[name]
        for sub in command.get("options", []):
            assert sub["description"] == DESCRIPTIONS[f"{name} {sub['name']}"]


def test_options_members_fill_in(guildflow_env: Path) -> None:
    commands = registered(guildflow_env)

    def options(command: str, sub: str) -> dict[str, dict[str, Any]]:
        found = next(o for o in commands[command]["options"] if o["name"] == sub)
        return {option["name"]: option for option in found.get("options", [])}

    interval = options("backups", "schedule")["interval"]
    assert interval["required"] and (interval["min_value"], interval["max_value"]) == (0, 10080)
    assert [c["value"] for c in options("backups", "schedule")["type"]["choices"]] == ["server", "all"]
    summary = options("summaries", "schedule")
    assert {name for name, option in summary.items() if option.get("required")} == {"kind", "time"}
    assert set(options("jobs", "schedule")) == {"action", "in", "at", "timezone", "reminders", "text"}
    assert options("summaries", "remove")["confirm"]["type"] == 5


def test_guildflow_bot_needs_a_prefect_server_and_a_token(guildflow_env: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from guildflow.cli import app

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        no_server = CliRunner().invoke(app, ["bot"])
    assert no_server.exit_code == 2 and "PREFECT_API_URL is not set" in no_server.output
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        no_token = CliRunner().invoke(app, ["bot"])
    assert no_token.exit_code == 2 and "GUILDFLOW_DISCORD_TOKEN is not set" in no_token.output
