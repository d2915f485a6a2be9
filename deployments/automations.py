"""Automations as code: what `guildflow automations apply` puts on the Prefect server.

A failed or crashed run of any guildflow deployment (each carries DEPLOYMENT_TAG) is reported to each
configured target, and so is a schedule or deployment that bookkeeping/pauses.py paused after consecutive failures.
Targets are Prefect notification blocks saved under fixed names: a Discord webhook, and email through
SendGrid (the one email notification block in Prefect core). Applying compares by name and writes only
what differs, so applying again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast
from uuid import UUID

from prefect import get_client
from prefect.automations import AutomationCore, EventTrigger, SendNotification
from prefect.blocks.notifications import DiscordWebhook, NotificationBlock, SendgridEmail
from prefect.client.orchestration import SyncPrefectClient
from prefect.events.schemas.automations import Posture
from pydantic import SecretStr

from bookkeeping.pauses import AUTO_PAUSED_EVENT
from bookkeeping.schedules import GUILDFLOW_TAG
from guildflow.settings import ConfigurationError, Settings

DEPLOYMENT_TAG = GUILDFLOW_TAG
DISCORD_BLOCK = "guildflow-discord"
EMAIL_BLOCK = "guildflow-email"
FAILED_RUN_AUTOMATION = "guildflow: deployment run failed"
AUTO_PAUSED_AUTOMATION = "guildflow: deployment paused"
FAILED_RUN_EVENTS = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}

# Jinja templates rendered by the server; flow_run, flow and deployment are the event's resources.
FAILED_RUN_SUBJECT = (
    "guildflow: {{ flow.name }}/{{ deployment.name }} run {{ flow_run.name }} {{ flow_run.state.name }}"
)
FAILED_RUN_BODY = """\
Flow run {{ flow_run.name }} of deployment {{ flow.name }}/{{ deployment.name }} ended {{ flow_run.state.name }}.
{{ (flow_run.state.message or "No state message.") | truncate(1500) }}
{{ flow_run|ui_url }}"""
AUTO_PAUSED_SUBJECT = "guildflow: paused {{ event.payload.paused }} {{ event.payload.flow }}/{{ deployment.name }}"
AUTO_PAUSED_BODY = """\
guildflow paused {{ event.payload.paused }} {{ event.payload.flow }}/{{ deployment.name }}: \
{{ event.payload.reason }}. It starts no scheduled runs until it is resumed: fix the cause, then \
`guildflow schedules resume` it (`guildflow schedules status` shows it).
{{ flow_run|ui_url }}"""
# Not `deployment|ui_url`: Prefect (3.8.8, 3.9.1) renders it as None (it has no UI path for DeploymentResponse).

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Applied:
    kind: Literal["block", "automation"]
    name: str
    outcome: Outcome


def notification_blocks(settings: Settings) -> dict[str, NotificationBlock]:
    """The notification blocks the settings configure, by block name; empty when none is."""
    blocks: dict[str, NotificationBlock] = {}
    if webhook := settings.discord_webhook_parts:
        webhook_id, webhook_token = webhook
        blocks[DISCORD_BLOCK] = DiscordWebhook(
            webhook_id=SecretStr(webhook_id),
            webhook_token=SecretStr(webhook_token),
            botname="guildflow",
            notify_type="failure",
        )
    if settings.notify_email_addresses:
        api_key = settings.notify_sendgrid_api_key
        if api_key is None or not api_key.get_secret_value() or not settings.notify_email_sender:
            raise ConfigurationError(
                "GUILDFLOW_NOTIFY_EMAIL needs GUILDFLOW_NOTIFY_SENDGRID_API_KEY and GUILDFLOW_NOTIFY_EMAIL_SENDER: "
                "Prefect core sends email notifications only through SendGrid"
            )
        blocks[EMAIL_BLOCK] = SendgridEmail(
            api_key=api_key,
            sender_email=settings.notify_email_sender,
            to_emails=settings.notify_email_addresses,
            notify_type="failure",
        )
    return blocks


def automation_specs(block_ids: list[UUID]) -> list[AutomationCore]:
    """The automations, notifying every given block; none without a block."""
    if not block_ids:
        return []
    failed_run = EventTrigger(
        expect=FAILED_RUN_EVENTS,
        match={"prefect.resource.id": "prefect.flow-run.*"},
        # Only runs of a deployment (subflows and local runs have none) tagged as ours; a flow run's
        # events carry its deployment's tags.
        match_related=[
            {"prefect.resource.role": "deployment"},
            {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{DEPLOYMENT_TAG}"},
        ],
        posture=Posture.Reactive,
        threshold=1,
    )
    auto_paused = EventTrigger(
        expect={AUTO_PAUSED_EVENT}, match={"prefect.resource.id": "prefect.deployment.*"}, posture=Posture.Reactive
    )
    return [
        AutomationCore(
            name=FAILED_RUN_AUTOMATION,
            description="Report each failed or crashed run of a guildflow deployment.",
            trigger=failed_run,
            actions=[
                SendNotification(block_document_id=block_id, subject=FAILED_RUN_SUBJECT, body=FAILED_RUN_BODY)
                for block_id in block_ids
            ],
        ),
        AutomationCore(
            name=AUTO_PAUSED_AUTOMATION,
            description="Report a guildflow deployment paused after consecutive failed runs.",
            trigger=auto_paused,
            actions=[
                SendNotification(block_document_id=block_id, subject=AUTO_PAUSED_SUBJECT, body=AUTO_PAUSED_BODY)
                for block_id in block_ids
            ],
        ),
    ]


def apply_automations(settings: Settings) -> list[Applied]:
    """Save the notification blocks and the automations that use them, creating or updating by name
    only what differs from the settings. Without a notification target nothing is written."""
    blocks = notification_blocks(settings)
    if not blocks:
        return []
    applied: list[Applied] = []
    block_ids: list[UUID] = []
    for name, block in blocks.items():
        block_id, outcome = _apply_block(name, block)
        block_ids.append(block_id)
        applied.append(Applied("block", name, outcome))
    with get_client(sync_client=True) as client:
        for spec in automation_specs(block_ids):
            applied.append(Applied("automation", spec.name, _apply_automation(client, spec)))
    return applied


def _apply_block(name: str, block: NotificationBlock) -> tuple[UUID, Outcome]:
    # Called outside an event loop, Prefect's block methods return their values (typed with their coroutines too).
    try:
        saved = cast(NotificationBlock, type(block).load(name))
    except ValueError:
        return cast(UUID, block.save(name)), "created"
    # Fields only: a block's dump also carries its document id and name, which an unsaved one lacks.
    if all(getattr(saved, field) == getattr(block, field) for field in type(block).model_fields):
        return cast(UUID, saved._block_document_id), "unchanged"
    return cast(UUID, block.save(name, overwrite=True)), "updated"


def _apply_automation(client: SyncPrefectClient, spec: AutomationCore) -> Outcome:
    existing = client.read_automations_by_name(spec.name)
    if not existing:
        client.create_automation(spec)
        return "created"
    current = AutomationCore.model_validate(existing[0].model_dump(exclude={"id"}))
    if current.model_dump() == spec.model_dump():
        return "unchanged"
    client.update_automation(existing[0].id, spec)
    return "updated"
