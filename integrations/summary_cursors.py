"""Summary cursors: per schedule and channel, the last message a delivered summary covered (a SQLite file next to
the delivery ledger; every worker that runs the same schedules must see the same file). Only ever moved forward,
and never deleted by cleanup."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from core.collection import Cursors
from integrations.errors import SourceError
from integrations.local_files import can_write, sqlite_store

_FIX = "set GUILDFLOW_SUMMARY_CURSORS to a writable file path"
# Ids as text: a Discord id (up to 2^64 - 1) does not fit SQLite's signed 64-bit integers.
_TABLES = (
    (
        "CREATE TABLE IF NOT EXISTS cursors (schedule TEXT NOT NULL, channel_id TEXT NOT NULL, message_id "
        "TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (schedule, channel_id))"
    ),
)


class SummaryCursors:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"SQLite summary cursors {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise SourceError(f"summary cursors {self.path} are not writable; {_FIX}")
        return "writable"

    def read(self, schedule: str, channel_ids: list[int]) -> Cursors:
        """Channel id -> the last message summarised, for the channels that have one."""
        with self._connect() as db:
            rows = db.execute("SELECT channel_id, message_id FROM cursors WHERE schedule = ?", (schedule,)).fetchall()
        wanted = set(channel_ids)
        return {int(channel): int(message) for channel, message in rows if int(channel) in wanted}

    def advance(self, schedule: str, cursors: Cursors) -> None:
        """Move each channel's cursor to the given message, never backwards, in one transaction."""
        now = datetime.now(timezone.utc).isoformat()
        with self._connect() as db, db:
            for channel, message in cursors.items():
                db.execute(
                    "INSERT INTO cursors (schedule, channel_id, message_id, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (schedule, channel_id) DO UPDATE SET message_id = excluded.message_id, "
                    "updated_at = excluded.updated_at WHERE length(excluded.message_id) > length(cursors.message_id) "
                    "OR (length(excluded.message_id) = length(cursors.message_id) "
                    "AND excluded.message_id > cursors.message_id)",
                    (schedule, str(channel), str(message), now),
                )

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_store(
            self.path,
            _TABLES,
            lambda error: SourceError(f"cannot open summary cursors {self.path} ({error}); {_FIX}"),
            timeout=30,
        )
