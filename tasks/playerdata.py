"""The steps of a playerData export.

Nothing is posted before everything that can be checked is checked: the file is valid JSON, the guild exists,
the channel may receive this export (allow-list, same guild), and the files fit the upload cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from bookkeeping.history import next_run_of
from core.bot_ui import export_buttons
from core.delivery import Message
from core.playerdata import (
    COPY_INDEX,
    ExportPlan,
    KeptExport,
    PlayerDataError,
    PlayerDataFile,
    RestorePlan,
    check_guild,
    copy_index,
    degraded_warning,
    encode,
    exports_in_folder,
    exports_to_delete,
    kept_export,
    measure_export,
    outline_player_data,
    plan_export,
    plan_restore,
    planned_export,
    read_copy_index,
    read_export,
    restore_target_data,
    serialize_like,
    server_export,
)
from core.playerdata_export import ExportTarget, check_channel_allowed, check_same_guild, export_message, export_post
from guildflow.settings import Settings
from integrations.local_files import write_atomically
from tasks import clients


@dataclass(frozen=True)
class ExportOutcome:
    files: list[str]
    message_ids: list[int]
    copies: list[str]
    warning: str = ""  # the export looks degraded against the previous one

    def summary(self) -> str:
        posted = f"posted {len(self.files)} file(s)" if self.message_ids else "not posted"
        copied = f", copied to {len(self.copies)} file(s)" if self.copies else ""
        return f"{posted}{copied}: {', '.join(self.files)}"


@task(name="read playerData", cache_policy=NO_CACHE, persist_result=False)
def read_player_data(source: Path) -> PlayerDataFile:
    """The file's bytes (an `all` export ships them unchanged), checked and outlined: its guilds and where
    each lies in the bytes. It is not parsed into Python objects (several times the file's size)."""
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise PlayerDataError(
            f"{source} does not exist: set GUILDFLOW_PLAYERDATA or --source to the bot's file"
        ) from None
    except OSError as error:
        raise PlayerDataError(f"{source} cannot be read ({error.strerror}): check the path and permissions") from None
    return outline_player_data(raw, str(source))


@task(name="check destination", cache_policy=NO_CACHE, persist_result=False)
def check_destination(settings: Settings, target: ExportTarget, player_data: PlayerDataFile) -> None:
    """The guild exists, and the channel may receive this export: an `all` export only an allow-listed
    channel, a server export only a channel of that guild (asked of Discord)."""
    if target.export_type == "server":  # an unknown guild raises here, naming the guilds there are
        check_guild(player_data, target.guild_id or "")
    if not target.channel_id:
        return
    check_channel_allowed(target, settings.playerdata_all_channel_ids)
    if target.export_type == "server":
        channel = clients.discord_delivery(settings, target.destination).channel()
        check_same_guild(target, str(channel.guild_id) if channel.guild_id else None)


@task(name="plan export files", cache_policy=NO_CACHE, persist_result=False)
def plan_export_files(target: ExportTarget, player_data: PlayerDataFile, exported_at: datetime, cap: int) -> ExportPlan:
    """The file(s) to post: the server wrapper (only that guild parsed) or the file unchanged; gzipped, then
    split, to fit the cap."""
    if target.export_type == "server":
        content = encode(server_export(player_data, target.guild_id or "", exported_at))
    else:
        content = player_data.raw
    plan = plan_export(target.export_type, content, player_data, target.scope, exported_at, cap)
    if plan.warning:
        get_run_logger().warning(plan.warning)
    return plan


@task(name="find next export", cache_policy=NO_CACHE, persist_result=False)
def next_export(target: ExportTarget) -> datetime | None:
    """When the target's schedule runs next; None without an active schedule."""
    return next_run_of(target.slug)


def message_to_post(
    target: ExportTarget,
    player_data: PlayerDataFile,
    plan: ExportPlan,
    exported_at: datetime,
    next_at: datetime | None,
    degraded: str = "",
) -> Message:
    """The export's message: what, when, how big, the next export; with the file(s)."""
    guilds = [target.guild_id] if target.guild_id else list(player_data.guilds)
    names = [player_data.guilds.get(guild, "Unknown") for guild in guilds]
    buttons = export_buttons(target.slug) if target.channel_id else ()
    return export_post(export_message(target, plan, exported_at, names, next_at, degraded), plan, buttons)


@task(name="compare with the previous copy", cache_policy=NO_CACHE, persist_result=False)
def compare_with_previous_copy(plan: ExportPlan, folder: Path) -> str:
    """A warning (logged, and for the message) when this export holds fewer guilds, or much less data, than
    the previous export of the same guild (or of ALL) in the copy folder: a damaged playerData.json."""
    export = planned_export(plan)
    previous = max(
        (kept for kept in _kept_exports(folder) if kept.scope == export.scope and kept.stamp < export.stamp),
        key=lambda kept: kept.stamp,
        default=None,
    )
    warning = degraded_warning(previous, export)
    if warning:
        get_run_logger().warning("%s (previous: %s)", warning, ", ".join(previous.names if previous else ()))
    return warning


@task(name="keep local copy", cache_policy=NO_CACHE, persist_result=False)
def keep_local_copy(plan: ExportPlan, folder: Path, keep: int, keep_last_good: bool = True) -> list[Path]:
    """Write the export's file(s) into the folder atomically, then delete all but the newest `keep`
    exports of the same guild (or of ALL), sparing (keep_last_good) its last known good one; other files
    in the folder are left alone. The folder's index records each export's guilds and size, so they are
    measured once."""
    written = []
    for file in plan.files:
        write_atomically(folder / file.name, file.content)
        written.append(folder / file.name)
    export = planned_export(plan)
    exports = _kept_exports(folder, {export.key: export})
    doomed = exports_to_delete(exports, keep, keep_last_good)
    for old in doomed:
        for name in old.names:
            (folder / name).unlink(missing_ok=True)
    write_atomically(folder / COPY_INDEX, copy_index(kept for kept in exports if kept not in doomed))
    return written


def surplus_copies(folder: Path, keep: int, keep_last_good: bool = True) -> list[Path]:
    """The files of the exports in a copy folder beyond what keep_local_copy keeps (for the cleanup flow: a keep
    count lowered since, or copies left by hand)."""
    doomed = exports_to_delete(_kept_exports(folder), keep, keep_last_good)
    return [folder / name for export in doomed for name in export.names]


def _kept_exports(folder: Path, known: dict[str, KeptExport] | None = None) -> list[KeptExport]:
    """The exports in a copy folder (none if it does not exist yet), measured from its index, else read."""
    if not folder.is_dir():
        return []
    index = read_copy_index(_bytes_or_none(folder / COPY_INDEX))
    exports = []
    for key, names in exports_in_folder(path.name for path in folder.iterdir()).items():
        if known and key in known:
            exports.append(known[key])
            continue
        scope = key.split("-", 1)[0]
        files = [(name, _bytes_or_none(folder / name) or b"") for name in names]
        exports.append(kept_export(key, names, *(index.get(key) or measure_export(scope, files))))
    return exports


def _bytes_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # gone, or unreadable: an index measured again, an export counted as damaged
        return None


# --- restore -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRestore:
    """A restore worked out and not written yet: the plan to show, and what writing it needs."""

    plan: RestorePlan
    target: Path  # as given
    real_target: Path  # the file a symlinked target points to (the bot's real file), else the target
    original: bytes | None = field(repr=False)  # the target's bytes; None when it does not exist

    @property
    def target_existed(self) -> bool:
        return self.original is not None


def plan_player_data_restore(files: list[Path], target: Path, guild_id: str | None) -> PendingRestore:
    """Validate the export file(s) and work out what restoring them into target changes and removes.
    A target that cannot be read as playerData (corrupt, empty) is planned to be replaced whole."""
    export = read_export([(path.name, _read(path)) for path in files])
    real_target = target.resolve()
    original = _read(real_target) if real_target.exists() else None
    current, unreadable = restore_target_data(original, str(target))
    return PendingRestore(plan_restore(current, export, guild_id, unreadable), target, real_target, original)


def restore_player_data(pending: PendingRestore, flags_given: list[str]) -> Path | None:
    """Write a planned restore, unless it needs a flag that was not given (RestorePlan.refusal: then
    nothing is written): keep the current file as a timestamped .bak next to it, then replace it atomically,
    in its own layout and mode. A symlinked target's real file is written, in its own folder. Returns the
    backup (None when there was no file)."""
    refusal = pending.plan.refusal(str(pending.target), flags_given)
    if refusal:
        raise PlayerDataError(refusal)
    real, original = pending.real_target, pending.original
    readable = original is not None and not pending.plan.unreadable
    content = (
        serialize_like(original, pending.plan.restored)
        if original is not None and readable
        else encode(pending.plan.restored) + b"\n"
    )
    backup = None
    try:
        mode = real.stat().st_mode if original is not None else None
        if original is not None:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
            backup = real.with_name(f"{real.name}.{stamp}.bak")
            write_atomically(backup, original)
        write_atomically(real, content)
        if mode is not None:
            real.chmod(mode)  # the temporary file was private; the bot may run as another user
    except OSError as error:
        raise PlayerDataError(
            f"cannot write {real} ({error.strerror or error}): the restore writes a new file in {real.parent} and "
            "renames it, so this user needs write permission on that folder; fix the permissions, or restore "
            "into another file with --target"
        ) from None
    return backup


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise PlayerDataError(f"{path} cannot be read ({error.strerror})") from None
