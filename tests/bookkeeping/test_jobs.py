"""Jobs on the session's Prefect server (the test harness): scheduling makes one run per job and per reminder, once
however often it is asked; list, show and cancel read and change them by tag; the job flows' overdue policy. Runs
that wait for a worker are e2e (tests/e2e/test_jobs.py); here the flows are called directly."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType

from bookkeeping.jobs import cancel_job, job_tag, list_jobs, schedule_job, show_job
from core.jobs import JobError, JobSpec, job_spec
from flows.jobs import post_message, reminder

pytestmark = pytest.mark.usefixtures("server")


@pytest.fixture(autouse=True)
def job_deployments(server: None) -> None:
    post_message.to_deployment(name="jobs").apply()
    reminder.to_deployment(name="jobs").apply()


def now() -> datetime:
    return datetime.now(timezone.utc)


def post_job(folder: Path, text: str, **options: Any) -> JobSpec:
    arguments: dict[str, Any] = {"run_in": "2h", "destinations": [f"file:{folder}:json"], "payload": {"text": text}}
    return job_spec("post-message", **{"now": now(), **arguments, **options})


def runs_of(job_id: str) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[job_tag(job_id)])))


def delivered(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def test_a_job_is_one_scheduled_run_and_one_per_reminder_however_often_it_is_asked(guildflow_env: Path) -> None:
    spec = post_job(guildflow_env / "out", "round 1 results", reminders="30m,5m,1m", guild="579805515301131997")
    job = schedule_job(spec)

    assert job.created and job.state == "Scheduled" and job.spec == spec
    assert [reminder.at for reminder in job.reminders] == sorted(spec.reminder_times())
    assert [reminder.state for reminder in job.reminders] == ["Scheduled"] * 3
    runs = runs_of(spec.id)
    assert len(runs) == 4
    [action] = [run for run in runs if run.id == job.run_id]
    assert action.expected_start_time == spec.at and action.parameters["text"] == "round 1 results"
    assert action.parameters["job_id"] == spec.id and action.parameters["destinations"] == list(spec.destinations)

    again = schedule_job(spec)  # a retried command
    assert not again.created and again.run_id == job.run_id
    assert len(runs_of(spec.id)) == 4
    retried_later = post_job(guildflow_env / "out", "round 1 results", reminders="30m,5m,1m",
                             guild="579805515301131997", now=now() + timedelta(seconds=40))  # fmt: skip
    assert retried_later.id != spec.id  # `--in 2h` asked 40 s later
    same = schedule_job(retried_later)
    assert not same.created and same.id == spec.id and runs_of(retried_later.id) == []
    listed = [listed for listed in list_jobs(guild="579805515301131997") if listed.id == spec.id]
    assert len(listed) == 1 and len(listed[0].reminders_left) == 3
    assert spec.id not in {listed.id for listed in list_jobs(guild="111111111111111111")}
    assert show_job(spec.id).run_id == job.run_id


def test_a_payload_that_does_not_fit_makes_nothing(guildflow_env: Path) -> None:
    spec = post_job(guildflow_env / "out", "x", payload={"text": "x", "colour": "red"}, reminders="5m")
    with pytest.raises(JobError, match="post-message does not take colour: its payload takes text, then, title"):
        schedule_job(spec)
    assert runs_of(spec.id) == []
    follow_up = {"action": "post-message", "in": "1d", "payload": {"words": "round 2"}}
    spec = post_job(guildflow_env / "out", "y", payload={"text": "y", "then": follow_up})
    with pytest.raises(JobError, match="does not take words"):
        schedule_job(spec)
    assert runs_of(spec.id) == []


def test_an_action_not_deployed_says_how_to_deploy_it(guildflow_env: Path) -> None:
    spec = job_spec("daily-pipeline", now=now(), run_in="1h")
    with pytest.raises(JobError, match="deployment daily-pipeline/daily .* `prefect deploy --all`"):
        schedule_job(spec)


def test_cancelling_is_final_and_a_finished_job_says_so(guildflow_env: Path) -> None:
    spec = post_job(guildflow_env / "out", "to be cancelled", reminders="30m,5m")
    schedule_job(spec)
    cancelled = cancel_job(spec.id)

    assert cancelled.state_type == StateType.CANCELLED and not cancelled.reminders_left
    assert [reminder.state for reminder in cancelled.reminders] == ["Cancelled", "Cancelled"]
    assert spec.id not in {job.id for job in list_jobs()}
    [finished] = [job for job in list_jobs(include_finished=True) if job.id == spec.id]
    assert finished.outcome() == "Cancelled: cancelled with guildflow job cancel"
    with pytest.raises(JobError, match=f"job {spec.id} has finished already \\(Cancelled"):
        cancel_job(spec.id)
    with pytest.raises(JobError, match="exists already and has finished"):
        schedule_job(spec)
    with pytest.raises(JobError, match="no job nope"):
        show_job("nope")
    # The reminder of a cancelled job, were it to start anyway, delivers nothing.
    state = reminder(spec.id, str(cancelled.run_id), "t", spec.at.isoformat(), now().isoformat(),
                     list(spec.destinations), return_state=True)  # fmt: skip
    assert state.name == "Skipped" and state.message == "skipped: its job was cancelled"
    assert delivered(guildflow_env / "out") == []


def test_a_reminder_on_time_is_delivered_and_a_late_one_skipped(guildflow_env: Path) -> None:
    out = guildflow_env / "out"
    spec = post_job(out, "results", run_in="10m", reminders="5m", reminder_text="Results soon")
    job = schedule_job(spec)
    moment = now()
    on_time = reminder(spec.id, str(job.run_id), spec.title(), spec.at.isoformat(), moment.isoformat(),
                       list(spec.destinations), "Results soon", return_state=True)  # fmt: skip
    assert on_time.is_completed() and on_time.name == "Completed"
    [message] = delivered(out)
    assert message["title"] == "Reminder" and message["body"].startswith("Results soon: in 9m")

    three_minutes_ago = (moment - timedelta(minutes=3)).isoformat()
    late = reminder(spec.id, str(job.run_id), spec.title(), spec.at.isoformat(), three_minutes_ago,
                    list(spec.destinations), return_state=True)  # fmt: skip
    assert late.name == "Skipped" and late.message.startswith("skipped: this reminder was due at")
    assert "2m grace period" in late.message and len(delivered(out)) == 1


def test_an_overdue_job_says_how_late_it_is_and_schedules_its_follow_up_once(guildflow_env: Path) -> None:
    out = guildflow_env / "out"
    due = now().replace(microsecond=0) - timedelta(hours=3, minutes=10)
    then = {"action": "post-message", "in": "1d", "payload": {"text": "round 2 opens"}, "reminders": "1h"}
    for _ in range(2):  # a re-run: one follow-up
        post_message([f"file:{out}:json"], "round 1 results", title="Round 1", then=then, job_id="j1",
                     due_at=due.isoformat(), guild="579805515301131997")  # fmt: skip

    first = delivered(out)[0]
    assert first["title"] == "Round 1"
    assert first["body"].startswith("round 1 results\n\n(late by 3h 10m: due at ")
    follow_ups = [job for job in list_jobs(guild="579805515301131997") if job.spec.at == due + timedelta(days=1)]
    assert len(follow_ups) == 1
    assert follow_ups[0].spec.payload == {"text": "round 2 opens"} and len(follow_ups[0].reminders) == 1
    assert follow_ups[0].spec.destinations == (f"file:{out}:json",)


def test_a_job_on_time_says_nothing_of_lateness(guildflow_env: Path) -> None:
    out = guildflow_env / "out"
    post_message([f"file:{out}:json"], "on time", due_at=now().isoformat())
    assert [message["body"] for message in delivered(out)] == ["on time"]


def test_a_summary_job_gets_the_jobs_destinations_and_guild_and_needs_its_channels(guildflow_env: Path) -> None:
    from flows.summary import channel_summary

    channel_summary.to_deployment(name="scheduled").apply()
    out = f"file:{guildflow_env / 'out'}"
    spec = job_spec("channel-summary", now=now(), run_in="1h", destinations=[out], guild="579805515301131997",
                    payload={"channel_ids": ["1300000000000000222"]})  # fmt: skip
    job = schedule_job(spec)
    [run] = runs_of(job.id)
    assert run.parameters == {"channel_ids": ["1300000000000000222"], "destinations": [out],
                              "guild_id": "579805515301131997"}  # fmt: skip
    no_channels = job_spec("channel-summary", now=now(), run_in="1h", destinations=[out], guild="579805515301131997")
    with pytest.raises(JobError, match="channel-summary needs channel_ids in its payload"):
        schedule_job(no_channels)
