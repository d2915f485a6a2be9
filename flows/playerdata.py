"""Export the game bot's playerData.json to a Discord channel and/or a local folder, as a backup."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from bookkeeping.pauses import pause_after_failures
from core.parameters import OptionalText
from core.playerdata import ExportType, PlayerDataError
from core.playerdata_export import ExportTarget
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import load_settings
from tasks.deliver import deliver_everywhere, deliver_message
from tasks.playerdata import (
    ExportOutcome,
    check_destination,
    compare_with_previous_copy,
    keep_local_copy,
    message_to_post,
    next_export,
    plan_export_files,
    read_player_data,
)

hide_tracebacks_of_user_errors()
PAUSE_AFTER_FAILURES = pause_after_failures(notify=deliver_everywhere)


@flow(
    name="playerdata-export",
    log_prints=True,
    persist_result=False,
    on_failure=[PAUSE_AFTER_FAILURES],
    on_crashed=[PAUSE_AFTER_FAILURES],
)
def playerdata_export(
    export_type: ExportType,
    guild_id: OptionalText = None,
    channel_id: OptionalText = None,
    source: OptionalText = None,
    copy_to: OptionalText = None,
) -> ExportOutcome:
    """Export playerData as a file posted in a Discord channel and/or written to a
    local folder that keeps the last GUILDFLOW_PLAYERDATA_KEEP exports and the last known good one.

    An export with fewer guilds, or less than half the data, of the previous one in the copy folder is
    flagged: a warning in the run's log and a line in its message.

    Nothing is posted unless every check passes first. A scheduled run whose channel is gone or lacks a
    permission pauses its schedule at once; GUILDFLOW_PAUSE_AFTER_FAILURES failed runs in a row pause it too.

    Args:
        export_type: server (one guild, wrapped with its provenance) or all (the whole file unchanged).
        guild_id: The guild a server export holds.
        channel_id: The Discord channel to post to; an `all` export only to GUILDFLOW_PLAYERDATA_ALL_CHANNELS.
        source: The playerData.json to export. Left empty: GUILDFLOW_PLAYERDATA.
        copy_to: A folder to also write the export to.
    """
    settings = load_settings(playerdata=source)
    target = ExportTarget.validated(export_type, guild_id, channel_id)
    if not target.channel_id and not copy_to:
        raise PlayerDataError("nothing to do: give a channel to post to and/or a copy folder (--channel, --copy-to)")

    player_data = read_player_data(settings.playerdata)
    check_destination(settings, target, player_data)
    exported_at = datetime.now(timezone.utc)
    plan = plan_export_files(target, player_data, exported_at, settings.playerdata_upload_cap)
    degraded, copies = "", []
    if copy_to:
        degraded = compare_with_previous_copy(plan, Path(copy_to))
        copies = keep_local_copy(plan, Path(copy_to), settings.playerdata_keep, settings.playerdata_keep_last_good)
    message_ids: list[int] = []
    if target.channel_id:
        message = message_to_post(target, player_data, plan, exported_at, next_export(target), degraded)
        receipt = deliver_message(settings, target.destination, message, run_key=flow_run.id)
        message_ids = [int(part) for part in receipt.part_ids]
    outcome = ExportOutcome([file.name for file in plan.files], message_ids, [str(path) for path in copies], degraded)
    print(f"playerData export {target.describe()}: {outcome.summary()}" + (f"\n{degraded}" if degraded else ""))
    return outcome
