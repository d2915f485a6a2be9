"""One-off jobs: an action (a registered deployment) run once at a time, with reminders before it. Pure: the
actions a job may run, durations ("2h30m"), when a job runs (in a duration, or at a local time in a zone),
remaining time for people ("4h 30m"), validation with errors that say how to fix them, the job id, and the overdue
policy.

Overdue policy: a job whose time passed while no worker ran still runs once when a worker returns, and what it
posts says how late it is. A reminder whose moment passed by more than the grace period (GUILDFLOW_REMINDER_GRACE,
default 120 s) is skipped with that reason, never delivered late or in a burst.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from core.delivery import Destination, Message
from core.errors import UserFacingError
from core.local_time import LocalTimeError, iso_utc, local_moment, zone_name
from core.parameters import given


@dataclass(frozen=True)
class Action:
    """What a job can run: a deployment of a registered flow. job_parameters: it also takes the job's
    destinations, id and due time as parameters (a flow made for jobs, like post-message). fills: its parameters
    that the job's --to and --guild fill when the payload does not give them."""

    name: str
    deployment: str  # "<flow name>/<deployment name>"
    job_parameters: bool = False
    fills: tuple[tuple[str, Literal["destinations", "guild"]], ...] = ()


# The one registry of actions.
ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("post-message", "post-message/jobs", job_parameters=True),
        Action("playerdata-export", "playerdata-export/scheduled", fills=(("guild_id", "guild"),)),
        Action("daily-pipeline", "daily-pipeline/daily"),
        Action(
            "channel-summary",
            "channel-summary/scheduled",
            fills=(("destinations", "destinations"), ("guild_id", "guild")),
        ),
    )
}
REMINDER_DEPLOYMENT = "reminder/jobs"
JOB_PARAMETERS = ("destinations", "job_id", "due_at", "guild")  # what a job_parameters action gets from the job itself
MAX_REMINDERS = 10
DUPLICATE_WINDOW = timedelta(minutes=5)  # the same job asked for again this close to its time is the same job
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
DURATION_FORM = "a duration such as 2h30m, 90m, 1d or 45s (units d, h, m, s)"


class JobError(UserFacingError, ValueError):
    """A job written wrong, or one that cannot be made or changed; the message says what to do."""


@dataclass(frozen=True)
class JobSpec:
    """A job as the user asked for it. `at` is UTC; `timezone` is where the user's times are shown. Reminder
    offsets are before `at`, longest first. Build one with job_spec (validates) or from_json."""

    action: str
    at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    reminders: tuple[timedelta, ...] = ()
    reminder_text: str = ""
    destinations: tuple[str, ...] = ()
    description: str = ""
    guild: str | None = None
    timezone: str = "UTC"

    @property
    def id(self) -> str:
        """Derived from everything the job is, so the same job asked for twice (a retried command) is one job."""
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def content_key(self) -> str:
        """Everything the job is but its time: a command retried a few seconds later with the same `--in` asks for
        the same job at a slightly later time (bookkeeping.jobs treats it as the same job within DUPLICATE_WINDOW)."""
        content = {**self.to_json(), "at": None}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def deployment(self) -> str:
        return ACTIONS[self.action].deployment

    def reminder_times(self) -> list[datetime]:
        return [self.at - offset for offset in self.reminders]

    def title(self) -> str:
        """How people recognise the job: its description, else its action."""
        return self.description or self.action

    def parameters(self) -> dict[str, Any]:
        """The flow run parameters of the job's run: its payload, what the job fills in, and for a job flow the
        job's own. Unset ones are left out (the flow's defaults apply)."""
        parameters = dict(self.payload)
        own = {"destinations": list(self.destinations) or None, "guild": self.guild}
        for parameter, source in ACTIONS[self.action].fills:
            parameters.setdefault(parameter, own[source])
        if ACTIONS[self.action].job_parameters:
            parameters.update(
                destinations=list(self.destinations), job_id=self.id, due_at=iso_utc(self.at), guild=self.guild
            )
        return given(parameters)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "at": iso_utc(self.at),
            "payload": dict(self.payload),
            "reminders": [format_duration(offset) for offset in self.reminders],
            "reminder_text": self.reminder_text,
            "destinations": list(self.destinations),
            "description": self.description,
            "guild": self.guild,
            "timezone": self.timezone,
        }

    @classmethod
    def from_json(cls, data: Any) -> JobSpec:
        """The spec of to_json(), as stored with its run (no validation against the clock: it may be past)."""
        if not isinstance(data, dict):
            raise JobError(f"{data!r} is not a job")
        return cls(
            action=str(data["action"]),
            at=datetime.fromisoformat(str(data["at"])).astimezone(timezone.utc),
            payload=dict(data.get("payload") or {}),
            reminders=tuple(parse_duration(text) for text in data.get("reminders") or ()),
            reminder_text=str(data.get("reminder_text") or ""),
            destinations=tuple(str(d) for d in data.get("destinations") or ()),
            description=str(data.get("description") or ""),
            guild=_text_or_none(data.get("guild")),
            timezone=str(data.get("timezone") or "UTC"),
        )


def job_spec(
    action: str,
    *,
    now: datetime,
    run_in: str | None = None,
    at: str | None = None,
    timezone_name: str = "UTC",
    payload: Mapping[str, Any] | None = None,
    reminders: str | list[str] | tuple[str, ...] = (),
    reminder_text: str = "",
    destinations: list[str] | tuple[str, ...] = (),
    description: str = "",
    guild: str | None = None,
) -> JobSpec:
    """A validated job from what a user typed: exactly one of run_in ("2h30m", from now) or at (a local time in
    timezone_name). JobError names the first problem; nothing is created before this passes."""
    now = now.replace(microsecond=0)  # a job's time is to the second
    if action not in ACTIONS:
        raise JobError(f"{action!r} is not an action: use one of {', '.join(sorted(ACTIONS))}")
    try:
        zone = zone_name(timezone_name)
        if (run_in is None) == (at is None):
            raise JobError('say when with exactly one of --in DURATION (e.g. 2h30m) or --at "YYYY-MM-DD HH:MM"')
        if run_in is not None:
            when = now + parse_duration(run_in)
        else:
            assert at is not None
            when = local_moment(at, zone)
    except LocalTimeError as error:
        raise JobError(str(error)) from None
    when = when.astimezone(timezone.utc).replace(microsecond=0)
    if when <= now:
        raise JobError(f"{at} ({zone}) is in the past (now it is {local_text(now, zone)}): give a future time")
    offsets = _reminder_offsets(reminders, when - now)
    parsed = [Destination.parse(destination) for destination in destinations]
    if (offsets or ACTIONS[action].job_parameters) and not parsed:
        raise JobError(f"{'reminders need' if offsets else action + ' needs'} somewhere to post: --to DESTINATION")
    if payload is not None and not isinstance(payload, Mapping):
        raise JobError(f"the payload {payload!r} is not a JSON object of the action's parameters")
    spec = JobSpec(
        action=action,
        at=when,
        payload=dict(payload or {}),
        reminders=offsets,
        reminder_text=reminder_text.strip(),
        destinations=tuple(str(destination) for destination in parsed),
        description=description.strip(),
        guild=_text_or_none(guild),
        timezone=zone,
    )
    if ACTIONS[action].job_parameters and "then" in spec.payload:
        follow_up_spec(spec.payload["then"], spec)
    return spec


def follow_up_spec(then: Any, after: JobSpec) -> JobSpec:
    """The job a post-message job schedules when it has run (`then` in its payload: chained rounds). Its `in` counts
    from the job's own time, not from when it ran, so a late or retried run schedules the same follow-up (one job).
    Without `to` or `guild` it has the job's own."""
    keys = {"action", "in", "payload", "reminders", "reminder_text", "to", "description", "guild"}
    if not isinstance(then, Mapping) or not {"action", "in"} <= set(then) or set(then) - keys:
        raise JobError(
            f'`then` must be an object with action and in (e.g. {{"action": "post-message", "in": "24h", '
            f'"payload": {{"text": "round 2 opens"}}}}), and optionally {", ".join(sorted(keys - {"action", "in"}))}'
        )
    try:
        return job_spec(
            str(then["action"]),
            now=after.at,
            run_in=str(then["in"]),
            timezone_name=after.timezone,
            payload=then.get("payload") or {},
            reminders=then.get("reminders") or (),
            reminder_text=str(then.get("reminder_text") or ""),
            destinations=then.get("to") or after.destinations,
            description=str(then.get("description") or ""),
            guild=then.get("guild") or after.guild,
        )
    except UserFacingError as error:
        raise JobError(f"`then`: {error}") from None


def check_payload(spec: JobSpec, schema: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """JobError when the job's parameters do not fit its deployment's parameter schema (an OpenAPI object:
    `properties`, `required`) given the deployment's default parameters."""
    accepted = set(schema.get("properties") or {})
    own = set(JOB_PARAMETERS) if ACTIONS[spec.action].job_parameters else set()
    given = spec.parameters()
    unknown = sorted(set(spec.payload) - accepted | (set(spec.payload) & own))
    if unknown:
        takes = ", ".join(sorted(accepted - own)) or "no parameters"
        raise JobError(f"{spec.action} does not take {', '.join(unknown)}: its payload takes {takes}")
    missing = sorted(set(schema.get("required") or ()) - set(given) - set(defaults))
    if missing:
        example = f"--payload '{{\"{missing[0]}\": ...}}'"
        raise JobError(f"{spec.action} needs {', '.join(missing)} in its payload, e.g. {example}")


# --- durations and times for people ---------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """ "2h30m", "90m", "1d", "45s", "1d2h": a positive duration; JobError otherwise."""
    compact = "".join(text.lower().split())
    match = _DURATION.fullmatch(compact)
    if not compact or not match:
        raise JobError(f"{text!r} is not {DURATION_FORM}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise JobError(f"{text!r} is no time at all: give {DURATION_FORM}")
    return duration


def format_duration(duration: timedelta) -> str:
    """The compact form parse_duration reads: "2h30m", "1d", "45s"."""
    seconds = int(duration.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0s"


def format_remaining(duration: timedelta) -> str:
    """Time left for people, its two largest units: "4h 30m", "2d 3h", "5m 20s", "45s"; "now" when none."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "now"
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    first = next(index for index, (amount, _) in enumerate(parts) if amount)
    return " ".join(f"{amount}{unit}" for amount, unit in parts[first : first + 2] if amount)


def local_text(moment: datetime, zone: str) -> str:
    """ "2026-12-24 18:00 Europe/Berlin" ("... UTC" in UTC)."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def describe_when(moment: datetime, zone: str, now: datetime) -> str:
    """Absolute, local and relative: "2026-12-24 17:00 UTC (2026-12-24 18:00 Europe/Berlin), in 4h 30m"."""
    utc = local_text(moment, "UTC")
    local = "" if zone == "UTC" else f" ({local_text(moment, zone)})"
    relative = f"in {format_remaining(moment - now)}" if moment > now else f"{format_remaining(now - moment)} ago"
    return f"{utc}{local}, {relative}"


# --- overdue policy -------------------------------------------------------------------------------------------


def late_note(due: datetime, now: datetime, grace: timedelta) -> str:
    """What a job's message says when it runs more than the grace period after its time ("" otherwise)."""
    late = now - due
    if late <= grace:
        return ""
    return f"(late by {format_remaining(late)}: due at {local_text(due, 'UTC')}, no worker was running then)"


def reminder_skip_reason(remind_at: datetime, now: datetime, grace: timedelta) -> str | None:
    """Why a reminder is not delivered now: its moment passed by more than the grace period. None: deliver."""
    late = now - remind_at
    if late <= grace:
        return None
    return (
        f"skipped: this reminder was due at {local_text(remind_at, 'UTC')}, {format_remaining(late)} ago, more than "
        f"the {format_remaining(grace)} grace period (a late reminder is never delivered)"
    )


def job_message(title: str, text: str, due: datetime, now: datetime, grace: timedelta) -> Message:
    """What a post-message job posts: its text, and how late it is when it runs late."""
    note = late_note(due, now, grace)
    return Message(title=title, body=f"{text}\n\n{note}" if note else text)


def reminder_message(title: str, text: str, due: datetime, now: datetime) -> Message:
    """A reminder: its text (else the job's title), and how long until the job runs."""
    when = f"in {format_remaining(due - now)} (at {local_text(due, 'UTC')})"
    return Message(title="Reminder", body=f"{text or title}: {when}")


# --- parts ------------------------------------------------------------------------------------------------------


def _reminder_offsets(given: str | list[str] | tuple[str, ...], left: timedelta) -> tuple[timedelta, ...]:
    words = given.split(",") if isinstance(given, str) else [w for item in given for w in item.split(",")]
    offsets = {parse_duration(word) for word in words if word.strip()}
    if len(offsets) > MAX_REMINDERS:
        raise JobError(f"{len(offsets)} reminders is too many: at most {MAX_REMINDERS}")
    for offset in sorted(offsets, reverse=True):
        if offset >= left:
            raise JobError(
                f"a reminder {format_duration(offset)} before is not possible: the job runs in "
                f"{format_remaining(left)}; give reminders shorter than that"
            )
    return tuple(sorted(offsets, reverse=True))


def _text_or_none(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()
