"""`guildflow check` and `guildflow serve` (running the pipeline is in tests/flows/test_cli_run.py)."""

import json
from pathlib import Path

import pytest
from prefect.settings import temporary_settings
from prefect.states import Completed, Failed
from typer.testing import CliRunner

from deployments.schedules import DAILY_SCHEDULE_SLUG
from guildflow.cli import app
from guildflow.cli_common import flow_outcome

runner = CliRunner()


def test_check_reports_every_service_and_writes_nothing(guildflow_env: Path, prefect_harness: None) -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    for service in ("discord", "sheet", "analyser", "publisher", "ledger", "prefect"):
        assert f"ok   {service}" in result.output
    assert "healthy" in result.output
    assert "2 channel(s), 73 messages" in result.output
    assert list(guildflow_env.iterdir()) == []


def test_check_names_a_corrupt_export(guildflow_env: Path, monkeypatch) -> None:
    bad = guildflow_env / "export.json"
    bad.write_text("{oops")
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(bad))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "FAIL discord" in result.output and "export.json: not valid JSON" in result.output


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON (recursion limit exceeded"),
        (
            {
                "channel": {"id": "5"},
                "messages": [
                    {
                        "id": "9",
                        "timestamp": "2026-11-20T10:00:00+00:00",
                        "author": {"id": "1", "isBot": False},
                        "content": "",
                        "embeds": "oops",
                    }
                ],
            },
            "message 9 (number 1 in the file): field embeds should be a valid array",
        ),
    ],
)
def test_check_puts_a_malformed_export_on_one_line(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch, document: object, expected: str, prefect_harness: None
) -> None:
    bad = guildflow_env / "export.json"
    bad.write_text(document if isinstance(document, str) else json.dumps(document))
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(bad))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # a clean exit, nothing raised
    [line] = [line for line in result.output.splitlines() if "discord" in line]
    assert line.startswith("FAIL discord") and "export.json" in line and expected in line
    assert "Traceback" not in result.output


def test_check_reports_an_unexpected_failure_on_one_line(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    def broken(self) -> str:
        raise KeyError("surprise")

    monkeypatch.setattr("integrations.discord_source.ExportFileSource.check", broken)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "FAIL discord" in result.output and "the check itself failed (KeyError: 'surprise')" in result.output
    assert "ok   sheet" in result.output  # the other services are still checked


def test_check_reports_an_unreachable_prefect_api(guildflow_env: Path) -> None:
    with temporary_settings(updates={"api.url": "http://127.0.0.1:9/api"}):
        result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "FAIL prefect" in result.output and "prefect server start" in result.output


def test_bad_configuration_exits_2_with_the_fix(guildflow_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_SCHEDULE_CRON", "0 20 * *")
    for command in (["check"], ["run", "daily"], ["serve"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert "GUILDFLOW_SCHEDULE_CRON" in result.output
    assert list(guildflow_env.iterdir()) == []


def test_serve_keeps_schedules_active_on_shutdown(guildflow_env: Path, monkeypatch, prefect_harness: None) -> None:
    served = {}

    def fake_serve(*deployments, pause_on_shutdown: bool = True, **kwargs) -> None:
        served.update(deployments=deployments, pause_on_shutdown=pause_on_shutdown)

    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "America/New_York")
    monkeypatch.setenv("GUILDFLOW_ANALYSIS_MODE", "keywords")
    monkeypatch.setattr("prefect.serve", fake_serve)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert served["pause_on_shutdown"] is False
    [deployment] = served["deployments"]
    assert deployment.name == "served"  # never the worker's daily-pipeline/daily
    assert deployment.parameters["analysis_mode"] == "keywords"
    assert deployment.concurrency_limit == 1 and deployment.concurrency_options.collision_strategy == "ENQUEUE"
    assert "served by `guildflow serve`" in deployment.description
    [schedule] = deployment.schedules
    assert schedule.slug == DAILY_SCHEDULE_SLUG
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 20 * * *", "America/New_York")


def test_serve_refuses_while_the_deployed_pipeline_is_active(
    guildflow_env: Path, monkeypatch, prefect_harness: None
) -> None:
    from prefect import get_client

    from flows.daily import daily_pipeline

    monkeypatch.setattr("prefect.serve", lambda *deployments, **options: pytest.fail("served"))
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(daily_pipeline)
        deployment_id = client.create_deployment(flow_id, "daily")
        try:
            refused = runner.invoke(app, ["serve"])
            assert refused.exit_code == 2 and "daily-pipeline/daily is deployed and active" in refused.output
            client.pause_deployment(deployment_id)
            monkeypatch.setattr("prefect.serve", lambda *deployments, **options: None)
            assert runner.invoke(app, ["serve"]).exit_code == 0
        finally:
            client.delete_deployment(deployment_id)


def test_sheet_export_writes_the_configured_sheet(guildflow_env: Path) -> None:
    from integrations.sheets import SqliteWorkbook
    from tests.core.factories import post

    SqliteWorkbook(guildflow_env / "workbook.sqlite").append_posts([post(1), post(2)], {})
    result = runner.invoke(app, ["sheet", "export", "Posts", str(guildflow_env / "posts.csv")])
    assert result.exit_code == 0, result.output
    assert "wrote 2 rows of Posts" in result.output
    assert (guildflow_env / "posts.csv").read_text().startswith("Message ID,Channel ID,Date,Time")
    refused = runner.invoke(app, ["sheet", "export", "Posts", str(guildflow_env / "posts.xlsx")])
    assert refused.exit_code == 1 and "must end in .csv or .parquet" in refused.output


def test_a_flow_outcome_is_the_value_the_exception_or_none_when_prefect_lost_it() -> None:
    assert flow_outcome(Completed(data=7)) == 7
    assert flow_outcome(Completed()) is None  # completed, value lost (a final state read back from the API)
    assert str(flow_outcome(Failed(message="boom"))) == "boom"
