import pytest

from guildflow.settings import ConfigurationError, load_settings


def test_defaults_run_the_sample_without_configuration(guildflow_env, monkeypatch) -> None:
    monkeypatch.delenv("GUILDFLOW_DISCORD_EXPORT")
    settings = load_settings()
    assert settings.discord_export == "examples/discord/*.json"
    assert (settings.schedule_cron, settings.timezone) == ("0 20 * * *", "UTC")
    assert (settings.analysis_mode, settings.collection_mode) == ("summary", "since-last")
    assert settings.include_bot_messages  # feed bots are a main source of X links


def test_bot_messages_can_still_be_skipped(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_INCLUDE_BOT_MESSAGES", "false")
    assert not load_settings().include_bot_messages


def test_environment_and_overrides(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_ANALYSIS_MODE", "keywords")
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Europe/Berlin")
    assert load_settings().analysis_mode == "keywords"
    assert load_settings(analysis_mode="summary", collection_lookback=None).analysis_mode == "summary"
    assert load_settings().timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GUILDFLOW_SCHEDULE_CRON", "0 25 * * *", "GUILDFLOW_SCHEDULE_CRON: '0 25 \\* \\* \\*' is not a valid cron"),
        ("GUILDFLOW_SCHEDULE_CRON", "every day", "five fields"),
        ("GUILDFLOW_TIMEZONE", "Europe/Atlantis", "GUILDFLOW_TIMEZONE: 'Europe/Atlantis' is not an IANA time zone"),
        ("GUILDFLOW_ANALYSIS_MODE", "poem", "GUILDFLOW_ANALYSIS_MODE: Input should be 'summary' or 'keywords'"),
        ("GUILDFLOW_COLLECTION_MODE", "weeks", "GUILDFLOW_COLLECTION_MODE"),
        ("GUILDFLOW_COLLECTION_LOOKBACK", "0", "GUILDFLOW_COLLECTION_LOOKBACK"),
    ],
)
def test_bad_values_name_the_variable_and_the_fix(guildflow_env, monkeypatch, variable, value, expected) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=expected):
        load_settings()
