"""What the bot's commands do, on the Prefect server through bookkeeping/ (the code the CLI uses): the bot keeps no
state of its own, so it can restart at any moment and nothing is lost.

Every function here is synchronous (Prefect's sync client) and is called off the bot's event loop. Each acts on the
guild it is given only: a schedule of another guild is refused (GuildMismatch), whatever slug or id a member sends.
Errors a member can act on are UserFacingError, with the message to show; PrefectUnreachable when the server is down.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from core.bot_ui import OTHER_GUILD, BackupConfirmation, ScheduleLine, Section, disabled_text
from core.errors import UserFacingError
from core.jobs import format_duration, format_remaining
from core.playerdata import PlayerDataError, encode, outline_player_data, plan_export, server_export
from core.playerdata_export import DEPLOYMENT, FLOW_NAME, ExportTarget, check_channel_allowed, size_line
from core.run_stats import RunRecord, failure_summary
from core.schedule_spec import spec_from_words
from guildflow.settings import Settings

if TYPE_CHECKING:
    from bookkeeping.history import ScheduleStatus

T = TypeVar("T")
ChannelGuild = Callable[[str], str | None]  # a channel id -> its guild id, as the gateway told the bot


class PrefectUnreachable(Exception):
    """The Prefect server did not answer (down, or PREFECT_API_URL wrong)."""


class GuildMismatch(UserFacingError):
    def __init__(self) -> None:
        super().__init__(OTHER_GUILD)


def prefect_errors_translated(work: Callable[[], T]) -> Callable[[], T]:
    """work, with the Prefect client's connection errors (and 5xx answers) turned into PrefectUnreachable."""

    def translated() -> T:
        try:
            return work()
        except httpx.TransportError as error:
            raise PrefectUnreachable(str(error)) from None
        except httpx.HTTPStatusError as error:
            if error.response.status_code >= 500:
                raise PrefectUnreachable(f"{error.response.status_code} from the Prefect server") from None
            raise

    return translated


# --- backups (playerData exports) ---------------------------------------------------------------------------


def backup_target(guild_id: str, channel_id: str, export_type: str) -> ExportTarget:
    """This channel's export target: a server export holds this guild, an `all` export every guild."""
    return ExportTarget.validated(export_type, guild_id if export_type == "server" else None, channel_id)


def target_of_slug(slug: str, guild_id: str, channel_guild: ChannelGuild) -> ExportTarget:
    """The export target a button names, only when it is this guild's (its guild, or its channel's)."""
    target = ExportTarget.from_slug(slug)
    if target is None:
        raise UserFacingError(f"{slug!r} is not a backup schedule: use `/backups status` to see this channel's")
    owner = target.guild_id if target.export_type == "server" else channel_guild(target.channel_id or "")
    if owner != guild_id:
        raise GuildMismatch()
    return target


def schedule_backups(
    settings: Settings, target: ExportTarget, minutes: int, changed_by: str
) -> BackupConfirmation | str:
    """Back up `target` every `minutes` (the first run at once), or with 0 turn its schedule off; what to tell."""
    from bookkeeping.schedules import ScheduleDefinition, save_schedule

    check_channel_allowed(target, settings.playerdata_all_channel_ids)
    if minutes == 0:
        found = disable_backups(target, changed_by)
        return disabled_text(target.channel_id or "", target.export_type, found)
    spec = spec_from_words("every", str(minutes), now=datetime.now(timezone.utc))
    definition = ScheduleDefinition(target.slug, DEPLOYMENT, spec, target.parameters)
    saved = save_schedule(definition, start_now=True)
    guilds, size, warning = estimate_export(settings, target)
    return BackupConfirmation(
        minutes=minutes,
        export_type=target.export_type,
        channel_id=target.channel_id or "",
        guild_count=guilds,
        estimated_size=size,
        replaced=saved.replaced,
        first_run_started=saved.first_run is not None,
        warning=warning,
    )


def disable_backups(target: ExportTarget, changed_by: str) -> bool:
    """Pause the target's schedule, as `guildflow export disable` does; False when there is none."""
    from bookkeeping.schedules import pause_if_scheduled

    return pause_if_scheduled(target.slug, DEPLOYMENT, f"disabled from Discord by {changed_by}")


def back_up_now(settings: Settings, target: ExportTarget, asked_by: str) -> str:
    """Start an export of the target on the deployment (a worker runs it, as for a scheduled one)."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from bookkeeping.schedules import check_deployment

    check_channel_allowed(target, settings.playerdata_all_channel_ids)
    check_deployment(DEPLOYMENT)
    run = cast(FlowRun, run_deployment(DEPLOYMENT, parameters=target.parameters, timeout=0, tags=["discord"]))
    return (
        f"▶️ Backup started ({target.export_type}, asked by {asked_by}): flow run `{run.name}`. "
        f"The export appears in <#{target.channel_id}> once a worker has run it."
    )


def backup_statuses(guild_id: str, channel_guild: ChannelGuild, channel_id: str | None = None) -> Section:
    """This guild's backup schedules (of one channel, when given) for the status overview."""
    lines = [
        ScheduleLine(
            name=f"{target.export_type} backups to <#{target.channel_id}>",
            when=status.schedule.definition.spec.describe(),
            state=status.schedule.state(),
            next_run=_relative(status.next_run) if status.next_run else "none scheduled",
            last_outcome=_last_outcome(status.stats.last_run),
        )
        for target, status in _backups_of_guild(guild_id, channel_guild, channel_id)
    ]
    where = "this channel" if channel_id else "this server"
    return Section("Backups", tuple(lines), f"No backups to {where} yet: `/backups schedule` sets one.")


def backup_modal_state(
    guild_id: str, channel_guild: ChannelGuild, channel_id: str, slug: str
) -> tuple[Section, int | None]:
    """What the backup modal shows: this channel's backups, and the interval of the schedule `slug` (if any)."""
    found = _backups_of_guild(guild_id, channel_guild, channel_id)
    minutes = next((s.schedule.definition.spec.minutes for t, s in found if s.schedule.slug == slug), None)
    return backup_statuses(guild_id, channel_guild, channel_id), minutes or None


def _backups_of_guild(
    guild_id: str, channel_guild: ChannelGuild, channel_id: str | None
) -> list[tuple[ExportTarget, ScheduleStatus]]:
    from bookkeeping.history import schedule_statuses
    from bookkeeping.schedules import check_deployment

    check_deployment(DEPLOYMENT)
    found = []
    for status in schedule_statuses(target=FLOW_NAME):
        target = ExportTarget.from_parameters(status.schedule.definition.parameters)
        if target is None or (channel_id is not None and target.channel_id != channel_id):
            continue
        owner = target.guild_id if target.export_type == "server" else channel_guild(target.channel_id or "")
        if owner == guild_id:
            found.append((target, status))
    return found


def status_overview(guild_id: str, channel_guild: ChannelGuild) -> list[Section]:
    """Every section of `/status` for this guild: backups, summaries, jobs."""
    return [backup_statuses(guild_id, channel_guild), summary_statuses(guild_id), job_statuses(guild_id)]


def estimate_export(settings: Settings, target: ExportTarget) -> tuple[int | None, str, str]:
    """(guilds, estimated size, a warning or "") of an export of the target made now from GUILDFLOW_PLAYERDATA."""
    try:
        raw = settings.playerdata.read_bytes()
    except OSError as error:
        return None, f"unknown ({settings.playerdata} is not readable where the bot runs: {error.strerror})", ""
    try:
        player_data = outline_player_data(raw, str(settings.playerdata))
        now = datetime.now(timezone.utc)
        if target.export_type == "server":
            guild = target.guild_id or ""
            if guild not in player_data.guilds:
                return 0, "unknown", f"this server is not in {settings.playerdata} yet: exports fail until it is"
            content = encode(server_export(player_data, guild, now))
        else:
            content = player_data.raw
        plan = plan_export(target.export_type, content, player_data, target.scope, now, settings.playerdata_upload_cap)
    except PlayerDataError as error:
        return None, "unknown", str(error)
    guilds = 1 if target.export_type == "server" else len(player_data.guilds)
    return guilds, size_line(plan), plan.warning


def _relative(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def _last_outcome(last: RunRecord | None) -> str:
    if last is None:
        return "none yet"
    when = last.when
    at = f" {_relative(when)}" if when else ""
    reason = f": {failure_summary(last.message, 200)}" if last.failed else ""
    return f"{last.state_name}{at}{reason}"


# --- summaries ------------------------------------------------------------------------------------------------


def schedule_summary(
    guild_id: str,
    channel_id: str,
    channel_guild: ChannelGuild,
    when: tuple[str, str, str],
    options: dict[str, Any],
    to: str,
) -> str:
    """Summarise this channel on a schedule (when: kind, time, zone), delivered to `to` (comma-separated
    destinations) or this channel; what to tell."""
    from bookkeeping.history import next_run
    from bookkeeping.summaries import save_summary_schedule
    from core.summaries import SummaryRequest

    destinations = [part.strip() for part in to.split(",") if part.strip()] or [f"discord:{channel_id}"]
    request = SummaryRequest.validated(guild_id, [channel_id], destinations, **options)
    _check_channels_here(request.destinations, guild_id, channel_guild)
    kind, time_text, zone = when
    now = datetime.now(timezone.utc)
    spec = spec_from_words(kind, time_text, zone or "UTC", now=now)
    schedule = save_summary_schedule(request, spec)
    first = next_run(schedule, now)
    return (
        f"✅ Summary schedule `{schedule.slug}` saved: {request.describe()}, {spec.describe()}. "
        f"First run: {_relative(first) if first else 'none scheduled'}. It lives on the Prefect server, so it "
        "survives restarts; `/summaries pause` or `remove` stops it."
    )


def summary_statuses(guild_id: str) -> Section:
    """This guild's summary schedules for the status overview."""
    from bookkeeping.history import schedule_statuses
    from core.summaries import FLOW_NAME as SUMMARY_FLOW

    lines = [
        ScheduleLine(
            name=f"`{status.schedule.slug}`: summary of "
            + ", ".join(f"<#{channel}>" for channel in status.schedule.definition.parameters.get("channel_ids", [])),
            when=status.schedule.definition.spec.describe(),
            state=status.schedule.state(),
            next_run=_relative(status.next_run) if status.next_run else "none scheduled",
            last_outcome=_last_outcome(status.stats.last_run),
        )
        for status in schedule_statuses(target=SUMMARY_FLOW, guild=guild_id)
    ]
    return Section("Summaries", tuple(lines), "No summary schedules yet: `/summaries schedule` sets one.")


def change_summary(guild_id: str, slug: str, change: str, who: str) -> str:
    """Pause, resume or remove this guild's summary schedule `slug`; what to tell."""
    from bookkeeping.schedules import pause_schedule, read_schedule, remove_schedule, resume_schedule
    from core.summaries import FLOW_NAME as SUMMARY_FLOW

    schedule = read_schedule(slug.strip())
    if schedule is None or schedule.definition.target != SUMMARY_FLOW:
        raise UserFacingError(f"there is no summary schedule {slug!r}: `/summaries list` shows this server's")
    if schedule.definition.guild != guild_id:
        raise GuildMismatch()
    if change == "pause":
        pause_schedule(schedule.slug, f"paused from Discord by {who}")
        return f"⏸️ Summary schedule `{schedule.slug}` paused (kept: `/summaries resume` starts it again)."
    if change == "resume":
        resume_schedule(schedule.slug)
        return f"▶️ Summary schedule `{schedule.slug}` resumed: {schedule.definition.spec.describe()}."
    remove_schedule(schedule.slug)
    return f"🗑️ Summary schedule `{schedule.slug}` removed (its past runs stay in Prefect's history)."


def _check_channels_here(destinations: tuple[str, ...], guild_id: str, channel_guild: ChannelGuild) -> None:
    """A command here may only post to this server's channels."""
    from core.delivery import Destination

    for text in destinations:
        destination = Destination.parse(text)
        if destination.kind == "discord" and channel_guild(destination.target) != guild_id:
            raise UserFacingError(
                f"<#{destination.target}> is not a channel of this server: a schedule made here posts only to this "
                "server's channels (or to a webhook:, email: or file: destination)"
            )


# --- jobs -----------------------------------------------------------------------------------------------------


def schedule_job_here(
    guild_id: str, channel_id: str, action: str, when: tuple[str, str, str], reminders: str, text: str
) -> str:
    """A one-off job for this channel (when: in, at, zone), its reminders posted here; what to tell."""
    from bookkeeping.jobs import schedule_job
    from core.jobs import JobError, describe_when, job_spec

    run_in, at, zone = when
    payload: dict[str, Any]
    if action == "post-message":
        if not text.strip():
            raise JobError("post-message needs the text to post: give `text`")
        payload = {"text": text}
    elif action == "channel-summary":
        payload = {"channel_ids": [channel_id]}  # the job fills in this guild and this channel as destination
    else:
        payload = dict(backup_target(guild_id, channel_id, "server").parameters)
    now = datetime.now(timezone.utc)
    spec = job_spec(
        action,
        now=now,
        run_in=run_in or None,
        at=at or None,
        timezone_name=zone or "UTC",
        payload=payload,
        reminders=reminders,
        reminder_text=text,
        destinations=[f"discord:{channel_id}"],
        description=text.strip()[:100],
        guild=guild_id,
    )
    job = schedule_job(spec)
    made = "scheduled" if job.created else "was already scheduled (nothing new made)"
    left = ", ".join(format_duration(spec.at - r.at) for r in job.reminders_left) or "none"
    return (
        f"✅ Job `{job.id}` {made}: {spec.title()}, {describe_when(spec.at, spec.timezone, now)} "
        f"({_relative(spec.at)}); reminders before it: {left}. `/jobs cancel job:{job.id}` cancels it."
    )


def job_statuses(guild_id: str) -> Section:
    """This guild's pending jobs, soonest first, for the status overview."""
    from bookkeeping.jobs import list_jobs

    now = datetime.now(timezone.utc)
    lines = tuple(
        ScheduleLine(
            name=f"job `{job.id}`: {job.spec.title()}",
            when=f"in {format_remaining(job.spec.at - now)}" if job.spec.at > now else "due, waiting for a worker",
            state="active",
            next_run=_relative(job.spec.at),
            note="reminders left: "
            + (", ".join(format_duration(job.spec.at - r.at) for r in job.reminders_left) or "none"),
        )
        for job in list_jobs(guild=guild_id)
    )
    return Section("Jobs", lines, "No pending jobs: `/jobs schedule` makes one.")


def cancel_job_here(guild_id: str, job_id: str) -> str:
    """Cancel this guild's job (another guild's is "no job" here: its existence is not told)."""
    from bookkeeping.jobs import cancel_job

    job = cancel_job(job_id.strip(), guild=guild_id)
    return f"🛑 Job `{job.id}` cancelled with its pending reminders: {job.spec.title()}."
