"""clients.delivery builds the client of each destination from the settings; destination_problem says, from the
settings alone, what keeps a destination from working (for a warning before a schedule is made)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from core.delivery import Destination
from guildflow.settings import ConfigurationError, Settings
from integrations.discord_api import DiscordDelivery
from integrations.email_delivery import EmailDelivery
from integrations.file_delivery import FileDelivery
from integrations.webhook_delivery import WebhookDelivery
from tasks.clients import delivery, destination_problem

CHANNEL = Destination.parse("discord:1300000000000000111")
DISCORD_HOOK = Destination.parse("webhook:https://discord.com/api/webhooks/1300000000000000001/" + "t" * 68)
HOOK = Destination.parse("webhook:https://hooks.example.com/in/abc")
EMAIL = Destination.parse("email:admin@example.org")


@pytest.fixture
def bare(guildflow_env: Path) -> Settings:
    """No secrets, no SMTP server: what a fresh install has."""
    return Settings()


def test_a_discord_channel_needs_the_token_or_a_webhook(bare: Settings) -> None:
    problem = destination_problem(bare, CHANNEL)
    assert problem is not None and problem.startswith("Discord channel 1300000000000000111: posting to a Discord")
    assert "GUILDFLOW_DISCORD_TOKEN" in problem and "GUILDFLOW_PLAYERDATA_WEBHOOK_URL" in problem
    with pytest.raises(ConfigurationError, match="needs GUILDFLOW_DISCORD_TOKEN"):
        delivery(bare, CHANNEL)
    for given in ({"discord_token": SecretStr("t")}, {"discord_token_block": "bot-token"}):
        settings = bare.model_copy(update=given)
        assert destination_problem(settings, CHANNEL) is None  # a block is named, not read: no network
    markdown = Destination.parse("discord:1300000000000000111:markdown")
    client = delivery(bare.model_copy(update={"discord_token": SecretStr("t")}), markdown)
    assert (
        isinstance(client, DiscordDelivery) and client.format == "markdown" and client.channel_id == int(CHANNEL.target)
    )


def test_a_discord_webhook_url_is_posted_as_discord_unsigned(bare: Settings) -> None:
    assert destination_problem(bare, DISCORD_HOOK) is None
    client = delivery(bare, DISCORD_HOOK)
    assert isinstance(client, DiscordDelivery) and client.channel_id is None and client.format == "embed"


def test_other_webhooks_are_signed(bare: Settings) -> None:
    problem = destination_problem(bare, HOOK)
    assert problem is not None and "GUILDFLOW_WEBHOOK_SIGNING_SECRET" in problem
    assert "abc" not in problem  # a webhook URL may hold a token: shown as its host only
    signed = bare.model_copy(update={"webhook_signing_secret": SecretStr("s")})
    assert destination_problem(signed, HOOK) is None and isinstance(delivery(signed, HOOK), WebhookDelivery)


def test_email_needs_a_server_a_sender_and_a_password_for_its_login(bare: Settings) -> None:
    assert "set GUILDFLOW_SMTP_HOST and GUILDFLOW_SMTP_FROM" in (destination_problem(bare, EMAIL) or "")
    server = bare.model_copy(update={"smtp_host": "smtp.example.org", "smtp_from": "g@example.org"})
    assert destination_problem(server, EMAIL) is None
    login = server.model_copy(update={"smtp_user": "bot"})
    assert "without GUILDFLOW_SMTP_PASSWORD" in (destination_problem(login, EMAIL) or "")
    client = delivery(login.model_copy(update={"smtp_password": SecretStr("pw"), "smtp_security": "ssl"}), EMAIL)
    assert isinstance(client, EmailDelivery) and (client.port, client.recipient) == (465, "admin@example.org")


def test_a_folder_must_be_writable(bare: Settings, tmp_path: Path) -> None:
    assert destination_problem(bare, Destination.parse(f"file:{tmp_path / 'new'}")) is None
    (tmp_path / "a-file").write_text("")
    under_a_file = Destination.parse(f"file:{tmp_path / 'a-file' / 'out'}")
    assert "is not a folder this user can write to" in (destination_problem(bare, under_a_file) or "")
    client = delivery(bare, Destination.parse(f"file:{tmp_path}:json"))
    assert isinstance(client, FileDelivery) and client.format == "json" and client.keep == 50
