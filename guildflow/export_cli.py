"""`guildflow export`: playerData exports to Discord, now or on a schedule kept on the Prefect server, and
restoring from an export."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from core.playerdata import ALLOW_REMOVALS, REPLACE_UNREADABLE, PlayerDataError
from core.playerdata_export import ExportTarget, check_channel_allowed, schedule_interval
from guildflow.cli_common import (
    connect_prefect,
    fail,
    finish_with_prefect,
    flow_outcome,
    require_prefect_server,
    settings_or_exit,
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
    every: Annotated[int, typer.Option("--every", help="minutes between exports, 1 to 10080; 0 disables")],
    export_type: TypeOption,
    channel: Annotated[str, typer.Option("--channel", help="the Discord channel id to post to")],
    guild: GuildOption = None,
) -> None:
    """Create or replace the schedule of this channel + type + guild on the Prefect server, and start a
    first run right away. Schedules survive restarts; stop one with `guildflow export disable`."""
    target = _target(export_type, guild, channel)
    try:
        interval = schedule_interval(every)
        check_channel_allowed(target, settings_or_exit().playerdata_all_channel_ids)
    except PlayerDataError as error:
        fail(str(error), 2)
    require_prefect_server("export schedules")
    from tasks.playerdata_schedules import ExportScheduleError, disable_schedule, set_schedule

    try:
        if interval is None:
            _report_disabled(target, disable_schedule(target))
            return
        result = set_schedule(target, interval)
    except ExportScheduleError as error:
        fail(str(error), 2)
    typer.secho(
        f"{'replaced' if result.replaced else 'created'} schedule {result.slug}: {target.describe()} every "
        f"{_minutes(interval)}",
        fg="green",
    )
    typer.echo(
        f"first run {result.first_run_name} starts now (a worker on the deployment's work pool runs it); "
        "`guildflow export status` shows how it went"
    )


@export_app.command("disable")
def export_disable(export_type: TypeOption, channel: ChannelOption = None, guild: GuildOption = None) -> None:
    """Pause the schedule of this channel + type + guild (`guildflow export schedule` resumes it)."""
    if not channel:
        fail("give --channel: schedules are per channel + type + guild (`guildflow export status` lists them)", 2)
    target = _target(export_type, guild, channel)
    require_prefect_server("export schedules")
    from tasks.playerdata_schedules import ExportScheduleError, disable_schedule

    try:
        _report_disabled(target, disable_schedule(target))
    except ExportScheduleError as error:
        fail(str(error), 2)


def _report_disabled(target: ExportTarget, found: bool) -> None:
    if not found:
        fail(f"no export schedule for {target.describe()} (`guildflow export status` lists them)")
    typer.secho(f"disabled schedule {target.slug}: no more exports of {target.describe()}", fg="green")


@export_app.command("status")
def export_status() -> None:
    """Every export schedule: active or paused (and why), interval, what goes where, last run, next run,
    consecutive failures."""
    require_prefect_server("export schedules")
    from tasks.playerdata_schedules import ExportScheduleError, schedule_statuses

    try:
        statuses = schedule_statuses()
    except ExportScheduleError as error:
        fail(str(error), 2)
    if not statuses:
        typer.echo("no export schedules (create one with `guildflow export schedule`)")
        return
    for status in statuses:
        target = status.target
        state = typer.style("active", fg="green") if status.active else typer.style("paused", fg="yellow")
        typer.echo(f"{status.slug}  {state}" + (f": {status.paused_reason}" if status.paused_reason else ""))
        if target:
            guild = f"  guild {target.guild_id}" if target.guild_id else ""
            typer.echo(f"  type {target.export_type}{guild}  channel {target.channel_id}")
        interval = _minutes(status.interval) if status.interval else "not an interval schedule"
        typer.echo(f"  every {interval}  consecutive failures {status.consecutive_failures}")
        last = status.last_run
        typer.echo(
            f"  last run: {last.state_name} {_when(last.end_time or last.start_time or last.expected_start_time)} "
            f"({last.name})"
            if last
            else "  last run: none yet"
        )
        typer.echo(f"  next run: {_when(status.next_run) if status.next_run else 'none scheduled'}")
        if status.parameters_lost:
            typer.secho(
                "  its parameters were dropped (paused or resumed with Prefect's own commands?): run "
                "`guildflow export schedule` for it again",
                fg="red",
            )


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


def _minutes(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    return f"{minutes} min" if minutes % 60 else f"{minutes // 60} h"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "?"
