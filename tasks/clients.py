"""The one place that turns settings (and Prefect Secret blocks) into service clients."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prefect.runtime import flow_run
from pydantic import SecretStr

from core.delivery import Destination, discord_webhook_parts
from guildflow.settings import ConfigurationError, Settings
from integrations.analysis import Analyser, OfflineAnalyser
from integrations.delivery import Delivery
from integrations.delivery_ledger import DeliveryLedger
from integrations.discord_source import ExportFileSource, MessageSource
from integrations.file_delivery import FileDelivery
from integrations.ledger import PublishLedger
from integrations.local_files import can_write
from integrations.publishers import OutboxPublisher, Publisher
from integrations.sheets import Sheet, SqliteWorkbook
from integrations.summariser import OfflineSummariser, Summariser
from integrations.summary_cursors import SummaryCursors

if TYPE_CHECKING:
    from integrations.discord_api import DiscordDelivery


def secret(settings: Settings, field: str) -> SecretStr:
    """A secret from the Prefect Secret block named in GUILDFLOW_<FIELD>_BLOCK, else GUILDFLOW_<FIELD>."""
    variable = f"GUILDFLOW_{field.upper()}"
    block_name: str | None = getattr(settings, f"{field}_block")
    if block_name:
        return SecretStr(_secret_block_value(block_name, f"{variable}_BLOCK"))
    value: SecretStr | None = getattr(settings, field)
    if value is None or not value.get_secret_value():
        raise ConfigurationError(
            f"{variable} is not set: set it in the environment, or save a Prefect Secret block "
            f"(prefect block create secret) and put its name in {variable}_BLOCK"
        )
    return value


def _secret_block_value(block_name: str, variable: str) -> str:
    from prefect.blocks.system import Secret

    try:
        value: Any = cast(Secret, Secret.load(block_name)).get()  # a Secret: called outside an event loop
    except ValueError:
        raise ConfigurationError(
            f"Prefect Secret block '{block_name}' (from {variable}) does not exist: "
            f"create it in the UI or with Secret(value=...).save('{block_name}')"
        ) from None
    return value if isinstance(value, str) else json.dumps(value)


def service_account_info(settings: Settings) -> dict[str, Any]:
    """The Google service account key: its JSON text, or the path of the JSON file."""
    raw = secret(settings, "sheets_service_account").get_secret_value().strip()
    text = raw if raw.startswith("{") else _read_key_file(Path(raw))
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError(
            "GUILDFLOW_SHEETS_SERVICE_ACCOUNT is not a service account JSON key (or the path of one)"
        ) from None
    if info.get("type") != "service_account":
        raise ConfigurationError('GUILDFLOW_SHEETS_SERVICE_ACCOUNT: the key\'s "type" must be "service_account"')
    return info


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigurationError(
            "GUILDFLOW_SHEETS_SERVICE_ACCOUNT is neither a JSON key nor a readable key file path"
        ) from None


def message_source(settings: Settings, channel_ids: list[int] | None = None) -> MessageSource:
    """The configured source; channel_ids (a summary's channels) instead of GUILDFLOW_DISCORD_CHANNELS for the API
    (an export source has every channel of its files)."""
    if settings.discord_backend == "api":
        from integrations.discord_api import DiscordApiSource

        if channel_ids:
            return DiscordApiSource(
                token=secret(settings, "discord_token"), channel_ids=channel_ids, api_base=settings.discord_api_base
            )
        if not settings.discord_channel_ids:
            raise ConfigurationError("GUILDFLOW_DISCORD_CHANNELS is empty: list the channel ids to collect from")
        return DiscordApiSource(
            token=secret(settings, "discord_token"),
            channel_ids=settings.discord_channel_ids,
            api_base=settings.discord_api_base,
        )
    return ExportFileSource(settings.discord_export)


def sheet(settings: Settings) -> Sheet:
    if settings.sheet_backend == "google":
        from integrations.google_sheets import GoogleSheet

        if not settings.sheets_spreadsheet_id:
            raise ConfigurationError(
                "GUILDFLOW_SHEETS_SPREADSHEET_ID is empty: use the id from the sheet's URL "
                "(https://docs.google.com/spreadsheets/d/<id>/edit)"
            )
        key = json.dumps(service_account_info(settings), sort_keys=True)
        if flow_run.id:
            return _google_sheet_of_run(flow_run.id, settings.sheets_spreadsheet_id, key, settings.sheets_api_base)
        return GoogleSheet(settings.sheets_spreadsheet_id, json.loads(key), settings.sheets_api_base)
    return SqliteWorkbook(settings.workbook)


@lru_cache(maxsize=4)
def _google_sheet_of_run(flow_run_id: str, spreadsheet_id: str, key: str, api_base: str) -> Sheet:
    """One Sheets client per flow run, shared by its phases: one OAuth token (refreshed only when it
    expires), one read of the spreadsheet's layout and of the Posts table, which the client's own writes
    keep current. The next run reads afresh; a changed key or spreadsheet gets its own client."""
    from integrations.google_sheets import GoogleSheet

    return GoogleSheet(spreadsheet_id, json.loads(key), api_base)


def analyser(settings: Settings) -> Analyser:
    if settings.analyser_backend == "gemini":
        return _gemini_analyser(secret(settings, "gemini_api_key"), settings.gemini_model, settings.gemini_api_base)
    return OfflineAnalyser()


@lru_cache(maxsize=4)
def _gemini_analyser(api_key: SecretStr, model: str, api_base: str) -> Analyser:
    """One client per key, model and address in a process: building one costs some 60 ms (TLS contexts),
    and a run asks for it once per batch. A rotated key (a new secret value) gets a new client."""
    from integrations.gemini import GeminiAnalyser

    return GeminiAnalyser(api_key=api_key, model=model, api_base=api_base)


def summariser(settings: Settings) -> Summariser:
    if settings.analyser_backend == "gemini":
        return _gemini_summariser(secret(settings, "gemini_api_key"), settings.gemini_model, settings.gemini_api_base)
    return OfflineSummariser()


@lru_cache(maxsize=4)
def _gemini_summariser(api_key: SecretStr, model: str, api_base: str) -> Summariser:
    from integrations.gemini_summary import GeminiSummariser

    return GeminiSummariser(api_key=api_key, model=model, api_base=api_base)


def summary_cursors(settings: Settings) -> SummaryCursors:
    return SummaryCursors(settings.summary_cursors)


def publisher(settings: Settings) -> Publisher:
    if settings.publisher_backend == "x":
        from integrations.x import XPublisher

        return XPublisher(
            api_key=secret(settings, "x_api_key"),
            api_secret=secret(settings, "x_api_secret"),
            access_token=secret(settings, "x_access_token"),
            access_token_secret=secret(settings, "x_access_token_secret"),
            api_base=settings.x_api_base,
        )
    if settings.publisher_backend == "typefully":
        from integrations.typefully import TypefullyPublisher

        if not settings.typefully_social_set_id:
            raise ConfigurationError(
                "GUILDFLOW_TYPEFULLY_SOCIAL_SET_ID is empty: find it with GET /v2/social-sets in Typefully's API"
            )
        return TypefullyPublisher(
            api_key=secret(settings, "typefully_api_key"),
            social_set_id=settings.typefully_social_set_id,
            publish_at=settings.typefully_publish_at,
            api_base=settings.typefully_api_base,
        )
    return OutboxPublisher(settings.outbox)


def _optional_secret(settings: Settings, field: str) -> SecretStr | None:
    if getattr(settings, f"{field}_block") or getattr(settings, field) is not None:
        return secret(settings, field)
    return None


def publish_ledger(settings: Settings) -> PublishLedger:
    return PublishLedger(settings.ledger)


def delivery_ledger(settings: Settings) -> DeliveryLedger:
    return DeliveryLedger(settings.delivery_ledger)


def delivery(settings: Settings, destination: Destination) -> Delivery:
    """The client that delivers to this destination, with the settings its kind needs."""
    missing = _missing_configuration(settings, destination)
    if missing:
        raise ConfigurationError(f"{destination.describe()}: {missing}")
    if destination.kind == "discord" or _is_discord_webhook(destination):
        return discord_delivery(settings, destination)
    if destination.kind == "webhook":
        from integrations.webhook_delivery import WebhookDelivery

        return WebhookDelivery(SecretStr(destination.target), secret(settings, "webhook_signing_secret"))
    if destination.kind == "email":
        from integrations.email_delivery import EmailDelivery

        return EmailDelivery(
            settings.smtp_host,
            settings.smtp_port_or_default,
            settings.smtp_security,
            settings.smtp_from,
            destination.target,
            user=settings.smtp_user,
            password=secret(settings, "smtp_password") if settings.smtp_user else None,
        )
    return FileDelivery(Path(destination.target), destination.format, settings.file_destination_keep)


def discord_delivery(settings: Settings, destination: Destination) -> DiscordDelivery:
    """A Discord channel: the bot (GUILDFLOW_DISCORD_TOKEN) and/or the configured webhook of that channel
    (GUILDFLOW_PLAYERDATA_WEBHOOK_URL), whichever are set; or a webhook: destination's Discord webhook."""
    from integrations.discord_api import DiscordDelivery

    missing = _missing_configuration(settings, destination)
    if missing:
        raise ConfigurationError(f"{destination.describe()}: {missing}")
    if destination.kind == "webhook":
        return DiscordDelivery(
            settings.discord_api_base,
            webhook_url=SecretStr(destination.target),
            upload_cap=settings.playerdata_upload_cap,
        )
    return DiscordDelivery(
        settings.discord_api_base,
        channel_id=int(destination.target),
        token=_optional_secret(settings, "discord_token"),
        webhook_url=_optional_secret(settings, "playerdata_webhook_url"),
        format=destination.format,
        upload_cap=settings.playerdata_upload_cap,
    )


def destination_problem(settings: Settings, destination: Destination) -> str | None:
    """What keeps a delivery to this destination from working, from the settings alone (no network, no secret
    read), or None when it can work: for a warning before a schedule is made that would fail every run."""
    missing = _missing_configuration(settings, destination)
    if missing:
        return f"{destination.describe()}: {missing}"
    if destination.kind == "file":
        folder = Path(destination.target)
        if folder.is_file() or not can_write(folder):
            return f"{destination.describe()} is not a folder this user can write to"
    return None


def _missing_configuration(settings: Settings, destination: Destination) -> str | None:
    """The settings a destination of this kind needs and does not have, in words that name them."""
    if destination.kind == "discord" and not (
        _secret_given(settings, "discord_token") or _secret_given(settings, "playerdata_webhook_url")
    ):
        return (
            "posting to a Discord channel needs GUILDFLOW_DISCORD_TOKEN (the bot posts; give it View Channel, Send "
            "Messages, Embed Links and Attach Files there) or GUILDFLOW_PLAYERDATA_WEBHOOK_URL (a webhook of that "
            "channel), each also from a Prefect Secret block (*_BLOCK)"
        )
    if destination.kind == "webhook" and _is_discord_webhook(destination):
        return None  # posted in Discord's own format: Discord checks its token, not a signature
    if destination.kind == "webhook" and not _secret_given(settings, "webhook_signing_secret"):
        return (
            "webhook deliveries are signed: set GUILDFLOW_WEBHOOK_SIGNING_SECRET (a long random string you share with "
            "the receiver), or put a Prefect Secret block's name in GUILDFLOW_WEBHOOK_SIGNING_SECRET_BLOCK"
        )
    if destination.kind == "email":
        missing = [name for name, value in (("HOST", settings.smtp_host), ("FROM", settings.smtp_from)) if not value]
        if missing:
            names = " and ".join(f"GUILDFLOW_SMTP_{name}" for name in missing)
            return f"email is sent through an SMTP server: set {names} (and GUILDFLOW_SMTP_USER/_PASSWORD to log in)"
        if settings.smtp_user and not _secret_given(settings, "smtp_password"):
            return "GUILDFLOW_SMTP_USER is set without GUILDFLOW_SMTP_PASSWORD (or GUILDFLOW_SMTP_PASSWORD_BLOCK)"
    return None


def _is_discord_webhook(destination: Destination) -> bool:
    return destination.kind == "webhook" and discord_webhook_parts(destination.target) is not None


def _secret_given(settings: Settings, field: str) -> bool:
    value: SecretStr | None = getattr(settings, field)
    return bool(getattr(settings, f"{field}_block") or (value is not None and value.get_secret_value()))
