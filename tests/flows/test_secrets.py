"""Secrets come from a Prefect Secret block when one is named, else from the environment."""

from __future__ import annotations

import json

import pytest
from prefect.blocks.system import Secret

from guildflow.settings import ConfigurationError, load_settings
from tasks import clients


def test_a_named_secret_block_wins_over_the_environment(guildflow_env, monkeypatch) -> None:
    Secret(value="token-from-block").save("guildflow-test-discord-token", overwrite=True)
    monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN", "token-from-env")
    assert clients.secret(load_settings(), "discord_token").get_secret_value() == "token-from-env"
    monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN_BLOCK", "guildflow-test-discord-token")
    assert clients.secret(load_settings(), "discord_token").get_secret_value() == "token-from-block"


def test_a_json_secret_block_holds_the_service_account(guildflow_env, monkeypatch) -> None:
    key = {"type": "service_account", "client_email": "bot@example.iam.gserviceaccount.com", "private_key": "x"}
    Secret(value=key).save("guildflow-test-service-account", overwrite=True)
    monkeypatch.setenv("GUILDFLOW_SHEETS_SERVICE_ACCOUNT_BLOCK", "guildflow-test-service-account")
    assert clients.service_account_info(load_settings()) == key


def test_missing_secret_and_missing_block_say_how_to_fix(guildflow_env, monkeypatch) -> None:
    with pytest.raises(ConfigurationError, match="GUILDFLOW_GEMINI_API_KEY is not set.*GUILDFLOW_GEMINI_API_KEY_BLOCK"):
        clients.secret(load_settings(), "gemini_api_key")
    monkeypatch.setenv("GUILDFLOW_GEMINI_API_KEY_BLOCK", "no-such-block")
    with pytest.raises(ConfigurationError, match="Secret block 'no-such-block'.*does not exist"):
        clients.secret(load_settings(), "gemini_api_key")


def test_secrets_never_show_in_settings(guildflow_env, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_X_API_SECRET", "very-secret-value")
    settings = load_settings()
    assert "very-secret-value" not in repr(settings) + str(settings)
    assert "very-secret-value" not in json.dumps(settings.model_dump(mode="json"))
