from pathlib import Path

import pytest
import yaml

from deployments.schedules import (
    DAILY_SCHEDULE_SLUG,
    daily_parameters,
    daily_schedule,
    deployment_settings,
    project_directory,
)
from guildflow.settings import ConfigurationError, load_settings
from tests.conftest import REPO


def test_daily_schedule_comes_from_settings(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_SCHEDULE_CRON", "30 7 * * 1-5")
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Europe/Berlin")
    schedule = daily_schedule(load_settings())
    assert (schedule.cron, schedule.timezone, schedule.slug) == ("30 7 * * 1-5", "Europe/Berlin", DAILY_SCHEDULE_SLUG)
    monkeypatch.setenv("GUILDFLOW_ANALYSIS_MODE", "keywords")
    assert deployment_settings() == {
        "cron": "30 7 * * 1-5",
        "timezone": "Europe/Berlin",
        "analysis_mode": "keywords",
        "collection_mode": "since-last",
        "lookback": 24,
    }


def test_deploy_stops_on_a_bad_schedule(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Moon/Base")
    with pytest.raises(ConfigurationError, match="GUILDFLOW_TIMEZONE"):
        deployment_settings()


def test_project_directory_is_where_deploy_runs(guildflow_env: Path) -> None:
    assert project_directory() == {"directory": str(guildflow_env)}


def test_prefect_yaml_uses_the_build_steps_and_the_schedule_slug() -> None:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    steps = [next(iter(step)) for step in config["build"]]
    assert steps == ["deployments.schedules.deployment_settings", "deployments.schedules.project_directory"]
    daily = next(deployment for deployment in config["deployments"] if deployment["name"] == "daily")
    assert daily["name"] == "daily" and daily["entrypoint"] == "flows/daily.py:daily_pipeline"
    assert daily["work_pool"]["name"] == "guildflow"
    assert daily["schedules"] == [
        {"cron": "{{ settings.cron }}", "timezone": "{{ settings.timezone }}", "slug": DAILY_SCHEDULE_SLUG}
    ]
    assert daily["parameters"] == {name: f"{{{{ settings.{name} }}}}" for name in daily_parameters(load_settings())}


def test_the_run_form_shows_choices_and_defaults() -> None:
    """Prefect's run form and Parameters tab: each parameter typed, with its choices and a default, none
    optional (an optional one shows as a `str | None` toggle)."""
    from prefect.utilities.callables import parameter_schema

    from flows.daily import daily_pipeline

    properties = parameter_schema(daily_pipeline).model_dump()["properties"]
    assert properties["analysis_mode"]["enum"] == ["summary", "keywords"]
    assert properties["collection_mode"]["enum"] == ["since-last", "hours", "days"]
    assert {name: (spec["type"], spec["default"]) for name, spec in properties.items()} == {
        "analysis_mode": ("string", "summary"),
        "collection_mode": ("string", "since-last"),
        "lookback": ("integer", 24),
    }
    assert all(spec.get("description") for spec in properties.values())
