"""Failure notifications as code: the specs built from settings, and `guildflow automations apply`
against the session's Prefect test harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from prefect import get_client
from prefect.automations import AutomationCore
from prefect.blocks.notifications import DiscordWebhook, SendgridEmail
from prefect.server.events.schemas.automations import EventTrigger as ServerEventTrigger
from prefect.server.events.schemas.events import ReceivedEvent
from prefect.settings import temporary_settings
from prefect.types._datetime import now
from typer.testing import CliRunner

from bookkeeping.pauses import AUTO_PAUSED_EVENT
from deployments.automations import (
    AUTO_PAUSED_AUTOMATION,
    DEPLOYMENT_TAG,
    DISCORD_BLOCK,
    EMAIL_BLOCK,
    FAILED_RUN_AUTOMATION,
    automation_specs,
    notification_blocks,
)
from guildflow.cli import app
from guildflow.settings import ConfigurationError, load_settings
from tests.conftest import REPO

WEBHOOK_ID, WEBHOOK_TOKEN = "123456789012345678", "s3cr3t-T0ken_value"
WEBHOOK = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
OUR_AUTOMATIONS = (FAILED_RUN_AUTOMATION, AUTO_PAUSED_AUTOMATION)

runner = CliRunner()


def flow_run_event(event: str, deployed: bool = True, tags: tuple[str, ...] = ("guildflow", "daily")) -> ReceivedEvent:
    """A flow run state event with the related resources the server attaches to it: its flow, its
    deployment (if any), and its tags (a deployed run's include the deployment's)."""
    related = [
        {
            "prefect.resource.id": f"prefect.flow.{uuid4()}",
            "prefect.resource.role": "flow",
            "prefect.resource.name": "daily-pipeline",
        }
    ]
    if deployed:
        related.append(
            {
                "prefect.resource.id": f"prefect.deployment.{uuid4()}",
                "prefect.resource.role": "deployment",
                "prefect.resource.name": "daily",
            }
        )
    related += [{"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"} for tag in tags]
    return ReceivedEvent(
        occurred=now("UTC"),
        event=event,
        resource={"prefect.resource.id": f"prefect.flow-run.{uuid4()}", "prefect.resource.name": "brave-otter"},
        related=related,
        id=uuid4(),
    )


def test_no_target_no_blocks_and_no_automations(guildflow_env: Path) -> None:
    assert notification_blocks(load_settings()) == {}
    assert automation_specs([]) == []


def test_discord_webhook_becomes_a_discord_block(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", WEBHOOK)
    [(name, block)] = notification_blocks(load_settings()).items()
    assert name == DISCORD_BLOCK and isinstance(block, DiscordWebhook)
    assert (block.webhook_id.get_secret_value(), block.webhook_token.get_secret_value()) == (WEBHOOK_ID, WEBHOOK_TOKEN)


def test_email_goes_through_sendgrid_and_needs_its_key(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_EMAIL", "ops@example.org, lead@example.org")
    with pytest.raises(ConfigurationError, match="GUILDFLOW_NOTIFY_SENDGRID_API_KEY"):
        notification_blocks(load_settings())
    monkeypatch.setenv("GUILDFLOW_NOTIFY_SENDGRID_API_KEY", "SG.key")
    monkeypatch.setenv("GUILDFLOW_NOTIFY_EMAIL_SENDER", "guildflow@example.org")
    [(name, block)] = notification_blocks(load_settings()).items()
    assert name == EMAIL_BLOCK and isinstance(block, SendgridEmail)
    assert block.to_emails == ["ops@example.org", "lead@example.org"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", "https://example.org/hooks/1/leaky-token", "is not a Discord webhook URL"),
        ("GUILDFLOW_NOTIFY_EMAIL", "ops@example.org,nobody", "'nobody' is not an email address"),
        ("GUILDFLOW_PAUSE_AFTER_FAILURES", "-1", "GUILDFLOW_PAUSE_AFTER_FAILURES"),
    ],
)
def test_bad_notification_settings_name_the_variable(guildflow_env, monkeypatch, variable, value, expected) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=expected) as raised:
        load_settings()
    assert variable in str(raised.value) and "leaky-token" not in str(raised.value)


def test_failed_run_automation_notifies_every_block_about_our_deployments() -> None:
    discord, email = uuid4(), uuid4()
    specs = {spec.name: spec for spec in automation_specs([discord, email])}
    assert set(specs) == set(OUR_AUTOMATIONS)
    failed_run = specs[FAILED_RUN_AUTOMATION]
    assert failed_run.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert failed_run.trigger.threshold == 1
    assert [(a.type, a.block_document_id) for a in failed_run.actions] == [
        ("send-notification", discord),
        ("send-notification", email),
    ]
    body = failed_run.actions[0].body
    for named in ("flow_run.name", "deployment.name", "flow_run.state.message", "flow_run|ui_url"):
        assert named in body

    # What the server does with the trigger: only failed or crashed runs of our (tagged) deployments.
    trigger = ServerEventTrigger.model_validate(failed_run.trigger.model_dump())
    assert trigger.covers(flow_run_event("prefect.flow-run.Failed"))
    assert trigger.covers(flow_run_event("prefect.flow-run.Crashed", tags=("guildflow", "playerdata")))
    assert not trigger.covers(flow_run_event("prefect.flow-run.Completed"))
    assert not trigger.covers(flow_run_event("prefect.flow-run.Failed", deployed=False))
    assert not trigger.covers(flow_run_event("prefect.flow-run.Failed", tags=("someone-else",)))


def test_every_deployment_carries_the_tag_the_notifications_match(guildflow_env, monkeypatch) -> None:
    for deployment in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]:
        assert DEPLOYMENT_TAG in deployment["tags"], deployment["name"]

    served = []
    monkeypatch.setattr("prefect.serve", lambda *deployments, **kwargs: served.extend(deployments))
    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert served and all(DEPLOYMENT_TAG in deployment.tags for deployment in served)


def test_auto_paused_automation_reacts_to_our_pause_event() -> None:
    block = uuid4()
    [paused] = [spec for spec in automation_specs([block]) if spec.name == AUTO_PAUSED_AUTOMATION]
    assert paused.trigger.expect == {AUTO_PAUSED_EVENT}
    assert [(a.type, a.block_document_id) for a in paused.actions] == [("send-notification", block)]
    assert "resume" in paused.actions[0].body


# `guildflow automations apply` against the harness


@pytest.fixture
def server(prefect_harness: None) -> Iterator[None]:
    """The harness without our blocks and automations, as if never applied."""

    def clean() -> None:
        with get_client(sync_client=True) as client:
            for name in OUR_AUTOMATIONS:
                for automation in client.read_automations_by_name(name):
                    client.delete_automation(automation.id)
            for slug, name in (("discord-webhook", DISCORD_BLOCK), ("sendgrid-email", EMAIL_BLOCK)):
                try:
                    client.delete_block_document(client.read_block_document_by_name(name, slug).id)
                except Exception:
                    pass

    clean()
    yield
    clean()


def apply() -> str:
    result = runner.invoke(app, ["automations", "apply"])
    assert result.exit_code == 0, result.output
    return result.output


def automation_count() -> int:
    with get_client(sync_client=True) as client:
        return len(client.read_automations())


def test_apply_is_idempotent_and_never_shows_the_webhook(
    server: None, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", WEBHOOK)
    before = automation_count()

    first = apply()
    assert f"created   block '{DISCORD_BLOCK}'" in first
    for name in OUR_AUTOMATIONS:
        assert f"created   automation '{name}'" in first
    assert automation_count() == before + 2

    second = apply()
    assert f"unchanged block '{DISCORD_BLOCK}'" in second
    for name in OUR_AUTOMATIONS:
        assert f"unchanged automation '{name}'" in second
    assert automation_count() == before + 2

    block_id = DiscordWebhook.load(DISCORD_BLOCK)._block_document_id
    with get_client(sync_client=True) as client:
        [automation] = client.read_automations_by_name(FAILED_RUN_AUTOMATION)
    assert automation.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert [action.block_document_id for action in automation.actions] == [block_id]

    for output in (first, second):
        assert WEBHOOK_TOKEN not in output and WEBHOOK_ID not in output


def test_apply_updates_what_differs(server: None, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", WEBHOOK)
    apply()
    with get_client(sync_client=True) as client:
        [automation] = client.read_automations_by_name(FAILED_RUN_AUTOMATION)
        edited = automation.model_dump(exclude={"id", "owner_resource"}) | {"description": "edited by hand in the UI"}
        client.update_automation(automation.id, AutomationCore.model_validate(edited))

    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", WEBHOOK.replace(WEBHOOK_TOKEN, "a-new-token"))
    output = apply()
    assert f"updated   block '{DISCORD_BLOCK}'" in output  # same block document, new token
    assert f"updated   automation '{FAILED_RUN_AUTOMATION}'" in output
    assert f"unchanged automation '{AUTO_PAUSED_AUTOMATION}'" in output
    assert DiscordWebhook.load(DISCORD_BLOCK).webhook_token.get_secret_value() == "a-new-token"
    with get_client(sync_client=True) as client:
        [automation] = client.read_automations_by_name(FAILED_RUN_AUTOMATION)
    assert automation.description != "edited by hand in the UI"
    assert "a-new-token" not in output

    monkeypatch.setenv("GUILDFLOW_NOTIFY_EMAIL", "ops@example.org")
    monkeypatch.setenv("GUILDFLOW_NOTIFY_EMAIL_SENDER", "guildflow@example.org")
    monkeypatch.setenv("GUILDFLOW_NOTIFY_SENDGRID_API_KEY", "SG.key")
    output = apply()
    assert f"unchanged block '{DISCORD_BLOCK}'" in output and f"created   block '{EMAIL_BLOCK}'" in output
    for name in OUR_AUTOMATIONS:
        assert f"updated   automation '{name}'" in output
    with get_client(sync_client=True) as client:
        [automation] = client.read_automations_by_name(FAILED_RUN_AUTOMATION)
    email_block_id = SendgridEmail.load(EMAIL_BLOCK)._block_document_id
    assert email_block_id in [action.block_document_id for action in automation.actions]


def test_apply_without_a_target_says_so_and_creates_nothing(server: None, guildflow_env: Path) -> None:
    before = automation_count()
    output = apply()
    assert "No notification target configured" in output and "GUILDFLOW_NOTIFY_DISCORD_WEBHOOK" in output
    assert automation_count() == before


def test_apply_needs_a_prefect_server(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", WEBHOOK)
    with temporary_settings(restore_defaults={"api.url"}):
        result = runner.invoke(app, ["automations", "apply"])
    assert result.exit_code == 2
    assert "PREFECT_API_URL is not set" in result.output
    assert WEBHOOK_TOKEN not in result.output


def test_a_malformed_webhook_stops_apply_without_echoing_it(guildflow_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("GUILDFLOW_NOTIFY_DISCORD_WEBHOOK", "https://discord.com/webhooks/leaky-token")
    result = runner.invoke(app, ["automations", "apply"])
    assert result.exit_code == 2
    assert "GUILDFLOW_NOTIFY_DISCORD_WEBHOOK: is not a Discord webhook URL" in result.output
    assert "leaky-token" not in result.output
