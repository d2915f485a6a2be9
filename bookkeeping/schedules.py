"""Schedules of targets on shared deployments, kept on the Prefect server: the one module that creates, replaces,
lists, pauses, resumes and removes them, and the one place that works around Prefect's schedule quirks.

A schedule is a DeploymentSchedule of a deployment, named by its slug (unique across guildflow), with the run
parameters of its target and a when (core.schedule_spec). What it is for follows from those: its target is the
deployment's flow, its guild and channel are the parameters guild_id and channel_id, its destinations the
`destinations` parameter, else the Discord channel `discord:<channel_id>`.

What Prefect cannot hold on a DeploymentSchedule is kept in Prefect Variables, all read in one batched call (names
starting guildflow-):
- guildflow-schedule-<slug>: the spec as written (Prefect's schedule object cannot say "monthly 31", nor carry
  the time zone of an `every`), the parameters (to restore them when Prefect drops them), the failure threshold;
- guildflow-paused-<slug>: why and since when it is paused (the record earlier versions wrote, so a schedule
  paused before this module keeps its reason);
- guildflow-deployment-paused-<deployment id>: why a whole deployment was paused.
A schedule without its guildflow-schedule variable (made by `prefect deploy`, or by an earlier guildflow) is read
from its Prefect schedule; the first change made through guildflow records the variable.

Which runs are a schedule's: those Prefect's scheduler made from it. Prefect 3.9 records the schedule in every run
it schedules (created_by: type SCHEDULE, id the schedule's), and flow runs can be filtered by it, so one query
reads the runs of any number of schedules. guildflow starts no run of a schedule outside the scheduler: an `every`
schedule that should run right away is anchored now and the server is asked to schedule that slot.

Prefect 3.9.1's quirks, handled here and nowhere else:
- updating a schedule without its parameters drops them (so does `prefect deployment schedule pause`): every
  update sends them again; a schedule found without them is reported, and resuming it restores them;
- updating or pausing any schedule of a deployment deletes the deployment's future auto-scheduled runs, and the
  scheduler makes them again only at its next loop (up to 60 s): after each change the server is asked to
  schedule them at once (POST /deployments/{id}/schedule);
- those updates keep the schedule's own late runs (due, no worker yet), which then run under a definition that
  was replaced or paused: they are deleted with the change, so a replaced schedule never doubles a slot;
- deleting a schedule deletes the late runs of every schedule of the deployment: each is made again at its time;
- an interval schedule in a local time zone skips the repeated hour of a DST fall-back and, over whole days,
  keeps a spring-forward shift for good: an `every` goes to Prefect in UTC (elapsed time, its meaning here);
- an RRule without DTSTART is stored with Prefect's default one added: guildflow writes it in, so what it
  reads back is what it wrote;
- slugs are unique only within a deployment: a slug in use on another deployment is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    DeploymentFilterTags,
    FlowFilter,
    FlowFilterId,
    FlowRunFilter,
    FlowRunFilterCreatedBy,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import SCHEDULE_TYPES, CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.types import MAX_VARIABLE_VALUE_LENGTH

from bookkeeping.filters import expected_start
from core.errors import UserFacingError
from core.schedule_spec import MAX_EVERY_MINUTES, ScheduleSpec, ScheduleSpecError, parse_spec

GUILDFLOW_TAG = "guildflow"  # every deployment in prefect.yaml carries it
SCHEDULE_VARIABLE = "guildflow-schedule-"
PAUSE_VARIABLE = "guildflow-paused-"
DEPLOYMENT_PAUSE_VARIABLE = "guildflow-deployment-paused-"
PAGE = 200  # the most the Prefect API returns per request
RESTORED_LATE_TIMES = 50  # late slots re-created after a change, at most (each is one request)
MAX_THRESHOLD = 50
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?")
_PAUSED_AT = "%Y-%m-%d %H:%M UTC"


class ScheduleError(UserFacingError):
    """A schedule cannot be read or changed as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Pause:
    reason: str
    at: str = ""  # "YYYY-MM-DD HH:MM UTC"; "" when unknown

    def describe(self) -> str:
        return f"{self.reason} (since {self.at})" if self.at else self.reason

    @classmethod
    def now(cls, reason: str) -> Pause:
        return cls(reason[:4000], datetime.now(timezone.utc).strftime(_PAUSED_AT))


@dataclass(frozen=True)
class ScheduleDefinition:
    """What a schedule is, as guildflow writes it and export/import carries it."""

    slug: str
    deployment: str  # "<flow name>/<deployment name>"
    spec: ScheduleSpec
    parameters: Mapping[str, Any] = field(default_factory=dict)
    pause_after_failures: int | None = None  # None: GUILDFLOW_PAUSE_AFTER_FAILURES

    @property
    def target(self) -> str:
        """What kind of target it schedules: the deployment's flow (playerdata-export, ...)."""
        return self.deployment.split("/", 1)[0]

    @property
    def guild(self) -> str | None:
        return _text_or_none(self.parameters.get("guild_id"))

    @property
    def channel(self) -> str | None:
        return _text_or_none(self.parameters.get("channel_id"))

    @property
    def destinations(self) -> tuple[str, ...]:
        given = self.parameters.get("destinations")
        if isinstance(given, list | tuple):
            return tuple(str(destination) for destination in given)
        return (f"discord:{self.channel}",) if self.channel else ()

    def validated(self) -> ScheduleDefinition:
        if not _SLUG.fullmatch(self.slug):
            raise ScheduleError(
                f"schedule slug {self.slug!r} is not lowercase letters, digits and inner hyphens (at most 200)"
            )
        flow, _, name = self.deployment.partition("/")
        if not flow or not name:
            raise ScheduleError(f"deployment {self.deployment!r} is not <flow name>/<deployment name>")
        if not isinstance(self.parameters, Mapping):
            raise ScheduleError(f"schedule {self.slug}: its parameters are not an object")
        threshold = self.pause_after_failures
        if threshold is not None and (isinstance(threshold, bool) or not 0 <= threshold <= MAX_THRESHOLD):
            raise ScheduleError(
                f"schedule {self.slug}: pause_after_failures {threshold!r} is not 0 (never) to {MAX_THRESHOLD}"
            )
        if len(json.dumps(_record(self))) > MAX_VARIABLE_VALUE_LENGTH:
            raise ScheduleError(
                f"schedule {self.slug}: its parameters are too large for a Prefect Variable "
                f"({MAX_VARIABLE_VALUE_LENGTH} characters of JSON): pass a file path or an id instead of the data"
            )
        return self


@dataclass(frozen=True)
class Schedule:
    """A schedule as it is on the server."""

    definition: ScheduleDefinition
    id: UUID
    deployment_id: UUID
    active: bool
    pause: Pause | None = None  # why it is paused (None when active)
    deployment_pause: Pause | None = None  # set when the whole deployment is paused: nothing of it runs
    problems: tuple[str, ...] = ()  # what differs on the server from what guildflow recorded, and the fix

    @property
    def slug(self) -> str:
        return self.definition.slug

    @property
    def runs_now(self) -> bool:
        return self.active and self.deployment_pause is None

    def state(self) -> str:
        """active, or paused with its reason."""
        if not self.active:
            return f"paused: {(self.pause or Pause(_NO_REASON)).describe()}"
        if self.deployment_pause is not None:
            return f"active, but deployment {self.definition.deployment} is paused: {self.deployment_pause.describe()}"
        return "active"


@dataclass(frozen=True)
class SavedSchedule:
    schedule: Schedule
    replaced: bool  # a schedule with this slug existed and was replaced
    first_run: FlowRun | None  # the run due now (start_now)


_NO_REASON = "no reason recorded (paused in Prefect's UI or CLI?)"


# --- operations -----------------------------------------------------------------------------------------------


def save_schedule(
    definition: ScheduleDefinition, *, start_now: bool = False, pause: Pause | None = None
) -> SavedSchedule:
    """Create the schedule, or replace the one with this slug (its slot is never doubled: the old one's runs that
    had not started give way to the new one's), active; or paused with `pause`. start_now (an `every`): anchor
    the interval now, so its first run is due at once."""
    spec = definition.spec
    if start_now:
        if spec.kind != "every" or pause is not None:
            raise ScheduleError(f"only an active `every` schedule starts right away, not `{spec.kind}`")
        spec = replace(spec, anchor=datetime.now(timezone.utc).replace(microsecond=0))
    definition = replace(definition, spec=spec).validated()
    with get_client(sync_client=True) as client:
        deployment = deployment_by_name(client, definition.deployment)
        _check_slug_free(client, definition)
        existing = _prefect_schedule(deployment, definition.slug)
        with _keeping_runs(client, deployment.id, existing.id if existing else None):
            if existing is None:
                _create(client, deployment.id, definition, active=pause is None)
            else:
                _update(client, deployment.id, existing.id, definition, active=pause is None)
        _write_variable(client, SCHEDULE_VARIABLE + definition.slug, _record(definition))
        if pause is None:
            _delete_variable(client, PAUSE_VARIABLE + definition.slug)
        else:
            _write_variable(client, PAUSE_VARIABLE + definition.slug, {"reason": pause.reason, "at": pause.at})
        schedule = read_one(client, definition.slug)
        first_run = _schedule_slot(client, schedule, spec.anchor) if start_now and spec.anchor else None
    return SavedSchedule(schedule, existing is not None, first_run)


def read_schedules(target: str | None = None, guild: str | None = None, channel: str | None = None) -> list[Schedule]:
    """Every schedule of guildflow's deployments (tagged guildflow, or holding a schedule guildflow made), by slug;
    filtered by target (flow name), guild and channel when given."""
    with get_client(sync_client=True) as client:
        return read_all(client, target, guild, channel)


def read_schedule(slug: str) -> Schedule | None:
    """The schedule with this slug; None when there is none."""
    with get_client(sync_client=True) as client:
        return _find(client, slug)


def pause_schedule(slug: str, reason: str) -> Schedule:
    """Pause it with a reason. One paused already stays paused and takes the new reason."""
    with get_client(sync_client=True) as client:
        schedule = read_one(client, slug)
        return pause_with(client, schedule, Pause.now(reason))


def pause_if_scheduled(slug: str, deployment: str, reason: str) -> bool:
    """Pause the schedule with this slug; False when there is none (a missing deployment says so instead)."""
    if read_schedule(slug) is None:
        check_deployment(deployment)
        return False
    pause_schedule(slug, reason)
    return True


def resume_schedule(slug: str) -> Schedule:
    """Make it active again with the parameters guildflow recorded (restoring any Prefect dropped)."""
    with get_client(sync_client=True) as client:
        schedule = read_one(client, slug)
        with _keeping_runs(client, schedule.deployment_id):
            _update(client, schedule.deployment_id, schedule.id, schedule.definition, active=True)
        _write_variable(client, SCHEDULE_VARIABLE + slug, _record(schedule.definition))
        _delete_variable(client, PAUSE_VARIABLE + slug)
        return read_one(client, slug)


def remove_schedule(slug: str) -> Schedule:
    """Delete it and what guildflow recorded about it; its past runs stay in Prefect's history."""
    with get_client(sync_client=True) as client:
        schedule = read_one(client, slug)
        with _keeping_runs(client, schedule.deployment_id, schedule.id):
            client.delete_deployment_schedule(schedule.deployment_id, schedule.id)
        _delete_variable(client, SCHEDULE_VARIABLE + slug)
        _delete_variable(client, PAUSE_VARIABLE + slug)
    return schedule


def pause_deployment(name: str, reason: str) -> None:
    """Pause a whole deployment (none of its schedules runs; runs started by hand still do), with a reason."""
    with get_client(sync_client=True) as client:
        deployment = deployment_by_name(client, name)
        pause_deployment_with(client, deployment.id, Pause.now(reason))


def resume_deployment(name: str) -> bool:
    """Resume a paused deployment; False when it was not paused."""
    with get_client(sync_client=True) as client:
        deployment = deployment_by_name(client, name)
        if not deployment.paused:
            return False
        client.resume_deployment(deployment.id)
        _delete_variable(client, DEPLOYMENT_PAUSE_VARIABLE + str(deployment.id))
        _schedule_future_runs(client, deployment.id)
    return True


def check_deployment(name: str) -> None:
    """ScheduleError (saying how to deploy it) when the deployment is not on the server."""
    with get_client(sync_client=True) as client:
        deployment_by_name(client, name)


# --- for the other bookkeeping modules (an open client) -------------------------------------------------------


def read_all(
    client: SyncPrefectClient, target: str | None = None, guild: str | None = None, channel: str | None = None
) -> list[Schedule]:
    """read_schedules on an open client: guildflow's variables, the deployments, their flows' names (a request
    each per 200)."""
    variables = _variables(client)
    named = {
        value["deployment"]
        for name, value in variables.items()
        if name.startswith(SCHEDULE_VARIABLE) and isinstance(value, dict) and isinstance(value.get("deployment"), str)
    }
    schedules = []
    for name, deployment in _guildflow_deployments(client, named):
        for prefect_schedule in deployment.schedules:
            schedule = _schedule_from(name, deployment, prefect_schedule, variables)
            if schedule is not None:
                schedules.append(schedule)
    return sorted(
        (
            schedule
            for schedule in schedules
            if (target is None or schedule.definition.target == target)
            and (guild is None or schedule.definition.guild == guild)
            and (channel is None or schedule.definition.channel == channel)
        ),
        key=lambda schedule: schedule.slug,
    )


def pause_with(client: SyncPrefectClient, schedule: Schedule, pause: Pause) -> Schedule:
    """Pause the schedule as just read, recording the pause (and what guildflow knows of it, for resume)."""
    if schedule.active:
        with _keeping_runs(client, schedule.deployment_id, schedule.id):
            _update(client, schedule.deployment_id, schedule.id, schedule.definition, active=False)
    _write_variable(client, SCHEDULE_VARIABLE + schedule.slug, _record(schedule.definition))
    _write_variable(client, PAUSE_VARIABLE + schedule.slug, {"reason": pause.reason, "at": pause.at})
    return replace(schedule, active=False, pause=pause)


def pause_deployment_with(client: SyncPrefectClient, deployment_id: UUID, pause: Pause) -> None:
    client.pause_deployment(deployment_id)  # deletes every waiting run its schedules made: none should run
    _write_variable(client, DEPLOYMENT_PAUSE_VARIABLE + str(deployment_id), {"reason": pause.reason, "at": pause.at})


def schedule_of_run(client: SyncPrefectClient, flow_run: FlowRun) -> Schedule | None:
    """The schedule that made this run (None: started by hand, by an automation, or its schedule is gone)."""
    creator = flow_run.created_by
    if flow_run.deployment_id is None or creator is None or creator.type != "SCHEDULE" or creator.id is None:
        return None
    deployment = client.read_deployment(flow_run.deployment_id)
    prefect_schedule = next((s for s in deployment.schedules if s.id == creator.id), None)
    if prefect_schedule is None or not prefect_schedule.slug:
        return None
    name = f"{client.read_flow(deployment.flow_id).name}/{deployment.name}"
    slug = prefect_schedule.slug
    variables = _variables(
        client, [SCHEDULE_VARIABLE + slug, PAUSE_VARIABLE + slug, DEPLOYMENT_PAUSE_VARIABLE + str(deployment.id)]
    )
    return _schedule_from(name, deployment, prefect_schedule, variables)


def _find(client: SyncPrefectClient, slug: str) -> Schedule | None:
    return next((schedule for schedule in read_all(client) if schedule.slug == slug), None)


def read_one(client: SyncPrefectClient, slug: str) -> Schedule:
    schedule = _find(client, slug)
    if schedule is None:
        raise ScheduleError(f"no schedule {slug!r} (`guildflow schedules list` shows them)")
    return schedule


# --- Prefect schedules ----------------------------------------------------------------------------------------


def to_prefect_schedule(spec: ScheduleSpec) -> SCHEDULE_TYPES:
    """The Prefect schedule object that runs at next_runs(spec): cron for the wall-clock kinds, an RRule for
    monthly and once, an interval in UTC for every (see the quirks above)."""
    try:
        if spec.kind == "every":
            return IntervalSchedule(interval=timedelta(minutes=spec.minutes), anchor_date=spec.anchor, timezone="UTC")
        if spec.cron is not None:
            return CronSchedule(cron=spec.cron, timezone=spec.timezone)
        return RRuleSchedule(rrule=spec.rrule or "", timezone=spec.timezone)
    except ValueError as error:  # a cron that cronsim takes and Prefect's croniter does not
        raise ScheduleError(f"Prefect does not accept the schedule {spec.text!r}: {error}") from None


def spec_from_prefect(schedule: SCHEDULE_TYPES) -> ScheduleSpec | None:
    """The spec of a Prefect schedule made outside guildflow; None when no kind says it."""
    try:
        if isinstance(schedule, CronSchedule) and schedule.day_or:
            return parse_spec(f"cron {schedule.cron}", schedule.timezone or "UTC")
        if isinstance(schedule, IntervalSchedule):
            minutes, rest = divmod(schedule.interval.total_seconds(), 60)
            if rest or not 1 <= minutes <= MAX_EVERY_MINUTES:
                return None
            anchor = schedule.anchor_date
            return parse_spec(f"every {int(minutes)}", schedule.timezone or "UTC", anchor=anchor)
        if isinstance(schedule, RRuleSchedule):
            return _spec_of_rrule(schedule.rrule, schedule.timezone or "UTC")
    except ScheduleSpecError:
        return None
    return None


def _spec_of_rrule(rrule: str, zone: str) -> ScheduleSpec | None:
    """The monthly or once spec whose RRule this is (guildflow's own forms), else None."""
    for kind in ("monthly", "once"):
        match = re.fullmatch(_RRULE_FORMS[kind], rrule)
        if match:
            spec = parse_spec(f"{kind} {_RRULE_WHEN[kind](match)}", zone)
            return spec if spec.rrule == rrule else None
    return None


_RRULE_FORMS = {
    "monthly": r"DTSTART:20200101T000000\nRRULE:FREQ=MONTHLY;BYMONTHDAY=(?:28,)?(?:29,)?(?:30,)?(\d+)(?:;BYSETPOS=-1)?;"
    r"BYHOUR=(\d+);BYMINUTE=(\d+);"
    r"BYSECOND=0",
    "once": r"DTSTART:(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)00\nRRULE:FREQ=DAILY;COUNT=1",
}
_RRULE_WHEN = {
    "monthly": lambda m: f"{m[1]} {int(m[2]):02d}:{int(m[3]):02d}",
    "once": lambda m: f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}",
}


def _same_schedule(expected: SCHEDULE_TYPES, actual: SCHEDULE_TYPES) -> bool:
    return type(expected) is type(actual) and expected.model_dump(mode="json") == actual.model_dump(mode="json")


def _create(client: SyncPrefectClient, deployment_id: UUID, definition: ScheduleDefinition, active: bool) -> None:
    schedule = DeploymentScheduleCreate(
        schedule=to_prefect_schedule(definition.spec),
        active=active,
        parameters=dict(definition.parameters),
        slug=definition.slug,
    )
    client.create_deployment_schedules(deployment_id, [schedule])


def _update(
    client: SyncPrefectClient, deployment_id: UUID, schedule_id: UUID, definition: ScheduleDefinition, active: bool
) -> None:
    """Every field, parameters included: an update without them drops them."""
    client.update_deployment_schedule(
        deployment_id,
        schedule_id,
        active=active,
        schedule=to_prefect_schedule(definition.spec),
        parameters=dict(definition.parameters),
        slug=definition.slug,
    )


@contextmanager
def _keeping_runs(client: SyncPrefectClient, deployment_id: UUID, changed: UUID | None = None) -> Iterator[None]:
    """Around a change of the deployment's schedules (`changed`: the one replaced, paused or removed, whose waiting
    runs go with its old definition): afterwards its future runs are scheduled at once, and the other schedules'
    late runs Prefect deleted are re-created at their times (Prefect's idempotency keys keep a slot to one run)."""
    waiting = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            expected_start_time=expected_start(before=datetime.now(timezone.utc)),
            created_by=FlowRunFilterCreatedBy(type_=["SCHEDULE"]),
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=PAGE,
    )
    late = set()
    for run in waiting:
        if changed is not None and run.created_by is not None and run.created_by.id == changed:
            client.delete_flow_run(run.id)
        elif run.expected_start_time is not None:
            late.add(run.expected_start_time)
    yield
    _schedule_future_runs(client, deployment_id)
    for moment in sorted(late)[-RESTORED_LATE_TIMES:]:
        _schedule_between(client, deployment_id, moment, moment)


def _schedule_future_runs(client: SyncPrefectClient, deployment_id: UUID) -> None:
    """Have the server create the active schedules' next runs now rather than at its next loop."""
    client.request("POST", "/deployments/{id}/schedule", path_params={"id": deployment_id}, json={})


def _schedule_between(client: SyncPrefectClient, deployment_id: UUID, start: datetime, end: datetime) -> None:
    client.request(
        "POST",
        "/deployments/{id}/schedule",
        path_params={"id": deployment_id},
        json={"start_time": start.isoformat(), "end_time": end.isoformat()},
    )


def _schedule_slot(client: SyncPrefectClient, schedule: Schedule, moment: datetime) -> FlowRun | None:
    """The schedule's run at this moment, created now if the server has not (a slot just past)."""
    _schedule_between(client, schedule.deployment_id, moment, moment)
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            created_by=FlowRunFilterCreatedBy(id_=[schedule.id]),
            expected_start_time=expected_start(after=moment, before=moment),
        ),
        limit=1,
    )
    return runs[0] if runs else None


def _prefect_schedule(deployment: DeploymentResponse, slug: str) -> Any:
    return next((schedule for schedule in deployment.schedules if schedule.slug == slug), None)


# --- reading ------------------------------------------------------------------------------------------------


def deployment_by_name(client: SyncPrefectClient, name: str) -> DeploymentResponse:
    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:
        raise ScheduleError(
            f"the deployment {name} is not on the Prefect server at {client.api_url}: deploy it first "
            f"(`prefect deploy --name {name.split('/', 1)[-1]}` in the project folder, with PREFECT_API_URL set)"
        ) from None


def _guildflow_deployments(client: SyncPrefectClient, named: set[str]) -> list[tuple[str, DeploymentResponse]]:
    """Deployments tagged guildflow, and those named (by guildflow's schedule records), with their full names."""
    wanted = DeploymentFilter(  # type: ignore[call-arg]  # operator: a field of its OperatorMixin
        operator="or_",
        tags=DeploymentFilterTags(all_=[GUILDFLOW_TAG]),
        name=DeploymentFilterName(any_=sorted({name.split("/", 1)[-1] for name in named})),
    )
    deployments: list[DeploymentResponse] = []
    while True:
        page = client.read_deployments(deployment_filter=wanted, limit=PAGE, offset=len(deployments))
        deployments += page
        if len(page) < PAGE:
            break
    if not deployments:
        return []
    flows = {
        flow.id: flow.name
        for flow in client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=[d.flow_id for d in deployments])))
    }
    found = [(f"{flows.get(d.flow_id)}/{d.name}", d) for d in deployments]
    return [(name, d) for name, d in found if GUILDFLOW_TAG in d.tags or name in named]


def _variables(client: SyncPrefectClient, names: list[str] | None = None) -> dict[str, Any]:
    """guildflow's variables (all, or these), by name, in as few requests as the page size allows."""
    condition: dict[str, Any] = {"any_": names} if names is not None else {"like_": "guildflow-%"}
    values: dict[str, Any] = {}
    while True:
        page = client.request(
            "POST",
            "/variables/filter",
            json={"variables": {"name": condition}, "offset": len(values), "limit": PAGE, "sort": "NAME_ASC"},
        ).json()
        values.update({variable["name"]: variable["value"] for variable in page})
        if len(page) < PAGE:
            return values


def _write_variable(client: SyncPrefectClient, name: str, value: Any) -> None:
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate

    if client.read_variable_by_name(name) is None:
        try:
            client.create_variable(VariableCreate(name=name, value=value))
            return
        except ObjectAlreadyExists:
            pass
    client.update_variable(VariableUpdate(name=name, value=value))


def _delete_variable(client: SyncPrefectClient, name: str) -> None:
    try:
        client.delete_variable_by_name(name)
    except ObjectNotFound:
        pass


def _check_slug_free(client: SyncPrefectClient, definition: ScheduleDefinition) -> None:
    record = _variables(client, [SCHEDULE_VARIABLE + definition.slug]).get(SCHEDULE_VARIABLE + definition.slug)
    elsewhere = record.get("deployment") if isinstance(record, dict) else None
    if elsewhere and elsewhere != definition.deployment:
        still_there = _find(client, definition.slug)
        if still_there is not None and still_there.definition.deployment != definition.deployment:
            raise ScheduleError(
                f"the slug {definition.slug} is taken by a schedule of {elsewhere}: remove that one first "
                f"(`guildflow schedules remove {definition.slug}`) or choose another slug"
            )


def _schedule_from(
    name: str, deployment: DeploymentResponse, prefect_schedule: Any, variables: dict[str, Any]
) -> Schedule | None:
    """The schedule as guildflow recorded it, checked against what Prefect holds; None for a schedule without a
    slug or one no kind of schedule can say (made in Prefect's UI, say)."""
    slug = prefect_schedule.slug
    if not slug or not _SLUG.fullmatch(slug):
        return None
    record = variables.get(SCHEDULE_VARIABLE + slug)
    stored = _definition_from_record(slug, record) if isinstance(record, dict) else None
    actual_spec = spec_from_prefect(prefect_schedule.schedule)
    problems = []
    if stored is not None and stored.deployment == name:
        definition = stored
        if not _same_schedule(to_prefect_schedule(stored.spec), prefect_schedule.schedule):
            problems.append(
                "its schedule was changed outside guildflow (Prefect's UI or CLI): shown as Prefect runs it; "
                "set it again through guildflow to make them agree"
            )
            if actual_spec is None:
                return None
            definition = replace(stored, spec=actual_spec)
        if dict(prefect_schedule.parameters) != dict(stored.parameters):
            problems.append(
                "its parameters on the server differ from guildflow's (dropped by pausing or resuming it with "
                f"Prefect's own commands?): `guildflow schedules resume {slug}` sets them again"
            )
    else:
        if actual_spec is None:
            return None
        definition = ScheduleDefinition(slug, name, actual_spec, dict(prefect_schedule.parameters))
    pause = None
    if not prefect_schedule.active:
        recorded = variables.get(PAUSE_VARIABLE + slug)
        pause = _pause_from_record(recorded) if isinstance(recorded, dict) else Pause(_NO_REASON)
    return Schedule(
        definition=definition,
        id=prefect_schedule.id,
        deployment_id=deployment.id,
        active=prefect_schedule.active,
        pause=pause,
        deployment_pause=_deployment_pause(deployment, variables),
        problems=tuple(problems),
    )


def _deployment_pause(deployment: DeploymentResponse, variables: dict[str, Any]) -> Pause | None:
    if not deployment.paused:
        return None
    recorded = variables.get(DEPLOYMENT_PAUSE_VARIABLE + str(deployment.id))
    return _pause_from_record(recorded) if isinstance(recorded, dict) else Pause(_NO_REASON)


def _record(definition: ScheduleDefinition) -> dict[str, Any]:
    return {
        "deployment": definition.deployment,
        "schedule": definition.spec.to_json(),
        "parameters": dict(definition.parameters),
        "pause_after_failures": definition.pause_after_failures,
    }


def _definition_from_record(slug: str, record: dict[str, Any]) -> ScheduleDefinition | None:
    try:
        return ScheduleDefinition(
            slug=slug,
            deployment=str(record["deployment"]),
            spec=ScheduleSpec.from_json(record["schedule"]),
            parameters=dict(record.get("parameters") or {}),
            pause_after_failures=record.get("pause_after_failures"),
        )
    except (KeyError, TypeError, ValueError):  # edited by hand into something else: read it from Prefect
        return None


def _pause_from_record(record: dict[str, Any]) -> Pause:
    return Pause(str(record.get("reason") or _NO_REASON), str(record.get("at") or ""))


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
