"""Stats from real runs of a schedule, and the one auto-pause: after N consecutive failures (the setting, or the
schedule's own threshold), at once on an unusable destination, and for a deployment's runs started by hand. Runs are
made by the server from the schedule (a backfill of the last minutes) and executed here as a worker would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prefect import get_client

from bookkeeping.history import schedule_statuses
from bookkeeping.schedules import ScheduleDefinition, read_schedule, resume_deployment, save_schedule
from core.schedule_spec import spec_from_words
from tests.bookkeeping.conftest import NOTICES, execute, now, runs_of, schedule_runs_between

CHANNEL = "1300000000000000111"
pytestmark = pytest.mark.usefixtures("server")


def every_minute(deployment: str, threshold: int | None = None, **parameters: object):  # noqa: ANN201
    """A schedule every minute that started 6 minutes ago, with its due runs made (late, as after an outage)."""
    spec = spec_from_words("every", "1", anchor=now().replace(microsecond=0) - timedelta(minutes=6))
    slug = f"{deployment.split('/')[1]}-every-minute"
    schedule = save_schedule(ScheduleDefinition(slug, deployment, spec, parameters, threshold)).schedule
    schedule_runs_between(schedule.deployment_id, now() - timedelta(minutes=6), now())
    return schedule


def status_of(slug: str):  # noqa: ANN201
    return next(status for status in schedule_statuses() if status.schedule.slug == slug)


def run_in_turn(schedule_id, outcomes: list[str]) -> list:  # noqa: ANN001
    """Execute the schedule's oldest waiting runs, one outcome each."""
    waiting = [run for run in runs_of(schedule_id, due_by=now()) if run.state_type.value == "SCHEDULED"]
    assert len(waiting) >= len(outcomes)
    return [execute(run, outcome) for run, outcome in zip(waiting, outcomes)]


def test_stats_come_from_the_schedules_runs(deployment: str) -> None:
    schedule = every_minute(deployment, threshold=0, channel_id=CHANNEL)
    ran = run_in_turn(schedule.id, ["ok", "fail", "ok", "fail", "fail"])

    status = status_of(schedule.slug)
    stats = status.stats
    assert (stats.runs, stats.failures, stats.consecutive_failures) == (5, 3, 2)
    assert stats.success_rate == pytest.approx(0.4) and stats.average_seconds is not None
    assert stats.last_run.name == ran[-1].name and stats.last_run.failed
    assert "the probe failed on purpose" in stats.last_run.message
    assert stats.due is not None and status.next_run == stats.due.expected_start  # a late run waits for a worker
    assert status.schedule.active  # a threshold of 0 never pauses


def test_consecutive_failures_pause_the_schedule_with_a_notice(deployment: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GUILDFLOW_PAUSE_AFTER_FAILURES", "2")
    destinations = [f"discord:{CHANNEL}", "file:/srv/notices"]
    schedule = every_minute(deployment, threshold=3, destinations=destinations)
    run_in_turn(schedule.id, ["fail", "fail", "ok", "fail", "fail"])  # the schedule's 3 overrides the setting's 2
    assert read_schedule(schedule.slug).active and NOTICES == []

    run_in_turn(schedule.id, ["fail"])
    paused = read_schedule(schedule.slug)
    assert not paused.active
    assert paused.pause.reason == "3 consecutive failed runs; the last: the probe failed on purpose"
    [(to, notice)] = NOTICES
    assert to == tuple(destinations) and notice.title == f"⏸️ Schedule {schedule.slug} is paused"
    assert paused.pause.reason in notice.body and f"guildflow schedules resume {schedule.slug}" in notice.body
    assert [run for run in runs_of(schedule.id) if run.state_type.value == "SCHEDULED"] == []  # none left to run


def test_the_setting_is_the_threshold_without_an_override(deployment: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GUILDFLOW_PAUSE_AFTER_FAILURES", "2")
    schedule = every_minute(deployment, channel_id=CHANNEL)
    run_in_turn(schedule.id, ["fail"])
    assert read_schedule(schedule.slug).active
    run_in_turn(schedule.id, ["fail"])
    assert read_schedule(schedule.slug).pause.reason.startswith("2 consecutive failed runs")
    assert [to for to, _ in NOTICES] == [(f"discord:{CHANNEL}",)]


def test_an_unusable_destination_pauses_at_once(deployment: str) -> None:
    schedule = every_minute(deployment, channel_id=CHANNEL)
    run_in_turn(schedule.id, ["unusable"])
    paused = read_schedule(schedule.slug)
    assert paused.pause.reason == "channel not found (404): channel 1300000000000000111 is gone"
    assert status_of(schedule.slug).stats.consecutive_failures == 1


def test_runs_started_by_hand_pause_the_deployment(deployment: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GUILDFLOW_PAUSE_AFTER_FAILURES", "2")
    schedule = every_minute(deployment, channel_id=CHANNEL)
    with get_client(sync_client=True) as client:
        by_hand = [client.create_flow_run_from_deployment(schedule.deployment_id) for _ in range(2)]
    execute(by_hand[0], "fail")
    assert not read_schedule(schedule.slug).deployment_pause
    run_in_turn(schedule.id, ["fail"])  # a scheduled run counts for its schedule, not for the runs by hand
    execute(by_hand[1], "fail")

    found = read_schedule(schedule.slug)
    assert found.active and found.deployment_pause is not None and not found.runs_now
    assert found.deployment_pause.reason.startswith("its last 2 runs started by hand failed (")
    assert found.state().startswith(f"active, but deployment {deployment} is paused: its last 2 runs")
    assert status_of(schedule.slug).next_run is None
    assert resume_deployment(deployment) and read_schedule(schedule.slug).runs_now
