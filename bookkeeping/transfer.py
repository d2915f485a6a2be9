"""Every schedule to a JSON file and back (`guildflow schedules export FILE` / `import FILE [--dry-run]`).

The file holds each schedule's definition (slug, deployment, when, parameters, failure threshold) and state (active,
or paused with its reason and since when), sorted by slug with sorted keys, so exporting what was imported gives
the same bytes. An import reads and checks the whole file, and the server (each deployment exists, no slug belongs
to another deployment, Prefect takes each schedule), before it changes anything; then it creates or replaces
each schedule that differs and leaves the others, and schedules that are not in the file, as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prefect import get_client

from bookkeeping.schedules import (
    MAX_THRESHOLD,
    Pause,
    Schedule,
    ScheduleDefinition,
    ScheduleError,
    deployment_by_name,
    read_all,
    save_schedule,
    to_prefect_schedule,
)
from core.delivery import Destination
from core.errors import UserFacingError
from core.schedule_spec import ScheduleSpec
from integrations.local_files import write_atomically

FORMAT = "guildflow schedules"
VERSION = 1
Action = Literal["create", "replace", "unchanged"]


class TransferError(UserFacingError):
    """The file cannot be imported (every problem listed); nothing was changed."""


@dataclass(frozen=True)
class Entry:
    """One schedule of the file."""

    definition: ScheduleDefinition
    active: bool = True
    pause: Pause | None = None


@dataclass(frozen=True)
class PlannedChange:
    entry: Entry
    action: Action


def export_schedules(path: Path) -> list[Schedule]:
    """Write every schedule to path (atomically); returns them."""
    with get_client(sync_client=True) as client:
        schedules = read_all(client)
    entries = [Entry(schedule.definition, schedule.active, schedule.pause) for schedule in schedules]
    write_atomically(path, document(entries).encode())
    return schedules


def document(entries: list[Entry]) -> str:
    schedules = [_entry_json(entry) for entry in sorted(entries, key=lambda entry: entry.definition.slug)]
    content = {"format": FORMAT, "version": VERSION, "schedules": schedules}
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_document(text: str, source: str) -> list[Entry]:
    """The entries of a file written by document(); TransferError listing every problem found."""
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise TransferError(
            f"{source} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    schedules = content.get("schedules") if isinstance(content, dict) else None
    if not isinstance(content, dict) or content.get("format") != FORMAT or not isinstance(schedules, list):
        raise TransferError(f"{source} is not a schedules file (written by `guildflow schedules export`)")
    if content.get("version") != VERSION:
        raise TransferError(f"{source} has version {content.get('version')!r}; this guildflow reads version {VERSION}")
    entries, problems = [], []
    for index, item in enumerate(schedules, 1):
        try:
            entries.append(_entry(item))
        except (UserFacingError, ValueError, TypeError, KeyError) as error:
            name = item.get("slug") if isinstance(item, dict) else None
            problems.append(f"schedule {index}{f' ({name})' if name else ''}: {_problem(error)}")
    seen: set[str] = set()
    for entry in entries:
        if entry.definition.slug in seen:
            problems.append(f"schedule {entry.definition.slug} is in the file twice")
        seen.add(entry.definition.slug)
    if problems:
        raise TransferError(_listing(source, problems))
    return entries


def plan_import(entries: list[Entry], source: str) -> list[PlannedChange]:
    """What importing the entries changes, checked against the server; TransferError when any cannot be made."""
    problems = []
    with get_client(sync_client=True) as client:
        existing = {schedule.slug: schedule for schedule in read_all(client)}
        for deployment in sorted({entry.definition.deployment for entry in entries}):
            try:
                deployment_by_name(client, deployment)
            except ScheduleError as error:
                problems.append(str(error))
    plan = []
    for entry in entries:
        definition = entry.definition
        current = existing.get(definition.slug)
        if current is not None and current.definition.deployment != definition.deployment:
            problems.append(
                f"schedule {definition.slug} is on {current.definition.deployment} on the server, not on "
                f"{definition.deployment}: remove it there first (`guildflow schedules remove {definition.slug}`)"
            )
            continue
        try:
            to_prefect_schedule(definition.spec)
        except ScheduleError as error:
            problems.append(f"schedule {definition.slug}: {error}")
            continue
        if current is None:
            plan.append(PlannedChange(entry, "create"))
        elif Entry(current.definition, current.active, current.pause) == entry and not current.problems:
            plan.append(PlannedChange(entry, "unchanged"))
        else:
            plan.append(PlannedChange(entry, "replace"))
    if problems:
        raise TransferError(_listing(source, problems))
    return plan


def apply_import(plan: list[PlannedChange]) -> None:
    for change in plan:
        if change.action != "unchanged":
            save_schedule(change.entry.definition, pause=None if change.entry.active else change.entry.pause)


def _entry_json(entry: Entry) -> dict[str, Any]:
    definition = entry.definition
    return {
        "slug": definition.slug,
        "deployment": definition.deployment,
        "schedule": definition.spec.to_json(),
        "parameters": dict(definition.parameters),
        "pause_after_failures": definition.pause_after_failures,
        "active": entry.active,
        "paused": None if entry.pause is None else {"reason": entry.pause.reason, "at": entry.pause.at},
    }


def _entry(item: Any) -> Entry:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    unknown = set(item) - {"slug", "deployment", "schedule", "parameters", "pause_after_failures", "active", "paused"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    parameters = item.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ValueError("parameters is not an object")
    threshold = item.get("pause_after_failures")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool)):
        raise ValueError(f"pause_after_failures {threshold!r} is not a number from 0 to {MAX_THRESHOLD}, or null")
    definition = ScheduleDefinition(
        slug=_text(item, "slug"),
        deployment=_text(item, "deployment"),
        spec=ScheduleSpec.from_json(item.get("schedule")),
        parameters=parameters,
        pause_after_failures=threshold,
    ).validated()
    for destination in definition.destinations:
        Destination.parse(destination)
    active = item.get("active", True)
    if not isinstance(active, bool):
        raise ValueError(f"active {active!r} is not true or false")
    paused = item.get("paused")
    if active:
        if paused is not None:
            raise ValueError("an active schedule has no `paused`")
        return Entry(definition)
    if not isinstance(paused, dict) or not isinstance(paused.get("reason"), str):
        raise ValueError('a paused schedule needs "paused": {"reason": ..., "at": ...}')
    return Entry(definition, False, Pause(paused["reason"], str(paused.get("at") or "")))


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is missing or not text")
    return value


def _problem(error: BaseException) -> str:
    return str(error) if isinstance(error, UserFacingError | ValueError) else f"{type(error).__name__}: {error}"


def _listing(source: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{source}: {len(problems)} problem(s), nothing was changed:\n{lines}"
