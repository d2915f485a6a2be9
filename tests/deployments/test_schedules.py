from pathlib import Path

import pytest
import yaml

from deployments.schedules import DAILY_SCHEDULE_SLUG, daily_schedule, project_directory, schedule_settings
from guildflow.settings import ConfigurationError, load_settings
from tests.conftest import REPO


def test_daily_schedule_comes_from_settings(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_SCHEDULE_CRON", "30 7 * * 1-5")
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Europe/Berlin")
    schedule = daily_schedule(load_settings())
    assert (schedule.cron, schedule.timezone, schedule.slug) == ("30 7 * * 1-5", "Europe/Berlin", DAILY_SCHEDULE_SLUG)
    assert schedule_settings() == {"cron": "30 7 * * 1-5", "timezone": "Europe/Berlin"}


def test_deploy_stops_on_a_bad_schedule(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Moon/Base")
    with pytest.raises(ConfigurationError, match="GUILDFLOW_TIMEZONE"):
        schedule_settings()


def test_project_directory_is_where_deploy_runs(guildflow_env: Path) -> None:
    assert project_directory() == {"directory": str(guildflow_env)}


def test_prefect_yaml_uses_the_build_steps_and_the_schedule_slug() -> None:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    steps = [next(iter(step)) for step in config["build"]]
    assert steps == ["deployments.schedules.schedule_settings", "deployments.schedules.project_directory"]
    daily = next(deployment for deployment in config["deployments"] if deployment["name"] == "daily")
    assert daily["name"] == "daily" and daily["entrypoint"] == "flows/daily.py:daily_pipeline"
    assert daily["work_pool"]["name"] == "guildflow"
    assert daily["schedules"] == [
        {"cron": "{{ schedule.cron }}", "timezone": "{{ schedule.timezone }}", "slug": DAILY_SCHEDULE_SLUG}
    ]
