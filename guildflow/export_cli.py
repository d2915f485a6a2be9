"""`guildflow export`: playerData exports to Discord, now or on a schedule kept on the Prefect server, and
restoring from an export."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from core.playerdata import ALLOW_REMOVALS, REPLACE_UNREADABLE, PlayerDataError
from core.playerdata_export import DEPLOYMENT, FLOW_NAME, ExportTarget, check_channel_allowed
from guildflow.cli_common import (
    connect_prefect,
    fail,
    finish_with_prefect,
    flow_outcome,
    require_prefect_server,
    settings_or_exit,
)
from guildflow.schedules_cli import (
    AnywayOption,
    CronOption,
    DailyOption,
    EveryOption,
    MonthlyOption,
    OnceOption,
    PauseAfterOption,
    TimezoneOption,
    WeeklyOption,
    check_workable,
    print_status,
    spec_from_options,
    when,
)

export_app = typer.Typer(
    help="Back up the game bot's playerData.json to Discord, now or on a schedule; restore from a backup.",
    no_args_is_help=True,
)

TypeOption = Annotated[str, typer.Option("--type", help="server (one guild) or all (every guild)")]
GuildOption = Annotated[Optional[str], typer.Option("--guild", help="the guild id of a server export")]
ChannelOption = Annotated[Optional[str], typer.Option("--channel", help="the Discord channel id to post to")]


def _target(export_type: str, guild: str | None, channel: str | None) -> ExportTarget:
    try:
        return ExportTarget.validated(export_type, guild, channel)
    except PlayerDataError as error:
        fail(str(error), 2)


@export_app.command("now")
def export_now(
    export_type: TypeOption,
    guild: GuildOption = None,
    channel: ChannelOption = None,
    copy_to: Annotated[Optional[Path], typer.Option("--copy-to", help="also write the export to this folder")] = None,
    source: Annotated[Optional[Path], typer.Option("--source", help="default: GUILDFLOW_PLAYERDATA")] = None,
) -> None:
    """Export once, right away: post to --channel and/or write to --copy-to (which needs no Discord)."""
    target = _target(export_type, guild, channel)
    if not channel and not copy_to:
        fail("give --channel to post the export, --copy-to to write it to a folder, or both", 2)
    settings = settings_or_exit()
    try:
        check_channel_allowed(target, settings.playerdata_all_channel_ids)
    except PlayerDataError as error:
        fail(str(error), 2)
    connect_prefect(settings)
    from flows.playerdata import playerdata_export

    state = playerdata_export(
        export_type=target.export_type,
        guild_id=target.guild_id,
        channel_id=target.channel_id,
        source=str(source) if source else None,
        copy_to=str(copy_to) if copy_to else None,
        return_state=True,
    )
    finish_with_prefect(state)
    outcome = flow_outcome(state)
    if isinstance(outcome, BaseException):
        fail(f"export failed: {outcome}")
    details = outcome.summary() if outcome is not None else "see the flow run's logs for the files"
    typer.secho(f"exported {target.describe()}: {details}", fg="green")
    if outcome is not None and outcome.warning:
        typer.secho(outcome.warning, fg="yellow")


@export_app.command("schedule")
def export_schedule(
    export_type: TypeOption,
    channel: Annotated[str, typer.Option("--channel", help="the Discord channel id to post to")],
    guild: GuildOption = None,
    every: EveryOption = None,
    daily: DailyOption = None,
    weekly: WeeklyOption = None,
    monthly: MonthlyOption = None,
    cron: CronOption = None,
    once: OnceOption = None,
    timezone_name: TimezoneOption = "UTC",
    pause_after_failures: PauseAfterOption = None,
    anyway: AnywayOption = False,
) -> None:
    """Create or replace the schedule of this channel + type + guild on the Prefect server (`--every` starts a
    first run right away). Schedules survive restarts; stop one with `guildflow export disable` (or `--every 0`).
    It pauses itself after GUILDFLOW_PAUSE_AFTER_FAILURES failed runs in a row, or --pause-after-failures.
    A schedule whose runs would fail for want of a setting (no bot token, no webhook) is refused unless --anyway."""
    target = _target(export_type, guild, channel)
    settings = settings_or_exit()
    try:
        check_channel_allowed(target, settings.playerdata_all_channel_ids)
    except PlayerDataError as error:
        fail(str(error), 2)
    disable = every == 0 and not any((daily, weekly, monthly, cron, once))
    spec = None if disable else spec_from_options(every, daily, weekly, monthly, cron, once, timezone_name)
    require_prefect_server("export schedules")
    from bookkeeping.schedules import ScheduleDefinition, ScheduleError, save_schedule

    try:
        if spec is None:
            _report_disabled(target, disable_export_schedule(target))
            return
        definition = ScheduleDefinition(target.slug, DEPLOYMENT, spec, target.parameters, pause_after_failures)
        check_workable(settings, definition, anyway)
        saved = save_schedule(definition, start_now=spec.kind == "every")
    except ScheduleError as error:
        fail(str(error), 2)
    typer.secho(
        f"{'replaced' if saved.replaced else 'created'} schedule {target.slug}: {target.describe()} {spec.describe()}",
        fg="green",
    )
    if saved.first_run is not None:
        typer.echo(
            f"first run {saved.first_run.name} starts now (a worker on the deployment's work pool runs it); "
            "`guildflow export status` shows how it went"
        )
    else:
        from bookkeeping.history import next_run

        first = next_run(saved.schedule, datetime.now(timezone.utc))
        typer.echo(f"first run: {when(first, spec.timezone)}; `guildflow export status` shows how it went")


@export_app.command("disable")
def export_disable(export_type: TypeOption, channel: ChannelOption = None, guild: GuildOption = None) -> None:
    """Pause the schedule of this channel + type + guild (`guildflow export schedule` resumes it)."""
    if not channel:
        fail("give --channel: schedules are per channel + type + guild (`guildflow export status` lists them)", 2)
    target = _target(export_type, guild, channel)
    require_prefect_server("export schedules")
    from bookkeeping.schedules import ScheduleError

    try:
        _report_disabled(target, disable_export_schedule(target))
    except ScheduleError as error:
        fail(str(error), 2)


DISABLED = "disabled with `guildflow export disable` or `--every 0`"


def disable_export_schedule(target: ExportTarget) -> bool:
    """Pause the target's schedule; False when it has none."""
    from bookkeeping.schedules import pause_if_scheduled

    return pause_if_scheduled(target.slug, DEPLOYMENT, DISABLED)


def _report_disabled(target: ExportTarget, found: bool) -> None:
    if not found:
        fail(f"no export schedule for {target.describe()} (`guildflow export status` lists them)")
    typer.secho(f"disabled schedule {target.slug}: no more exports of {target.describe()}", fg="green")


@export_app.command("status")
def export_status() -> None:
    """Every export schedule: active or paused (and why), when, what goes where, last run (and why it failed),
    next run, failures and stats."""
    require_prefect_server("export schedules")
    from bookkeeping.history import schedule_statuses
    from bookkeeping.schedules import ScheduleError, check_deployment

    try:
        check_deployment(DEPLOYMENT)
        statuses = schedule_statuses(target=FLOW_NAME)
    except ScheduleError as error:
        fail(str(error), 2)
    if not statuses:
        typer.echo("no export schedules (create one with `guildflow export schedule`)")
        return
    for status in statuses:
        target = ExportTarget.from_parameters(status.schedule.definition.parameters)
        if target is None:
            details = "parameters are not an export's: run `guildflow export schedule` for it again"
        else:
            guild = f"  guild {target.guild_id}" if target.guild_id else ""
            details = f"type {target.export_type}{guild}  channel {target.channel_id}"
        print_status(status, details)


@export_app.command("restore")
def export_restore(
    files: Annotated[list[Path], typer.Argument(help="the export file (.json or .json.gz), or every part of one")],
    target: Annotated[Optional[Path], typer.Option("--target", help="default: GUILDFLOW_PLAYERDATA")] = None,
    guild: Annotated[Optional[str], typer.Option("--guild", help="restore only this guild")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change; write nothing")] = False,
    allow_removals: Annotated[
        bool,
        typer.Option(
            ALLOW_REMOVALS,
            help="let the restore remove guilds or non-guild keys, or keep less than half the players or bytes",
        ),
    ] = False,
    replace_unreadable: Annotated[
        bool,
        typer.Option(REPLACE_UNREADABLE, help="restore over a target that is not valid playerData (kept as a .bak)"),
    ] = False,
) -> None:
    """Restore playerData from an export: validate it, show what it removes and changes, then (unless
    --dry-run) keep a timestamped backup of the current file and replace it atomically. Stop the bot first.
    A restore that removes guilds or non-guild keys, or shrinks the data by more than half, needs
    --allow-removals; one over a corrupt or empty file needs --replace-unreadable."""
    destination = target or settings_or_exit().playerdata
    from tasks.playerdata import plan_player_data_restore, restore_player_data

    try:
        pending = plan_player_data_restore(list(files), destination, guild)
    except PlayerDataError as error:
        fail(str(error), 2)
    if not pending.target_existed:
        typer.echo(f"{destination} does not exist: the restore creates it")
    typer.echo(pending.plan.describe())
    if dry_run:
        needed = pending.plan.flags_needed
        typer.secho(
            f"dry run: {destination} was not changed"
            + (f"; a real run needs {' and '.join(needed)}" if needed else ""),
            fg="yellow",
        )
        return
    flags = [
        flag for flag, given in ((ALLOW_REMOVALS, allow_removals), (REPLACE_UNREADABLE, replace_unreadable)) if given
    ]
    try:
        backup = restore_player_data(pending, flags)
    except PlayerDataError as error:
        fail(str(error), 2)
    if backup:
        typer.echo(f"backup of the previous file: {backup}")
    through = f" (through the link, into {pending.real_target})" if destination.is_symlink() else ""
    typer.secho(f"restored {destination}{through}", fg="green")
