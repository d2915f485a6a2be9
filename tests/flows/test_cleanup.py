"""The cleanup flow under the harness: old summary files, surplus playerData copies, old flow runs of guildflow's
deployments with their artifacts, expired cache records; a dry run deletes nothing; cursors and ledgers stay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH
from prefect.states import Completed, Running
from typer.testing import CliRunner

from bookkeeping.cleanup import delete_flow_runs, old_flow_runs
from bookkeeping.schedules import ScheduleDefinition, save_schedule
from bookkeeping.summaries import save_summary_schedule
from core.playerdata import export_file_name
from core.schedule_spec import parse_spec
from core.summaries import DEPLOYMENT, SummaryRequest
from flows.cleanup import cleanup
from flows.playerdata import playerdata_export
from flows.summary import channel_summary
from guildflow.cli import app
from tests.prefect_state import delete_deployments_and_schedule_records

GUILD, CHANNEL = "1200000000000000001", "1300000000000000001"
NOW = datetime.now(timezone.utc)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=2)


def message_file(folder: Path, moment: datetime, digest: str) -> list[Path]:
    stem = f"{moment:%Y-%m-%dT%H-%M-%SZ}-weekly-summary-{digest}"
    paths = [folder / f"{stem}.md", folder / f"{stem}.chart.png"]
    for path in paths:
        path.write_text("x")
    return paths


def finished_run(deployment_id: UUID, parameters: dict[str, object]) -> UUID:
    """A run of the deployment that has just finished (the server records the end as now), with an artifact."""
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
        client.set_flow_run_state(run.id, Running(), force=True)
        client.set_flow_run_state(run.id, Completed(), force=True)
        client.create_artifact(ArtifactCreate(flow_run_id=run.id, key=f"a-{run.id}", type="markdown", data="x"))
    return run.id


@pytest.fixture
def setup(prefect_harness: None, guildflow_env: Path, tmp_path: Path) -> dict[str, object]:
    delete_deployments_and_schedule_records()
    summary_deployment = channel_summary.to_deployment(name=DEPLOYMENT.split("/")[1], tags=["guildflow"]).apply()
    playerdata_deployment = playerdata_export.to_deployment(name="scheduled", tags=["guildflow"]).apply()
    folder = guildflow_env / "summaries"
    folder.mkdir()
    request = SummaryRequest.validated(GUILD, [CHANNEL], [f"file:{folder}"])
    save_summary_schedule(request, parse_spec("daily 09:00"))
    copies = guildflow_env / "copies"
    save_schedule(
        ScheduleDefinition(
            "playerdata-copies",
            "playerdata-export/scheduled",
            parse_spec("daily 10:00"),
            {"export_type": "all", "copy_to": str(copies)},
        )
    )
    copies.mkdir()
    for day in range(1, 6):  # five exports of ALL, one per day; the keep count is 2
        name = export_file_name("ALL", datetime(2026, 11, day, 10, tzinfo=timezone.utc), compressed=False)
        (copies / name).write_text(json.dumps({"579805515301131997": {"players": [day]}}))
    storage = Path(PREFECT_RESULTS_LOCAL_STORAGE_PATH.value())
    storage.mkdir(parents=True, exist_ok=True)
    for name, expiration in (("expired", (NOW - timedelta(days=1)).isoformat()), ("fresh", None)):
        record = {"metadata": {"expiration": expiration, "storage_key": name}, "result": "x"}
        (storage / f"cleanup-test-{name}").write_text(json.dumps(record))
    return {
        "old_files": message_file(folder, OLD, "aaaaaaaa"),
        "recent_files": message_file(folder, RECENT, "bbbbbbbb"),
        "other": folder / "notes.txt",
        "summary_run": finished_run(summary_deployment, request.parameters()),
        "export_run": finished_run(playerdata_deployment, {"export_type": "all"}),
        "copies": copies,
        "storage": storage,
    }


def test_a_dry_run_lists_and_a_run_deletes_only_what_is_old(
    setup: dict, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_KEEP", "2")
    ledger = guildflow_env / ".guildflow" / "deliveries.sqlite"
    cursors = guildflow_env / ".guildflow" / "summary-cursors.sqlite"
    for path in (ledger, cursors):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"SQLite format 3\x00")
    (setup["other"]).write_text("mine")  # type: ignore[union-attr]

    dry = cleanup(dry_run=True)
    assert sorted(dry.deleted["summary files"]) == sorted(str(path) for path in setup["old_files"])  # type: ignore[union-attr]
    assert dry.deleted["flow runs"] == [] and dry.deleted["artifacts"] == []  # they ended just now
    assert len(dry.deleted["playerData copies"]) == 3
    assert dry.deleted["cache records"] == [str(setup["storage"] / "cleanup-test-expired")]  # type: ignore[operator]
    assert all(path.exists() for path in setup["old_files"])  # type: ignore[union-attr]
    assert dry.summary().startswith("cleanup (older than 30 days) would delete: 2 summary files, 3 playerData copies")

    done = cleanup()
    assert done.deleted == dry.deleted
    assert not any(path.exists() for path in setup["old_files"])  # type: ignore[union-attr]
    assert all(path.exists() for path in setup["recent_files"])  # type: ignore[union-attr]
    assert setup["other"].exists() and ledger.exists() and cursors.exists()  # type: ignore[union-attr]
    kept = sorted(path.name for path in setup["copies"].iterdir())  # type: ignore[union-attr]
    assert [name[:40] for name in kept] == [
        "playerdata-scheduled-ALL-2026-11-04T10-0",
        "playerdata-scheduled-ALL-2026-11-05T10-0",
    ]
    assert not (setup["storage"] / "cleanup-test-expired").exists()  # type: ignore[operator]
    assert (setup["storage"] / "cleanup-test-fresh").exists()  # type: ignore[operator]
    with get_client(sync_client=True) as client:
        remaining = {run.id for run in client.read_flow_runs()}
    assert {setup["summary_run"], setup["export_run"]} <= remaining


def test_runs_that_ended_before_the_cutoff_go_with_their_artifacts(setup: dict) -> None:
    """The server records a run's end as the moment it ends, so the cutoff moves instead (a minute ahead)."""
    other = cleanup.to_deployment(name="not-guildflow", tags=["other"]).apply()  # not tagged guildflow: kept
    theirs = finished_run(other, {})
    cutoff = datetime.now(timezone.utc) + timedelta(minutes=1)
    old = old_flow_runs(cutoff)
    assert {run.id for run in old} == {setup["summary_run"], setup["export_run"]}  # finished, guildflow's
    assert len(delete_flow_runs(old)) == 2  # an artifact each
    with get_client(sync_client=True) as client:
        remaining = {run.id for run in client.read_flow_runs()}
        artifacts = client.read_artifacts()
    assert theirs in remaining and not {setup["summary_run"], setup["export_run"]} & remaining
    owners = {artifact.flow_run_id for artifact in artifacts}
    assert theirs in owners and not {setup["summary_run"], setup["export_run"]} & owners
    assert old_flow_runs(cutoff) == []


def test_a_bad_retention_is_one_clear_error(setup: dict) -> None:
    state = cleanup(retention_days=0, return_state=True)
    assert state.is_failed() and "retention of 0 days is not a whole number from 1" in str(
        state.result(raise_on_failure=False)
    )


def test_the_command_lists_what_a_dry_run_would_delete(setup: dict) -> None:
    result = CliRunner().invoke(app, ["cleanup", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith("summary files: ")] == [
        f"summary files: {path}"
        for path in sorted(setup["old_files"])  # type: ignore[type-var]
    ]
    assert lines[-1].startswith("cleanup (older than 30 days) would delete: 2 summary files")
    assert all(path.exists() for path in setup["old_files"])  # type: ignore[union-attr]
    refused = CliRunner().invoke(app, ["cleanup", "--retention-days", "0"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
