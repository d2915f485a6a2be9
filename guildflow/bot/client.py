"""The bot process: a discord.py gateway client (intent: guilds only) that registers guildflow's slash commands and
answers them, their buttons and the backup modal through guildflow.bot.actions.

Every interaction is answered within Discord's 3 seconds: a refusal or a modal at once, anything that asks Prefect
deferred ("thinking...", ephemeral when it reveals configuration) and then edited with the outcome, which is always a
message that says what happened or what to do, never nothing. Buttons and modals are handled by their custom ids
(core.bot_ui), not by views kept in memory, so those posted before a restart keep working.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, get_args

import discord
import yarl
from discord import app_commands

from core.bot_ui import (
    BACKUP_MODAL_TITLE,
    DESCRIPTIONS,
    INTERVAL_HINT,
    INTERVAL_INPUT,
    INTERVAL_LABEL,
    JOB_ACTIONS,
    OPTION_HELP,
    TYPE_CHOICES,
    TYPE_INPUT,
    TYPE_LABEL,
    UNEXPECTED,
    Answer,
    BackupConfirmation,
    custom_id,
    disabled_text,
    not_admin_text,
    overview,
    parse_custom_id,
    parse_export_type,
    parse_interval,
    prefect_down_text,
    setup_button,
    submitted_values,
)
from core.errors import UserFacingError
from core.playerdata_export import ExportTarget
from core.schedule_spec import KINDS, MAX_EVERY_MINUTES
from core.summaries import DEFAULT_MIN_MESSAGES, SINCE_LAST, SummaryLength
from guildflow.bot import actions
from guildflow.settings import Settings
from integrations.discord_api import RebasedHTTPClient, buttons_view

log = logging.getLogger("guildflow.bot")

PREFECT_WITHIN = 60.0  # s: a deferred answer waits this long for Prefect, then says it did not answer
MODAL_STATUS_WITHIN = 1.5  # s: the modal must open within Discord's 3 s, with or without the current status
DISCORD_CONTENT = 2000


class GuildflowBot(discord.Client):
    def __init__(self, settings: Settings, api_url: str | None) -> None:
        super().__init__(intents=discord.Intents(guilds=True))
        self.http = self._connection.http = RebasedHTTPClient(settings.discord_api_base, self.loop, 60.0)
        self.settings = settings
        self.api_url = api_url
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_command_error  # type: ignore[method-assign]
        add_commands(self)

    async def setup_hook(self) -> None:
        # Discord names the gateway in GET /gateway/bot; discord.py would otherwise always use its built-in URL.
        _, url, _ = await self.http.get_bot_gateway()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        commands = await self.tree.sync()
        log.info("registered %d commands: %s", len(commands), ", ".join(f"/{c.name}" for c in commands))

    async def on_ready(self) -> None:
        log.info("connected as %s to %d server(s)", self.user, len(self.guilds))

    async def on_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """A bug in a command: the member is told so (never Discord's silent "This interaction failed")."""
        log.error("command %s failed", getattr(interaction.command, "qualified_name", "?"), exc_info=error)
        await tell_unexpected(interaction)

    # --- helpers for the handlers ----------------------------------------------------------------------

    def channel_guild(self, channel_id: str) -> str | None:
        channel = self.get_channel(int(channel_id)) if channel_id.isdigit() else None
        guild = getattr(channel, "guild", None)
        return str(guild.id) if guild is not None else None

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """Manage Server, or a role named in GUILDFLOW_BOT_ADMIN_ROLES (by name or id)."""
        if interaction.permissions.manage_guild:
            return True
        allowed = set(self.settings.bot_admin_role_names)
        roles = getattr(interaction.user, "roles", [])
        return any(role.name in allowed or str(role.id) in allowed for role in roles)

    async def refuse_unless_admin(self, interaction: discord.Interaction) -> bool:
        """True (after an ephemeral refusal) when the member may not change anything."""
        if self.is_admin(interaction):
            return False
        await interaction.response.send_message(not_admin_text(self.settings.bot_admin_role_names), ephemeral=True)
        return True

    async def answer(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Answer | str],
        *,
        changes: bool,
        ephemeral: bool = True,
    ) -> None:
        """Refuse a non-admin a change; else defer, do the work off the event loop, and edit in the outcome."""
        if interaction.guild_id is None:
            await interaction.response.send_message("Use guildflow's commands in a server's channel.", ephemeral=True)
            return
        if changes and await self.refuse_unless_admin(interaction):
            return
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        outcome = await self.off_loop(work)
        await interaction.edit_original_response(**message_arguments(outcome))

    async def off_loop(self, work: Callable[[], Answer | str], within: float | None = None) -> Answer:
        """The work's answer, or the message that says why there is none (Prefect down or slower than `within`
        seconds, default PREFECT_WITHIN; bad input; a bug)."""
        within = within or PREFECT_WITHIN
        try:
            done = await asyncio.wait_for(asyncio.to_thread(actions.prefect_errors_translated(work)), within)
        except actions.PrefectUnreachable as error:
            log.warning("Prefect server unreachable: %s", error)
            return Answer(prefect_down_text(self.api_url))
        except TimeoutError:
            return Answer(
                f"The Prefect server did not answer within {within:.0f} s; it may be overloaded. "
                "What you asked may still happen: check with `/status` in a minute."
            )
        except UserFacingError as error:
            return Answer(f"⚠️ {error}")
        except Exception:
            log.exception("an interaction failed")
            return Answer(UNEXPECTED)
        return done if isinstance(done, Answer) else Answer(done)

    # --- buttons and modals -----------------------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type not in (discord.InteractionType.component, discord.InteractionType.modal_submit):
            return
        data: dict[str, Any] = dict(interaction.data or {})
        parsed = parse_custom_id(str(data.get("custom_id", "")))
        if parsed is None:
            return  # not one of ours
        try:
            await self.on_component(interaction, *parsed, data)
        except Exception:
            log.exception("a button or modal failed")
            await tell_unexpected(interaction)

    async def on_component(
        self, interaction: discord.Interaction, action: str, argument: str, data: dict[str, Any]
    ) -> None:
        guild_id = str(interaction.guild_id or "")
        channel_id = str(interaction.channel_id or "")
        who = interaction.user.name
        if action == "backup-now":
            await self.answer(
                interaction,
                lambda: actions.back_up_now(
                    self.settings, actions.target_of_slug(argument, guild_id, self.channel_guild), who
                ),
                changes=True,
            )
        elif action in ("backup-setup", "backup-adjust"):
            await self.open_backup_modal(interaction, argument)
        elif action == "backup-modal":
            values = submitted_values(data.get("components") or [])

            def save() -> Answer | str:
                minutes = parse_interval(values.get(INTERVAL_INPUT, ""))
                export_type = parse_export_type(values.get(TYPE_INPUT, ""))
                target = actions.backup_target(guild_id, channel_id, export_type)
                return confirmation(actions.schedule_backups(self.settings, target, minutes, who))

            await self.answer(interaction, save, changes=True)

    async def open_backup_modal(self, interaction: discord.Interaction, slug: str) -> None:
        """The modal (interval, type, this channel's status read-only); for a schedule's own button, that one's."""
        if interaction.guild_id is None or await self.refuse_unless_admin(interaction):
            return
        guild_id, channel_id = str(interaction.guild_id), str(interaction.channel_id or "")
        export_type = "server"
        if slug:
            try:
                target = actions.target_of_slug(slug, guild_id, self.channel_guild)
            except UserFacingError as error:
                await interaction.response.send_message(f"⚠️ {error}", ephemeral=True)
                return
            export_type = target.export_type
        state: list[int | None] = [None]

        def read_state() -> str:
            section, state[0] = actions.backup_modal_state(guild_id, self.channel_guild, channel_id, slug)
            return overview([section])

        status = await self.off_loop(read_state, within=MODAL_STATUS_WITHIN)
        minutes = str(state[0]) if state[0] else "60"
        await interaction.response.send_modal(backup_modal(export_type, minutes, status.text))


def add_commands(bot: GuildflowBot) -> None:
    """/backups schedule|status|disable|now, /summaries, /jobs and /status, each answered through bot.answer."""
    backups = app_commands.Group(name="backups", description=DESCRIPTIONS["backups"], guild_only=True)
    types = _choices(*TYPE_CHOICES)

    def here(interaction: discord.Interaction, export_type: str) -> ExportTarget:
        return actions.backup_target(str(interaction.guild_id), str(interaction.channel_id), export_type)

    @backups.command(name="schedule", description=DESCRIPTIONS["backups schedule"])
    @app_commands.describe(interval=INTERVAL_LABEL + ", 0 turns backups off", type=TYPE_LABEL)
    @app_commands.choices(type=types)
    async def schedule(
        interaction: discord.Interaction, interval: app_commands.Range[int, 0, MAX_EVERY_MINUTES], type: str = "server"
    ) -> None:
        who = interaction.user.name
        await bot.answer(
            interaction,
            lambda: confirmation(actions.schedule_backups(bot.settings, here(interaction, type), interval, who)),
            changes=True,
        )

    @backups.command(name="status", description=DESCRIPTIONS["backups status"])
    async def status(interaction: discord.Interaction) -> None:
        guild_id, channel_id = str(interaction.guild_id), str(interaction.channel_id)
        await bot.answer(
            interaction,
            lambda: Answer(
                overview([actions.backup_statuses(guild_id, bot.channel_guild, channel_id)]), (setup_button(),)
            ),
            changes=False,
        )

    @backups.command(name="disable", description=DESCRIPTIONS["backups disable"])
    @app_commands.describe(type=TYPE_LABEL)
    @app_commands.choices(type=types)
    async def disable(interaction: discord.Interaction, type: str = "server") -> None:
        who = interaction.user.name

        def turn_off() -> str:
            target = here(interaction, type)
            return disabled_text(target.channel_id or "", type, actions.disable_backups(target, who))

        await bot.answer(interaction, turn_off, changes=True)

    @backups.command(name="now", description=DESCRIPTIONS["backups now"])
    @app_commands.describe(type=TYPE_LABEL)
    @app_commands.choices(type=types)
    async def now(interaction: discord.Interaction, type: str = "server") -> None:
        who = interaction.user.name
        await bot.answer(
            interaction, lambda: actions.back_up_now(bot.settings, here(interaction, type), who), changes=True
        )

    @app_commands.command(name="status", description=DESCRIPTIONS["status"])
    @app_commands.guild_only()
    async def overview_command(interaction: discord.Interaction) -> None:
        guild_id = str(interaction.guild_id)
        await bot.answer(
            interaction, lambda: overview(actions.status_overview(guild_id, bot.channel_guild)), changes=False
        )

    bot.tree.add_command(backups)
    bot.tree.add_command(summaries_group(bot))
    bot.tree.add_command(jobs_group(bot))
    bot.tree.add_command(overview_command)


def _choices(*names: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in names]


def summaries_group(bot: GuildflowBot) -> app_commands.Group:
    """/summaries schedule|list|pause|resume|remove: summaries of the channel the command is used in."""
    group = app_commands.Group(name="summaries", description=DESCRIPTIONS["summaries"], guild_only=True)
    summary_options = ("kind", "time", "timezone", "length", "window", "action_items", "technical_terms")
    helps = {name: OPTION_HELP[name] for name in (*summary_options, "include_bots", "min_messages", "title", "to")}

    @group.command(name="schedule", description=DESCRIPTIONS["summaries schedule"])
    @app_commands.describe(**helps)
    @app_commands.choices(kind=_choices(*KINDS), length=_choices(*get_args(SummaryLength)))
    async def schedule(
        interaction: discord.Interaction,
        kind: str,
        time: str,
        timezone: str = "UTC",
        length: str = "detailed",
        window: str = SINCE_LAST,
        action_items: bool = False,
        technical_terms: bool = False,
        include_bots: bool = False,
        min_messages: app_commands.Range[int, 1, 100_000] = DEFAULT_MIN_MESSAGES,
        title: str = "",
        to: str = "",
    ) -> None:
        guild_id, channel_id = str(interaction.guild_id), str(interaction.channel_id)
        options: dict[str, Any] = {
            "window": window,
            "length": length,
            "action_items": action_items,
            "technical_terms": technical_terms,
            "include_bots": include_bots,
            "min_messages": min_messages,
            "title": title,
        }
        await bot.answer(
            interaction,
            lambda: actions.schedule_summary(
                guild_id, channel_id, bot.channel_guild, (kind, time, timezone), options, to
            ),
            changes=True,
        )

    @group.command(name="list", description=DESCRIPTIONS["summaries list"])
    async def list_(interaction: discord.Interaction) -> None:
        guild_id = str(interaction.guild_id)
        await bot.answer(interaction, lambda: overview([actions.summary_statuses(guild_id)]), changes=False)

    def change(name: str) -> Any:
        @group.command(name=name, description=DESCRIPTIONS[f"summaries {name}"])
        @app_commands.describe(schedule=OPTION_HELP["schedule"])
        async def command(interaction: discord.Interaction, schedule: str) -> None:
            guild_id, who = str(interaction.guild_id), interaction.user.name
            await bot.answer(interaction, lambda: actions.change_summary(guild_id, schedule, name, who), changes=True)

        return command

    change("pause")
    change("resume")

    @group.command(name="remove", description=DESCRIPTIONS["summaries remove"])
    @app_commands.describe(schedule=OPTION_HELP["schedule"], confirm=OPTION_HELP["confirm"])
    async def remove(interaction: discord.Interaction, schedule: str, confirm: bool = False) -> None:
        guild_id, who = str(interaction.guild_id), interaction.user.name

        def removed() -> str:
            if not confirm:
                return f"Removing `{schedule}` deletes it: run it again with `confirm:True`, or pause it instead."
            return actions.change_summary(guild_id, schedule, "remove", who)

        await bot.answer(interaction, removed, changes=True)

    return group


def jobs_group(bot: GuildflowBot) -> app_commands.Group:
    """/jobs schedule|list|cancel: one-off jobs of this server, posting (and reminding) in this channel."""
    group = app_commands.Group(name="jobs", description=DESCRIPTIONS["jobs"], guild_only=True)
    helps = {name: OPTION_HELP[name] for name in ("action", "at", "timezone", "reminders", "text")}

    @group.command(name="schedule", description=DESCRIPTIONS["jobs schedule"])
    @app_commands.describe(**helps, run_in=OPTION_HELP["in"])
    @app_commands.choices(action=_choices(*JOB_ACTIONS))
    @app_commands.rename(run_in="in")
    async def schedule(
        interaction: discord.Interaction,
        action: str,
        run_in: str = "",
        at: str = "",
        timezone: str = "UTC",
        reminders: str = "",
        text: str = "",
    ) -> None:
        guild_id, channel_id = str(interaction.guild_id), str(interaction.channel_id)
        await bot.answer(
            interaction,
            lambda: actions.schedule_job_here(guild_id, channel_id, action, (run_in, at, timezone), reminders, text),
            changes=True,
        )

    @group.command(name="list", description=DESCRIPTIONS["jobs list"])
    async def list_(interaction: discord.Interaction) -> None:
        guild_id = str(interaction.guild_id)
        await bot.answer(interaction, lambda: overview([actions.job_statuses(guild_id)]), changes=False)

    @group.command(name="cancel", description=DESCRIPTIONS["jobs cancel"])
    @app_commands.describe(job=OPTION_HELP["job"])
    async def cancel(interaction: discord.Interaction, job: str) -> None:
        guild_id = str(interaction.guild_id)
        await bot.answer(interaction, lambda: actions.cancel_job_here(guild_id, job), changes=True)

    return group


async def tell_unexpected(interaction: discord.Interaction) -> None:
    """After a bug: the member is told (never Discord's silent "This interaction failed")."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=UNEXPECTED, embed=None, view=None)
    else:
        await interaction.response.send_message(UNEXPECTED, ephemeral=True)


def confirmation(outcome: BackupConfirmation | str) -> Answer:
    return Answer(outcome.text() if isinstance(outcome, BackupConfirmation) else outcome)


def backup_modal(export_type: str, minutes: str, status: str) -> discord.ui.Modal:
    """The "Schedule backups" modal. Stopped before it is sent: discord.py keeps no copy; on_interaction handles
    its submission by custom id."""
    modal = discord.ui.Modal(title=BACKUP_MODAL_TITLE, custom_id=custom_id("backup-modal"))
    interval: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id=INTERVAL_INPUT, default=minutes, max_length=6, required=True
    )
    modal.add_item(discord.ui.Label(text=INTERVAL_LABEL, description=INTERVAL_HINT, component=interval))
    choice: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=TYPE_INPUT,
        options=[
            discord.SelectOption(label=name, value=name, description=text, default=name == export_type)
            for name, text in TYPE_CHOICES.items()
        ],
    )
    modal.add_item(discord.ui.Label(text=TYPE_LABEL, component=choice))
    modal.add_item(discord.ui.TextDisplay(f"**Current status** (read-only)\n{status}"[:4000]))
    modal.stop()
    return modal


def message_arguments(answer: Answer) -> dict[str, Any]:
    """The edit that shows the answer: as content, or as an embed when longer than a message's 2,000 characters."""
    view = buttons_view(answer.buttons)
    if len(answer.text) <= DISCORD_CONTENT:
        return {"content": answer.text, "embed": None, "view": view}
    # Only an overview is this long, and core.bot_ui.overview keeps it within an embed's 4,096 characters.
    return {"content": None, "embed": discord.Embed(description=answer.text), "view": view}
