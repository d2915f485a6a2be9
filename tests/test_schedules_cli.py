"""`guildflow schedules`: list, status (with why the last run failed), pause, resume, remove, export and import,
invoked as a user would (the sub-app alone), on schedules made by `guildflow export schedule`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterCreatedBy
from prefect.flow_engine import run_flow
from typer.testing import CliRunner

from core.playerdata_export import DEPLOYMENT
from flows.playerdata import playerdata_export
from guildflow.export_cli import export_app
from guildflow.schedules_cli import schedules_app
from tests.prefect_state import delete_deployments_and_schedule_records

runner = CliRunner()
GUILD = "579805515301131997"
CHANNEL, ADMIN_CHANNEL = "1300000000000000111", "1300000000000000333"
SLUG = f"playerdata-server-{GUILD}-{CHANNEL}"
ALL_SLUG = f"playerdata-all-{ADMIN_CHANNEL}"


@pytest.fixture
def deployment_id(prefect_harness: None, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> UUID:
    """A fresh export deployment (as `prefect deploy` leaves it) on a server without other tests' schedules, and
    a broken playerData file."""
    bad = guildflow_env / "playerData.json"
    bad.write_text("{corrupt")
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA", str(bad))
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_ALL_CHANNELS", ADMIN_CHANNEL)
    monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN", "the-bot-token")
    delete_deployments_and_schedule_records()
    return playerdata_export.to_deployment(name=DEPLOYMENT.split("/")[1]).apply()


def invoke(*args: str):  # noqa: ANN201
    return runner.invoke(schedules_app, list(args))


def export_schedule(*args: str) -> None:
    result = runner.invoke(export_app, ["schedule", *args])
    assert result.exit_code == 0, result.output


def run_first(slug: str) -> None:
    """Run the schedule's run that is due now, here, as a worker would."""
    with get_client(sync_client=True) as client:
        schedule = next(s for s in client.read_deployment_by_name(DEPLOYMENT).schedules if s.slug == slug)
        [run] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[schedule.id]))
        )[:1]
    run_flow(playerdata_export, flow_run=run, return_type="state")


def test_list_and_status_say_why_the_last_run_failed(deployment_id: UUID) -> None:
    export_schedule("--every", "30", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    export_schedule(
        "--type", "all", "--channel", ADMIN_CHANNEL, "--monthly", "31", "08:00", "--timezone", "Europe/Berlin"
    )
    run_first(SLUG)

    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        f"{ALL_SLUG}  active",
        "  monthly on day 31 (or the month's last day) at 08:00 (Europe/Berlin)  target playerdata-export  "
        f"channel {ADMIN_CHANNEL}  to discord:{ADMIN_CHANNEL}",
        f"{SLUG}  active",
        f"  every 30 min  target playerdata-export  guild {GUILD}  channel {CHANNEL}  to discord:{CHANNEL}",
    ]
    assert invoke("list", "--guild", GUILD).output.splitlines()[0] == f"{SLUG}  active"
    assert invoke("list", "--target", "daily-pipeline").output == "no schedules match\n"

    status = invoke("status", SLUG)
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[2] == "  every 30 min  consecutive failures 1"
    assert lines[3].startswith("  last run: Failed 20") and ": UnreadablePlayerData: " in lines[3]
    assert lines[3].endswith(
        "is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)); fix or restore the file"
    )
    assert re.fullmatch(r"  last 30 days: 1 runs, 1 failed, 0% succeeded, \d+\.\d s on average", lines[5])

    exported = runner.invoke(export_app, ["status"])  # the feature's own status shows the same
    assert exported.exit_code == 0 and lines[3] in exported.output.splitlines()


def test_pause_resume_and_remove(deployment_id: UUID) -> None:
    export_schedule(
        "--every", "60", "--type", "server", "--guild", GUILD, "--channel", CHANNEL, "--pause-after-failures", "2"
    )
    assert invoke("list").output.splitlines()[1].endswith("  pauses after 2 failures")

    paused = invoke("pause", SLUG, "--reason", "moving the channel")
    assert paused.exit_code == 0 and f"paused schedule {SLUG}: moving the channel" in paused.output
    line = invoke("list").output.splitlines()[0]
    assert line.startswith(f"{SLUG}  paused: moving the channel (since 20")
    resumed = invoke("resume", SLUG)
    assert resumed.exit_code == 0 and invoke("list").output.splitlines()[0] == f"{SLUG}  active"

    refused = invoke("remove", SLUG)
    assert refused.exit_code == 2 and "pass --yes" in refused.output
    removed = invoke("remove", SLUG, "--yes")
    assert removed.exit_code == 0 and f"removed schedule {SLUG} (every 1 h)" in removed.output
    assert invoke("list").output == "no schedules\n"
    unknown = invoke("pause", SLUG)
    assert unknown.exit_code == 1 and f"no schedule '{SLUG}'" in unknown.output


def test_a_deployment_is_paused_and_resumed_by_name(deployment_id: UUID) -> None:
    export_schedule("--every", "60", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    paused = invoke("pause", "--deployment", DEPLOYMENT, "--reason", "server move")
    assert paused.exit_code == 0, paused.output
    line = invoke("list").output.splitlines()[0]
    assert line.startswith(f"{SLUG}  active, but deployment {DEPLOYMENT} is paused: server move (since 20")
    assert invoke("resume", "--deployment", DEPLOYMENT).output == f"resumed deployment {DEPLOYMENT}\n"
    assert invoke("resume", "--deployment", DEPLOYMENT).output == f"{DEPLOYMENT} was not paused\n"
    both = invoke("pause", SLUG, "--deployment", DEPLOYMENT)
    assert both.exit_code == 2 and "give a schedule's slug, or --deployment FLOW/NAME" in both.output


def test_export_and_import(deployment_id: UUID, tmp_path: Path) -> None:
    export_schedule("--every", "60", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    file = tmp_path / "schedules.json"
    exported = invoke("export", str(file))
    assert exported.exit_code == 0 and f"wrote 1 schedule(s) to {file}" in exported.output

    assert invoke("remove", SLUG, "--yes").exit_code == 0
    dry = invoke("import", str(file), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"create    {SLUG}  every 1 h  active",
        "dry run: 1 schedule(s) would change; nothing was changed",
    ]
    assert invoke("list").output == "no schedules\n"
    imported = invoke("import", str(file))
    assert imported.exit_code == 0 and "imported 1 changed schedule(s) of 1" in imported.output
    again = tmp_path / "again.json"
    invoke("export", str(again))
    assert again.read_bytes() == file.read_bytes()

    entries = json.loads(file.read_text())
    entries["schedules"][0]["schedule"]["when"] = "every 0"
    file.write_text(json.dumps(entries))
    bad = invoke("import", str(file))
    assert (
        bad.exit_code == 2
        and "1 problem(s), nothing was changed" in bad.output
        and "--every 0 is out of range" in bad.output
    )
    assert "Traceback" not in bad.output
    missing = invoke("import", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_when_options_are_checked_before_anything_is_made(deployment_id: UUID) -> None:
    for args, expected in [
        (
            ["--every", "30", "--daily", "09:00"],
            "exactly one of --every, --daily, --weekly, --monthly, --cron or --once",
        ),
        ([], "exactly one of"),
        (["--weekly", "funday", "10:00"], "'funday' is not a weekday"),
        (["--once", "2020-01-01 10:00"], "is in the past"),
        (["--daily", "09:00", "--timezone", "Berlin"], "time zone 'Berlin' is not an IANA time zone"),
    ]:
        result = runner.invoke(
            export_app, ["schedule", "--type", "server", "--guild", GUILD, "--channel", CHANNEL, *args]
        )
        assert result.exit_code == 2 and expected in result.output, (args, result.output)
    assert invoke("list").output == "no schedules\n"
    daily = runner.invoke(
        export_app, ["schedule", "--type", "server", "--guild", GUILD, "--channel", CHANNEL, "--daily", "09:00"]
    )
    assert daily.exit_code == 0 and "daily at 09:00 (UTC)" in daily.output and "first run: 20" in daily.output
