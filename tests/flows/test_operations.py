"""Deployed runs of the daily pipeline on the harness server: catch-up after an outage, and pausing
a deployment after consecutive failures. Runs are created from a deployment, as the scheduler or
the UI would, and executed here by Prefect's flow engine, as a worker would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterExpectedStartTime
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flow_engine import run_flow
from prefect.states import Scheduled

from flows.daily import daily_pipeline
from tests.conftest import SAMPLE_EXPORTS


@pytest.fixture
def deployment_id(guildflow_env: Path) -> UUID:
    """A fresh deployment of the daily flow, so no other test's runs are in its history."""
    return daily_pipeline.to_deployment(name=f"ops-{uuid4().hex[:8]}").apply()


@pytest.fixture
def corrupt_export(guildflow_env: Path) -> Path:
    bad = guildflow_env / "export.json"
    bad.write_text("{oops")
    return bad


def create_run(deployment_id: UUID, due: datetime | None = None) -> FlowRun:
    with get_client(sync_client=True) as client:
        state = Scheduled(scheduled_time=due) if due else None
        return client.create_flow_run_from_deployment(deployment_id, state=state)


def execute(flow_run: FlowRun) -> FlowRun:
    """Run a created flow run in this process and read back how it ended."""
    run_flow(daily_pipeline, flow_run=flow_run, return_type="state")
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run.id)


def run_deployed(deployment_id: UUID) -> StateType:
    return execute(create_run(deployment_id)).state_type


def is_paused(deployment_id: UUID) -> bool:
    with get_client(sync_client=True) as client:
        return client.read_deployment(deployment_id).paused


# Catch-up after an outage


@pytest.fixture
def hourly_deployment_id(guildflow_env: Path) -> UUID:
    return daily_pipeline.to_deployment(name=f"ops-{uuid4().hex[:8]}", interval=timedelta(hours=1)).apply()


def late_scheduled_runs(deployment_id: UUID, hours: float) -> list[FlowRun]:
    """The runs the schedule made for the last `hours` and nobody ran (a worker outage), oldest first."""
    now = datetime.now(timezone.utc)
    with get_client(sync_client=True) as client:
        client.request(
            "POST",
            "/deployments/{id}/schedule",
            path_params={"id": deployment_id},
            json={"start_time": (now - timedelta(hours=hours)).isoformat(), "end_time": now.isoformat()},
        ).raise_for_status()
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
                expected_start_time=FlowRunFilterExpectedStartTime(before_=now),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
    scheduled = [run for run in runs if run.auto_scheduled]
    assert scheduled, "the schedule made no late runs"
    return scheduled


def test_only_the_newest_late_run_works(hourly_deployment_id: UUID, guildflow_env: Path) -> None:
    oldest, middle, newest = late_scheduled_runs(hourly_deployment_id, hours=2.9)

    oldest, middle = execute(oldest), execute(middle)  # a worker back from an outage takes the oldest first
    assert (oldest.state_type, middle.state_type) == (StateType.CANCELLED, StateType.CANCELLED)
    assert not (guildflow_env / "workbook.sqlite").exists()  # they did no work
    newest = execute(newest)
    assert newest.state_type == StateType.COMPLETED
    assert len(list((guildflow_env / "outbox").glob("*.json"))) == 1

    scheduled = newest.expected_start_time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for superseded in (oldest, middle):
        assert superseded.state.message == (
            f"superseded by the later run {newest.name} scheduled for {scheduled}; its collection catches up everything"
        )


def test_a_single_late_run_just_runs(hourly_deployment_id: UUID) -> None:
    [late] = late_scheduled_runs(hourly_deployment_id, hours=0.95)
    assert execute(late).state_type == StateType.COMPLETED


def test_a_run_started_by_hand_is_never_superseded(hourly_deployment_id: UUID) -> None:
    by_hand = create_run(hourly_deployment_id, datetime.now(timezone.utc) - timedelta(hours=3))
    late_scheduled_runs(hourly_deployment_id, hours=1.9)
    assert execute(by_hand).state_type == StateType.COMPLETED


def test_a_run_due_later_than_now_supersedes_nothing(deployment_id: UUID) -> None:
    create_run(deployment_id, datetime.now(timezone.utc) + timedelta(hours=1))  # tomorrow's run, say
    late = create_run(deployment_id, datetime.now(timezone.utc) - timedelta(hours=1))
    assert execute(late).state_type == StateType.COMPLETED


# Pausing after consecutive failures


def test_five_consecutive_failures_pause_the_deployment(
    deployment_id: UUID, corrupt_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(corrupt_export))
    for _ in range(4):
        assert run_deployed(deployment_id) == StateType.FAILED
    assert not is_paused(deployment_id)
    assert run_deployed(deployment_id) == StateType.FAILED
    assert is_paused(deployment_id)

    with get_client(sync_client=True) as client:  # how the README says to resume it
        name = f"{daily_pipeline.name}/{client.read_deployment(deployment_id).name}"
        client.resume_deployment(client.read_deployment_by_name(name).id)
    assert not is_paused(deployment_id)


def test_a_success_in_between_resets_the_count(
    deployment_id: UUID, corrupt_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(corrupt_export))
    for _ in range(4):
        assert run_deployed(deployment_id) == StateType.FAILED
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", SAMPLE_EXPORTS)
    assert run_deployed(deployment_id) == StateType.COMPLETED
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(corrupt_export))
    for _ in range(4):
        assert run_deployed(deployment_id) == StateType.FAILED
    assert not is_paused(deployment_id)  # 8 failures of the last 9: a window count would have paused


def test_the_threshold_is_a_setting(deployment_id: UUID, corrupt_export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(corrupt_export))
    monkeypatch.setenv("GUILDFLOW_PAUSE_AFTER_FAILURES", "2")
    assert run_deployed(deployment_id) == StateType.FAILED
    assert not is_paused(deployment_id)
    assert run_deployed(deployment_id) == StateType.FAILED
    assert is_paused(deployment_id)
