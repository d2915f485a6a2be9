"""The one settings model. Every value comes from GUILDFLOW_* environment variables (or .env).

This module is a leaf: any layer above core/ may import it; it imports no other guildflow module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AnalysisMode = Literal["summary", "keywords"]
CollectionMode = Literal["since-last", "hours", "days"]

DATA_DIR = Path(".guildflow")
_CRON_ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)


class ConfigurationError(ValueError):
    """Configuration that cannot work; the message names the setting and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUILDFLOW_", env_file=".env", extra="ignore", frozen=True)

    discord_export: str = Field(
        "examples/discord/*.json",
        description="Path or glob of DiscordChatExporter JSON exports (the embedded message source).",
    )
    include_bot_messages: bool = Field(False, description="Collect links posted by bots too.")
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
    schedule_cron: str = Field("0 20 * * *", description="When the daily pipeline runs (local time).")
    timezone: str = Field("UTC", description="IANA zone of the schedule, e.g. Europe/Berlin.")

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


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with overrides (flow parameters); bad values raise ConfigurationError."""
    given = {key: value for key, value in overrides.items() if value is not None}
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
