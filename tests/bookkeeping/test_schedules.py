"""Schedules on a real Prefect server (the test harness): create, replace, list, pause, resume, remove, and the
Prefect quirks handled on the way (dropped parameters, deleted runs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from prefect import get_client
from prefect.client.schemas.schedules import CronSchedule

from bookkeeping.schedules import (
    PAUSE_VARIABLE,
    SCHEDULE_VARIABLE,
    ScheduleDefinition,
    ScheduleError,
    pause_schedule,
    read_schedule,
    read_schedules,
    remove_schedule,
    resume_schedule,
    save_schedule,
)
from core.schedule_spec import next_runs, spec_from_words
from tests.bookkeeping.conftest import now, probe, runs_of, schedule_runs_between

GUILD, CHANNEL = "1227553073217360256", "1300000000000000111"
PARAMETERS = {"guild_id": GUILD, "channel_id": CHANNEL}
pytestmark = pytest.mark.usefixtures("server")


def definition(deployment: str, slug: str = "a", kind: str = "every", when: str = "60", **extra) -> ScheduleDefinition:  # noqa: ANN003
    """A schedule of the deployment; its slug starts with the deployment's (unique) name."""
    spec = spec_from_words(kind, when, "Europe/Berlin", now=now())
    return ScheduleDefinition(f"{deployment.split('/')[1]}-{slug}", deployment, spec, {**PARAMETERS, **extra})


def variable(name: str) -> object:
    with get_client(sync_client=True) as client:
        found = client.read_variable_by_name(name)
    return found.value if found else None


def test_create_replace_pause_resume_remove(deployment: str) -> None:
    saved = save_schedule(definition(deployment), start_now=True)
    schedule, slug = saved.schedule, saved.schedule.slug
    assert not saved.replaced and schedule.active and schedule.definition.spec.kind == "every"
    first = saved.first_run
    assert first is not None and first.auto_scheduled and first.created_by.id == schedule.id
    assert first.parameters == PARAMETERS and abs((first.expected_start_time - now()).total_seconds()) < 30
    upcoming = [run for run in runs_of(schedule.id) if run.expected_start_time > now()]
    assert upcoming, "the server scheduled the next runs at once"
    assert variable(SCHEDULE_VARIABLE + slug)["schedule"]["when"] == "every 60"
    [listed] = [found for found in read_schedules(target=probe.name) if found.slug == slug]
    assert listed.definition.guild == GUILD and listed.definition.destinations == (f"discord:{CHANNEL}",)

    replaced = save_schedule(definition(deployment, kind="daily", when="09:00"))
    assert replaced.replaced and replaced.first_run is None and replaced.schedule.id == schedule.id
    with get_client(sync_client=True) as client:
        [prefect_schedule] = client.read_deployment_schedules(schedule.deployment_id)
    assert prefect_schedule.schedule == CronSchedule(cron="0 9 * * *", timezone="Europe/Berlin")
    assert prefect_schedule.parameters == PARAMETERS
    runs = runs_of(schedule.id)
    assert first.id not in {run.id for run in runs}  # the old schedule's waiting run gave way: no doubled slot
    expected = next_runs(replaced.schedule.definition.spec, now(), len(runs))
    assert [run.expected_start_time for run in runs] == expected

    paused = pause_schedule(slug, "the channel is being moved")
    assert not paused.active and paused.state().startswith("paused: the channel is being moved (since 20")
    with get_client(sync_client=True) as client:
        [prefect_schedule] = client.read_deployment_schedules(schedule.deployment_id)
    assert not prefect_schedule.active and prefect_schedule.parameters == PARAMETERS  # Prefect would drop them
    assert runs_of(schedule.id) == []  # nothing of it waits to run
    assert read_schedule(slug).pause == paused.pause

    resumed = resume_schedule(slug)
    assert resumed.active and resumed.pause is None and runs_of(schedule.id)
    assert variable(PAUSE_VARIABLE + slug) is None

    remove_schedule(slug)
    assert read_schedule(slug) is None and variable(SCHEDULE_VARIABLE + slug) is None
    assert runs_of(schedule.id) == []


def test_a_change_keeps_the_other_schedules_runs_late_ones_included(deployment: str) -> None:
    every_minute = save_schedule(definition(deployment, "a", when="1"), start_now=True).schedule
    other = save_schedule(definition(deployment, "b", kind="daily", when="09:00")).schedule
    schedule_runs_between(every_minute.deployment_id, now() - timedelta(minutes=5), now())  # a worker outage
    late = {run.expected_start_time for run in runs_of(every_minute.id, due_by=now())}
    upcoming = {run.expected_start_time for run in runs_of(every_minute.id) if run.expected_start_time > now()}
    assert len(late) >= 5 and upcoming

    pause_schedule(other.slug, "not needed this week")  # Prefect deletes every waiting run of the deployment

    after = runs_of(every_minute.id)
    assert late <= {run.expected_start_time for run in after}  # re-created where they were
    assert any(run.expected_start_time > now() for run in after)
    assert len({run.expected_start_time for run in after}) == len(after)  # one run per slot


def test_parameters_prefect_dropped_are_reported_and_resume_restores_them(deployment: str) -> None:
    schedule = save_schedule(definition(deployment)).schedule
    with get_client(sync_client=True) as client:  # what `prefect deployment schedule pause` sends
        client.update_deployment_schedule(schedule.deployment_id, schedule.id, active=False)
        [prefect_schedule] = client.read_deployment_schedules(schedule.deployment_id)
    assert prefect_schedule.parameters == {}

    found = read_schedule(schedule.slug)
    assert found.definition.parameters == PARAMETERS and not found.active
    assert found.pause is not None and found.pause.reason.startswith("no reason recorded")
    [problem] = found.problems
    assert f"`guildflow schedules resume {schedule.slug}` sets them again" in problem

    resumed = resume_schedule(schedule.slug)
    assert resumed.active and resumed.problems == ()
    with get_client(sync_client=True) as client:
        [prefect_schedule] = client.read_deployment_schedules(schedule.deployment_id)
    assert prefect_schedule.parameters == PARAMETERS and prefect_schedule.active


def test_a_schedule_prefect_deploy_made_is_listed_and_can_be_paused() -> None:
    name = f"probe-{uuid4().hex[:8]}"
    probe.to_deployment(name=name, cron="0 20 * * *", tags=["guildflow"]).apply()
    with get_client(sync_client=True) as client:  # as prefect.yaml gives it: a cron with a slug
        deployment = client.read_deployment_by_name(f"{probe.name}/{name}")
        client.update_deployment_schedule(deployment.id, deployment.schedules[0].id, slug=f"{name}-nightly")
    [schedule] = [s for s in read_schedules() if s.slug == f"{name}-nightly"]
    assert (
        schedule.definition.spec.text == "cron 0 20 * * *" and schedule.definition.deployment == f"{probe.name}/{name}"
    )
    assert variable(SCHEDULE_VARIABLE + schedule.slug) is None  # nothing recorded until guildflow changes it

    paused = pause_schedule(schedule.slug, "maintenance")
    assert read_schedule(schedule.slug).pause == paused.pause
    assert variable(SCHEDULE_VARIABLE + schedule.slug)["schedule"] == {"when": "cron 0 20 * * *", "timezone": "UTC"}


def test_bad_requests_are_clear_errors(deployment: str) -> None:
    slug = save_schedule(definition(deployment)).schedule.slug
    with pytest.raises(ScheduleError, match="the deployment bookkeeping-probe/nowhere is not on the Prefect server"):
        save_schedule(definition("bookkeeping-probe/nowhere"))
    other = f"{probe.name}/probe-{uuid4().hex[:8]}"
    probe.to_deployment(name=other.split("/")[1]).apply()
    with pytest.raises(ScheduleError, match=f"the slug {slug} is taken by a schedule of {deployment}"):
        save_schedule(replace(definition(deployment), deployment=other))
    with pytest.raises(ScheduleError, match="schedule slug 'Probe A' is not lowercase letters"):
        save_schedule(replace(definition(deployment), slug="Probe A"))
    with pytest.raises(ScheduleError, match="only an active `every` schedule starts right away, not `daily`"):
        save_schedule(definition(deployment, kind="daily", when="09:00"), start_now=True)
    with pytest.raises(ScheduleError, match="no schedule 'nope'"):
        pause_schedule("nope", "why not")
    with pytest.raises(ScheduleError, match="pause_after_failures 99 is not 0 .never. to 50"):
        save_schedule(replace(definition(deployment), pause_after_failures=99))
