"""The one auto-pause, for every schedule and deployment: an on_failure/on_crashed hook of deployed flows.

A failed run counts against what started it. A run a schedule made counts against that schedule: when its last N
finished runs all failed (N: the schedule's own pause_after_failures, else GUILDFLOW_PAUSE_AFTER_FAILURES; 0 never
pauses), or at once when a destination said it is gone or refuses us (integrations.delivery.DestinationUnusable:
retrying cannot help), the schedule is paused with the reason, and a notice goes to its destinations (each where
reachable). Any other run of a deployment (by hand, the UI, an automation) counts against the deployment's runs
that no schedule made: N of those failing in a row pause the deployment. Each pause is logged on the run and
emitted as the event AUTO_PAUSED_EVENT, which `guildflow automations apply` turns into a notification.

Prefect's automations count failures within a time window, where a success in between does not reset the count;
this counts consecutive ones. Cancelled runs (superseded, or cancelled by hand) neither fail nor succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import Flow, get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events import emit_event
from prefect.flows import FlowStateHook
from prefect.logging.loggers import flow_run_logger
from prefect.states import State

from bookkeeping.history import finished_runs_by_hand, finished_runs_of_schedule
from bookkeeping.schedules import Pause, Schedule, pause_deployment_with, pause_with, schedule_of_run
from core.delivery import Destination, Message
from core.run_stats import consecutive_failures, failure_summary
from guildflow.settings import ConfigurationError, Settings, load_settings
from integrations.delivery import DestinationUnusable

AUTO_PAUSED_EVENT = "guildflow.deployment.auto-paused"

NoticeSender = Callable[[Settings, list[Destination], Message], object]
"""Delivers a notice to each destination on its own and logs what it could not deliver (tasks.deliver's
deliver_everywhere: the flows pass it in, bookkeeping imports no tasks)."""


def pause_after_failures(notify: NoticeSender | None = None) -> FlowStateHook[..., Any]:
    """The hook for a flow's on_failure and on_crashed; notify delivers the notice of a paused schedule."""

    def pause_after_failures(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
        if flow_run.deployment_id is None:
            return  # a run outside any deployment (the CLI's, a test's): nothing to pause
        error = state.result(raise_on_failure=False) if state.is_failed() else None
        why = failure_summary(
            str(error) if isinstance(error, BaseException) else state.message or state.name or "", 1000
        )
        logger = flow_run_logger(flow_run, flow)
        with get_client(sync_client=True) as client:
            schedule = schedule_of_run(client, flow_run)
            if schedule is None:
                _pause_deployment_if_due(client, flow, flow_run, why, logger)
                return
            pause = _pause_schedule_if_due(client, schedule, error, why)
        if pause is None:
            return
        logger.warning(
            "Paused the schedule %s: %s. Fix the cause, then resume it: `guildflow schedules resume %s`.",
            schedule.slug,
            pause.reason,
            schedule.slug,
        )
        deployment_name = schedule.definition.deployment.split("/", 1)[1]
        _emit(flow, flow_run, deployment_name, f"schedule {schedule.slug} of deployment", pause.reason)
        if notify is not None and schedule.definition.destinations:
            _notify(notify, schedule, pause, logger)

    return pause_after_failures


def notice(schedule: Schedule, pause: Pause) -> Message:
    """The message a paused schedule's destinations get."""
    return Message(
        title=f"⏸️ Schedule {schedule.slug} is paused",
        body=(
            f"The scheduled {schedule.definition.target} ({schedule.definition.spec.describe()}) is paused: "
            f"{pause.reason[:1500]}\n"
            f"An admin can fix the cause and resume it with `guildflow schedules resume {schedule.slug}`."
        ),
    )


def _pause_schedule_if_due(client: SyncPrefectClient, schedule: Schedule, error: Any, why: str) -> Pause | None:
    if not schedule.active:
        return None  # paused meanwhile (by hand, or by a run that failed at the same time)
    if isinstance(error, DestinationUnusable):
        reason = f"{error.reason}: {error}"
    else:
        threshold = schedule.definition.pause_after_failures
        threshold = _threshold() if threshold is None else threshold
        if threshold == 0:
            return None
        failures = consecutive_failures(run.failed for run in finished_runs_of_schedule(client, schedule.id, threshold))
        if failures < threshold:
            return None
        reason = f"{failures} consecutive failed runs; the last: {why}"
    return pause_with(client, schedule, Pause.now(reason)).pause


def _pause_deployment_if_due(client: SyncPrefectClient, flow: Flow, flow_run: FlowRun, why: str, logger: Any) -> None:
    threshold = _threshold()
    assert flow_run.deployment_id is not None
    deployment = client.read_deployment(flow_run.deployment_id)
    if threshold == 0 or deployment.paused:
        return
    runs = finished_runs_by_hand(client, deployment.id, threshold)
    if len(runs) < threshold or consecutive_failures(run.failed for run in runs) < threshold:
        return
    reason = (
        f"its last {threshold} runs started by hand failed ({', '.join(run.name for run in runs)}); the last: {why}"
    )
    pause_deployment_with(client, deployment.id, Pause.now(reason))
    name = f"{flow.name}/{deployment.name}"
    logger.warning(
        "Paused deployment %s: %s. Fix the cause, then resume it: `guildflow schedules resume --deployment %s` (or "
        "the deployment's toggle in the UI); GUILDFLOW_PAUSE_AFTER_FAILURES=0 never pauses.",
        name,
        reason,
        name,
    )
    _emit(flow, flow_run, deployment.name, "deployment", reason)


def _notify(notify: NoticeSender, schedule: Schedule, pause: Pause, logger: Any) -> None:
    """Every destination is tried, the one that made the run fail too: a channel that refuses files may still
    take the notice that says why its exports stopped."""
    try:
        destinations = [Destination.parse(destination) for destination in schedule.definition.destinations]
        notify(load_settings(), destinations, notice(schedule, pause))
    except Exception as error:  # bad settings, say: the pause is recorded and logged all the same
        logger.warning("Could not deliver the pause notice of %s: %s", schedule.slug, error)


def _emit(flow: Flow, flow_run: FlowRun, deployment_name: str, what: str, reason: str) -> None:
    """The event the automation notifies on: what was paused ("deployment", or "schedule <slug> of deployment")
    and why, about the run's deployment."""
    emit_event(
        event=AUTO_PAUSED_EVENT,
        resource={
            "prefect.resource.id": f"prefect.deployment.{flow_run.deployment_id}",
            "prefect.resource.name": deployment_name,
        },
        related=[
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.role": "flow-run",
                "prefect.resource.name": flow_run.name,
            }
        ],
        payload={"flow": flow.name, "paused": what, "reason": reason[:1500]},
    )


def _threshold() -> int:
    try:
        return load_settings().pause_after_failures
    except ConfigurationError:
        # The run may have failed on the configuration itself; that failure counts all the same.
        return Settings.model_fields["pause_after_failures"].default
