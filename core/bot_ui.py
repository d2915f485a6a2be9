"""What guildflow's Discord bot says and shows: its commands, their texts, the backup modal, the custom ids of its
buttons and modals. Pure: guildflow/bot/ turns these into discord.py objects and calls bookkeeping/.

Custom ids are `guildflow:<action>` or `guildflow:<action>:<argument>` (a schedule's slug, an export type), at most
100 characters as Discord allows. They outlive the bot process (a button on an old export message still works after
a restart), so everything a press needs is in the id or read from Prefect, never kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from core.delivery import Button
from core.errors import UserFacingError
from core.schedule_spec import MAX_EVERY_MINUTES, ScheduleSpec

ID_PREFIX = "guildflow"
MAX_CUSTOM_ID = 100
Action = Literal["backup-setup", "backup-modal", "backup-now", "backup-adjust"]
ACTIONS: tuple[str, ...] = get_args(Action)

# The backup modal: an interval, an export type, and the current status shown read-only.
BACKUP_MODAL_TITLE = "Schedule backups"
INTERVAL_INPUT, TYPE_INPUT = "interval", "type"
INTERVAL_LABEL = f"Interval in minutes (0-{MAX_EVERY_MINUTES})"
INTERVAL_HINT = f"0 turns backups off; {MAX_EVERY_MINUTES} is a week"
TYPE_LABEL = "Export type"
TYPE_CHOICES = {"server": "This server's data", "all": "Every server's data (allow-listed channels only)"}
SETUP_BUTTON = "Schedule backups"
RUN_NOW_BUTTON, ADJUST_BUTTON = "Run backup now", "Adjust schedule"

STATUS_LINES = 40  # an overview lists at most this many schedules and jobs, then says how many more
OVERVIEW_CHARS = 3800  # and stays within an embed's description (4,096) with that last line
PREFECT_DOWN = (
    "I cannot reach the Prefect server{where}: nothing was changed. Ask whoever runs guildflow to start it "
    "(or check PREFECT_API_URL where `guildflow bot` runs), then try again."
)
NOT_ADMIN = "Only members with **Manage Server**{roles} can change guildflow's schedules. Nothing was changed."
OTHER_GUILD = "That schedule belongs to another server: a command here acts only on this server's schedules."
UNEXPECTED = (
    "Something went wrong on my side and nothing may have been changed: check with `/status`, and if it keeps "
    "failing ask whoever runs guildflow to look at the bot's log."
)


class BotInputError(UserFacingError):
    """What a member typed cannot be used; the message says what to type instead."""


# Every command and subcommand as registered with Discord ("backups schedule": /backups, subcommand schedule).
DESCRIPTIONS = {
    "backups": "playerData backups to this channel, run by Prefect",
    "backups schedule": "Back up to this channel every N minutes (0 turns it off)",
    "backups status": "This channel's backup schedules, and a button to set one",
    "backups disable": "Stop this channel's backups (the schedule is kept, paused)",
    "backups now": "Back up to this channel right away",
    "summaries": "AI summaries of this channel, on a schedule run by Prefect",
    "summaries schedule": "Summarise this channel on a schedule (to this channel unless `to` says where)",
    "summaries list": "This server's summary schedules",
    "summaries pause": "Pause a summary schedule (kept, with who paused it)",
    "summaries resume": "Resume a paused summary schedule",
    "summaries remove": "Delete a summary schedule (pause keeps it)",
    "jobs": "One-off jobs with reminders, run by Prefect",
    "jobs schedule": "Run something once, in a while or at a time, with reminders in this channel",
    "jobs list": "This server's pending jobs and the time left",
    "jobs cancel": "Cancel a job and its pending reminders",
    "status": "This server's guildflow schedules and jobs: next runs, last outcomes, pauses",
}
# What the options of those commands say (Discord shows them as the option's description, at most 100 characters).
OPTION_HELP = {
    "kind": "every (minutes), daily, weekly, monthly, cron or once",
    "time": "every: minutes; daily: 09:00; weekly: mon,fri 09:00; monthly: 31 08:00; cron: 0 */6 * * *",
    "timezone": "IANA time zone of the time, e.g. Europe/Berlin (default UTC)",
    "length": "brief, detailed or comprehensive",
    "window": "since-last (default), or the last N hours/days: 6h, 24h, 7d",
    "action_items": "list action items (owner, due date)",
    "technical_terms": "list jargon with one-line definitions",
    "include_bots": "summarise bots' messages too",
    "min_messages": "with fewer messages than this, skip (deliver nothing); default 5",
    "title": "the summary's title (default: Summary of #channel)",
    "to": "where to deliver, comma-separated (default this channel): discord:ID, webhook:URL, email:ADDR",
    "schedule": "the schedule's slug, as /summaries list shows it",
    "confirm": "true to really delete it (pause keeps it)",
    "action": "post-message (the text), playerdata-export (this server) or channel-summary (this channel), here",
    "in": "in a duration, e.g. 2h30m, 90m, 1d (or give at)",
    "at": "at a local time, YYYY-MM-DD HH:MM (or give in)",
    "reminders": "reminders before it, in this channel, e.g. 30m,5m,1m",
    "text": "what the job posts and its reminders say",
    "job": "the job's id, as /jobs list shows it",
}
JOB_ACTIONS = ("post-message", "playerdata-export", "channel-summary")  # what a member can start here, for this channel


@dataclass(frozen=True)
class Answer:
    """What the bot answers: text (as the message, or an embed when long) and buttons under it."""

    text: str
    buttons: tuple[Button, ...] = ()


def setup_button() -> Button:
    return Button(custom_id("backup-setup"), SETUP_BUTTON, primary=True)


def export_buttons(slug: str) -> tuple[Button, ...]:
    """The buttons on an export message: run that schedule's export now, or adjust the schedule."""
    return (
        Button(custom_id("backup-now", slug), RUN_NOW_BUTTON),
        Button(custom_id("backup-adjust", slug), ADJUST_BUTTON),
    )


def custom_id(action: Action, argument: str = "") -> str:
    text = f"{ID_PREFIX}:{action}" + (f":{argument}" if argument else "")
    if len(text) > MAX_CUSTOM_ID:
        raise ValueError(f"custom id {text!r} is longer than Discord's {MAX_CUSTOM_ID} characters")
    return text


def parse_custom_id(text: str) -> tuple[Action, str] | None:
    """(action, argument) of one of guildflow's ids; None for anything else (another bot's, a stale one)."""
    prefix, _, rest = text.partition(":")
    action, _, argument = rest.partition(":")
    if prefix != ID_PREFIX or action not in ACTIONS:
        return None
    return action, argument  # type: ignore[return-value]  # checked against ACTIONS


def parse_interval(text: str) -> int:
    """The modal's interval field: whole minutes from 0 (off) to a week."""
    cleaned = text.strip().removesuffix("min").strip()
    if not cleaned.isdigit() or not 0 <= int(cleaned) <= MAX_EVERY_MINUTES:
        raise BotInputError(
            f"{text.strip() or 'an empty interval'!r} is not a number of minutes from 0 to {MAX_EVERY_MINUTES}: "
            "type e.g. 60 for hourly, 1440 for daily, 0 to turn backups off"
        )
    return int(cleaned)


def parse_export_type(text: str) -> str:
    value = text.strip().lower()
    if value not in TYPE_CHOICES:
        raise BotInputError(f"{text!r} is not an export type: choose server or all")
    return value


@dataclass(frozen=True)
class BackupConfirmation:
    """What a member is told once a backup schedule is saved."""

    minutes: int
    export_type: str
    channel_id: str
    guild_count: int | None  # None: the bot cannot read playerData to count
    estimated_size: str  # e.g. "1.2 MiB gzipped", or why it is unknown
    replaced: bool
    first_run_started: bool
    warning: str = ""

    def text(self) -> str:
        guilds = "unknown (playerData not readable here)" if self.guild_count is None else str(self.guild_count)
        first = (
            "The first export runs in a few seconds"
            if self.first_run_started
            else "The first export runs at the first slot of the schedule"
        )
        every = ScheduleSpec("every", str(self.minutes)).describe()
        lines = [
            f"✅ Backups {'updated' if self.replaced else 'scheduled'}: {every} "
            f"({self.minutes} minutes) to <#{self.channel_id}>",
            f"Type: {self.export_type} ({TYPE_CHOICES[self.export_type].lower()})",
            f"Guilds included: {guilds}",
            f"Estimated size: {self.estimated_size}",
            f"{first}; the schedule lives on the Prefect server, so it survives restarts of the bot and workers.",
        ]
        if self.warning:
            lines.append(f"⚠️ {self.warning}")
        return "\n".join(lines)


def disabled_text(channel_id: str, export_type: str, found: bool) -> str:
    if not found:
        return f"There is no {export_type} backup schedule for <#{channel_id}>: nothing to turn off."
    return f"⏸️ {export_type.capitalize()} backups to <#{channel_id}> are off (the schedule is kept, paused)."


@dataclass(frozen=True)
class ScheduleLine:
    """One schedule (or job) in a status overview, as plain text parts."""

    name: str  # what it is: "server backups to <#123>"
    when: str  # "every 60 minutes", "in 2 h (at 18:00 UTC)"
    state: str  # "active", or "paused: why"
    next_run: str  # "<t:...:R>" or "none scheduled"
    last_outcome: str = ""  # "Completed <t:...:R>", "Failed: why", "none yet"; "" when it has none (a job)
    note: str = ""  # anything else worth a glance ("reminders left: 30m, 5m")

    def text(self) -> str:
        icon = "🟢" if self.state == "active" else "⏸️"
        head = f"{icon} **{self.name}** · {self.when}"
        state = "" if self.state == "active" else f"\n  {self.state}"
        parts = [f"next: {self.next_run}"] + [f"last: {self.last_outcome}"] * bool(self.last_outcome)
        return f"{head}{state}\n  " + " · ".join(parts + [self.note] * bool(self.note))


@dataclass(frozen=True)
class Section:
    """A part of the status overview (backups, summaries, jobs: each feature adds its own)."""

    title: str
    lines: tuple[ScheduleLine, ...]
    empty: str  # what to say when there is nothing, and how to make one


def overview(sections: Iterable[Section], limit: int = STATUS_LINES, max_chars: int = OVERVIEW_CHARS) -> str:
    """The status overview: every section, at most `limit` lines and about `max_chars` characters in all (what an
    embed holds), then how many were left out: never cut off silently."""
    parts, shown, hidden, size = [], 0, 0, 0
    for section in sections:
        head = [f"__{section.title}__"] + ([section.empty] if not section.lines else [])
        parts += head
        size += sum(len(part) + 1 for part in head)
        for line in section.lines:
            text = line.text()
            if shown < limit and size + len(text) <= max_chars:
                parts.append(text)
                shown, size = shown + 1, size + len(text) + 1
            else:
                hidden += 1
    if hidden:
        parts.append(f"… and {hidden} more (`guildflow schedules status` and `guildflow job list` list them all)")
    return "\n".join(parts)


def not_admin_text(admin_roles: Iterable[str]) -> str:
    roles = [role for role in admin_roles if role]
    named = f" or the role {' or '.join(f'**{role}**' for role in roles)}" if roles else ""
    return NOT_ADMIN.format(roles=named)


def prefect_down_text(api_url: str | None) -> str:
    return PREFECT_DOWN.format(where=f" ({api_url})" if api_url else "")


def submitted_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """custom id -> value of a modal submission: text inputs' values and the first choice of selects, inside
    action rows (type 1) or labels (type 18)."""
    values: dict[str, str] = {}
    for component in components:
        if component.get("type") == 1:
            values.update(submitted_values(component.get("components") or []))
        elif component.get("type") == 18 and isinstance(component.get("component"), Mapping):
            values.update(submitted_values([component["component"]]))
        elif "custom_id" in component and "value" in component:
            values[str(component["custom_id"])] = str(component["value"] or "")
        elif "custom_id" in component and component.get("values"):
            values[str(component["custom_id"])] = str(component["values"][0])
    return values
