from pathlib import Path

from typer.testing import CliRunner

from guildflow.cli import app

runner = CliRunner()


def test_run_daily_twice(guildflow_env: Path) -> None:
    first = runner.invoke(app, ["run", "daily"])
    assert first.exit_code == 0, first.output
    assert "daily pipeline completed" in first.output
    second = runner.invoke(app, ["run", "daily", "--analysis-mode", "keywords"])
    assert second.exit_code == 0, second.output
    assert len(list((guildflow_env / "outbox").glob("*.json"))) == 1


def test_run_daily_fails_with_the_reason(guildflow_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(guildflow_env / "nowhere" / "*.json"))
    result = runner.invoke(app, ["run", "daily"])
    assert result.exit_code == 1
    assert "collect" in result.output and "GUILDFLOW_DISCORD_EXPORT" in result.output
