"""What the bot's commands do, on the Prefect server through bookkeeping/ (the code the CLI uses): the bot keeps no
state of its own, so it can restart at any moment and nothing is lost.

Every function here is synchronous (Prefect's sync client) and is called off the bot's event loop. Each acts on the
guild it is given only: a schedule of another guild is refused (GuildMismatch), whatever slug or id a member sends.
Errors a member can act on are UserFacingError, with the message to show; PrefectUnreachable when the server is down.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar, cast

import httpx

from core.bot_ui import OTHER_GUILD, BackupConfirmation, ScheduleLine, Section
from core.errors import UserFacingError
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
    try:
        return ExportTarget.validated(export_type, guild_id if export_type == "server" else None, channel_id)
    except PlayerDataError as error:
        raise UserFacingError(str(error)) from None


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

    _check_allowed(settings, target)
    if minutes == 0:
        from core.bot_ui import disabled_text

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
    from guildflow.export_cli import disable_export_schedule

    return disable_export_schedule(target, f"disabled from Discord by {changed_by}")


def back_up_now(settings: Settings, target: ExportTarget, asked_by: str) -> str:
    """Start an export of the target on the deployment (a worker runs it, as for a scheduled one)."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from bookkeeping.schedules import check_deployment

    _check_allowed(settings, target)
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
    """Every section of `/status` for this guild (summaries and jobs add theirs here)."""
    return [backup_statuses(guild_id, channel_guild)]


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


def _check_allowed(settings: Settings, target: ExportTarget) -> None:
    try:
        check_channel_allowed(target, settings.playerdata_all_channel_ids)
    except PlayerDataError as error:
        raise UserFacingError(str(error)) from None


def _relative(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def _last_outcome(last: RunRecord | None) -> str:
    if last is None:
        return "none yet"
    when = last.when
    at = f" {_relative(when)}" if when else ""
    reason = f": {failure_summary(last.message, 200)}" if last.failed else ""
    return f"{last.state_name}{at}{reason}"
