"""One-off jobs, pure: durations, local times across DST, remaining time, validation, ids, the overdue policy."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from core.errors import UserFacingError
from core.jobs import (
    ACTIONS,
    JobError,
    JobSpec,
    check_payload,
    describe_when,
    follow_up_spec,
    format_duration,
    format_remaining,
    job_spec,
    late_note,
    parse_duration,
    reminder_skip_reason,
)
from core.local_time import LocalTimeError, local_moment

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
CHANNEL = "discord:1300000000000000111"
POST_PARAMETERS = ("text", "title", "then", "destinations", "job_id", "due_at", "guild")
POST_SCHEMA = {"properties": dict.fromkeys(POST_PARAMETERS, {}), "required": ["text", "destinations"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h30m", timedelta(hours=2, minutes=30)),
        ("90m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("45s", timedelta(seconds=45)),
        ("1d2h", timedelta(days=1, hours=2)),
        (" 2H 30M ", timedelta(hours=2, minutes=30)),
    ],
)
def test_durations_read_as_typed(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "2x", "h", "30m2h", "-5m", "0m", "1.5h"])
def test_a_bad_duration_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(JobError, match=r"2h30m|no time at all"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=4, minutes=30), "4h 30m"),
        (timedelta(hours=4, minutes=30, seconds=59), "4h 30m"),
        (timedelta(days=2, hours=3, minutes=5), "2d 3h"),
        (timedelta(minutes=5, seconds=20), "5m 20s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(hours=1), "1h"),
        (timedelta(days=1, minutes=1), "1d"),
        (timedelta(0), "now"),
        (timedelta(seconds=-3), "now"),
    ],
)
def test_remaining_time_shows_its_two_largest_units(delta: timedelta, expected: str) -> None:
    assert format_remaining(delta) == expected


def test_local_times_across_dst() -> None:
    # Europe/Berlin: CET (+1) until 2026-03-29 02:00, then CEST (+2); back at 2026-10-25 03:00.
    assert local_moment("2026-03-28 18:00", "Europe/Berlin").astimezone(timezone.utc).hour == 17
    assert local_moment("2026-03-29 18:00", "Europe/Berlin").astimezone(timezone.utc).hour == 16
    # 02:30 happens twice on the fall-back night: its first occurrence (still CEST)
    repeated = local_moment("2026-10-25 02:30", "Europe/Berlin").astimezone(timezone.utc)
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    with pytest.raises(LocalTimeError, match="does not exist in Europe/Berlin"):
        local_moment("2026-03-29 02:30", "Europe/Berlin")
    with pytest.raises(LocalTimeError, match="not a local date and time"):
        local_moment("2026-13-01 10:00", "UTC")


def test_a_job_at_a_local_time_runs_at_that_moment() -> None:
    spec = job_spec("post-message", now=NOW, at="2026-12-24 18:00", timezone_name="Europe/Berlin",
                    payload={"text": "results"}, destinations=[CHANNEL])  # fmt: skip
    assert spec.at == datetime(2026, 12, 24, 17, 0, tzinfo=timezone.utc)
    assert describe_when(spec.at, spec.timezone, NOW) == (
        "2026-12-24 17:00 UTC (2026-12-24 18:00 Europe/Berlin), in 23d 5h"
    )


def test_a_job_in_a_duration_with_reminders_longest_first() -> None:
    spec = job_spec("post-message", now=NOW, run_in="2h", reminders="5m,30m,1m,5m", destinations=[CHANNEL],
                    payload={"text": "results"})  # fmt: skip
    assert spec.at == NOW + timedelta(hours=2)
    assert spec.reminders == (timedelta(minutes=30), timedelta(minutes=5), timedelta(minutes=1))
    assert spec.reminder_times()[0] == NOW + timedelta(hours=1, minutes=30)
    assert spec.parameters() == {
        "text": "results",
        "destinations": [CHANNEL],
        "job_id": spec.id,
        "due_at": "2026-12-01T14:00:00Z",
    }  # fmt: skip  (no guild: left out, not None)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"action": "launch-rockets", "run_in": "1h"}, "'launch-rockets' is not an action: use one of"),
        ({"action": "post-message", "run_in": "1h", "at": "2026-12-24 18:00"}, "exactly one of --in"),
        ({"action": "post-message"}, "exactly one of --in"),
        ({"action": "post-message", "at": "2026-11-30 18:00"}, "is in the past"),
        ({"action": "post-message", "at": "2026-12-24 18:00", "timezone_name": "Mars/Olympus"}, "IANA"),
        ({"action": "post-message", "run_in": "20m", "reminders": "30m,5m"}, "30m before is not possible"),
        ({"action": "post-message", "run_in": "30m", "reminders": "30m"}, "30m before is not possible"),
        ({"action": "post-message", "run_in": "1h", "destinations": []}, "post-message needs somewhere to post"),
        ({"action": "daily-pipeline", "run_in": "1h", "reminders": "5m", "destinations": []}, "reminders need"),
        ({"action": "post-message", "run_in": "1h", "destinations": ["slack:#x"]}, "is not one of"),
    ],
)
def test_a_bad_job_is_refused_before_anything_is_made(arguments: dict, problem: str) -> None:
    arguments = {"destinations": [CHANNEL], **arguments}
    with pytest.raises(UserFacingError, match=problem):
        job_spec(arguments.pop("action"), now=NOW, **arguments)


def test_the_payload_must_fit_the_actions_parameters() -> None:
    spec = job_spec("post-message", now=NOW, run_in="1h", destinations=[CHANNEL], payload={"text": "x", "colour": 1})
    with pytest.raises(JobError, match="does not take colour: its payload takes text, then, title"):
        check_payload(spec, POST_SCHEMA, {})
    spec = job_spec("post-message", now=NOW, run_in="1h", destinations=[CHANNEL], payload={"job_id": "forged"})
    with pytest.raises(JobError, match="does not take job_id"):
        check_payload(spec, POST_SCHEMA, {})
    spec = job_spec("post-message", now=NOW, run_in="1h", destinations=[CHANNEL], payload={"title": "t"})
    with pytest.raises(JobError, match="needs text in its payload"):
        check_payload(spec, POST_SCHEMA, {})
    check_payload(spec, POST_SCHEMA, {"text": "a default"})


def test_the_same_job_has_the_same_id_and_a_different_one_another() -> None:
    def make(**changes: object) -> JobSpec:
        arguments: dict = {"run_in": "2h", "reminders": "30m", "destinations": [CHANNEL], "payload": {"text": "r"}}
        return job_spec("post-message", now=NOW, **{**arguments, **changes})

    assert make().id == make(reminders="30m,30m").id
    assert len({make().id, make(payload={"text": "s"}).id, make(reminders="5m").id, make(run_in="3h").id}) == 4
    assert JobSpec.from_json(make().to_json()) == make()


def test_overdue_policy() -> None:
    grace = timedelta(minutes=2)
    due = NOW
    assert late_note(due, NOW + timedelta(seconds=90), grace) == ""
    assert late_note(due, NOW + timedelta(hours=4, minutes=30), grace) == (
        "(late by 4h 30m: due at 2026-12-01 12:00 UTC, no worker was running then)"
    )
    assert reminder_skip_reason(due, NOW + timedelta(minutes=2), grace) is None
    reason = reminder_skip_reason(due, NOW + timedelta(minutes=7), grace)
    assert reason is not None and reason.startswith("skipped: this reminder was due at 2026-12-01 12:00 UTC, 7m ago")
    assert "2m grace period" in reason


def test_every_action_names_a_deployment() -> None:
    assert all(action.deployment.count("/") == 1 for action in ACTIONS.values())
    assert {"post-message", "playerdata-export", "daily-pipeline"} <= set(ACTIONS)


def test_a_follow_up_counts_from_the_jobs_time_and_keeps_its_destinations_and_guild() -> None:
    then = {"action": "post-message", "in": "24h", "payload": {"text": "round 2 opens"}, "reminders": "1h"}
    spec = job_spec("post-message", now=NOW, run_in="2h", destinations=[CHANNEL], guild="579805515301131997",
                    payload={"text": "round 1 results", "then": then})  # fmt: skip
    follow_up = follow_up_spec(then, spec)
    assert follow_up.at == spec.at + timedelta(hours=24)
    assert follow_up.destinations == (CHANNEL,) and follow_up.guild == "579805515301131997"
    assert follow_up.reminders == (timedelta(hours=1),)
    assert follow_up_spec(then, spec) == follow_up  # a re-run of the job: the same follow-up, the same id


@pytest.mark.parametrize(
    ("then", "problem"),
    [
        ("round 2", "`then` must be an object with action and in"),
        ({"action": "post-message"}, "`then` must be an object with action and in"),
        ({"action": "post-message", "in": "1d", "colour": "red"}, "`then` must be an object"),
        ({"action": "nope", "in": "1d"}, "`then`: 'nope' is not an action"),
        ({"action": "post-message", "in": "1d", "reminders": "2d"}, "`then`: a reminder 2d before is not possible"),
    ],
)
def test_a_bad_follow_up_is_refused_with_the_job(then: object, problem: str) -> None:
    with pytest.raises(JobError, match=re.escape(problem)):
        job_spec("post-message", now=NOW, run_in="2h", destinations=[CHANNEL], payload={"text": "t", "then": then})


def test_the_jobs_destinations_and_guild_fill_an_actions_parameters_unless_the_payload_gives_them() -> None:
    spec = job_spec("channel-summary", now=NOW, run_in="1h", destinations=[CHANNEL], guild="579805515301131997",
                    payload={"channel_ids": ["1300000000000000222"]})  # fmt: skip
    assert spec.parameters() == {"channel_ids": ["1300000000000000222"], "destinations": [CHANNEL],
                                 "guild_id": "579805515301131997"}  # fmt: skip
    spec = job_spec("playerdata-export", now=NOW, run_in="1h", payload={"export_type": "all", "guild_id": None})
    assert spec.parameters() == {"export_type": "all"}
