"""Where a playerData export goes, what its Discord message says, and how its schedule is named.

Pure: the flow, the CLI and the schedule bookkeeping share these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from core.delivery import Attachment, Button, Destination, Message
from core.parameters import given
from core.playerdata import ExportPlan, ExportType, PlayerDataError, _mib, is_guild_id, iso_utc

FLOW_NAME, DEPLOYMENT_NAME = "playerdata-export", "scheduled"
DEPLOYMENT = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"  # where export schedules live (prefect.yaml)
SLUG_PREFIX = "playerdata-"
_CHANNEL_ID = re.compile(r"\d{17,20}")
_GUILDS_NAMED = 10  # guild names listed in an `all` export's message


@dataclass(frozen=True)
class ExportTarget:
    """What is exported (a guild, or all) and which channel it is posted to (if any)."""

    export_type: ExportType
    channel_id: str | None = None
    guild_id: str | None = None

    @classmethod
    def validated(cls, export_type: str, guild_id: str | None, channel_id: str | None) -> ExportTarget:
        """The target of a run or schedule; an error naming the option otherwise. Ids are strings: Discord
        snowflakes do not survive JavaScript numbers (Prefect's UI)."""
        if export_type not in get_args(ExportType):
            raise PlayerDataError(f"export type {export_type!r} is not 'server' or 'all'")
        guild_id, channel_id = (str(value).strip() if value else None for value in (guild_id, channel_id))
        if export_type == "server" and not guild_id:
            raise PlayerDataError("a server export needs the guild id (--guild)")
        if export_type == "all" and guild_id:
            raise PlayerDataError("an `all` export holds every guild: leave out the guild id, or use --type server")
        if guild_id and not is_guild_id(guild_id):
            raise PlayerDataError(f"guild id {guild_id!r} is not a Discord id (17 to 20 digits)")
        if channel_id and not _CHANNEL_ID.fullmatch(channel_id):
            raise PlayerDataError(
                f"channel id {channel_id!r} is not a Discord id (Developer Mode > right-click the channel > Copy ID)"
            )
        return cls(export_type, channel_id, guild_id)  # type: ignore[arg-type]

    @property
    def scope(self) -> str:
        """The guild id, or ALL: the part of the file name that says what is inside."""
        return self.guild_id or "ALL"

    @property
    def slug(self) -> str:
        """The schedule's slug: one schedule per channel + type + guild; setting it again replaces it."""
        if not self.channel_id:
            raise PlayerDataError("a schedule posts to a channel: give --channel")
        middle = f"server-{self.guild_id}" if self.export_type == "server" else "all"
        return f"{SLUG_PREFIX}{middle}-{self.channel_id}"

    @classmethod
    def from_slug(cls, slug: str) -> ExportTarget | None:
        """The target whose schedule has this slug; None when it is not an export schedule's slug."""
        match = re.fullmatch(rf"{SLUG_PREFIX}(?:server-(\d{{17,20}})|all)-(\d{{17,20}})", slug)
        if match is None:
            return None
        return cls("server" if match[1] else "all", match[2], match[1])

    @property
    def parameters(self) -> dict[str, Any]:
        """The flow parameters of this target's scheduled runs (and how those runs are recognised)."""
        return given({"export_type": self.export_type, "guild_id": self.guild_id, "channel_id": self.channel_id})

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ExportTarget | None:
        try:
            return cls.validated(
                str(parameters.get("export_type") or ""), parameters.get("guild_id"), parameters.get("channel_id")
            )
        except PlayerDataError:
            return None

    @property
    def destination(self) -> Destination:
        """Where the export is posted: the channel, as Markdown text with the file(s)."""
        if not self.channel_id:
            raise PlayerDataError("nothing to post to: give a channel (--channel)")
        return Destination("discord", self.channel_id, "markdown")

    def describe(self) -> str:
        what = f"guild {self.guild_id}" if self.export_type == "server" else "all guilds"
        return f"{what} to channel {self.channel_id}" if self.channel_id else what


def check_channel_allowed(target: ExportTarget, allowed_for_all: Iterable[str]) -> None:
    """An `all` export holds every guild's data: only channels on the allow-list may receive it."""
    if target.export_type == "all" and target.channel_id and target.channel_id not in set(allowed_for_all):
        raise PlayerDataError(
            f"channel {target.channel_id} may not receive `all` exports (every guild's data): add it to "
            "GUILDFLOW_PLAYERDATA_ALL_CHANNELS if only admins can read it"
        )


def check_same_guild(target: ExportTarget, channel_guild_id: str | None) -> None:
    """A server export goes only to a channel of that guild (the channel's guild as Discord reports it)."""
    if target.export_type == "server" and channel_guild_id != target.guild_id:
        where = f"guild {channel_guild_id}" if channel_guild_id else "no guild (a DM?)"
        raise PlayerDataError(
            f"channel {target.channel_id} is in {where}, not in guild {target.guild_id}: a server export may only "
            "be posted in that server's own channels"
        )


def export_message(
    target: ExportTarget,
    plan: ExportPlan,
    exported_at: datetime,
    guild_names: list[str],
    next_export: datetime | None,
    degraded: str = "",
) -> str:
    """The text posted with the file(s): when, what, how big, how close to the cap, whether it looks degraded
    against the previous export (degraded_warning), and when the next one is."""
    unix = int(exported_at.timestamp())
    if target.export_type == "server":
        what = f"server **{guild_names[0] if guild_names else 'Unknown'}** (`{target.guild_id}`)"
    else:
        shown = ", ".join(guild_names[:_GUILDS_NAMED]) + (" ..." if len(guild_names) > _GUILDS_NAMED else "")
        what = f"all guilds ({shown})" if shown else "all guilds"
    guilds = sum(file.guilds for file in plan.files)
    lines = [
        f"📦 **playerData export**: {what}",
        f"Exported: <t:{unix}:F> (`{iso_utc(exported_at)}`)",
        f"Type: {target.export_type} · Guilds included: {guilds}",
        f"Size: {size_line(plan)}",
    ]
    lines += [warning for warning in (plan.warning, degraded) if warning]
    if len(plan.files) > 1:
        lines.append(f"Restore with every part: `guildflow export restore {' '.join(f.name for f in plan.files)}`")
    lines.append(f"Next export: <t:{int(next_export.timestamp())}:R>" if next_export else "Next export: none scheduled")
    return "\n".join(lines)


def export_post(text: str, plan: ExportPlan, buttons: tuple[Button, ...] = ()) -> Message:
    """The message an export is posted as: the text (export_message) with the file(s), and buttons (export_buttons)."""
    files = tuple(Attachment(file.name, file.content) for file in plan.files)
    return Message("", text, attachments=files, buttons=buttons)


def size_line(plan: ExportPlan) -> str:
    total = sum(len(file.content) for file in plan.files)
    compressed = any(file.name.endswith(".gz") for file in plan.files)
    if not compressed:
        return _mib(total)
    files = f" in {len(plan.files)} files" if len(plan.files) > 1 else ""
    return f"{_mib(total)} gzipped{files} ({_mib(plan.uncompressed_size)} of JSON)"
