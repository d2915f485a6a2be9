"""`guildflow summary`: summaries of Discord channels, now or on a schedule kept on the Prefect server (sugar over
`guildflow schedules`; the schedule is made by bookkeeping.summaries, as the Discord bot makes it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Optional

import typer

from core.errors import UserFacingError
from core.summaries import DEFAULT_MIN_MESSAGES, DEPLOYMENT, FLOW_NAME, SINCE_LAST, SummaryRequest
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
    pause_one,
    print_status,
    remove_one,
    resume_one,
    spec_from_options,
    when,
)

summary_app = typer.Typer(
    help="Summaries of Discord channels delivered to Discord, webhooks, email or a folder, now or on a schedule.",
    no_args_is_help=True,
)

GuildOption = Annotated[str, typer.Option("--guild", help="the guild (server) id of the channels")]
ChannelsOption = Annotated[list[str], typer.Option("--channel", help="a channel id to summarise (repeatable)")]
ToOption = Annotated[
    list[str],
    typer.Option(
        "--to", help="where to deliver (repeatable): discord:ID[:embed|:markdown], webhook:URL, email:ADDR, file:DIR"
    ),
]
WindowOption = Annotated[str, typer.Option("--window", help="since-last, or the last N hours/days: 6h, 24h, 7d")]
LengthOption = Annotated[str, typer.Option("--length", help="brief, detailed or comprehensive")]
MinMessagesOption = Annotated[
    int, typer.Option("--min-messages", help="fewer messages: skip, deliver nothing", min=1, max=100_000)
]
BotsOption = Annotated[bool, typer.Option("--include-bots", help="summarise bots' messages too")]
ActionsOption = Annotated[bool, typer.Option("--action-items", help="list action items (owner, due date)")]
TermsOption = Annotated[bool, typer.Option("--technical-terms", help="list jargon with one-line definitions")]
TitleOption = Annotated[str, typer.Option("--title", help='the summary\'s title (default "Summary of #channel")')]
SlugArgument = Annotated[str, typer.Argument(help="the schedule's slug (`guildflow summary list` shows them)")]


def _request(
    guild: str,
    channels: list[str],
    to: list[str],
    window: str,
    length: str,
    min_messages: int,
    include_bots: bool,
    action_items: bool,
    technical_terms: bool,
    title: str,
) -> SummaryRequest:
    try:
        return SummaryRequest.validated(
            guild,
            channels,
            to,
            window=window,
            length=length,
            min_messages=min_messages,
            include_bots=include_bots,
            action_items=action_items,
            technical_terms=technical_terms,
            title=title,
        )
    except UserFacingError as error:
        fail(str(error), 2)


@summary_app.command("schedule")
def summary_schedule(
    guild: GuildOption,
    channel: ChannelsOption,
    to: ToOption,
    every: EveryOption = None,
    daily: DailyOption = None,
    weekly: WeeklyOption = None,
    monthly: MonthlyOption = None,
    cron: CronOption = None,
    once: OnceOption = None,
    timezone_name: TimezoneOption = "UTC",
    window: WindowOption = SINCE_LAST,
    length: LengthOption = "detailed",
    min_messages: MinMessagesOption = DEFAULT_MIN_MESSAGES,
    include_bots: BotsOption = False,
    action_items: ActionsOption = False,
    technical_terms: TermsOption = False,
    title: TitleOption = "",
    pause_after_failures: PauseAfterOption = None,
    anyway: AnywayOption = False,
) -> None:
    """Create or replace the summary schedule of these channels on the Prefect server. Each run summarises what was
    said since the last summary it delivered (or --window), and skips with fewer than --min-messages."""
    request = _request(
        guild, channel, to, window, length, min_messages, include_bots, action_items, technical_terms, title
    )
    spec = spec_from_options(every, daily, weekly, monthly, cron, once, timezone_name)
    settings = settings_or_exit()
    require_prefect_server("summary schedules")
    from bookkeeping.history import next_run
    from bookkeeping.schedules import ScheduleError
    from bookkeeping.summaries import save_summary_schedule, summary_schedule_definition

    try:
        check_workable(settings, summary_schedule_definition(request, spec, pause_after_failures), anyway)
        schedule = save_summary_schedule(request, spec, pause_after_failures)
    except ScheduleError as error:
        fail(str(error), 2)
    typer.secho(f"saved schedule {schedule.slug}: {request.describe()}, {spec.describe()}", fg="green")
    first = next_run(schedule, datetime.now(timezone.utc))
    typer.echo(f"first run: {when(first, spec.timezone)}; `guildflow summary status` shows how it went")


@summary_app.command("now")
def summary_now(
    guild: GuildOption,
    channel: ChannelsOption,
    to: ToOption,
    window: WindowOption = SINCE_LAST,
    length: LengthOption = "detailed",
    min_messages: MinMessagesOption = DEFAULT_MIN_MESSAGES,
    include_bots: BotsOption = False,
    action_items: ActionsOption = False,
    technical_terms: TermsOption = False,
    title: TitleOption = "",
) -> None:
    """Summarise once, right away (since-last follows its own cursor, apart from the schedules')."""
    request = _request(
        guild, channel, to, window, length, min_messages, include_bots, action_items, technical_terms, title
    )
    connect_prefect(settings_or_exit())
    from flows.summary import channel_summary

    state = channel_summary(**request.parameters(), return_state=True)
    finish_with_prefect(state)
    outcome = flow_outcome(state)
    if isinstance(outcome, BaseException):
        fail(f"summary failed: {outcome}")
    if outcome is None:
        typer.secho("summary done (see the run's 'channel-summary' artifact)", fg="green")
        return
    typer.secho(outcome.summary(), fg="yellow" if outcome.skipped else "green")


@summary_app.command("list")
def summary_list(
    guild: Annotated[Optional[str], typer.Option("--guild", help="only this guild's schedules")] = None,
) -> None:
    """Every summary schedule: slug, state, when, what and where to."""
    require_prefect_server("summary schedules")
    from bookkeeping.summaries import read_summary_schedules

    schedules = read_summary_schedules(guild)
    if not schedules:
        typer.echo("no summary schedules (create one with `guildflow summary schedule`)")
        return
    for schedule in schedules:
        typer.echo(f"{schedule.slug}  {schedule.state()}")
        typer.echo(f"  {schedule.definition.spec.describe()}  {_details(schedule.definition.parameters)}")


@summary_app.command("status")
def summary_status() -> None:
    """Every summary schedule with its last run (and why it failed), next run and stats."""
    require_prefect_server("summary schedules")
    from bookkeeping.history import schedule_statuses
    from bookkeeping.schedules import ScheduleError, check_deployment

    try:
        check_deployment(DEPLOYMENT)
        statuses = schedule_statuses(target=FLOW_NAME)
    except ScheduleError as error:
        fail(str(error), 2)
    if not statuses:
        typer.echo("no summary schedules (create one with `guildflow summary schedule`)")
    for status in statuses:
        print_status(status, _details(status.schedule.definition.parameters))


@summary_app.command("pause")
def summary_pause(
    slug: SlugArgument,
    reason: Annotated[str, typer.Option("--reason", help="why (shown by status)")] = "paused by hand",
) -> None:
    """Pause a summary schedule, keeping the reason (`guildflow summary resume` resumes it)."""
    _summary_schedule(slug)
    pause_one(slug, reason)


@summary_app.command("resume")
def summary_resume(slug: SlugArgument) -> None:
    """Resume a paused summary schedule; its cursor is where it was, so nothing said meanwhile is missed."""
    _summary_schedule(slug)
    resume_one(slug)


@summary_app.command("remove")
def summary_remove(
    slug: SlugArgument,
    yes: Annotated[bool, typer.Option("--yes", help="really remove it (pause keeps it)")] = False,
) -> None:
    """Delete a summary schedule (its past runs stay in Prefect's history). Needs --yes."""
    _summary_schedule(slug)
    remove_one(slug, yes, "guildflow summary pause")


def _summary_schedule(slug: str) -> None:
    """Stop unless slug names a summary schedule (the other kinds have their own commands)."""
    require_prefect_server("summary schedules")
    from bookkeeping.schedules import read_schedule

    schedule = read_schedule(slug)
    if schedule is None or schedule.definition.target != FLOW_NAME:
        fail(f"no summary schedule {slug!r} (`guildflow summary list` shows them)")


def _details(parameters: Mapping[str, Any]) -> str:
    try:
        request = SummaryRequest.validated(
            str(parameters.get("guild_id", "")),
            parameters.get("channel_ids") or [],
            parameters.get("destinations") or [],
            window=str(parameters.get("window", SINCE_LAST)),
            length=str(parameters.get("length", "detailed")),
            min_messages=int(parameters.get("min_messages", DEFAULT_MIN_MESSAGES)),
            include_bots=bool(parameters.get("include_bots")),
            action_items=bool(parameters.get("extract_action_items")),
            technical_terms=bool(parameters.get("extract_technical_terms")),
            title=str(parameters.get("title", "")),
        )
    except (UserFacingError, TypeError, ValueError):
        return "parameters are not a summary's: run `guildflow summary schedule` for it again"
    return f"guild {request.guild_id}: {request.describe()}"
