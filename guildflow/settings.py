"""The one settings model. Every value comes from GUILDFLOW_* environment variables (or .env).

This module is a leaf: any layer above core/ may import it; of guildflow it imports only core.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.delivery import discord_webhook_parts
from core.email_message import SmtpSecurity
from core.errors import UserFacingError

AnalysisMode = Literal["summary", "keywords"]
CollectionMode = Literal["since-last", "hours", "days"]
DiscordBackend = Literal["export", "api"]
SheetBackend = Literal["sqlite", "google"]
AnalyserBackend = Literal["offline", "gemini"]
PublisherBackend = Literal["outbox", "x", "typefully"]
QuotaPolicy = Literal["continue", "fail"]
PrefectServerMode = Literal["background", "temporary"]

DATA_DIR = Path(".guildflow")
_CRON_ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)
_EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ConfigurationError(UserFacingError, ValueError):
    """Configuration that cannot work; the message names the setting and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUILDFLOW_", env_file=".env", extra="ignore", frozen=True)

    discord_export: str = Field(
        "examples/discord/*.json",
        description="Path or glob of DiscordChatExporter JSON exports (the embedded message source).",
    )
    include_bot_messages: bool = Field(
        True,
        description="Collect links posted by bots too: feed bots (e.g. TweetShift) relay the followed accounts' "
        "tweets; false skips every bot message.",
    )
    collection_mode: CollectionMode = Field(
        "since-last",
        description="since-last: every message after the last collected one per channel; "
        "hours/days: the last GUILDFLOW_COLLECTION_LOOKBACK hours or days.",
    )
    collection_lookback: int = Field(24, ge=1, le=24 * 365)
    workbook: Path = Field(DATA_DIR / "workbook.sqlite", description="SQLite workbook (the embedded sheet).")
    analysis_mode: AnalysisMode = Field("summary", description="summary: 1-2 sentences; keywords: 3-5 words.")
    analysis_batch_size: int = Field(20, ge=1, le=500, description="Posts per analyser request.")
    outbox: Path = Field(DATA_DIR / "outbox", description="Folder the embedded publisher writes drafts to.")
    ledger: Path = Field(DATA_DIR / "publish-ledger.sqlite", description="Record of everything published.")
    prefect_server: PrefectServerMode = Field(
        "background",
        description="Without PREFECT_API_URL: background (start Prefect's server once and reuse it) or temporary "
        "(Prefect's temporary server inside every command).",
    )
    daily_post_max_tweets: int = Field(
        5,
        ge=1,
        le=25,
        description="Most tweets published per day in GUILDFLOW_TIMEZONE (X charges $0.20 for each post with a "
        "URL): the best-ranked projects that fit, and '+N more'; the others stay in the sheet for a later day's post.",
    )
    publish_wait_seconds: float = Field(
        120, ge=0, le=3600, description="How long a run waits for another run that is publishing the same draft."
    )
    schedule_cron: str = Field("0 20 * * *", description="When the daily pipeline runs (local time).")
    timezone: str = Field("UTC", description="IANA zone of the schedule, e.g. Europe/Berlin.")

    # Backends: the embedded default, or the real service. Switching is configuration only.
    discord_backend: DiscordBackend = "export"
    sheet_backend: SheetBackend = "sqlite"
    analyser_backend: AnalyserBackend = "offline"
    publisher_backend: PublisherBackend = "outbox"

    # Discord (discord.py, REST only). The token: GUILDFLOW_DISCORD_TOKEN, or a Prefect Secret block.
    discord_channels: str = Field("", description="Comma-separated channel ids to collect from.")
    discord_token: SecretStr | None = None
    discord_token_block: str | None = None
    discord_api_base: str = "https://discord.com/api/v10"

    # Google Sheets (gspread, service account). The key: its JSON text or a path to the JSON file.
    sheets_spreadsheet_id: str = ""
    sheets_service_account: SecretStr | None = None
    sheets_service_account_block: str | None = None
    sheets_api_base: str = "https://sheets.googleapis.com"

    # Gemini (google-genai).
    gemini_api_key: SecretStr | None = None
    gemini_api_key_block: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_api_base: str = "https://generativelanguage.googleapis.com"
    gemini_requests_per_minute: int = Field(10, ge=1)
    gemini_requests_per_day: int = Field(250, ge=1)
    gemini_on_quota_exhausted: QuotaPolicy = Field(
        "continue", description="continue: leave the rest unanalysed until tomorrow; fail: fail the phase."
    )

    # X (tweepy, OAuth 1.0a user context): four secrets, each from the environment or a Secret block.
    x_api_key: SecretStr | None = None
    x_api_key_block: str | None = None
    x_api_secret: SecretStr | None = None
    x_api_secret_block: str | None = None
    x_access_token: SecretStr | None = None
    x_access_token_block: str | None = None
    x_access_token_secret: SecretStr | None = None
    x_access_token_secret_block: str | None = None
    x_api_base: str = "https://api.x.com"

    # Typefully (HTTP API v2).
    typefully_api_key: SecretStr | None = None
    typefully_api_key_block: str | None = None
    typefully_social_set_id: str = ""
    typefully_publish_at: str = Field(
        "next-free-slot", description="now, next-free-slot, or a delay in hours such as 2 or 0.5."
    )
    typefully_api_base: str = "https://api.typefully.com"

    # Operations: where failed deployment runs are reported (`guildflow automations apply`), and when a
    # deployment that keeps failing is paused.
    notify_discord_webhook: SecretStr | None = Field(
        None, description="Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>) for failed runs."
    )
    notify_email: str = Field("", description="Comma-separated addresses failed runs are emailed to (via SendGrid).")
    notify_email_sender: str = Field("", description="The From address of those emails.")
    notify_sendgrid_api_key: SecretStr | None = None
    pause_after_failures: int = Field(
        5, ge=0, le=50, description="Pause a deployment after this many consecutive failed runs; 0: never."
    )

    # playerData exports (`guildflow export`): the game bot's data file, posted to Discord through a webhook
    # (the configured one, else a temporary one the bot creates with GUILDFLOW_DISCORD_TOKEN).
    playerdata: Path = Field(Path("examples/playerData.json"), description="The game bot's playerData.json.")
    playerdata_upload_cap_mb: float = Field(
        10, gt=0, le=500, description="Discord's upload cap per file in MiB: 10, more on boosted servers."
    )
    playerdata_all_channels: str = Field(
        "", description="Comma-separated channel ids an `all` export (every guild's data) may be posted to."
    )
    playerdata_webhook_url: SecretStr | None = Field(
        None, description="Webhook URL of the export channel; unset: a temporary webhook per export."
    )
    playerdata_webhook_url_block: str | None = None
    playerdata_keep: int = Field(10, ge=1, le=10_000, description="Exports a local copy folder keeps, per guild.")
    playerdata_keep_last_good: bool = Field(
        True, description="A copy folder also keeps the newest export with the most guilds (the last known good)."
    )

    # The Discord bot (`guildflow bot`): who may change schedules from Discord, besides members with Manage Server.
    bot_admin_roles: str = Field(
        "", description="Comma-separated role names (or ids) whose members may change schedules from Discord."
    )

    # Deliveries (core.delivery destinations): what each run delivered, so a retry or a re-run never delivers
    # twice, and how many messages a file destination keeps.
    delivery_ledger: Path = Field(
        DATA_DIR / "deliveries.sqlite", description="Record of every part delivered, per run and destination."
    )
    file_destination_keep: int = Field(
        50, ge=1, le=100_000, description="Messages a file: destination keeps in its folder; older ones are deleted."
    )

    # Channel summaries (`guildflow summary`): where each schedule's cursor per channel is kept (advanced only once
    # every destination got the summary), and how many tokens of messages one model request may hold.
    summary_cursors: Path = Field(
        DATA_DIR / "summary-cursors.sqlite", description="The last message summarised, per schedule and channel."
    )
    summary_token_budget: int = Field(
        6000, ge=100, le=1_000_000, description="Tokens of messages (or of summaries to combine) per model request."
    )
    summary_first_lookback_days: int = Field(
        7, ge=1, le=366, description="A schedule's first since-last run reads the Discord API this many days back."
    )

    # One-off jobs (`guildflow job`): a reminder later than this after its moment is skipped, never sent late.
    reminder_grace_seconds: int = Field(
        120, ge=0, le=86_400, description="Seconds a job's reminder may start late and still be delivered."
    )

    # Cleanup (`guildflow cleanup`, the cleanup deployment): what is older than this many days is deleted.
    retention_days: int = Field(
        30, ge=1, le=3650, description="Summary files, flow runs and artifacts older than this are deleted by cleanup."
    )

    # webhook: destinations: each body is signed with HMAC-SHA256 with this secret (shared with the receiver).
    webhook_signing_secret: SecretStr | None = None
    webhook_signing_secret_block: str | None = None

    # email: destinations, through an SMTP server.
    smtp_host: str = Field("", description="SMTP server for email: destinations, e.g. smtp.example.com.")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="Default: 587 for starttls, 465 for ssl, 25 for none."
    )
    smtp_security: SmtpSecurity = Field(
        "starttls", description="starttls (submission, 587), ssl (implicit TLS, 465) or none (a trusted relay)."
    )
    smtp_user: str = Field("", description="SMTP login; empty: no login.")
    smtp_password: SecretStr | None = None
    smtp_password_block: str | None = None
    smtp_from: str = Field("", description="The From address of emails.")

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    @property
    def playerdata_upload_cap(self) -> int:
        return int(self.playerdata_upload_cap_mb * 1024 * 1024)

    @property
    def playerdata_all_channel_ids(self) -> list[str]:
        return _comma_list(self.playerdata_all_channels)

    @property
    def bot_admin_role_names(self) -> list[str]:
        return [part.strip() for part in self.bot_admin_roles.split(",") if part.strip()]

    @property
    def discord_channel_ids(self) -> list[int]:
        return [int(part) for part in _comma_list(self.discord_channels)]

    @property
    def notify_email_addresses(self) -> list[str]:
        return _comma_list(self.notify_email)

    @property
    def discord_webhook_parts(self) -> tuple[str, str] | None:
        """The (id, token) of GUILDFLOW_NOTIFY_DISCORD_WEBHOOK, or None when it is not set."""
        if self.notify_discord_webhook is None or not self.notify_discord_webhook.get_secret_value():
            return None
        parts = discord_webhook_parts(self.notify_discord_webhook.get_secret_value())
        assert parts is not None  # validated on load
        return str(parts[0]), parts[1]

    @field_validator("discord_channels", "playerdata_all_channels")
    @classmethod
    def _valid_channels(cls, value: str) -> str:
        if not all(part.isdigit() for part in _comma_list(value)):
            raise ValueError(f"'{value}' must be comma-separated Discord channel ids (numbers)")
        return value

    @field_validator("notify_discord_webhook")
    @classmethod
    def _valid_discord_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and discord_webhook_parts(value.get_secret_value()) is None:
            # The value is a secret: say what shape it must have, never echo it.
            raise ValueError(
                "is not a Discord webhook URL; copy it from the channel's Integrations > Webhooks "
                "(https://discord.com/api/webhooks/<id>/<token>)"
            )
        return value

    @field_validator("notify_email", "notify_email_sender", "smtp_from")
    @classmethod
    def _valid_addresses(cls, value: str) -> str:
        for address in _comma_list(value):
            if not _EMAIL_ADDRESS.fullmatch(address):
                raise ValueError(f"'{address}' is not an email address")
        return value

    @field_validator("typefully_publish_at")
    @classmethod
    def _valid_publish_at(cls, value: str) -> str:
        if value in ("now", "next-free-slot"):
            return value
        try:
            hours = float(value)
        except ValueError:
            hours = -1
        if not 0 < hours <= 24 * 365:
            raise ValueError(f"'{value}' is not 'now', 'next-free-slot' or a delay in hours (e.g. 2)")
        return value

    @field_validator("schedule_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            CronSim(value, _CRON_ANCHOR)
        except (CronSimError, ValueError) as error:
            raise ValueError(
                f"'{value}' is not a valid cron expression ({error}); "
                "use five fields, e.g. '0 20 * * *' for 20:00 every day"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone; use a name like 'UTC' or 'Europe/Berlin'") from None
        return value


def _comma_list(value: str) -> list[str]:
    return [part for part in value.replace(" ", "").split(",") if part]


def default(name: str) -> Any:
    """A setting's default value, as declared above (flow parameters show it in Prefect's run form)."""
    return Settings.model_fields[name].default


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with overrides (flow parameters); bad values raise ConfigurationError."""
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise ConfigurationError(_explain(error)) from None


def _explain(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = "GUILDFLOW_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(problems)
