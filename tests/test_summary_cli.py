"""`guildflow summary`: schedules of every kind on the Prefect server (the harness's), as a user makes them; list,
status, pause, resume, remove; a scheduled run and a run now delivering into a folder; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterCreatedBy
from prefect.flow_engine import run_flow
from typer.testing import CliRunner

from bookkeeping.summaries import read_summary_schedules
from core.summaries import DEPLOYMENT
from flows.summary import channel_summary
from guildflow.summary_cli import summary_app
from tests.prefect_state import delete_deployments_and_schedule_records

runner = CliRunner()
GUILD = "1200000000000000001"
CHANNEL, OTHER = "1300000000000000001", "1300000000000000002"
SLUG = f"summary-{GUILD}-{CHANNEL}"
LINES = [
    ("alice", "The indexer backfill is slow again, the RPC node keeps timing out."),
    ("bob", "We decided to move the indexer backfill to a dedicated RPC node."),
    ("bob", "I'll write the migration plan for the RPC node by Friday."),
    ("carol", "TVL is the total value locked in the pools."),
    ("dave", "Agreed, the dashboard waits until the RPC node migration is done."),
    ("alice", "The RPC node migration plan looks good to me."),
]


@pytest.fixture
def deployment_id(prefect_harness: None, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> UUID:
    """A fresh channel-summary deployment on a server without other tests' schedules, and a channel export."""
    messages = [
        {
            "id": str(1400000000000000001 + number),
            "timestamp": f"2026-11-23T09:{number:02d}:00+00:00",
            "author": {"id": str(1000 + number), "name": author, "isBot": False},
            "content": text,
        }
        for number, (author, text) in enumerate(LINES)
    ]
    export = guildflow_env / "dev.json"
    export.write_text(json.dumps({"channel": {"id": CHANNEL}, "messages": messages}))
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(export))
    delete_deployments_and_schedule_records()
    return channel_summary.to_deployment(name=DEPLOYMENT.split("/")[1]).apply()


def invoke(*args: str):  # noqa: ANN201
    return runner.invoke(summary_app, list(args))


def schedule(*args: str, channel: str = CHANNEL, to: str = "file:summaries") -> str:
    result = invoke("schedule", "--guild", GUILD, "--channel", channel, "--to", to, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_kind_of_schedule_is_made_and_listed(deployment_id: UUID) -> None:
    kinds = [
        ["--daily", "09:00"],
        ["--weekly", "fri", "17:30", "--timezone", "Europe/Berlin"],
        ["--monthly", "31", "08:00"],
        ["--cron", "0 */6 * * *"],
        ["--every", "360"],
        ["--once", "2099-06-01 18:00"],
    ]
    for number, when in enumerate(kinds):
        output = schedule(*when, channel=f"13000000000000001{number:02d}")
        assert output.startswith(f"saved schedule summary-{GUILD}-13000000000000001{number:02d}: detailed summary")
        assert "first run: 20" in output
    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 2 * len(kinds)
    whens = [line.strip().split("  guild ")[0] for line in lines[1::2]]
    assert whens == [
        "daily at 09:00 (UTC)",
        "weekly on fri at 17:30 (Europe/Berlin)",
        "monthly on day 31 (or the month's last day) at 08:00 (UTC)",
        "cron 0 */6 * * * (UTC)",
        "every 6 h",
        "once at 2099-06-01 18:00 (UTC)",
    ]
    assert all(line.endswith("  active") for line in lines[::2])
    assert len(read_summary_schedules(GUILD)) == len(kinds) and read_summary_schedules("1200000000000000009") == []


def test_scheduling_again_replaces_and_the_parameters_are_the_flows(deployment_id: UUID) -> None:
    schedule("--daily", "09:00")
    schedule(
        "--daily",
        "18:00",
        "--length",
        "brief",
        "--min-messages",
        "3",
        "--include-bots",
        "--action-items",
        "--technical-terms",
        "--window",
        "7d",
        "--title",
        "Dev week",
    )
    [saved] = read_summary_schedules()
    assert saved.slug == SLUG and saved.definition.spec.describe() == "daily at 18:00 (UTC)"
    assert dict(saved.definition.parameters) == {
        "guild_id": GUILD,
        "channel_ids": [CHANNEL],
        "destinations": ["file:summaries"],
        "window": "7d",
        "length": "brief",
        "min_messages": 3,
        "include_bots": True,
        "extract_action_items": True,
        "extract_technical_terms": True,
        "title": "Dev week",
        "schedule": SLUG,
    }
    listed = invoke("list").output.splitlines()
    assert listed[1].endswith(
        f"guild {GUILD}: brief summary of #{CHANNEL} the last 7 days with action items, technical terms, bots "
        "to file summaries"
    )


def test_a_scheduled_run_delivers_and_status_shows_it(deployment_id: UUID, guildflow_env: Path) -> None:
    schedule("--every", "60", "--action-items", to=f"file:{guildflow_env / 'out'}")
    with get_client(sync_client=True) as client:
        deployment_schedule = next(s for s in client.read_deployment_by_name(DEPLOYMENT).schedules if s.slug == SLUG)
        [first] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[deployment_schedule.id]))
        )[:1]
    assert run_flow(channel_summary, flow_run=first, return_type="state").is_completed()

    [document] = list((guildflow_env / "out").glob("*.md"))
    assert "**Action items**" in document.read_text() and "owner: bob, due: Friday" in document.read_text()
    status = invoke("status")
    assert status.exit_code == 0, status.output
    assert status.output.splitlines()[0] == f"{SLUG}  active"
    assert "  last run: Completed 20" in status.output


def test_pause_resume_and_remove(deployment_id: UUID) -> None:
    schedule("--daily", "09:00")
    paused = invoke("pause", SLUG, "--reason", "holidays")
    assert paused.exit_code == 0 and f"paused schedule {SLUG}: holidays" in paused.output
    assert invoke("list").output.splitlines()[0].startswith(f"{SLUG}  paused: holidays (since 20")
    assert invoke("resume", SLUG).exit_code == 0
    assert invoke("list").output.splitlines()[0] == f"{SLUG}  active"
    refused = invoke("remove", SLUG)
    assert refused.exit_code == 2 and "pass --yes" in refused.output
    removed = invoke("remove", SLUG, "--yes")
    assert removed.exit_code == 0 and f"removed schedule {SLUG} (daily at 09:00 (UTC))" in removed.output
    assert invoke("list").output.startswith("no summary schedules")
    unknown = invoke("pause", SLUG)
    assert unknown.exit_code == 1 and f"no summary schedule '{SLUG}'" in unknown.output


def test_bad_input_is_refused_before_anything_is_made(deployment_id: UUID) -> None:
    for args, expected in [
        (["--channel", "general", "--to", "file:x", "--daily", "09:00"], "'general' is not a Discord channel id"),
        (["--channel", CHANNEL, "--to", "ftp:x", "--daily", "09:00"], "destination 'ftp:x' is not one of"),
        (["--channel", CHANNEL, "--to", "file:x"], "exactly one of --every, --daily"),
        (["--channel", CHANNEL, "--to", "file:x", "--daily", "09:00", "--length", "long"], "summary length 'long'"),
        (["--channel", CHANNEL, "--to", "file:x", "--daily", "09:00", "--window", "soon"], "window 'soon'"),
        (["--channel", CHANNEL, "--to", f"discord:{OTHER}", "--daily", "09:00"], "needs GUILDFLOW_DISCORD_TOKEN"),
    ]:
        result = invoke("schedule", "--guild", GUILD, *args)
        assert result.exit_code == 2 and expected in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert invoke("list").output.startswith("no summary schedules")


def test_now_summarises_into_a_folder_and_then_skips(deployment_id: UUID, guildflow_env: Path) -> None:
    args = ["now", "--guild", GUILD, "--channel", CHANNEL, "--to", f"file:{guildflow_env / 'now'}"]
    done = invoke(*args)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"summarised {len(LINES)} messages (1 chunk(s), 0 combine step(s), 1 model call(s))")
    assert len(list((guildflow_env / "now").glob("*.md"))) == 1
    again = invoke(*args)
    assert again.exit_code == 0 and again.output.startswith("skipped: no messages since the last summary")
