"""The one place that turns settings into service clients."""

from __future__ import annotations

from guildflow.settings import Settings
from integrations.analysis import Analyser, OfflineAnalyser
from integrations.discord_source import ExportFileSource, MessageSource
from integrations.ledger import PublishLedger
from integrations.publishers import OutboxPublisher, Publisher
from integrations.sheets import Sheet, SqliteWorkbook


def message_source(settings: Settings) -> MessageSource:
    return ExportFileSource(settings.discord_export)


def sheet(settings: Settings) -> Sheet:
    return SqliteWorkbook(settings.workbook)


def analyser(settings: Settings) -> Analyser:
    return OfflineAnalyser()


def publisher(settings: Settings) -> Publisher:
    return OutboxPublisher(settings.outbox)


def publish_ledger(settings: Settings) -> PublishLedger:
    return PublishLedger(settings.ledger)
