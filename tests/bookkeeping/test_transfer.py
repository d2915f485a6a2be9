"""Export every schedule to JSON and import it back: the same bytes after a round trip, a dry run that changes
nothing, and a file with any bad entry that changes nothing at all."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bookkeeping.schedules import (
    Pause,
    ScheduleDefinition,
    pause_schedule,
    read_schedule,
    read_schedules,
    remove_schedule,
    save_schedule,
)
from bookkeeping.transfer import TransferError, apply_import, export_schedules, plan_import, read_document
from core.schedule_spec import parse_spec, spec_from_words
from tests.bookkeeping.conftest import now

pytestmark = pytest.mark.usefixtures("server")
CHANNEL = "1300000000000000111"


def three_schedules(deployment: str) -> list[str]:
    name = deployment.split("/")[1]
    anchor = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    definitions = [
        ScheduleDefinition(f"{name}-every", deployment, parse_spec("every 30", "Europe/Berlin", anchor=anchor)),
        ScheduleDefinition(
            f"{name}-monthly",
            deployment,
            parse_spec("monthly 31 08:00", "Europe/Berlin"),
            {"destinations": [f"discord:{CHANNEL}", "file:/srv/reports:json"], "guild_id": "1227553073217360256"},
            pause_after_failures=3,
        ),
        ScheduleDefinition(
            f"{name}-once", deployment, spec_from_words("once", "2027-12-24 18:00", "America/New_York", now=now())
        ),
    ]
    for definition in definitions:
        save_schedule(definition)
    pause_schedule(f"{name}-once", "waiting for the holidays")
    return [definition.slug for definition in definitions]


def test_export_then_import_round_trips_exactly(deployment: str, tmp_path: Path) -> None:
    slugs = three_schedules(deployment)
    first = tmp_path / "schedules.json"
    exported = export_schedules(first)
    assert set(slugs) <= {schedule.slug for schedule in exported}
    content = json.loads(first.read_text())
    [once] = [entry for entry in content["schedules"] if entry["slug"] == slugs[2]]
    assert once["active"] is False and once["paused"]["reason"] == "waiting for the holidays"
    assert once["schedule"] == {"when": "once 2027-12-24 18:00", "timezone": "America/New_York"}
    paused_at = read_schedule(slugs[2]).pause

    for slug in slugs:
        remove_schedule(slug)
    plan = plan_import(read_document(first.read_text(), str(first)), str(first))
    assert {change.entry.definition.slug: change.action for change in plan if change.action != "unchanged"} == {
        slug: "create" for slug in slugs
    }
    assert not {schedule.slug for schedule in read_schedules()} & set(slugs)  # planning changed nothing

    apply_import(plan)
    second = tmp_path / "again.json"
    export_schedules(second)
    assert second.read_bytes() == first.read_bytes()
    assert read_schedule(slugs[2]).pause == paused_at  # the reason and since when, as they were
    again = plan_import(read_document(first.read_text(), str(first)), str(first))
    assert {change.action for change in again} == {"unchanged"}


def test_a_file_with_a_bad_entry_changes_nothing(deployment: str, tmp_path: Path) -> None:
    name = deployment.split("/")[1]
    good = {
        "slug": f"{name}-good",
        "deployment": deployment,
        "schedule": {"when": "daily 09:00", "timezone": "Europe/Berlin"},
        "parameters": {},
        "pause_after_failures": None,
        "active": True,
        "paused": None,
    }
    entries = [
        good,
        {**good, "slug": f"{name}-bad-cron", "schedule": {"when": "cron 61 * * * *", "timezone": "UTC"}},
        {**good, "slug": f"{name}-bad-zone", "schedule": {"when": "daily 09:00", "timezone": "Berlin"}},
        {**good, "slug": f"{name}-bad-destination", "parameters": {"destinations": ["carrier-pigeon:home"]}},
        {**good, "slug": f"{name}-paused", "active": False},
        good,
    ]
    text = json.dumps({"format": "guildflow schedules", "version": 1, "schedules": entries})
    with pytest.raises(TransferError) as error:
        read_document(text, "bad.json")
    message = str(error.value)
    assert message.startswith("bad.json: 5 problem(s), nothing was changed:")
    assert f"schedule 2 ({name}-bad-cron): cron '61 * * * *': Bad minute" in message
    assert f"schedule 3 ({name}-bad-zone): time zone 'Berlin' is not an IANA time zone" in message
    assert f"schedule 4 ({name}-bad-destination): destination 'carrier-pigeon:home' is not one of" in message
    assert f"schedule 5 ({name}-paused): a paused schedule needs" in message
    assert f"schedule {name}-good is in the file twice" in message

    elsewhere = {**good, "deployment": "bookkeeping-probe/nowhere", "slug": f"{name}-elsewhere"}
    text = json.dumps({"format": "guildflow schedules", "version": 1, "schedules": [good, elsewhere]})
    with pytest.raises(TransferError, match="the deployment bookkeeping-probe/nowhere is not on the Prefect server"):
        plan_import(read_document(text, "bad.json"), "bad.json")
    assert read_schedule(f"{name}-good") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{oops", "f.json is not valid JSON (line 1, column 2"),
        ('{"schedules": []}', "f.json is not a schedules file"),
        ('{"format": "guildflow schedules", "version": 2, "schedules": []}', "has version 2; this guildflow reads"),
    ],
)
def test_an_unreadable_file_is_one_clear_error(text: str, expected: str) -> None:
    with pytest.raises(TransferError, match=re.escape(expected)):
        read_document(text, "f.json")


def test_an_import_restores_a_pause_as_it_was(deployment: str) -> None:
    name = deployment.split("/")[1]
    spec = parse_spec("daily 09:00", "UTC")
    pause = Pause("moved to another channel", "2026-11-01 10:00 UTC")
    save_schedule(ScheduleDefinition(f"{name}-p", deployment, spec), pause=pause)
    found = read_schedule(f"{name}-p")
    assert not found.active and found.pause == pause
