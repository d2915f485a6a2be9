"""Bookkeeping against a real Prefect server (the session's test harness): a probe flow whose runs succeed, fail
or hit an unusable destination as a test asks, deployed fresh for each test, and its runs executed here as a
worker would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterCreatedBy
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flow_engine import run_flow
from prefect.settings import temporary_settings

from bookkeeping.pauses import pause_after_failures
from core.delivery import Destination, Message
from guildflow.settings import Settings
from integrations.delivery import DestinationUnusable

NOTICES: list[tuple[tuple[str, ...], Message]] = []


def record_notice(settings: Settings, destinations: list[Destination], message: Message) -> None:
    """Stands in for deliver_everywhere (tested with each destination in tests/flows/test_deliveries.py)."""
    NOTICES.append((tuple(str(destination) for destination in destinations), message))


PAUSE_HOOK = pause_after_failures(notify=record_notice)


@flow(name="bookkeeping-probe", persist_result=False, on_failure=[PAUSE_HOOK], on_crashed=[PAUSE_HOOK])
def probe(
    outcome: str = "ok",
    guild_id: str | None = None,
    channel_id: str | None = None,
    destinations: list[str] | None = None,
) -> str:
    if outcome == "fail":
        raise ValueError("the probe failed on purpose")
    if outcome == "unusable":
        raise DestinationUnusable("channel 1300000000000000111 is gone", "channel not found (404)")
    return outcome


@pytest.fixture
def server(prefect_harness: None, guildflow_env: Path, tmp_path: Path) -> Iterator[None]:
    """The harness's server, a clean environment, no notices yet (modules that need it: usefixtures)."""
    NOTICES.clear()
    with temporary_settings(updates={"results.local_storage_path": tmp_path / "prefect-results"}):
        yield


@pytest.fixture
def deployment(server: None) -> str:
    """A fresh deployment of the probe flow (no schedules, no runs); its full name."""
    name = f"probe-{uuid4().hex[:8]}"
    probe.to_deployment(name=name).apply()
    return f"{probe.name}/{name}"


def schedule_runs_between(deployment_id: UUID, start: datetime, end: datetime) -> None:
    """Have the server make the runs the schedules have between start and end (a backfill: they are late)."""
    with get_client(sync_client=True) as client:
        client.request(
            "POST",
            "/deployments/{id}/schedule",
            path_params={"id": deployment_id},
            # min_time: every run up to end_time, not just the scheduler's minimum
            json={
                "start_time": start.isoformat(),
                "end_time": end.isoformat(),
                "min_time": (end - start).total_seconds(),
            },
        ).raise_for_status()


def runs_of(schedule_id: UUID, due_by: datetime | None = None) -> list[FlowRun]:
    """The runs the schedule made (due by due_by, when given), oldest first."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[schedule_id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
    return [run for run in runs if due_by is None or run.expected_start_time <= due_by]


def execute(flow_run: FlowRun, outcome: str | None = None) -> FlowRun:
    """Run a created run here, as a worker would (with another outcome, when given), and read back how it ended."""
    parameters = {**flow_run.parameters, **({"outcome": outcome} if outcome else {})}
    run_flow(probe, flow_run=flow_run, parameters=parameters, return_type="state")
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run.id)


def now() -> datetime:
    return datetime.now(timezone.utc)
