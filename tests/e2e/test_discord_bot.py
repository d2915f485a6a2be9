"""End to end: `guildflow bot` as its own process, connected to the Discord emulator's gateway, driving a real Prefect
server (deployed from prefect.yaml, with a worker that runs the exports and posts them to the emulator).

Members use the commands, buttons and modal as a Discord client would send them (only registered commands and
options, only buttons that are on the message); every assertion reads what the member sees (the emulator's record
of the bot's answers) and what Prefect holds (its REST API)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.bot_ui import custom_id
from core.playerdata import outline_player_data
from tests.conftest import REPO
from tests.e2e.prefect_server import PrefectStack, Service, running_server, start_service, stop_service, wait_until
from tests.emulators.discord_gateway import DiscordBotEmulator, Member, Reply

POOL = "guildflow"
DEPLOYMENT = "playerdata-export/scheduled"
GUILD, OTHER_GUILD = 579805515301131997, 1227553073217360256  # both in examples/playerData.json
CHANNEL, ADMIN_CHANNEL, OTHER_CHANNEL = 1300000000000000111, 1300000000000000333, 1300000000000000555
GUILDFLOW = str(Path(sys.executable).parent / "guildflow")
ADMIN = Member(42, "alice", manage_guild=True)
ROLE_ID = 1300000000000000777
HELPER = Member(44, "carol", role_ids=(ROLE_ID,))  # no Manage Server, but the configured role
MEMBER = Member(43, "bob")
FLOW_RUN_WITHIN = 180  # s for a worker to pick up and finish an export


@pytest.fixture(scope="module")
def discord() -> Iterator[DiscordBotEmulator]:
    emulator = DiscordBotEmulator()
    emulator.add_channel(CHANNEL, "backups", guild_id=GUILD, guild_name="Sample server")
    emulator.add_channel(ADMIN_CHANNEL, "admins", guild_id=GUILD, guild_name="Sample server")
    emulator.add_channel(OTHER_CHANNEL, "elsewhere", guild_id=OTHER_GUILD, guild_name="Other server")
    emulator.add_role(GUILD, ROLE_ID, "Backup admins")
    with emulator.running():
        yield emulator


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, discord: DiscordBotEmulator) -> Iterator[PrefectStack]:
    root = tmp_path_factory.mktemp("e2e-bot")
    with running_server(root) as stack:
        stack.guildflow_env.update(bot_env(discord, root))
        stack.deploy(POOL)
        stack.start_worker("worker", POOL)
        yield stack


def bot_env(discord: DiscordBotEmulator, root: Path) -> dict[str, str]:
    return {
        "GUILDFLOW_DISCORD_TOKEN": discord.token,
        "GUILDFLOW_DISCORD_API_BASE": discord.api_base,
        "GUILDFLOW_PLAYERDATA_ALL_CHANNELS": str(ADMIN_CHANNEL),
        "GUILDFLOW_DELIVERY_LEDGER": str(root / "deliveries.sqlite"),
        "GUILDFLOW_BOT_ADMIN_ROLES": "Backup admins",
    }


def start_bot(stack: PrefectStack, discord: DiscordBotEmulator, name: str, **env: str) -> Service:
    bot = start_service(name, [GUILDFLOW, "bot"], {**stack.env, **stack.guildflow_env, **env}, stack.logs)
    try:
        discord.wait_connected(120)
    except AssertionError:
        pytest.fail(f"the bot did not connect\n{bot.tail()}")
    return bot


def stop_bot(discord: DiscordBotEmulator, bot: Service) -> None:
    stop_service(bot)
    discord.wait_disconnected()


@dataclass
class RunningBot:
    """The bot process of the module; a test may restart it (with other settings)."""

    stack: PrefectStack
    discord: DiscordBotEmulator
    service: Service

    def restart(self, name: str, **env: str) -> None:
        stop_bot(self.discord, self.service)
        self.service = start_bot(self.stack, self.discord, name, **env)


@pytest.fixture(scope="module")
def bot(stack: PrefectStack, discord: DiscordBotEmulator) -> Iterator[RunningBot]:
    running = RunningBot(stack, discord, start_bot(stack, discord, "bot"))
    yield running
    stop_bot(discord, running.service)


def schedules(api: httpx.Client, deployment: str = DEPLOYMENT) -> dict[str, dict[str, Any]]:
    response = api.get(f"/deployments/name/{deployment}")
    response.raise_for_status()
    return {schedule["slug"]: schedule for schedule in response.json()["schedules"]}


def flow_runs(api: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    response = api.post("/flow_runs/filter", json={"flow_runs": filters, "limit": 50})
    response.raise_for_status()
    return list(response.json())


def wait_for(predicate: Any, what: str, stack: PrefectStack, timeout: float = FLOW_RUN_WITHIN) -> Any:
    return wait_until(predicate, timeout, what, stack.server, stack.diagnostics)


def ask(
    discord: DiscordBotEmulator,
    command: str,
    options: dict[str, Any] | None = None,
    *,
    member: Member = ADMIN,
    channel: int = CHANNEL,
) -> Reply:
    """A member uses the command; what they see in the end."""
    return discord.reply(discord.slash(command, options, member=member, channel=channel))


SERVER_SLUG = f"playerdata-server-{GUILD}-{CHANNEL}"
ALL_SLUG = f"playerdata-all-{ADMIN_CHANNEL}"


def test_the_bot_registers_its_commands_and_asks_for_the_guilds_intent_only(
    bot: RunningBot, discord: DiscordBotEmulator
) -> None:
    assert set(discord.commands) == {"backups", "summaries", "jobs", "status"}
    subcommands = {option["name"] for option in discord.commands["backups"]["options"]}
    assert subcommands == {"schedule", "status", "disable", "now"}
    assert discord.identified[-1] == 1  # GUILDS only: no message content, no members


def test_schedule_command_makes_a_real_schedule_whose_first_export_posts_at_once(
    bot: RunningBot, discord: DiscordBotEmulator, stack: PrefectStack, api: httpx.Client
) -> None:
    reply = ask(discord, "backups schedule", {"interval": 60, "type": "server"})

    assert reply.ephemeral
    assert "Backups scheduled: every 1 h (60 minutes)" in reply.text, reply.text
    assert "Guilds included: 1" in reply.text and "Estimated size:" in reply.text
    assert "first export runs in a few seconds" in reply.text and "survives restarts" in reply.text
    schedule = schedules(api)[SERVER_SLUG]
    assert schedule["active"] and schedule["schedule"]["interval"] == 3600
    assert schedule["parameters"] == {"export_type": "server", "guild_id": str(GUILD), "channel_id": str(CHANNEL)}
    posted = wait_for(lambda: [p for p in discord.posts if p.channel_id == CHANNEL], "the first export", stack)
    assert "playerData export" in posted[0].content and posted[0].files

    status = ask(discord, "backups status")
    assert status.ephemeral and f"server backups to <#{CHANNEL}>" in status.text and "🟢" in status.text
    assert status.buttons == {custom_id("backup-setup"): "Schedule backups"}


def test_the_export_message_has_buttons_to_run_now_and_adjust_the_schedule(
    bot: RunningBot, discord: DiscordBotEmulator, stack: PrefectStack, api: httpx.Client
) -> None:
    def export_messages() -> list[dict[str, Any]]:
        return [m for m in discord.channel_messages(CHANNEL) if "playerData export" in m["content"]]

    if not export_messages():  # run on its own: the schedule test's first export is not there
        ask(discord, "backups schedule", {"interval": 60, "type": "server"})
    message = wait_for(export_messages, "an export message", stack)[-1]
    buttons = Reply("", False, message).buttons
    assert buttons == {
        custom_id("backup-now", SERVER_SLUG): "Run backup now",
        custom_id("backup-adjust", SERVER_SLUG): "Adjust schedule",
    }

    adjust = discord.click(message, custom_id("backup-adjust", SERVER_SLUG), member=ADMIN, channel=CHANNEL)
    modal = discord.reply(adjust).message
    interval = [c["component"] for c in modal["components"] if c["type"] == 18][0]
    assert interval["value"] == "60"  # the schedule's own interval, to adjust
    reply = discord.reply(discord.submit_modal(adjust, {"interval": "30"}, member=ADMIN, channel=CHANNEL))
    assert "Backups updated: every 30 min" in reply.text, reply.text
    assert schedules(api)[SERVER_SLUG]["schedule"]["interval"] == 1800

    posted_before = len(discord.posts)
    now = discord.reply(discord.click(message, custom_id("backup-now", SERVER_SLUG), member=ADMIN, channel=CHANNEL))
    assert now.ephemeral and "Backup started" in now.text, now.text
    wait_for(lambda: len(discord.posts) > posted_before, "the export started with the button", stack)


def test_button_modal_confirmation_sets_a_real_schedule(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    status = ask(discord, "backups status", channel=ADMIN_CHANNEL)
    opened = discord.click(status.message, custom_id("backup-setup"), member=ADMIN, channel=ADMIN_CHANNEL)
    modal = discord.reply(opened).message
    labels = [component.get("label") for component in modal["components"] if component["type"] == 18]
    assert labels == ["Interval in minutes (0-10080)", "Export type"]
    shown = [component["content"] for component in modal["components"] if component["type"] == 10]
    assert "Current status" in shown[0] and "No backups to this channel yet" in shown[0]

    submitted = discord.submit_modal(opened, {"interval": "120", "type": "all"}, member=ADMIN, channel=ADMIN_CHANNEL)
    reply = discord.reply(submitted)

    assert reply.ephemeral and "Backups scheduled: every 2 h (120 minutes)" in reply.text, reply.text
    guilds = len(outline_player_data((REPO / "examples" / "playerData.json").read_bytes(), "sample").guilds)
    assert "Type: all" in reply.text and f"Guilds included: {guilds}" in reply.text
    schedule = schedules(api)[ALL_SLUG]
    assert schedule["active"] and schedule["schedule"]["interval"] == 7200
    assert schedule["parameters"]["export_type"] == "all"


def test_a_modal_with_an_interval_out_of_range_says_what_to_type(bot: RunningBot, discord: DiscordBotEmulator) -> None:
    status = ask(discord, "backups status")
    opened = discord.click(status.message, custom_id("backup-setup"), member=ADMIN, channel=CHANNEL)
    reply = discord.reply(discord.submit_modal(opened, {"interval": "20000"}, member=ADMIN, channel=CHANNEL))
    assert reply.ephemeral and "not a number of minutes from 0 to 10080" in reply.text


def test_all_exports_only_in_allow_listed_channels(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    reply = ask(discord, "backups schedule", {"interval": 30, "type": "all"})
    assert reply.ephemeral and "may not receive `all` exports" in reply.text
    assert f"playerdata-all-{CHANNEL}" not in schedules(api)


def test_a_member_without_manage_server_is_refused_and_nothing_changes(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    before = schedules(api)
    refused = ask(discord, "backups schedule", {"interval": 5, "type": "server"}, member=MEMBER)
    assert refused.ephemeral and "Only members with **Manage Server** or the role **Backup admins**" in refused.text
    status = ask(discord, "backups status", member=MEMBER)
    button = discord.click(status.message, custom_id("backup-setup"), member=MEMBER, channel=CHANNEL)
    assert "Only members with **Manage Server**" in discord.reply(button).text
    assert schedules(api) == before


def test_the_configured_role_may_change_schedules(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    ask(discord, "backups schedule", {"interval": 60, "type": "server"}, channel=CHANNEL)
    reply = ask(discord, "backups disable", {"type": "server"}, member=HELPER)
    assert reply.ephemeral and "backups to <#" in reply.text and "are off" in reply.text, reply.text
    schedule = schedules(api)[SERVER_SLUG]
    assert not schedule["active"]
    status = ask(discord, "backups status")
    assert "paused: disabled from Discord by carol" in status.text


def test_ids_of_another_guild_are_refused(bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client) -> None:
    other_slug = f"playerdata-server-{OTHER_GUILD}-{OTHER_CHANNEL}"
    ids = [custom_id("backup-now", other_slug), custom_id("backup-adjust", other_slug)]
    buttons = [{"type": 2, "style": 2, "label": "a button", "custom_id": button} for button in ids]
    crafted = {"id": "1", "components": [{"type": 1, "components": buttons}]}  # naming another server's schedule
    before = len(flow_runs(api))
    for button in ids:
        pressed = discord.click(crafted, button, member=ADMIN, channel=CHANNEL)
        reply = discord.reply(pressed)
        assert reply.ephemeral and "belongs to another server" in reply.text, reply.text
    assert len(flow_runs(api)) == before


def test_now_starts_an_export_that_a_worker_posts(
    bot: RunningBot, discord: DiscordBotEmulator, stack: PrefectStack, api: httpx.Client
) -> None:
    posted_before = len(discord.posts)
    reply = ask(discord, "backups now", {"type": "server"})
    assert reply.ephemeral and "Backup started" in reply.text, reply.text
    runs = flow_runs(api, tags={"all_": ["discord"]})
    assert runs and runs[0]["parameters"]["guild_id"] == str(GUILD)
    wait_for(lambda: len(discord.posts) > posted_before, "the export started from Discord", stack)


def test_status_shows_only_this_guilds_schedules(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    made = ask(discord, "backups schedule", {"interval": 45, "type": "server"}, channel=OTHER_CHANNEL)
    assert "Backups scheduled" in made.text, made.text
    here = ask(discord, "status")
    assert here.ephemeral and f"<#{CHANNEL}>" in here.text and f"<#{OTHER_CHANNEL}>" not in here.text
    there = ask(discord, "status", channel=OTHER_CHANNEL)
    assert f"<#{OTHER_CHANNEL}>" in there.text and f"<#{CHANNEL}>" not in there.text


SUMMARIES = "channel-summary/scheduled"
SUMMARY_SLUG, OTHER_SUMMARY_SLUG = f"summary-{GUILD}-{CHANNEL}", f"summary-{OTHER_GUILD}-{OTHER_CHANNEL}"


def test_summaries_schedule_list_pause_resume_remove(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    options = {
        "kind": "daily",
        "time": "09:00",
        "timezone": "Europe/Berlin",
        "length": "brief",
        "action_items": True,
        "min_messages": 3,
        "title": "Daily digest",
    }
    made = ask(discord, "summaries schedule", options)
    assert made.ephemeral and f"Summary schedule `{SUMMARY_SLUG}` saved" in made.text, made.text
    assert "daily at 09:00 (Europe/Berlin)" in made.text and "survives restarts" in made.text
    schedule = schedules(api, SUMMARIES)[SUMMARY_SLUG]
    assert schedule["active"] and schedule["parameters"]["destinations"] == [f"discord:{CHANNEL}"]
    assert schedule["parameters"]["length"] == "brief" and schedule["schedule"]["timezone"] == "Europe/Berlin"
    assert schedule["parameters"]["extract_action_items"] and schedule["parameters"]["min_messages"] == 3
    assert schedule["parameters"]["title"] == "Daily digest"

    listed = ask(discord, "summaries list")
    assert listed.ephemeral and f"`{SUMMARY_SLUG}`: summary of <#{CHANNEL}>" in listed.text, listed.text

    paused = ask(discord, "summaries pause", {"schedule": SUMMARY_SLUG})
    assert "paused" in paused.text and not schedules(api, SUMMARIES)[SUMMARY_SLUG]["active"]
    assert "paused from Discord by alice" in ask(discord, "summaries list").text
    resumed = ask(discord, "summaries resume", {"schedule": SUMMARY_SLUG})
    assert "resumed" in resumed.text and schedules(api, SUMMARIES)[SUMMARY_SLUG]["active"]

    kept = ask(discord, "summaries remove", {"schedule": SUMMARY_SLUG})
    assert "confirm:True" in kept.text and SUMMARY_SLUG in schedules(api, SUMMARIES)
    removed = ask(discord, "summaries remove", {"schedule": SUMMARY_SLUG, "confirm": True})
    assert "removed" in removed.text and SUMMARY_SLUG not in schedules(api, SUMMARIES)


def test_summaries_of_another_guild_are_refused(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    elsewhere = ask(discord, "summaries schedule", {"kind": "every", "time": "60"}, channel=OTHER_CHANNEL)
    assert f"`{OTHER_SUMMARY_SLUG}` saved" in elsewhere.text, elsewhere.text
    for command in ("summaries pause", "summaries remove"):
        refused = ask(
            discord, command, {"schedule": OTHER_SUMMARY_SLUG, **({"confirm": True} if "remove" in command else {})}
        )
        assert refused.ephemeral and "belongs to another server" in refused.text, refused.text
    assert schedules(api, SUMMARIES)[OTHER_SUMMARY_SLUG]["active"]
    crossed = ask(discord, "summaries schedule", {"kind": "daily", "time": "10:00", "to": f"discord:{OTHER_CHANNEL}"})
    assert "is not a channel of this server" in crossed.text and SUMMARY_SLUG not in schedules(api, SUMMARIES)
    assert OTHER_SUMMARY_SLUG not in ask(discord, "summaries list").text


def job_id(reply: Reply) -> str:
    match = re.search(r"Job `([0-9a-f]{12})`", reply.text)
    assert match, reply.text
    return match[1]


def test_jobs_schedule_list_cancel(bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client) -> None:
    options = {"action": "post-message", "in": "2h", "reminders": "30m,5m", "text": "Results are in"}
    made = ask(discord, "jobs schedule", options)
    assert made.ephemeral and "scheduled: Results are in" in made.text and "30m, 5m" in made.text, made.text
    job = job_id(made)
    runs = flow_runs(api, tags={"all_": [f"job:{job}"]})
    assert len(runs) == 3 and all(run["state_type"] == "SCHEDULED" for run in runs)
    assert {run["parameters"].get("guild") for run in runs if "job-action" in run["tags"]} == {str(GUILD)}

    listed = ask(discord, "jobs list")
    assert f"job `{job}`: Results are in" in listed.text and "reminders left: 30m, 5m" in listed.text, listed.text
    assert re.search(r"· in 1h 5\dm|· in 2h", listed.text), listed.text  # the time left

    overview = ask(discord, "status")
    assert all(title in overview.text for title in ("__Backups__", "__Summaries__", "__Jobs__")), overview.text
    assert f"job `{job}`" in overview.text

    elsewhere = job_id(
        ask(discord, "jobs schedule", {"action": "post-message", "in": "3h", "text": "there"}, channel=OTHER_CHANNEL)
    )
    refused = ask(discord, "jobs cancel", {"job": elsewhere})
    assert refused.ephemeral and f"no job {elsewhere} in guild {GUILD}" in refused.text, refused.text
    assert all(run["state_type"] == "SCHEDULED" for run in flow_runs(api, tags={"all_": [f"job:{elsewhere}"]}))
    assert f"job `{elsewhere}`" not in ask(discord, "jobs list").text

    cancelled = ask(discord, "jobs cancel", {"job": job})
    assert "cancelled" in cancelled.text, cancelled.text
    assert {run["state_type"] for run in flow_runs(api, tags={"all_": [f"job:{job}"]})} == {"CANCELLED"}
    assert "No pending jobs" in ask(discord, "jobs list").text


def test_backup_and_summary_jobs_act_on_this_server_and_channel(
    bot: RunningBot, discord: DiscordBotEmulator, api: httpx.Client
) -> None:
    made = ask(discord, "jobs schedule", {"action": "playerdata-export", "at": "2099-06-01 12:00"})
    job = job_id(made)
    [run] = flow_runs(api, tags={"all_": [f"job:{job}", "job-action"]})
    assert run["parameters"] == {"export_type": "server", "guild_id": str(GUILD), "channel_id": str(CHANNEL)}
    assert "cancelled" in ask(discord, "jobs cancel", {"job": job}).text

    summary = job_id(ask(discord, "jobs schedule", {"action": "channel-summary", "in": "1d", "reminders": "1h"}))
    [run] = flow_runs(api, tags={"all_": [f"job:{summary}", "job-action"]})
    assert run["parameters"]["channel_ids"] == [str(CHANNEL)] and run["parameters"]["guild_id"] == str(GUILD)
    assert run["parameters"]["destinations"] == [f"discord:{CHANNEL}"]
    assert "cancelled" in ask(discord, "jobs cancel", {"job": summary}).text


def test_a_job_needs_its_time_said_once(bot: RunningBot, discord: DiscordBotEmulator) -> None:
    both = ask(discord, "jobs schedule", {"action": "post-message", "in": "2h", "at": "2030-01-01 10:00", "text": "x"})
    assert both.ephemeral and "exactly one of" in both.text, both.text
    non_admin = ask(discord, "jobs schedule", {"action": "post-message", "in": "2h", "text": "x"}, member=MEMBER)
    assert "Only members with **Manage Server**" in non_admin.text


def test_the_bot_restarted_between_commands_loses_nothing(
    bot: RunningBot, discord: DiscordBotEmulator, stack: PrefectStack, api: httpx.Client
) -> None:
    ask(discord, "backups schedule", {"interval": 90, "type": "server"})
    status = ask(discord, "backups status")  # its button is pressed after the restart

    bot.restart("bot-restarted")

    after = ask(discord, "backups status")
    assert "every 90 min" in after.text and "🟢" in after.text, after.text
    opened = discord.click(status.message, custom_id("backup-setup"), member=ADMIN, channel=CHANNEL)
    reply = discord.reply(discord.submit_modal(opened, {"interval": "0"}, member=ADMIN, channel=CHANNEL))
    assert "are off" in reply.text, reply.text
    assert not schedules(api)[SERVER_SLUG]["active"]


def test_a_prefect_server_that_is_down_gets_a_clear_ephemeral_answer(
    bot: RunningBot, discord: DiscordBotEmulator
) -> None:
    bot.restart("bot-no-prefect", PREFECT_API_URL="http://127.0.0.1:9/api")
    try:
        reply = ask(discord, "backups schedule", {"interval": 60, "type": "server"})
        assert reply.ephemeral and "cannot reach the Prefect server (http://127.0.0.1:9/api)" in reply.text
        assert "nothing was changed" in reply.text
        overview = ask(discord, "status")
        assert overview.ephemeral and "cannot reach the Prefect server" in overview.text
    finally:
        bot.restart("bot-after-outage")
