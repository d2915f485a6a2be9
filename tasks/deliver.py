"""Delivering a message to its destinations, each on its own: one failing does not stop the others, and none gets
the message twice in a run. A delivery completed in this run is a Prefect cache hit (key: run, destination,
message digest; results persisted), so a re-run of the run skips it; the parts of a message that were out before
a failure are in the delivery ledger, so a retry delivers only the rest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal
from uuid import uuid4

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.context import TaskRunContext
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run, task_run
from prefect.states import State

from core.delivery import Destination, Message
from core.errors import UserFacingError
from guildflow.settings import Settings
from integrations.delivery import DeliveryError, DestinationUnusable, Receipt
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent

DeliveryStatus = Literal["delivered", "failed", "unusable"]


def _delivery_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    destination: Destination = parameters["destination"]
    message: Message = parameters["message"]
    return f"deliver-{parameters['run_key']}-{destination.key}-{message.digest}"


def _delivery_run_name() -> str:
    # Never from str(destination): a webhook URL may hold a token. describe() shows its host only.
    parameters = task_run.parameters
    title = parameters["message"].title
    return f"deliver {repr(title) if title else 'a message'} to {parameters['destination'].describe()}"


@task(
    name="deliver message",
    retries=2,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_key_fn=_delivery_cache_key,
    persist_result=True,
    task_run_name=_delivery_run_name,
)
def deliver_message(settings: Settings, destination: Destination, message: Message, run_key: str) -> Receipt:
    """Deliver the message's parts not yet delivered to this destination in this run (run_key: the flow run's
    id, or whatever identifies "the same run" to the caller); DestinationUnusable when it never can."""
    ledger = clients.delivery_ledger(settings)
    receipt = clients.delivery(settings, destination).deliver(
        message, ledger.progress(run_key, destination.key, message.digest)
    )
    logger = get_run_logger()
    for warning in receipt.warnings:
        logger.warning(warning)
    return receipt


@dataclass(frozen=True)
class DeliveryOutcome:
    """How delivering to one destination went. message: why it failed (safe to show); reason: the short label of
    an unusable destination (gone, forbidden), for pausing what delivers there."""

    destination: Destination
    status: DeliveryStatus
    receipt: Receipt | None = None
    message: str = ""
    reason: str = ""
    earlier: bool = False  # delivered earlier in this run (a re-run): nothing was sent now

    def summary(self) -> str:
        where = self.destination.describe()
        if self.status == "delivered" and self.receipt is not None:
            when = " earlier in this run" if self.earlier else ""
            return f"{where}: delivered{when} ({', '.join(self.receipt.part_ids)})"
        return f"{where}: {self.status}: {self.message}"


class DeliveriesFailed(DeliveryError):
    """Some destinations did not get the message; `outcomes` has every destination's, delivered ones too."""

    def __init__(self, outcomes: list[DeliveryOutcome]) -> None:
        failed = [outcome for outcome in outcomes if outcome.status != "delivered"]
        super().__init__(
            f"{len(failed)} of {len(outcomes)} deliveries failed: " + "; ".join(outcome.summary() for outcome in failed)
        )
        self.outcomes = outcomes

    def __reduce__(self) -> tuple[type[DeliveriesFailed], tuple[list[DeliveryOutcome]]]:
        return type(self), (self.outcomes,)  # rebuilt from a result store


def deliver_everywhere(
    settings: Settings, destinations: list[Destination], message: Message, *, run_key: str | None = None
) -> list[DeliveryOutcome]:
    """Deliver the message to each destination, independently; returns how each went (logged, and a
    `deliveries` table artifact in a flow run). run_key defaults to the current flow run's id: a retry or a
    re-run of that run never delivers twice. raise_if_any_failed(outcomes) then ends the run Failed if one failed."""
    key = run_key or flow_run.id or f"process-{uuid4().hex}"
    outcomes = [
        _outcome(destination, deliver_message(settings, destination, message, key, return_state=True))
        for destination in destinations
    ]
    _report(outcomes)
    return outcomes


def raise_if_any_failed(outcomes: list[DeliveryOutcome]) -> None:
    if any(outcome.status != "delivered" for outcome in outcomes):
        raise DeliveriesFailed(outcomes)


def _outcome(destination: Destination, state: State) -> DeliveryOutcome:
    if state.is_completed():
        return DeliveryOutcome(destination, "delivered", state.result(), earlier=state.name == "Cached")
    error = state.result(raise_on_failure=False)
    if isinstance(error, DestinationUnusable):
        return DeliveryOutcome(destination, "unusable", message=str(error), reason=error.reason)
    if isinstance(error, UserFacingError):
        return DeliveryOutcome(destination, "failed", message=str(error))
    # A bug: its text may quote anything (a URL with a token); the task run's log has the traceback.
    what = type(error).__name__ if isinstance(error, BaseException) else state.name
    return DeliveryOutcome(destination, "failed", message=f"unexpected error ({what}); see the task run's log")


def _report(outcomes: list[DeliveryOutcome]) -> None:
    try:
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = get_run_logger()
    except MissingContextError:
        logger = logging.getLogger(__name__)
    for outcome in outcomes:
        logger.log(logging.INFO if outcome.status == "delivered" else logging.WARNING, outcome.summary())
    if flow_run.id:
        create_table_artifact(
            key="deliveries",
            table=[
                {
                    "destination": outcome.destination.describe(),
                    "status": outcome.status,
                    "detail": outcome.message or ", ".join(outcome.receipt.part_ids if outcome.receipt else []),
                }
                for outcome in outcomes
            ],
            description="Where this run delivered its message, and how it went",
        )
